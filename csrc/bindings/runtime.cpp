// Threads, CPU ISA choice, dtypes, devices, and the registry that the CUDA
// module uses to plug its backend into the core.
#include "bindings/bindings.h"
#include "core/backend.h"
#include "core/cpu_dispatch.h"
#include "core/parallel.h"

namespace dlcore::bindings {

void init_runtime(py::module_& m) {
  py::enum_<DType>(m, "DType")
      .value("bool", DType::Bool)
      .value("int32", DType::Int32)
      .value("int64", DType::Int64)
      .value("float32", DType::Float32)
      .value("float64", DType::Float64)
      .def_property_readonly("itemsize", [](DType t) { return itemsize(t); })
      .def_property_readonly("is_floating_point", [](DType t) { return is_floating(t); });
  m.def("dtype_from_name", &dtype_from_name);
  m.def("promote_types", &promote);

  py::class_<Device>(m, "Device")
      .def(py::init(&device_from_string), py::arg("name"))
      .def_property_readonly("type", [](const Device& d) { return d.is_cpu() ? "cpu" : "cuda"; })
      .def_property_readonly("index", [](const Device& d) { return d.index; })
      .def("__str__", &Device::str)
      .def("__repr__", [](const Device& d) { return "device('" + d.str() + "')"; })
      .def("__eq__", [](const Device& a, py::object b) -> py::object {
        if (py::isinstance<py::str>(b)) return py::bool_(a == device_from_string(b.cast<std::string>()));
        if (py::isinstance<Device>(b)) return py::bool_(a == b.cast<Device>());
        return py::reinterpret_borrow<py::object>(Py_NotImplemented);
      })
      .def("__hash__", [](const Device& d) { return static_cast<int>(d.type) * 1000 + d.index; });

  m.def("num_threads", &num_threads, "Threads the CPU kernels use.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"), "Sets the threads the CPU kernels use.");
  m.def("cpu_isa", [] { return std::string(cpu_kernels().isa); }, "The ISA of the CPU kernels in use.");
  m.def("supported_cpu_isas", &supported_cpu_isas, "ISAs this build and CPU support, best last.");
  m.def("set_cpu_isa", &set_cpu_isa, py::arg("name"),
        "Switches the CPU kernels to another ISA ('baseline', 'avx2', 'avx512').");
  m.def("fma_probe", &fma_probe, py::arg("iters"), py::call_guard<py::gil_scoped_release>(),
        "Runs the FP32 FMA peak probe on dlcore's threads; returns the floating-point operations done.");
  m.def("openmp", [] {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
  });
  m.def("has_backend", [](const std::string& type) {
    return has_backend(type == "cuda" ? DeviceType::CUDA : DeviceType::CPU);
  });
  // The CUDA module calls this through the capsule to register its backend.
  m.attr("_register_backend") = py::capsule(reinterpret_cast<void*>(+[](int abi, int type, const DeviceBackend* be) {
    if (abi != kBackendAbiVersion) return false;
    register_backend(static_cast<DeviceType>(type), be);
    return true;
  }), "dlcore.register_backend");
}

}  // namespace dlcore::bindings

// The CUDA backend modules: dlcore._C_cuda (cuda/ built by nvcc) and
// dlcore._C_cuda_emu (the same sources built by the host compiler against the
// SIMT emulator). Both register their device backend -- memory, copies and
// kernel table -- with dlcore._C through the capsule _C._register_backend.
#include <pybind11/pybind11.h>
#include "core/backend.h"
#include "table.h"

namespace py = pybind11;
using namespace dlcore;

namespace {

void copy_kind(void* dst, const void* src, size_t n, CopyKind kind, int device) {
  cuda::copy(dst, src, n, static_cast<int>(kind), device);
}

const DeviceBackend& backend() {
  static const DeviceBackend b{cuda::emulated() ? "cuda (emulated)" : "cuda", cuda::device_count, cuda::allocate,
                               cuda::release, copy_kind, cuda::synchronize, cuda::set_device,
                               &cuda::kernel_table()};
  return b;
}

}  // namespace

PYBIND11_MODULE(DLCORE_CUDA_MODULE, m) {
  m.doc() = "dlcore's CUDA backend";
  m.def("emulated", &cuda::emulated);
  m.def("device_count", &cuda::device_count);
  m.def("runtime_version", &cuda::runtime_version);
  m.def("synchronize", &cuda::synchronize, py::arg("device") = 0);
  m.def("device_info", [](int device) {
    const auto info = cuda::device_info(device);
    py::dict d;
    d["name"] = info.name;
    d["capability"] = py::make_tuple(info.major, info.minor);
    d["multiprocessors"] = info.multiprocessors;
    d["free_bytes"] = info.free_bytes;
    d["total_bytes"] = info.total_bytes;
    return d;
  });
  m.def("memory_stats", [](int device) {
    const auto s = cuda::memory_stats(device);
    py::dict d;
    d["allocated_bytes"] = s.allocated;
    d["reserved_bytes"] = s.reserved;
    d["peak_allocated_bytes"] = s.peak_allocated;
    d["num_allocs"] = s.num_allocs;
    d["num_device_mallocs"] = s.num_device_mallocs;
    return d;
  }, py::arg("device") = 0);
  m.def("reset_peak_memory_stats", &cuda::reset_peak_memory_stats, py::arg("device") = 0);
  m.def("empty_cache", &cuda::empty_cache);
  // module_local: _C_cuda and _C_cuda_emu may both be loaded, each with its own Event.
  py::class_<cuda::Event>(m, "Event", py::module_local())
      .def(py::init<>())
      .def("record", &cuda::Event::record, py::arg("device") = 0)
      .def("synchronize", &cuda::Event::synchronize, py::call_guard<py::gil_scoped_release>())
      .def("elapsed_ms", &cuda::Event::elapsed_ms, py::arg("end"), py::call_guard<py::gil_scoped_release>());
  m.def("register", [](py::capsule registry) {
    using Fn = bool (*)(int, int, const DeviceBackend*);
    auto fn = reinterpret_cast<Fn>(registry.get_pointer());
    return fn(kBackendAbiVersion, static_cast<int>(DeviceType::CUDA), &backend());
  });
}

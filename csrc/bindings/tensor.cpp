// The strided tensor class, its views and copies.
#include "bindings/bindings.h"

namespace dlcore::bindings {

void init_tensor(py::module_& m) {
  using namespace ops;
  py::class_<Tensor>(m, "Tensor")
      .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape)); })
      .def_property_readonly("strides", [](const Tensor& t) { return py::tuple(py::cast(t.strides)); })
      .def_property_readonly("offset", [](const Tensor& t) { return t.offset; })
      .def_property_readonly("dtype", [](const Tensor& t) { return t.dtype; })
      .def_property_readonly("device", [](const Tensor& t) { return t.device(); })
      .def_property_readonly("ndim", &Tensor::ndim)
      .def_property_readonly("numel", &Tensor::numel)
      .def_property_readonly("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data()); })
      .def_property_readonly("storage_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.storage->data); })
      .def_property_readonly("storage_nbytes", [](const Tensor& t) { return t.storage->nbytes; })
      .def("is_contiguous", &Tensor::is_contiguous);

  m.def("contiguous", &contiguous, py::call_guard<py::gil_scoped_release>());
  m.def("astype", &astype, py::call_guard<py::gil_scoped_release>());
  m.def("clone", &clone, py::call_guard<py::gil_scoped_release>());
  m.def("copy_into", &copy_into, py::call_guard<py::gil_scoped_release>());
  m.def("fill", [](const Tensor& t, py::handle v) { fill(t, to_scalar(v, "fill")); });
  m.def("to_device", &to_device, py::call_guard<py::gil_scoped_release>());

  m.def("reshape", &reshape);
  m.def("view", &view);
  m.def("permute", &permute);
  m.def("transpose", &transpose);
  m.def("expand", &expand);
  m.def("squeeze", &squeeze);
  m.def("unsqueeze", &unsqueeze);
  m.def("flatten", &flatten);
  m.def("slice", &slice);
  m.def("select", &select);
  m.def("as_strided", &as_strided);
  m.def("broadcast_shapes", [](const Shape& a, const Shape& b) { return py::tuple(py::cast(broadcast_shapes("broadcast_shapes", a, b))); });
}

}  // namespace dlcore::bindings

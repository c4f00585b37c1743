// Factories and the random generator.
#include "bindings/bindings.h"

namespace dlcore::bindings {

void init_factory(py::module_& m) {
  m.def("empty", &Tensor::empty, py::call_guard<py::gil_scoped_release>());
  m.def("full", [](const Shape& shape, py::handle value, DType dtype, Device device) {
    const Scalar s = to_scalar(value, "full");
    py::gil_scoped_release nogil;
    return ops::full(shape, s, dtype, device);
  });
  m.def("arange", [](py::handle start, py::handle stop, py::handle step, DType dtype, Device device) {
    const Scalar a = to_scalar(start, "arange"), b = to_scalar(stop, "arange"), s = to_scalar(step, "arange");
    py::gil_scoped_release nogil;
    return ops::arange(a, b, s, dtype, device);
  });
  m.def("rand", &ops::rand, py::call_guard<py::gil_scoped_release>());
  m.def("randn", &ops::randn, py::call_guard<py::gil_scoped_release>());
  m.def("manual_seed", &ops::manual_seed);
  m.def("initial_seed", &ops::initial_seed);
  m.def("rng_state", &ops::rng_state);
  m.def("set_rng_state", &ops::set_rng_state);
}

}  // namespace dlcore::bindings

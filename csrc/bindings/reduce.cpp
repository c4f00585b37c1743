// Reductions over any set of axes.
#include "bindings/bindings.h"

namespace dlcore::bindings {

void init_reduce(py::module_& m) {
  auto guard = py::call_guard<py::gil_scoped_release>();
  m.def("sum", &ops::sum, guard);
  m.def("mean", &ops::mean, guard);
  m.def("var", &ops::var, guard);
  m.def("amax", &ops::amax, guard);
  m.def("amin", &ops::amin, guard);
  m.def("argmax", &ops::argmax, guard);
  m.def("argmin", &ops::argmin, guard);
}

}  // namespace dlcore::bindings

// Row gather and scatter-add: index_select(x, dim, index) and
// index_add(base, dim, index, source) (out of place).
#include "bindings/bindings.h"

namespace dlcore::bindings {

void init_index(py::module_& m) {
  m.def("index_select", &ops::index_select, py::arg("x"), py::arg("dim"), py::arg("index"),
        py::call_guard<py::gil_scoped_release>());
  m.def("index_add", &ops::index_add, py::arg("base"), py::arg("dim"), py::arg("index"), py::arg("source"),
        py::call_guard<py::gil_scoped_release>());
}

}  // namespace dlcore::bindings

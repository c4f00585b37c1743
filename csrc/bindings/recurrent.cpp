// Fused recurrent cells: lstm_cell(gates, c_prev) -> (h, c),
// lstm_cell_backward(grad_h, grad_c, gates, c_prev, c) -> (grad_gates, grad_c_prev)
// (grad_c may be None), gru_cell(x_gates, h_gates, h_prev) -> h,
// gru_cell_backward(grad_h, x_gates, h_gates, h_prev) -> (grad_x_gates, grad_h_gates, grad_h_prev).
#include "bindings/bindings.h"

namespace dlcore::bindings {

void init_recurrent(py::module_& m) {
  m.def("lstm_cell", &ops::lstm_cell, py::arg("gates"), py::arg("c_prev"), py::call_guard<py::gil_scoped_release>());
  m.def("lstm_cell_backward", &ops::lstm_cell_backward, py::arg("grad_h"), py::arg("grad_c"), py::arg("gates"),
        py::arg("c_prev"), py::arg("c"), py::call_guard<py::gil_scoped_release>());
  m.def("gru_cell", &ops::gru_cell, py::arg("x_gates"), py::arg("h_gates"), py::arg("h_prev"),
        py::call_guard<py::gil_scoped_release>());
  m.def("gru_cell_backward", &ops::gru_cell_backward, py::arg("grad_h"), py::arg("x_gates"), py::arg("h_gates"),
        py::arg("h_prev"), py::call_guard<py::gil_scoped_release>());
}

}  // namespace dlcore::bindings

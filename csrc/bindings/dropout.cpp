// Dropout: dropout / dropout2d(x, p, seed=None) -> (out, seed, offset), and
// their _backward(grad, p, seed, offset), which regenerate the same mask.
#include "bindings/bindings.h"

namespace dlcore::bindings {

void init_dropout(py::module_& m) {
  for (bool channel : {false, true}) {
    const std::string name = channel ? "dropout2d" : "dropout";
    m.def(name.c_str(), [channel](const Tensor& x, double p, std::optional<uint64_t> seed) {
      ops::DropoutResult r;
      {
        py::gil_scoped_release nogil;
        r = ops::dropout(x, p, channel, seed);
      }
      return py::make_tuple(r.out, r.seed, r.offset);
    }, py::arg("x"), py::arg("p"), py::arg("seed") = py::none());
    m.def((name + "_backward").c_str(), [channel](const Tensor& grad, double p, uint64_t seed, uint64_t offset) {
      return ops::dropout_backward(grad, p, channel, seed, offset);
    }, py::arg("grad"), py::arg("p"), py::arg("seed"), py::arg("offset"), py::call_guard<py::gil_scoped_release>());
  }
}

}  // namespace dlcore::bindings

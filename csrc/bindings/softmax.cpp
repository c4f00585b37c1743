// Softmax and the losses on class scores: softmax / log_softmax over a dim,
// cross_entropy (returns the loss and the per-sample softmax statistics its
// backward takes), nll_loss (both with optional class weights), and their
// _backward kernels. Reductions are named as in
// PyTorch: 'mean', 'sum', 'none'.
#include "bindings/bindings.h"

namespace dlcore::bindings {

Reduction to_reduction(const std::string& name, const char* op) {
  DL_CHECK(name == "mean" || name == "sum" || name == "none", ValueError, "[", op,
           "] reduction must be 'mean', 'sum' or 'none', got '", name, "'");
  return name == "none" ? Reduction::None : (name == "sum" ? Reduction::Sum : Reduction::Mean);
}

void init_softmax(py::module_& m) {
  auto guard = py::call_guard<py::gil_scoped_release>();
  for (bool log : {false, true}) {
    const std::string name = log ? "log_softmax" : "softmax";
    m.def(name.c_str(), [log](const Tensor& x, int64_t dim) { return ops::softmax(x, dim, log); }, py::arg("x"),
          py::arg("dim"), guard);
    m.def((name + "_backward").c_str(), [log](const Tensor& g, const Tensor& y, int64_t dim) {
      return ops::softmax_backward(g, y, dim, log);
    }, py::arg("grad"), py::arg("output"), py::arg("dim"), guard);
  }
  m.def("cross_entropy", [](const Tensor& input, const Tensor& target, const std::string& reduction,
                            double label_smoothing, int64_t ignore_index, const std::optional<Tensor>& weight) {
    const Reduction r = to_reduction(reduction, "cross_entropy");
    py::gil_scoped_release nogil;
    return ops::cross_entropy(input, target, weight, r, label_smoothing, ignore_index, false);
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("label_smoothing") = 0.0,
     py::arg("ignore_index") = -100, py::arg("weight") = py::none());
  m.def("cross_entropy_backward", [](const Tensor& grad, const Tensor& input, const Tensor& target,
                                     const Tensor& stats, const std::string& reduction, double label_smoothing,
                                     int64_t ignore_index, const std::optional<Tensor>& weight) {
    const Reduction r = to_reduction(reduction, "cross_entropy");
    py::gil_scoped_release nogil;
    return ops::cross_entropy_backward(grad, input, target, stats, weight, r, label_smoothing, ignore_index, false);
  }, py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("stats"), py::arg("reduction") = "mean",
     py::arg("label_smoothing") = 0.0, py::arg("ignore_index") = -100, py::arg("weight") = py::none());
  m.def("nll_loss", [](const Tensor& input, const Tensor& target, const std::string& reduction, int64_t ignore_index,
                       const std::optional<Tensor>& weight) {
    const Reduction r = to_reduction(reduction, "nll_loss");
    py::gil_scoped_release nogil;
    return ops::cross_entropy(input, target, weight, r, 0.0, ignore_index, true).first;
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("ignore_index") = -100,
     py::arg("weight") = py::none());
  m.def("nll_loss_backward", [](const Tensor& grad, const Tensor& input, const Tensor& target,
                                const std::string& reduction, int64_t ignore_index,
                                const std::optional<Tensor>& weight) {
    const Reduction r = to_reduction(reduction, "nll_loss");
    py::gil_scoped_release nogil;
    return ops::cross_entropy_backward(grad, input, target, Tensor{}, weight, r, 0.0, ignore_index, true);
  }, py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("reduction") = "mean",
     py::arg("ignore_index") = -100, py::arg("weight") = py::none());
}

}  // namespace dlcore::bindings

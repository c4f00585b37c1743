// Losses with torch.nn.functional's names: the elementwise losses (mse_loss,
// l1_loss, smooth_l1_loss, huber_loss, binary_cross_entropy[_with_logits],
// kl_div), multi_margin_loss, cosine_similarity, the l1 / l2 penalties, and
// their _backward kernels (each returns the input's gradient;
// cosine_similarity_backward both inputs').
#include "bindings/bindings.h"

namespace dlcore::bindings {

namespace {

void def_loss(py::module_& m, const char* name, Loss kind, const char* param = nullptr, double param_default = 0) {
  const std::string fwd = name, bwd = fwd + "_backward";
  auto f = [kind](const Tensor& input, const Tensor& target, const std::string& reduction, double a) {
    const Reduction r = to_reduction(reduction, ops::loss_name(kind));
    py::gil_scoped_release nogil;
    return ops::loss(kind, input, target, r, a);
  };
  auto b = [kind](const Tensor& grad, const Tensor& input, const Tensor& target, const std::string& reduction,
                  double a) {
    const Reduction r = to_reduction(reduction, ops::loss_name(kind));
    py::gil_scoped_release nogil;
    return ops::loss_backward(kind, grad, input, target, r, a);
  };
  if (param) {
    m.def(fwd.c_str(), f, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean",
          py::arg(param) = param_default);
    m.def(bwd.c_str(), b, py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("reduction") = "mean",
          py::arg(param) = param_default);
  } else {
    m.def(fwd.c_str(), [f](const Tensor& input, const Tensor& target, const std::string& reduction) {
      return f(input, target, reduction, 0);
    }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean");
    m.def(bwd.c_str(), [b](const Tensor& grad, const Tensor& input, const Tensor& target, const std::string& reduction) {
      return b(grad, input, target, reduction, 0);
    }, py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("reduction") = "mean");
  }
}

}  // namespace

void init_loss(py::module_& m) {
  auto guard = py::call_guard<py::gil_scoped_release>();
  def_loss(m, "mse_loss", Loss::MSE);
  def_loss(m, "l1_loss", Loss::L1);
  def_loss(m, "smooth_l1_loss", Loss::SmoothL1, "beta", 1.0);
  def_loss(m, "huber_loss", Loss::Huber, "delta", 1.0);
  def_loss(m, "binary_cross_entropy", Loss::BCE);
  def_loss(m, "binary_cross_entropy_with_logits", Loss::BCEWithLogits);
  def_loss(m, "kl_div", Loss::KLDiv);
  def_loss(m, "kl_div_log_target", Loss::KLDivLogTarget);
  for (bool l1 : {true, false}) {
    const std::string name = l1 ? "l1_penalty" : "l2_penalty";
    m.def(name.c_str(), [l1](const Tensor& w, double lam) { return ops::penalty(l1, w, lam); }, py::arg("weight"),
          py::arg("lam"), guard);
    m.def((name + "_backward").c_str(), [l1](const Tensor& w, double lam) { return ops::penalty_backward(l1, w, lam); },
          py::arg("weight"), py::arg("lam"), guard);
  }
  m.def("multi_margin_loss", [](const Tensor& input, const Tensor& target, int p, double margin,
                                const std::string& reduction) {
    const Reduction r = to_reduction(reduction, "multi_margin_loss");
    py::gil_scoped_release nogil;
    return ops::multi_margin_loss(input, target, p, margin, r);
  }, py::arg("input"), py::arg("target"), py::arg("p") = 1, py::arg("margin") = 1.0, py::arg("reduction") = "mean");
  m.def("multi_margin_loss_backward", [](const Tensor& grad, const Tensor& input, const Tensor& target, int p,
                                         double margin, const std::string& reduction) {
    const Reduction r = to_reduction(reduction, "multi_margin_loss");
    py::gil_scoped_release nogil;
    return ops::multi_margin_loss_backward(grad, input, target, p, margin, r);
  }, py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("p") = 1, py::arg("margin") = 1.0,
     py::arg("reduction") = "mean");
  m.def("cosine_similarity", &ops::cosine_similarity, py::arg("x1"), py::arg("x2"), py::arg("dim") = 1,
        py::arg("eps") = 1e-8, guard);
  m.def("cosine_similarity_backward", &ops::cosine_similarity_backward, py::arg("grad"), py::arg("x1"),
        py::arg("x2"), py::arg("dim") = 1, py::arg("eps") = 1e-8, guard);
}

}  // namespace dlcore::bindings

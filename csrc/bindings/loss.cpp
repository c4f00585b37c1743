// Losses with torch.nn.functional's names: the elementwise losses (mse_loss,
// l1_loss, smooth_l1_loss, huber_loss, binary_cross_entropy[_with_logits]
// with weight / pos_weight, kl_div), multi_margin_loss (with class weights),
// cosine_similarity, the l1 / l2 penalties, and their _backward kernels
// (each returns the input's gradient; cosine_similarity_backward both
// inputs'). A regression loss whose target broadcasts with the input warns,
// as PyTorch does.
#include "bindings/bindings.h"

namespace dlcore::bindings {

namespace {

using OptTensor = std::optional<Tensor>;

// PyTorch warns when a regression loss broadcasts its target with the input:
// (N,) targets against (N, 1) predictions give an (N, N) loss, a classic bug.
void warn_broadcast(Loss kind, const Tensor& input, const Tensor& target) {
  if (input.shape == target.shape || kind == Loss::KLDiv || kind == Loss::KLDivLogTarget) return;
  const std::string msg = cat("[", ops::loss_name(kind), "] using a target of shape ", shape_str(target.shape),
                              " with an input of shape ", shape_str(input.shape),
                              ": they broadcast, which is likely not what the loss should compare. "
                              "Give them one shape.");
  if (PyErr_WarnEx(PyExc_UserWarning, msg.c_str(), 1) != 0) throw py::error_already_set();
}

// name(input, target, reduction, <param>, weight, pos_weight) and name_backward(grad, ...),
// each keyword argument only where the loss has it.
void def_loss(py::module_& m, const char* name, Loss kind, const char* param = nullptr, double param_default = 0,
              bool weight = false, bool pos_weight = false) {
  const std::string fwd = name, bwd = fwd + "_backward";
  auto f = [kind](const Tensor& input, const Tensor& target, const std::string& reduction, double a,
                  const OptTensor& w, const OptTensor& pw) {
    const Reduction r = to_reduction(reduction, ops::loss_name(kind));
    Tensor out;
    {
      py::gil_scoped_release nogil;
      out = ops::loss(kind, input, target, r, a, w, pw);
    }
    warn_broadcast(kind, input, target);  // after the checks: shapes that do not broadcast raise instead
    return out;
  };
  auto b = [kind](const Tensor& grad, const Tensor& input, const Tensor& target, const std::string& reduction,
                  double a, const OptTensor& w, const OptTensor& pw) {
    const Reduction r = to_reduction(reduction, ops::loss_name(kind));
    py::gil_scoped_release nogil;
    return ops::loss_backward(kind, grad, input, target, r, a, w, pw);
  };
  const py::arg in("input"), tg("target");
  const py::arg_v red = py::arg("reduction") = "mean";
  if (param) {
    m.def(fwd.c_str(), [f](const Tensor& x, const Tensor& t, const std::string& r, double a) {
      return f(x, t, r, a, std::nullopt, std::nullopt);
    }, in, tg, red, py::arg(param) = param_default);
    m.def(bwd.c_str(), [b](const Tensor& g, const Tensor& x, const Tensor& t, const std::string& r, double a) {
      return b(g, x, t, r, a, std::nullopt, std::nullopt);
    }, py::arg("grad"), in, tg, red, py::arg(param) = param_default);
  } else if (pos_weight) {
    m.def(fwd.c_str(), [f](const Tensor& x, const Tensor& t, const std::string& r, const OptTensor& w,
                           const OptTensor& pw) { return f(x, t, r, 0, w, pw); },
          in, tg, red, py::arg("weight") = py::none(), py::arg("pos_weight") = py::none());
    m.def(bwd.c_str(), [b](const Tensor& g, const Tensor& x, const Tensor& t, const std::string& r, const OptTensor& w,
                           const OptTensor& pw) { return b(g, x, t, r, 0, w, pw); },
          py::arg("grad"), in, tg, red, py::arg("weight") = py::none(), py::arg("pos_weight") = py::none());
  } else if (weight) {
    m.def(fwd.c_str(), [f](const Tensor& x, const Tensor& t, const std::string& r, const OptTensor& w) {
      return f(x, t, r, 0, w, std::nullopt);
    }, in, tg, red, py::arg("weight") = py::none());
    m.def(bwd.c_str(), [b](const Tensor& g, const Tensor& x, const Tensor& t, const std::string& r, const OptTensor& w) {
      return b(g, x, t, r, 0, w, std::nullopt);
    }, py::arg("grad"), in, tg, red, py::arg("weight") = py::none());
  } else {
    m.def(fwd.c_str(), [f](const Tensor& x, const Tensor& t, const std::string& r) {
      return f(x, t, r, 0, std::nullopt, std::nullopt);
    }, in, tg, red);
    m.def(bwd.c_str(), [b](const Tensor& g, const Tensor& x, const Tensor& t, const std::string& r) {
      return b(g, x, t, r, 0, std::nullopt, std::nullopt);
    }, py::arg("grad"), in, tg, red);
  }
}

}  // namespace

void init_loss(py::module_& m) {
  auto guard = py::call_guard<py::gil_scoped_release>();
  def_loss(m, "mse_loss", Loss::MSE);
  def_loss(m, "l1_loss", Loss::L1);
  def_loss(m, "smooth_l1_loss", Loss::SmoothL1, "beta", 1.0);
  def_loss(m, "huber_loss", Loss::Huber, "delta", 1.0);
  def_loss(m, "binary_cross_entropy", Loss::BCE, nullptr, 0, true);
  def_loss(m, "binary_cross_entropy_with_logits", Loss::BCEWithLogits, nullptr, 0, true, true);
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
                                const std::string& reduction, const OptTensor& weight) {
    const Reduction r = to_reduction(reduction, "multi_margin_loss");
    py::gil_scoped_release nogil;
    return ops::multi_margin_loss(input, target, p, margin, weight, r);
  }, py::arg("input"), py::arg("target"), py::arg("p") = 1, py::arg("margin") = 1.0, py::arg("reduction") = "mean",
     py::arg("weight") = py::none());
  m.def("multi_margin_loss_backward", [](const Tensor& grad, const Tensor& input, const Tensor& target, int p,
                                         double margin, const std::string& reduction, const OptTensor& weight) {
    const Reduction r = to_reduction(reduction, "multi_margin_loss");
    py::gil_scoped_release nogil;
    return ops::multi_margin_loss_backward(grad, input, target, p, margin, weight, r);
  }, py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("p") = 1, py::arg("margin") = 1.0,
     py::arg("reduction") = "mean", py::arg("weight") = py::none());
  m.def("cosine_similarity", &ops::cosine_similarity, py::arg("x1"), py::arg("x2"), py::arg("dim") = 1,
        py::arg("eps") = 1e-8, guard);
  m.def("cosine_similarity_backward", &ops::cosine_similarity_backward, py::arg("grad"), py::arg("x1"),
        py::arg("x2"), py::arg("dim") = 1, py::arg("eps") = 1e-8, guard);
}

}  // namespace dlcore::bindings

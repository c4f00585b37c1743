// Activations: <name>(x, params...) and <name>_backward(grad, saved, params...)
// for each, with PyTorch's parameter names and defaults; `saved` is named
// `output` or `input` after what the backward kernel reads. prelu and swish
// take their parameter as a tensor and their backward returns (dx, dparam).
#include "bindings/bindings.h"

namespace dlcore::bindings {

namespace {

struct Spec {
  const char* name;
  Activation act;
  const char* a_name;  // nullptr: no parameter
  const char* b_name;
};

Activation gelu_kind(const std::string& approximate) {
  DL_CHECK(approximate == "none" || approximate == "tanh", ValueError,
           "[gelu] approximate must be 'none' or 'tanh', got '", approximate, "'");
  return approximate == "tanh" ? Activation::GELUTanh : Activation::GELU;
}

}  // namespace

void init_activation(py::module_& m) {
  const Spec specs[] = {
      {"relu", Activation::ReLU, nullptr, nullptr},
      {"sigmoid", Activation::Sigmoid, nullptr, nullptr},
      {"tanh", Activation::Tanh, nullptr, nullptr},
      {"selu", Activation::SELU, nullptr, nullptr},
      {"hardsigmoid", Activation::HardSigmoid, nullptr, nullptr},
      {"heaviside", Activation::Heaviside, nullptr, nullptr},
      {"leaky_relu", Activation::LeakyReLU, "negative_slope", nullptr},
      {"elu", Activation::ELU, "alpha", nullptr},
      {"silu", Activation::SiLU, "beta", nullptr},
      {"softplus", Activation::Softplus, "beta", "threshold"},
      {"hardtanh", Activation::HardTanh, "min_val", "max_val"},
  };
  for (const Spec& s : specs) {
    const Activation act = s.act;
    const ActivationParams d = default_params(act);
    const std::string backward = std::string(s.name) + "_backward";
    const char* saved = activation_grad_uses_output(act) ? "output" : "input";
    auto fwd = [act](const Tensor& x, double a, double b) {
      py::gil_scoped_release nogil;
      return ops::activation(act, x, {a, b});
    };
    auto bwd = [act](const Tensor& grad, const Tensor& v, double a, double b) {
      py::gil_scoped_release nogil;
      return ops::activation_backward(act, grad, v, {a, b});
    };
    if (s.b_name) {
      m.def(s.name, fwd, py::arg("x"), py::arg(s.a_name) = d.a, py::arg(s.b_name) = d.b);
      m.def(backward.c_str(), bwd, py::arg("grad"), py::arg(saved), py::arg(s.a_name) = d.a, py::arg(s.b_name) = d.b);
    } else if (s.a_name) {
      m.def(s.name, [fwd](const Tensor& x, double a) { return fwd(x, a, 0); }, py::arg("x"), py::arg(s.a_name) = d.a);
      m.def(backward.c_str(), [bwd](const Tensor& g, const Tensor& v, double a) { return bwd(g, v, a, 0); },
            py::arg("grad"), py::arg(saved), py::arg(s.a_name) = d.a);
    } else {
      m.def(s.name, [fwd](const Tensor& x) { return fwd(x, 0, 0); }, py::arg("x"));
      m.def(backward.c_str(), [bwd](const Tensor& g, const Tensor& v) { return bwd(g, v, 0, 0); },
            py::arg("grad"), py::arg(saved));
    }
  }
  m.def("gelu", [](const Tensor& x, const std::string& approximate) {
    const Activation act = gelu_kind(approximate);
    py::gil_scoped_release nogil;
    return ops::activation(act, x, {});
  }, py::arg("x"), py::arg("approximate") = "none");
  m.def("gelu_backward", [](const Tensor& grad, const Tensor& x, const std::string& approximate) {
    const Activation act = gelu_kind(approximate);
    py::gil_scoped_release nogil;
    return ops::activation_backward(act, grad, x, {});
  }, py::arg("grad"), py::arg("input"), py::arg("approximate") = "none");

  auto guard = py::call_guard<py::gil_scoped_release>();
  m.def("prelu", [](const Tensor& x, const Tensor& w) { return ops::param_activation(Activation::LeakyReLU, x, w); },
        py::arg("x"), py::arg("weight"), guard);
  m.def("prelu_backward", [](const Tensor& g, const Tensor& x, const Tensor& w) {
    return ops::param_activation_backward(Activation::LeakyReLU, g, x, w);
  }, py::arg("grad"), py::arg("input"), py::arg("weight"), guard);
  m.def("swish", [](const Tensor& x, const Tensor& beta) { return ops::param_activation(Activation::SiLU, x, beta); },
        py::arg("x"), py::arg("beta"), guard);
  m.def("swish_backward", [](const Tensor& g, const Tensor& x, const Tensor& beta) {
    return ops::param_activation_backward(Activation::SiLU, g, x, beta);
  }, py::arg("grad"), py::arg("input"), py::arg("beta"), guard);
}

}  // namespace dlcore::bindings

// Matrix multiplication.
#include "bindings/bindings.h"

namespace dlcore::bindings {

void init_gemm(py::module_& m) {
  m.def("matmul", [](const Tensor& a, const Tensor& b, const std::string& variant) {
    DL_CHECK(variant == "fast" || variant == "naive", ValueError, "[matmul] variant must be 'fast' or 'naive', got '",
             variant, "'");
    py::gil_scoped_release nogil;
    return ops::matmul(a, b, variant == "naive" ? GemmVariant::Naive : GemmVariant::Fast);
  }, py::arg("a"), py::arg("b"), py::arg("variant") = "fast");
  m.def("gemm", [](const Tensor& a, const Tensor& b, std::optional<Tensor> c, double alpha, double beta,
                   std::optional<Tensor> bias, bool bias_per_row, const std::string& act,
                   const std::string& variant) {
    ops::GemmEpilogue e;
    e.variant = variant == "naive" ? GemmVariant::Naive : GemmVariant::Fast;
    e.alpha = alpha;
    e.beta = beta;
    e.c = std::move(c);
    e.bias = std::move(bias);
    e.bias_per_row = bias_per_row;
    e.act = ops::activation_from_name("matmul", act);
    e.act_params = default_params(e.act);
    py::gil_scoped_release nogil;
    return ops::gemm(a, b, e);
  }, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("alpha"), py::arg("beta"), py::arg("bias"),
     py::arg("bias_per_row"), py::arg("act"), py::arg("variant") = "fast");
}

}  // namespace dlcore::bindings

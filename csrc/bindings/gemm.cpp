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
}

}  // namespace dlcore::bindings

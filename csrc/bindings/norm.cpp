// Normalization: batch_norm and layer_norm return (output, saved mean, saved
// invstd); their _backward kernels return (dx, dweight, dbias).
#include "bindings/bindings.h"

namespace dlcore::bindings {

void init_norm(py::module_& m) {
  auto guard = py::call_guard<py::gil_scoped_release>();
  auto grads = [](const ops::NormGrads& g) { return std::make_tuple(g.dx, g.dweight, g.dbias); };
  m.def("batch_norm", [](const Tensor& x, const std::optional<Tensor>& running_mean,
                         const std::optional<Tensor>& running_var, const std::optional<Tensor>& weight,
                         const std::optional<Tensor>& bias, bool training, double momentum, double eps) {
    const ops::NormResult r = ops::batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps);
    return std::make_tuple(r.y, r.mean, r.invstd);
  }, py::arg("input"), py::arg("running_mean"), py::arg("running_var"), py::arg("weight") = py::none(),
     py::arg("bias") = py::none(), py::arg("training") = false, py::arg("momentum") = 0.1, py::arg("eps") = 1e-5,
     guard);
  m.def("batch_norm_backward", [grads](const Tensor& grad, const Tensor& x, const std::optional<Tensor>& weight,
                                       const Tensor& mean, const Tensor& invstd, bool training) {
    return grads(ops::batch_norm_backward(grad, x, weight, mean, invstd, training));
  }, py::arg("grad"), py::arg("input"), py::arg("weight"), py::arg("mean"), py::arg("invstd"),
     py::arg("training") = true, guard);
  m.def("layer_norm", [](const Tensor& x, const Shape& normalized_shape, const std::optional<Tensor>& weight,
                         const std::optional<Tensor>& bias, double eps) {
    const ops::NormResult r = ops::layer_norm(x, normalized_shape, weight, bias, eps);
    return std::make_tuple(r.y, r.mean, r.invstd);
  }, py::arg("input"), py::arg("normalized_shape"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
     py::arg("eps") = 1e-5, guard);
  m.def("layer_norm_backward", [grads](const Tensor& grad, const Tensor& x, const Shape& normalized_shape,
                                       const std::optional<Tensor>& weight, const Tensor& mean,
                                       const Tensor& invstd) {
    return grads(ops::layer_norm_backward(grad, x, normalized_shape, weight, mean, invstd));
  }, py::arg("grad"), py::arg("input"), py::arg("normalized_shape"), py::arg("weight"), py::arg("mean"),
     py::arg("invstd"), guard);
}

}  // namespace dlcore::bindings

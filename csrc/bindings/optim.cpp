// Optimizer steps and gradient clipping over Python lists of tensors, one
// fused kernel call each: sgd_step, adagrad_step, rmsprop_step,
// adadelta_step, adam_step (params and states updated in place; an empty
// list for an unused optional state), grad_norm, scale_, clip_value_.
#include "bindings/bindings.h"

namespace dlcore::bindings {

void init_optim(py::module_& m) {
  using py::arg;
  const auto nogil = py::call_guard<py::gil_scoped_release>();
  m.def("sgd_step", &ops::sgd_step, arg("params"), arg("grads"), arg("momentum_buffers"), arg("lr"),
        arg("momentum"), arg("dampening"), arg("weight_decay"), arg("nesterov"), arg("first_step"), nogil);
  m.def("adagrad_step", &ops::adagrad_step, arg("params"), arg("grads"), arg("state_sums"), arg("lr"),
        arg("lr_decay"), arg("weight_decay"), arg("eps"), arg("step"), nogil);
  m.def("rmsprop_step", &ops::rmsprop_step, arg("params"), arg("grads"), arg("square_avgs"),
        arg("momentum_buffers"), arg("grad_avgs"), arg("lr"), arg("alpha"), arg("eps"), arg("weight_decay"),
        arg("momentum"), arg("centered"), nogil);
  m.def("adadelta_step", &ops::adadelta_step, arg("params"), arg("grads"), arg("square_avgs"), arg("acc_deltas"),
        arg("lr"), arg("rho"), arg("eps"), arg("weight_decay"), nogil);
  m.def("adam_step", &ops::adam_step, arg("params"), arg("grads"), arg("exp_avgs"), arg("exp_avg_sqs"),
        arg("max_exp_avg_sqs"), arg("lr"), arg("beta1"), arg("beta2"), arg("eps"), arg("weight_decay"), arg("step"),
        arg("decoupled"), arg("amsgrad"), nogil);
  m.def("grad_norm", &ops::grad_norm, arg("tensors"), arg("norm_type") = 2.0, nogil);
  // factor: a one-element tensor or a number. With max_norm, factor is the
  // norm (grad_norm's result) and the multiplier min(1, max_norm / (norm + 1e-6)).
  m.def("scale_", [](const std::vector<Tensor>& tensors, py::object factor, std::optional<double> max_norm) {
    std::optional<Tensor> t;
    double value = 1;
    if (py::isinstance<Tensor>(factor)) t = factor.cast<Tensor>();
    else value = to_scalar(factor, "scale_").f;
    py::gil_scoped_release nogil;
    ops::scale_(tensors, t, value, max_norm);
  }, arg("tensors"), arg("factor"), arg("max_norm") = py::none());
  m.def("clip_value_", &ops::clip_value_, arg("tensors"), arg("clip_value"), nogil);
}

}  // namespace dlcore::bindings

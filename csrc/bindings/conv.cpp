// Convolution and pooling: conv1d / conv2d with their backward passes, and
// max / avg / adaptive-avg pooling with theirs.
#include "bindings/bindings.h"

namespace dlcore::bindings {

namespace {

// padding is a list of ints or the string "same" / "valid"; variant "fast" or "naive".
ops::ConvArgs conv_args(size_t spatial, const std::vector<int64_t>& stride, py::handle padding,
                        const std::vector<int64_t>& dilation, int64_t groups, const std::string& variant,
                        const char* op) {
  ops::ConvArgs a;
  a.spatial = spatial;
  a.stride = stride;
  a.dilation = dilation;
  a.groups = groups;
  if (py::isinstance<py::str>(padding)) a.padding_mode = padding.cast<std::string>();
  else a.padding = padding.cast<std::vector<int64_t>>();
  DL_CHECK(a.padding_mode.empty() || a.padding_mode == "same" || a.padding_mode == "valid", ValueError, "[", op,
           "] padding must be 'same', 'valid' or numbers, got '", a.padding_mode, "'");
  DL_CHECK(variant == "fast" || variant == "naive", ValueError, "[", op, "] variant must be 'fast' or 'naive', got '",
           variant, "'");
  a.variant = variant == "naive" ? GemmVariant::Naive : GemmVariant::Fast;
  return a;
}

ops::PoolArgs pool_args(std::vector<int64_t> kernel, std::vector<int64_t> stride, std::vector<int64_t> padding,
                        std::vector<int64_t> dilation, bool ceil_mode, bool count_include_pad) {
  ops::PoolArgs a;
  a.kernel = std::move(kernel); a.stride = std::move(stride); a.padding = std::move(padding);
  a.dilation = std::move(dilation);
  a.ceil_mode = ceil_mode;
  a.count_include_pad = count_include_pad;
  return a;
}

}  // namespace

void init_conv(py::module_& m) {
  for (size_t spatial : {1, 2}) {
    const std::string name = spatial == 1 ? "conv1d" : "conv2d";
    m.def(name.c_str(), [spatial, name](const Tensor& x, const Tensor& w, std::optional<Tensor> bias,
                                        std::vector<int64_t> stride, py::object padding, std::vector<int64_t> dilation,
                                        int64_t groups, const std::string& variant) {
      const auto a = conv_args(spatial, stride, padding, dilation, groups, variant, name.c_str());
      py::gil_scoped_release nogil;
      return ops::conv(name.c_str(), x, w, bias, a);
    }, py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
       py::arg("groups"), py::arg("variant") = "fast");
    const std::string bi = name + "_backward_input", bw = name + "_backward_weight";
    m.def(bi.c_str(), [spatial, bi](const Tensor& grad_out, const Tensor& w, const Shape& input_shape,
                                    std::vector<int64_t> stride, py::object padding, std::vector<int64_t> dilation,
                                    int64_t groups, const std::string& variant) {
      const auto a = conv_args(spatial, stride, padding, dilation, groups, variant, bi.c_str());
      py::gil_scoped_release nogil;
      return ops::conv_backward_input(bi.c_str(), grad_out, w, input_shape, a);
    }, py::arg("grad_output"), py::arg("weight"), py::arg("input_shape"), py::arg("stride"), py::arg("padding"),
       py::arg("dilation"), py::arg("groups"), py::arg("variant") = "fast");
    m.def(bw.c_str(), [spatial, bw](const Tensor& grad_out, const Tensor& x, const Shape& weight_shape,
                                    std::vector<int64_t> stride, py::object padding, std::vector<int64_t> dilation,
                                    int64_t groups, const std::string& variant) {
      const auto a = conv_args(spatial, stride, padding, dilation, groups, variant, bw.c_str());
      py::gil_scoped_release nogil;
      return ops::conv_backward_weight(bw.c_str(), grad_out, x, weight_shape, a);
    }, py::arg("grad_output"), py::arg("input"), py::arg("weight_shape"), py::arg("stride"), py::arg("padding"),
       py::arg("dilation"), py::arg("groups"), py::arg("variant") = "fast");
  }

  m.def("max_pool2d", [](const Tensor& x, std::vector<int64_t> kernel, std::vector<int64_t> stride,
                         std::vector<int64_t> padding, std::vector<int64_t> dilation, bool ceil_mode) {
    const auto a = pool_args(kernel, stride, padding, dilation, ceil_mode, true);
    py::gil_scoped_release nogil;
    return ops::max_pool2d(x, a);
  });
  m.def("avg_pool2d", [](const Tensor& x, std::vector<int64_t> kernel, std::vector<int64_t> stride,
                         std::vector<int64_t> padding, bool ceil_mode, bool count_include_pad) {
    const auto a = pool_args(kernel, stride, padding, {1, 1}, ceil_mode, count_include_pad);
    py::gil_scoped_release nogil;
    return ops::avg_pool2d(x, a);
  });
  m.def("adaptive_avg_pool2d", &ops::adaptive_avg_pool2d, py::call_guard<py::gil_scoped_release>());
  m.def("max_pool2d_backward", [](const Tensor& grad_out, const Tensor& indices, const Shape& input_shape,
                                  std::vector<int64_t> kernel, std::vector<int64_t> stride, std::vector<int64_t> padding,
                                  std::vector<int64_t> dilation, bool ceil_mode) {
    const auto a = pool_args(kernel, stride, padding, dilation, ceil_mode, true);
    py::gil_scoped_release nogil;
    return ops::max_pool2d_backward(grad_out, indices, input_shape, a);
  });
  m.def("avg_pool2d_backward", [](const Tensor& grad_out, const Shape& input_shape, std::vector<int64_t> kernel,
                                  std::vector<int64_t> stride, std::vector<int64_t> padding, bool ceil_mode,
                                  bool count_include_pad) {
    const auto a = pool_args(kernel, stride, padding, {1, 1}, ceil_mode, count_include_pad);
    py::gil_scoped_release nogil;
    return ops::avg_pool2d_backward(grad_out, input_shape, a);
  });
  m.def("adaptive_avg_pool2d_backward", &ops::adaptive_avg_pool2d_backward, py::call_guard<py::gil_scoped_release>());
}

}  // namespace dlcore::bindings

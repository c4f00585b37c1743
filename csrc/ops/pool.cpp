// max_pool2d / avg_pool2d / adaptive_avg_pool2d and their backward passes
// (PyTorch semantics) over the last two dims of (C, H, W) or (N, C, H, W):
// the checks, the output size, and one PoolProblem for the kernels.
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

void check_input(const char* op, const Shape& x) {
  DL_CHECK(x.size() == 3 || x.size() == 4, ValueError, "[", op, "] expected input of shape (C, H, W) or (N, C, H, W), got ",
           shape_str(x));
  DL_CHECK(x[x.size() - 1] >= 1 && x[x.size() - 2] >= 1, ValueError, "[", op,
           "] expected an input of non-zero height and width, got ", shape_str(x));
}

PoolProblem make_problem(const char* op, const Shape& x, const PoolArgs& a, bool is_max) {
  check_input(op, x);
  for (const auto* v : {&a.kernel, &a.stride, &a.padding, &a.dilation})
    DL_CHECK(v->size() == 2, ValueError, "[", op, "] expected kernel_size, stride, padding and dilation of 2 entries");
  PoolProblem p;
  p.H = x[x.size() - 2]; p.W = x[x.size() - 1];
  p.planes = shape_numel(Shape(x.begin(), x.end() - 2));
  p.KH = a.kernel[0]; p.KW = a.kernel[1];
  p.sh = a.stride[0]; p.sw = a.stride[1];
  p.ph = a.padding[0]; p.pw = a.padding[1];
  p.dh = a.dilation[0]; p.dw = a.dilation[1];
  p.count_include_pad = a.count_include_pad;
  DL_CHECK(p.KH >= 1 && p.KW >= 1, ValueError, "[", op, "] expected kernel_size >= 1, got (", p.KH, ", ", p.KW, ")");
  DL_CHECK(p.sh >= 1 && p.sw >= 1, ValueError, "[", op, "] expected stride >= 1, got (", p.sh, ", ", p.sw, ")");
  DL_CHECK(p.dh >= 1 && p.dw >= 1, ValueError, "[", op, "] expected dilation >= 1, got (", p.dh, ", ", p.dw, ")");
  // A window must keep at least one pixel of the image: padding is at most
  // half the (dilated) kernel.
  const int64_t eh = p.dh * (p.KH - 1) + 1, ew = p.dw * (p.KW - 1) + 1;
  DL_CHECK(p.ph >= 0 && p.pw >= 0 && p.ph <= (is_max ? eh : p.KH) / 2 && p.pw <= (is_max ? ew : p.KW) / 2, ValueError,
           "[", op, "] expected 0 <= padding <= kernel_size / 2, got padding (", p.ph, ", ", p.pw,
           ") for kernel_size (", p.KH, ", ", p.KW, ")");
  auto out_size = [&](int64_t in, int64_t e, int64_t s, int64_t pad) {
    const int64_t span = in + 2 * pad - e;
    int64_t o = (a.ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (a.ceil_mode && (o - 1) * s >= in + pad) --o;  // the last window must start inside the image or its left padding
    return o;
  };
  DL_CHECK(p.H + 2 * p.ph >= eh && p.W + 2 * p.pw >= ew, ValueError, "[", op, "] input of size (", p.H, ", ", p.W,
           ") (padded) is smaller than the kernel (", eh, ", ", ew, ")");
  p.OH = out_size(p.H, eh, p.sh, p.ph);
  p.OW = out_size(p.W, ew, p.sw, p.pw);
  return p;
}

Shape with_plane(const Shape& x, int64_t oh, int64_t ow) {
  Shape s(x.begin(), x.end() - 2);
  s.push_back(oh);
  s.push_back(ow);
  return s;
}

Tensor forward(const char* op, PoolOp kind, const Tensor& x, const PoolProblem& p, Tensor* indices) {
  check_floating(op, "input", x);
  const KernelTable& k = kernels_for(op, x);
  const Shape shape = with_plane(x.shape, p.OH, p.OW);
  Tensor out = Tensor::empty(shape, x.dtype, x.device());
  if (indices) *indices = Tensor::empty(shape, DType::Int64, x.device());
  if (out.numel() > 0) {
    const Tensor xc = contiguous(x);
    k.pool2d(kind, x.dtype, p, out.data(), indices ? indices->data_as<int64_t>() : nullptr, xc.data());
  }
  return out;
}

Tensor backward(const char* op, PoolOp kind, const Tensor& grad_out, const Tensor* indices, const Shape& input_shape,
                const PoolProblem& p) {
  check_floating(op, "grad_output", grad_out);
  const Shape want = with_plane(input_shape, p.OH, p.OW);
  DL_CHECK(grad_out.shape == want, ValueError, "[", op, "] expected grad_output of shape ", shape_str(want), ", got ",
           shape_str(grad_out.shape));
  const KernelTable& k = kernels_for(op, grad_out);
  Tensor dx = Tensor::empty(input_shape, grad_out.dtype, grad_out.device());
  if (dx.numel() == 0) return dx;
  const Tensor gc = contiguous(grad_out);
  Tensor ic;
  if (indices) ic = contiguous(*indices);
  k.pool2d_backward(kind, grad_out.dtype, p, dx.data(), gc.data(), indices ? ic.data_as<int64_t>() : nullptr);
  return dx;
}

PoolProblem adaptive_problem(const char* op, const Shape& x, const std::vector<int64_t>& output_size) {
  check_input(op, x);
  DL_CHECK(output_size.size() == 2 && output_size[0] >= 1 && output_size[1] >= 1, ValueError, "[", op,
           "] expected output_size of 2 entries >= 1, got ", shape_str(output_size));
  PoolProblem p;
  p.H = x[x.size() - 2]; p.W = x[x.size() - 1];
  p.planes = shape_numel(Shape(x.begin(), x.end() - 2));
  p.OH = output_size[0]; p.OW = output_size[1];
  p.adaptive = true;
  return p;
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, const PoolArgs& args) {
  const PoolProblem p = make_problem("max_pool2d", x.shape, args, true);
  Tensor indices;
  Tensor out = forward("max_pool2d", PoolOp::Max, x, p, &indices);
  return {out, indices};
}

Tensor avg_pool2d(const Tensor& x, const PoolArgs& args) {
  DL_CHECK(args.dilation == std::vector<int64_t>({1, 1}), ValueError, "[avg_pool2d] has no dilation");
  return forward("avg_pool2d", PoolOp::Avg, x, make_problem("avg_pool2d", x.shape, args, false), nullptr);
}

Tensor adaptive_avg_pool2d(const Tensor& x, const std::vector<int64_t>& output_size) {
  return forward("adaptive_avg_pool2d", PoolOp::Avg, x, adaptive_problem("adaptive_avg_pool2d", x.shape, output_size),
                 nullptr);
}

Tensor max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Shape& input_shape,
                           const PoolArgs& args) {
  const char* op = "max_pool2d_backward";
  const PoolProblem p = make_problem(op, input_shape, args, true);
  DL_CHECK(indices.dtype == DType::Int64 && indices.shape == grad_out.shape, ValueError, "[", op,
           "] expected int64 indices of grad_output's shape ", shape_str(grad_out.shape), ", got ",
           dtype_name(indices.dtype), " ", shape_str(indices.shape));
  check_same_device(op, grad_out, indices);
  if (indices.numel() > 0) {  // the kernels follow them: each must lie in its plane
    auto host_value = [](const Tensor& t) { return to_device(t, Device{}).data_as<int64_t>()[0]; };
    const int64_t lo = host_value(amin(indices, std::nullopt, false)), hi = host_value(amax(indices, std::nullopt, false));
    DL_CHECK(lo >= 0 && hi < p.H * p.W, IndexError, "[", op, "] expected indices in [0, ", p.H * p.W,
             ") (positions in an input plane), got values in [", lo, ", ", hi, "]");
  }
  return backward(op, PoolOp::Max, grad_out, &indices, input_shape, p);
}

Tensor avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape, const PoolArgs& args) {
  return backward("avg_pool2d_backward", PoolOp::Avg, grad_out, nullptr, input_shape,
                  make_problem("avg_pool2d_backward", input_shape, args, false));
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape) {
  const char* op = "adaptive_avg_pool2d_backward";
  DL_CHECK(grad_out.ndim() == static_cast<int>(input_shape.size()) && grad_out.ndim() >= 2, ValueError, "[", op,
           "] expected grad_output of ", input_shape.size(), " dims, got ", shape_str(grad_out.shape));
  const std::vector<int64_t> out_size{grad_out.shape[grad_out.ndim() - 2], grad_out.shape[grad_out.ndim() - 1]};
  return backward(op, PoolOp::Avg, grad_out, nullptr, input_shape, adaptive_problem(op, input_shape, out_size));
}

}  // namespace dlcore::ops

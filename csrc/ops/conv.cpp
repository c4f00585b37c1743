// conv1d / conv2d and their backward passes (PyTorch semantics, NCHW): the
// checks, the output size, and one ConvProblem for the kernels. conv1d is a
// conv2d of height 1; "same" padding that does not split evenly puts the
// extra row/column at the far end (as PyTorch does), which the kernels get
// for free since the input reads as zero outside the image.
#include <algorithm>
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

// The problem of a conv over x (N, C, *spatial) with w (OC, C / groups, *kernel),
// both as 2-D: a 1-D conv is a 2-D one of height 1.
ConvProblem make_problem(const char* op, const Shape& x, const Shape& w, const ConvArgs& args) {
  const size_t nd = args.spatial;
  for (const auto* v : {&args.stride, &args.dilation})
    DL_CHECK(v->size() == nd, ValueError, "[", op, "] expected stride and dilation of ", nd, " entries, got ",
             shape_str(*v));
  DL_CHECK(args.padding_mode == "same" || args.padding_mode == "valid" ||
               (args.padding_mode.empty() && args.padding.size() == nd),
           ValueError, "[", op, "] expected padding of ", nd, " entries or 'same' or 'valid', got ",
           args.padding_mode.empty() ? shape_str(args.padding) : "'" + args.padding_mode + "'");
  const std::string want = nd == 1 ? "(N, C, L)" : "(N, C, H, W)";
  DL_CHECK(x.size() == nd + 2, ValueError, "[", op, "] expected input of shape ", want, ", got ", shape_str(x));
  DL_CHECK(w.size() == nd + 2, ValueError, "[", op, "] expected weight of shape (out_channels, in_channels / groups, ",
           nd == 1 ? "K)" : "KH, KW)", ", got ", shape_str(w));
  DL_CHECK(args.groups >= 1, ValueError, "[", op, "] expected groups >= 1, got ", args.groups);
  for (size_t d = 0; d < nd; ++d) {
    DL_CHECK(args.stride[d] >= 1, ValueError, "[", op, "] expected stride >= 1, got ", args.stride[d]);
    DL_CHECK(args.dilation[d] >= 1, ValueError, "[", op, "] expected dilation >= 1, got ", args.dilation[d]);
    DL_CHECK(!args.padding_mode.empty() || args.padding[d] >= 0, ValueError, "[", op,
             "] expected padding >= 0, got ", args.padding[d]);
  }
  const int64_t C = x[1], OC = w[0];
  DL_CHECK(C % args.groups == 0 && OC % args.groups == 0, ValueError, "[", op, "] in_channels (", C,
           ") and out_channels (", OC, ") must be divisible by groups (", args.groups, ")");
  DL_CHECK(w[1] == C / args.groups, ValueError, "[", op, "] expected weight of shape (", OC, ", ", C / args.groups,
           ", ...) for ", C, " input channels in ", args.groups, " group(s), got ", shape_str(w));
  DL_CHECK(args.padding_mode != "same" ||
               std::all_of(args.stride.begin(), args.stride.end(), [](int64_t s) { return s == 1; }),
           ValueError, "[", op, "] padding='same' needs stride 1 (the output would not be the input's size)");
  ConvProblem p;
  p.N = x[0]; p.C = C; p.OC = OC; p.groups = args.groups;
  p.H = nd == 1 ? 1 : x[2]; p.W = x[nd + 1];
  p.KH = nd == 1 ? 1 : w[2]; p.KW = w[nd + 1];
  DL_CHECK(p.KH >= 1 && p.KW >= 1, ValueError, "[", op, "] expected a kernel of size >= 1, got ", shape_str(w));
  const size_t wi = nd - 1;  // args index of the W entries (H's is 0 when nd == 2)
  p.sh = nd == 1 ? 1 : args.stride[0]; p.sw = args.stride[wi];
  p.dh = nd == 1 ? 1 : args.dilation[0]; p.dw = args.dilation[wi];
  auto pad = [&](size_t d, int64_t k, int64_t dil) {
    return args.padding_mode == "same" ? dil * (k - 1) / 2 : args.padding_mode == "valid" ? 0 : args.padding[d];
  };
  p.ph = nd == 1 ? 0 : pad(0, p.KH, p.dh); p.pw = pad(wi, p.KW, p.dw);
  auto out_size = [&](int64_t in, int64_t k, int64_t s, int64_t pd, int64_t dil) {
    return args.padding_mode == "same" ? in : (in + 2 * pd - dil * (k - 1) - 1) / s + 1;
  };
  p.OH = out_size(p.H, p.KH, p.sh, p.ph, p.dh);
  p.OW = out_size(p.W, p.KW, p.sw, p.pw, p.dw);
  DL_CHECK((p.H + 2 * p.ph - p.dh * (p.KH - 1) >= 1 && p.W + 2 * p.pw - p.dw * (p.KW - 1) >= 1) || args.padding_mode == "same",
           ValueError, "[", op, "] input of size ", shape_str(Shape(x.begin() + 2, x.end())),
           " (padded) is smaller than the dilated kernel ", shape_str(Shape(w.begin() + 2, w.end())));
  p.variant = args.variant;
  return p;
}

Shape output_shape(const ConvProblem& p, size_t nd) {
  return nd == 1 ? Shape{p.N, p.OC, p.OW} : Shape{p.N, p.OC, p.OH, p.OW};
}

void check_float(const char* op, const Tensor& a, const char* what, const Tensor& ref) {
  check_floating(op, what, a);
  DL_CHECK(a.dtype == ref.dtype, TypeError, "[", op, "] expected ", what, " of dtype ", dtype_name(ref.dtype),
           " (the input's), got ", dtype_name(a.dtype));
  check_same_device(op, ref, a);
}

}  // namespace

Tensor conv(const char* op, const Tensor& x, const Tensor& w, const std::optional<Tensor>& bias, const ConvArgs& args) {
  check_float(op, x, "input", x);
  check_float(op, w, "weight", x);
  const ConvProblem p = make_problem(op, x.shape, w.shape, args);
  Tensor b;
  if (bias) {
    check_float(op, *bias, "bias", x);
    DL_CHECK(bias->ndim() == 1 && bias->shape[0] == p.OC, ValueError, "[", op, "] expected bias of shape (", p.OC,
             ",), got ", shape_str(bias->shape));
    b = contiguous(*bias);
  }
  const KernelTable& k = kernels_for(op, x);
  Tensor out = Tensor::empty(output_shape(p, args.spatial), x.dtype, x.device());
  if (out.numel() > 0) {
    const Tensor xc = contiguous(x), wc = contiguous(w);
    k.conv2d(ConvPass::Forward, x.dtype, p, out.data(), xc.data(), wc.data(), bias ? b.data() : nullptr);
  }
  return out;
}

namespace {

// A backward pass: the gradient -- of the input (x_shape) or of the weight
// (w_shape) -- from grad_out and `other`, the weight or the input.
Tensor conv_backward(const char* op, ConvPass pass, const Tensor& grad_out, const Tensor& other, const Shape& x_shape,
                     const Shape& w_shape, const ConvArgs& args) {
  check_float(op, grad_out, "grad_output", grad_out);
  check_float(op, other, pass == ConvPass::BackwardInput ? "weight" : "input", grad_out);
  const ConvProblem p = make_problem(op, x_shape, w_shape, args);
  const Shape want = output_shape(p, args.spatial);
  DL_CHECK(grad_out.shape == want, ValueError, "[", op, "] expected grad_output of shape ", shape_str(want),
           ", got ", shape_str(grad_out.shape));
  const KernelTable& k = kernels_for(op, grad_out);
  Tensor grad = Tensor::empty(pass == ConvPass::BackwardInput ? x_shape : w_shape, grad_out.dtype, grad_out.device());
  if (grad.numel() == 0) return grad;
  if (grad_out.numel() == 0 || other.numel() == 0) {  // an empty batch, no output channels: zero
    fill(grad, Scalar::of_int(0));
    return grad;
  }
  const Tensor gc = contiguous(grad_out), oc = contiguous(other);
  k.conv2d(pass, grad_out.dtype, p, grad.data(), gc.data(), oc.data(), nullptr);
  return grad;
}

}  // namespace

Tensor conv_backward_input(const char* op, const Tensor& grad_out, const Tensor& w, const Shape& input_shape,
                           const ConvArgs& args) {
  return conv_backward(op, ConvPass::BackwardInput, grad_out, w, input_shape, w.shape, args);
}

Tensor conv_backward_weight(const char* op, const Tensor& grad_out, const Tensor& x, const Shape& weight_shape,
                            const ConvArgs& args) {
  return conv_backward(op, ConvPass::BackwardWeight, grad_out, x, x.shape, weight_shape, args);
}

}  // namespace dlcore::ops

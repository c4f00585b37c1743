// Reductions: axis handling, output shapes and dtypes, and the grouping of a
// contiguous input into kept/reduced dim groups for the kernel (ReduceProblem
// in cpu/kernels.h). sum of bool/int gives int64 (NumPy, PyTorch); mean and
// var of integers are computed in float32; var is two-pass (mean first, then
// the mean squared deviation), which avoids the cancellation of E[x^2]-E[x]^2.
#include <algorithm>
#include "ops/ops.h"

namespace dlcore::ops {


namespace {

const char* reduce_name(ReduceOp op) {
  static const char* names[] = {"sum", "amax", "amin", "argmax", "argmin"};
  return names[static_cast<int>(op)];
}

std::vector<bool> reduced_mask(const char* op, const Tensor& t, const Dims& dims) {
  std::vector<bool> mask(t.ndim(), !dims || dims->empty());
  if (dims)
    for (int64_t d : *dims) {
      const int n = normalize_dim(op, d, t.ndim());
      if (t.ndim() == 0) continue;
      DL_CHECK(!mask[n] || dims->empty(), ValueError, "[", op, "] dim ", d, " appears more than once in ",
               shape_str(*dims));
      mask[n] = true;
    }
  return mask;
}

Shape reduced_shape(const Tensor& t, const std::vector<bool>& mask, bool keepdim) {
  Shape out;
  for (int d = 0; d < t.ndim(); ++d) {
    if (!mask[d]) out.push_back(t.shape[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

DType reduce_out_dtype(ReduceOp op, DType in) {
  if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin) return DType::Int64;
  if (op == ReduceOp::Sum && !is_floating(in)) return DType::Int64;
  return in;
}

Tensor reduce(ReduceOp op, const Tensor& t, const std::vector<bool>& mask, bool keepdim) {
  const char* name = reduce_name(op);
  const KernelTable& k = kernels_for(name, t);
  const Shape out_shape = reduced_shape(t, mask, keepdim);
  const DType out_dt = reduce_out_dtype(op, t.dtype);
  int64_t extent = 1;
  for (int d = 0; d < t.ndim(); ++d) if (mask[d]) extent *= t.shape[d];
  Tensor out = Tensor::empty(out_shape, out_dt, t.device());
  if (op != ReduceOp::Sum)
    DL_CHECK(extent > 0 || out.numel() == 0, ValueError, "[", name, "] cannot reduce over a zero-size dimension of ",
             "a tensor of shape ", shape_str(t.shape), ": there is no identity");
  if (out.numel() == 0) return out;
  if (extent == 0) { fill(out, Scalar::of_int(0)); return out; }

  DL_CHECK(t.ndim() <= kMaxDims, ValueError, "[", name, "] at most ", kMaxDims, " dimensions are supported, got ",
           t.ndim());
  const Tensor x = contiguous(t);
  ReduceProblem p;
  int last = -1;  // kind of the last group: 0 kept, 1 reduced
  for (int d = 0; d < x.ndim(); ++d) {
    if (x.shape[d] == 1) continue;
    const int kind = mask[d] ? 1 : 0;
    int64_t* size = kind ? p.rsize : p.ksize;
    int64_t* stride = kind ? p.rstride : p.kstride;
    int& n = kind ? p.nr : p.nk;
    if (kind == last) {
      size[n - 1] *= x.shape[d];
      stride[n - 1] = x.strides[d];
    } else {
      size[n] = x.shape[d];
      stride[n] = x.strides[d];
      ++n;
    }
    last = kind;
  }
  if (p.nr == 0) {  // only size-1 dims are reduced: every output is one input element
    if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin) fill(out, Scalar::of_int(0));
    else copy_into(out, reshape(x, out_shape));
    return out;
  }
  p.inner_reduced = last == 1;
  p.in = x.data();
  p.out = out.data();
  k.reduce(op, x.dtype, p);
  return out;
}

Tensor float_input(const Tensor& t) { return is_floating(t.dtype) ? t : astype(t, DType::Float32); }

int64_t extent_of(const Tensor& t, const std::vector<bool>& mask) {
  int64_t n = 1;
  for (int d = 0; d < t.ndim(); ++d) if (mask[d]) n *= t.shape[d];
  return n;
}

Tensor arg_reduce(ReduceOp op, const Tensor& t, std::optional<int64_t> dim, bool keepdim) {
  if (dim) {
    std::vector<bool> mask(t.ndim(), false);
    const int d = normalize_dim(reduce_name(op), *dim, t.ndim());
    if (t.ndim() > 0) mask[d] = true;
    return reduce(op, t, mask, keepdim);
  }
  // Over all elements, indexing the flattened tensor (NumPy, PyTorch).
  const Tensor flat = reshape(t, {t.numel()});
  Tensor r = reduce(op, flat, {true}, false);
  return keepdim ? reshape(r, Shape(t.ndim(), 1)) : r;
}

}  // namespace

Tensor sum(const Tensor& t, const Dims& dims, bool keepdim) {
  return reduce(ReduceOp::Sum, t, reduced_mask("sum", t, dims), keepdim);
}

Tensor amax(const Tensor& t, const Dims& dims, bool keepdim) {
  return reduce(ReduceOp::Max, t, reduced_mask("amax", t, dims), keepdim);
}

Tensor amin(const Tensor& t, const Dims& dims, bool keepdim) {
  return reduce(ReduceOp::Min, t, reduced_mask("amin", t, dims), keepdim);
}

Tensor mean(const Tensor& t, const Dims& dims, bool keepdim) {
  const auto mask = reduced_mask("mean", t, dims);
  const Tensor x = float_input(t);
  // 0 / 0 = NaN for an empty reduction, as NumPy gives.
  return binary_scalar(BinaryOp::Div, reduce(ReduceOp::Sum, x, mask, keepdim),
                       Scalar::of_float(static_cast<double>(extent_of(x, mask))), false);
}

Tensor var(const Tensor& t, const Dims& dims, int64_t correction, bool keepdim) {
  const auto mask = reduced_mask("var", t, dims);
  DL_CHECK(correction >= 0, ValueError, "[var] expected correction >= 0, got ", correction);
  const Tensor x = float_input(t);
  const int64_t n = extent_of(x, mask);
  const Tensor m = binary_scalar(BinaryOp::Div, reduce(ReduceOp::Sum, x, mask, true),
                                 Scalar::of_float(static_cast<double>(n)), false);
  const Tensor d = binary(BinaryOp::Sub, x, m);
  const Tensor ss = reduce(ReduceOp::Sum, binary(BinaryOp::Mul, d, d), mask, keepdim);
  return binary_scalar(BinaryOp::Div, ss, Scalar::of_float(static_cast<double>(std::max<int64_t>(n - correction, 0))),
                       false);
}

Tensor argmax(const Tensor& t, std::optional<int64_t> dim, bool keepdim) {
  return arg_reduce(ReduceOp::ArgMax, t, dim, keepdim);
}

Tensor argmin(const Tensor& t, std::optional<int64_t> dim, bool keepdim) {
  return arg_reduce(ReduceOp::ArgMin, t, dim, keepdim);
}

}  // namespace dlcore::ops

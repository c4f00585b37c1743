// Helpers shared by the ops: broadcasting, dim normalisation, device checks,
// scalar promotion, and the construction of the StridedLoop kernels walk.
#include <algorithm>
#include <string>
#include "core/backend.h"
#include "core/cpu_dispatch.h"
#include "core/pointwise.h"
#include "ops/ops.h"

namespace dlcore::ops {

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    DL_CHECK(da == db || da == 1 || db == 1, ValueError, "[", op, "] shapes ", shape_str(a), " and ",
             shape_str(b), " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int normalize_dim(const char* op, int64_t dim, int ndim) {
  const int64_t n = std::max(ndim, 1);  // a 0-d tensor accepts dim 0 / -1, as in PyTorch
  DL_CHECK(dim >= -n && dim < n, IndexError, "[", op, "] dim ", dim, " is out of range for a tensor with ",
           ndim, " dimension(s)");
  return static_cast<int>(dim < 0 ? dim + n : dim);
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  DL_CHECK(a.device() == b.device(), ValueError, "[", op, "] expected tensors on one device, got ",
           a.device().str(), " and ", b.device().str());
}

void check_floating(const char* op, const char* what, const Tensor& t) {
  DL_CHECK(is_floating(t.dtype), TypeError, "[", op, "] expected ", what, " of a floating dtype (float32 or float64), got ",
           dtype_name(t.dtype));
}

void check_like(const char* op, const char* what, const Tensor& other, const char* ref_name, const Tensor& ref) {
  check_same_device(op, ref, other);
  DL_CHECK(other.shape == ref.shape, ValueError, "[", op, "] expected ", what, " of shape ", shape_str(ref.shape),
           " (the ", ref_name, "'s), got ", shape_str(other.shape));
  DL_CHECK(other.dtype == ref.dtype, TypeError, "[", op, "] expected ", what, " of dtype ", dtype_name(ref.dtype),
           " (the ", ref_name, "'s), got ", dtype_name(other.dtype));
}

// The permutation that moves dim d last, and back.
static std::vector<int64_t> to_last(int d, int ndim) {
  std::vector<int64_t> perm;
  for (int i = 0; i < ndim; ++i) if (i != d) perm.push_back(i);
  perm.push_back(d);
  return perm;
}
static std::vector<int64_t> from_last(int d, int ndim) {
  const std::vector<int64_t> perm = to_last(d, ndim);
  std::vector<int64_t> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
  return inv;
}

Tensor moved_last(const Tensor& t, int d) {
  return (t.ndim() == 0 || d == t.ndim() - 1) ? contiguous(t) : contiguous(permute(t, to_last(d, t.ndim())));
}
Tensor moved_back(const Tensor& t, int d) {
  return (t.ndim() == 0 || d == t.ndim() - 1) ? t : contiguous(permute(t, from_last(d, t.ndim())));
}

void check_labels(const char* op, const Tensor& labels, int64_t classes, std::optional<int64_t> ignore_index) {
  if (labels.numel() == 0) return;
  Tensor masked = labels;
  if (ignore_index) {
    const Tensor valid = binary_scalar(BinaryOp::Ne, labels, Scalar::of_int(*ignore_index), false);
    masked = where(valid, labels, to_device(scalar_tensor(Scalar::of_int(0), DType::Int64), labels.device()));
  }
  const int64_t lo = *to_device(amin(masked, std::nullopt, false), Device{}).data_as<int64_t>();
  const int64_t hi = *to_device(amax(masked, std::nullopt, false), Device{}).data_as<int64_t>();
  if (lo < 0 || hi >= classes) label_out_of_range(op, lo < 0 ? lo : hi, classes, ignore_index);
}

void label_out_of_range(const char* op, int64_t label, int64_t classes, std::optional<int64_t> ignore_index) {
  throw IndexError(cat("[", op, "] target ", label, " is out of bounds for ", classes,
                       " classes (expected 0 <= target < ", classes,
                       ignore_index ? ", or ignore_index " + std::to_string(*ignore_index) : std::string(), ")"));
}

Tensor class_weights(const char* op, const Tensor& weight, const Tensor& input, int64_t classes) {
  check_same_device(op, input, weight);
  DL_CHECK(weight.dtype == input.dtype, TypeError, "[", op, "] expected weight of dtype ", dtype_name(input.dtype),
           " (the input's), got ", dtype_name(weight.dtype));
  DL_CHECK(weight.shape == Shape{classes}, ValueError, "[", op, "] expected weight of shape ", shape_str(Shape{classes}),
           " (one per class), got ", shape_str(weight.shape));
  return contiguous(weight);
}

const KernelTable& kernels_for(const char* op, const Tensor& t) {
  if (t.device().is_cpu()) return cpu_kernels();
  const DeviceBackend& be = backend_for(t.device(), op);
  DL_CHECK(be.kernels != nullptr, NotImplementedError, "[", op, "] no ", t.device().str(), " kernels in this build");
  be.set_device(t.device().index);
  return *be.kernels;
}

DType scalar_dtype(const Scalar& s) {
  switch (s.kind) {
    case Scalar::Kind::Bool: return DType::Bool;
    case Scalar::Kind::Int: return DType::Int64;
    case Scalar::Kind::Float: return DType::Float32;
  }
  return DType::Float32;
}

DType result_dtype(const Tensor& t, const Scalar& s) {
  // A Python scalar only changes the category (bool < int < float), never the
  // width within the tensor's category: float32 * 2.5 stays float32.
  if (s.kind == Scalar::Kind::Float && !is_floating(t.dtype)) return DType::Float32;
  if (s.kind == Scalar::Kind::Int && t.dtype == DType::Bool) return DType::Int64;
  return t.dtype;
}

Tensor scalar_tensor(const Scalar& s, DType dtype) {
  Tensor t = Tensor::empty({}, dtype, Device{});
  dispatch_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    // The conversions of a cast: a float saturates into an integer dtype, NaN -> 0.
    *t.data_as<T>() = s.kind == Scalar::Kind::Float ? pointwise::convert<T>(s.f) : pointwise::convert<T>(s.i);
  });
  return t;
}

StridedLoop make_loop(const char* op, const Tensor& out, std::initializer_list<const Tensor*> inputs) {
  const int nd = out.ndim();
  DL_CHECK(nd <= kMaxDims, ValueError, "[", op, "] at most ", kMaxDims, " dimensions are supported, got ", nd);
  StridedLoop loop;
  loop.nops = 1 + static_cast<int>(inputs.size());
  if (out.numel() == 0) {  // nothing to walk (and the strides of huge empty dims may not fit in bytes)
    loop.ndim = 1;
    loop.shape[0] = 0;
    return loop;
  }
  // Full-rank shape and byte strides per operand (0 along broadcast dims).
  int64_t shape[kMaxDims], strides[kMaxOperands][kMaxDims];
  const Tensor* ops[kMaxOperands] = {&out};
  int k = 1;
  for (const Tensor* t : inputs) ops[k++] = t;
  for (int d = 0; d < nd; ++d) shape[d] = out.shape[d];
  for (k = 0; k < loop.nops; ++k) {
    const Tensor& t = *ops[k];
    const int off = nd - t.ndim();
    for (int d = 0; d < nd; ++d) {
      const bool present = d >= off && t.shape[d - off] != 1;
      strides[k][d] = present ? t.strides[d - off] * static_cast<int64_t>(t.itemsize()) : 0;
    }
    loop.data[k] = t.data();
  }
  // Drop size-1 dims and merge neighbours that are contiguous for every operand.
  int n = 0;
  for (int d = 0; d < nd; ++d) {
    if (shape[d] == 1) continue;
    bool merge = n > 0;
    for (k = 0; merge && k < loop.nops; ++k)
      merge = loop.strides[k][n - 1] == strides[k][d] * shape[d];
    if (merge) {
      loop.shape[n - 1] *= shape[d];
      for (k = 0; k < loop.nops; ++k) loop.strides[k][n - 1] = strides[k][d];
    } else {
      loop.shape[n] = shape[d];
      for (k = 0; k < loop.nops; ++k) loop.strides[k][n] = strides[k][d];
      ++n;
    }
  }
  if (n == 0) {  // a single element
    loop.shape[0] = 1;
    for (k = 0; k < loop.nops; ++k) loop.strides[k][0] = 0;
    n = 1;
  }
  loop.ndim = n;
  return loop;
}

}  // namespace dlcore::ops

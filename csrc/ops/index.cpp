// index_select and index_add: checks, index normalisation, the (outer, n,
// inner) view of the kernels (IndexProblem, core/kernels.h).
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

// The index as contiguous int64 on x's device with negative entries wrapped,
// after checking on the host that every entry lies in [-size, size).
Tensor checked_index(const char* op, const Tensor& index, const Tensor& x, int d) {
  DL_CHECK(index.ndim() == 1, ValueError, "[", op, "] expected a 1-D index, got shape ", shape_str(index.shape));
  DL_CHECK(index.dtype == DType::Int64 || index.dtype == DType::Int32, TypeError, "[", op,
           "] expected an integer index (int64 or int32), got ", dtype_name(index.dtype));
  check_same_device(op, x, index);
  const int64_t size = x.shape[d];
  Tensor idx = contiguous(astype(index, DType::Int64));
  if (idx.numel() == 0) return idx;
  const int64_t lo = *to_device(amin(idx, std::nullopt, false), Device{}).data_as<int64_t>();
  const int64_t hi = *to_device(amax(idx, std::nullopt, false), Device{}).data_as<int64_t>();
  if (lo < -size || hi >= size)
    throw IndexError(cat("[", op, "] index ", lo < -size ? lo : hi, " is out of bounds for dim ", d, " of size ", size,
                         " (expected ", -size, " <= index < ", size, ")"));
  if (lo >= 0) return idx;
  const Tensor negative = binary_scalar(BinaryOp::Lt, idx, Scalar::of_int(0), false);
  return where(negative, binary_scalar(BinaryOp::Add, idx, Scalar::of_int(size), false), idx);
}

// The kernel on the (outer, n, inner) view of `table`, the tensor whose dim d
// holds the n rows: a Select's source, an Add's output.
void run(const char* op, IndexPass pass, const Tensor& table, int d, const Tensor& idx, const Tensor& out,
         const Tensor& src) {
  IndexProblem p;
  p.n = table.shape[d];
  p.k = idx.numel();
  p.outer = 1;
  for (int i = 0; i < d; ++i) p.outer *= table.shape[i];
  p.inner = 1;
  for (int i = d + 1; i < table.ndim(); ++i) p.inner *= table.shape[i];
  p.index = idx.data_as<int64_t>();
  p.out = out.data();
  p.src = src.data();
  kernels_for(op, out).index(pass, out.dtype, p);
}

}  // namespace

Tensor index_select(const Tensor& x_in, int64_t dim, const Tensor& index) {
  DL_CHECK(x_in.ndim() >= 1, ValueError, "[index_select] expected a tensor with at least 1 dimension, got a 0-d one");
  const int d = normalize_dim("index_select", dim, x_in.ndim());
  const Tensor idx = checked_index("index_select", index, x_in, d);
  const Tensor x = contiguous(x_in);
  Shape shape = x.shape;
  shape[d] = idx.numel();
  Tensor out = Tensor::empty(shape, x.dtype, x.device());
  if (out.numel() > 0) run("index_select", IndexPass::Select, x, d, idx, out, x);
  return out;
}

Tensor index_add(const Tensor& base, int64_t dim, const Tensor& index, const Tensor& source) {
  DL_CHECK(base.ndim() >= 1, ValueError, "[index_add] expected a tensor with at least 1 dimension, got a 0-d one");
  DL_CHECK(base.dtype != DType::Bool, TypeError, "[index_add] expected a numeric tensor, got bool");
  const int d = normalize_dim("index_add", dim, base.ndim());
  const Tensor idx = checked_index("index_add", index, base, d);
  Shape want = base.shape;
  want[d] = idx.numel();
  check_same_device("index_add", base, source);
  DL_CHECK(source.shape == want, ValueError, "[index_add] expected source of shape ", shape_str(want),
           " (the base's with dim ", d, " of the index's length), got ", shape_str(source.shape));
  const Tensor src = contiguous(astype(source, base.dtype));
  Tensor out = clone(base);
  if (src.numel() > 0) run("index_add", IndexPass::Add, out, d, idx, out, src);
  return out;
}

}  // namespace dlcore::ops

// matmul: NumPy/PyTorch semantics. 1-D operands are a row (left) or a column
// (right) vector whose dim is dropped from the result; leading batch dims
// broadcast. Operands are passed to the kernel as strided views: transposes
// and broadcast batch dims cost no copy.
#include "ops/ops.h"

namespace dlcore::ops {

Tensor matmul(const Tensor& a_in, const Tensor& b_in, GemmVariant variant) {
  DL_CHECK(a_in.ndim() >= 1 && b_in.ndim() >= 1, ValueError,
           "[matmul] expected tensors with at least 1 dimension, got shapes ", shape_str(a_in.shape), " and ",
           shape_str(b_in.shape));
  check_same_device("matmul", a_in, b_in);
  const DType dt = promote(a_in.dtype, b_in.dtype);
  DL_CHECK(dt != DType::Bool, TypeError, "[matmul] expected numeric tensors, got bool");
  const KernelTable& k = kernels_for("matmul", a_in);
  const Tensor a = a_in.ndim() == 1 ? unsqueeze(a_in, 0) : a_in;   // (K,) -> (1, K)
  const Tensor b = b_in.ndim() == 1 ? unsqueeze(b_in, 1) : b_in;   // (K,) -> (K, 1)
  const int64_t M = a.shape[a.ndim() - 2], K = a.shape[a.ndim() - 1];
  const int64_t Kb = b.shape[b.ndim() - 2], N = b.shape[b.ndim() - 1];
  DL_CHECK(K == Kb, ValueError, "[matmul] shapes ", shape_str(a_in.shape), " and ", shape_str(b_in.shape),
           " cannot be multiplied: inner dimensions ", K, " and ", Kb, " differ");
  const Shape batch = broadcast_shapes("matmul", Shape(a.shape.begin(), a.shape.end() - 2),
                                       Shape(b.shape.begin(), b.shape.end() - 2));
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  const Tensor ac = astype(a, dt), bc = astype(b, dt);
  Tensor out = Tensor::empty(out_shape, dt, a.device());
  if (K == 0) {
    fill(out, Scalar::of_int(0));
  } else if (out.numel() > 0) {
    GemmProblem p;
    p.M = M; p.N = N; p.K = K;
    p.variant = variant;
    p.a_rs = ac.strides[ac.ndim() - 2]; p.a_cs = ac.strides[ac.ndim() - 1];
    p.b_rs = bc.strides[bc.ndim() - 2]; p.b_cs = bc.strides[bc.ndim() - 1];
    p.c_rs = out.strides[out.ndim() - 2]; p.c_cs = out.strides[out.ndim() - 1];
    // The batch loop walks the first matrix of each operand: views of the
    // (M, N), (M, K), (K, N) corners with the batch dims kept.
    auto first = [](const Tensor& t) { return select(select(t, -1, 0), -1, 0); };
    const Tensor c0 = first(out), a0 = first(ac), b0 = first(bc);
    p.batch = make_loop("matmul", c0, {&a0, &b0});
    k.gemm(dt, p);
  }
  if (a_in.ndim() == 1) out = squeeze(out, std::vector<int64_t>{-2});
  if (b_in.ndim() == 1) out = squeeze(out, std::vector<int64_t>{-1});
  return out;
}

}  // namespace dlcore::ops

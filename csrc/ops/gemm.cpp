// matmul and the fused GEMM: NumPy/PyTorch semantics. 1-D operands are a row (left) or a column
// (right) vector whose dim is dropped from the result; leading batch dims
// broadcast. Operands are passed to the kernel as strided views: transposes
// and broadcast batch dims cost no copy.
#include "ops/ops.h"

namespace dlcore::ops {

Tensor matmul(const Tensor& a, const Tensor& b, GemmVariant variant) {
  GemmEpilogue e;
  e.variant = variant;
  return gemm(a, b, e);
}

Activation activation_from_name(const char* op, const std::string& name) {
  if (name == "gelu_tanh") return Activation::GELUTanh;  // activation_name calls both GELUs "gelu"
  std::string known;
  for (int i = 0; i <= static_cast<int>(Activation::Heaviside); ++i) {
    const auto act = static_cast<Activation>(i);
    if (act == Activation::GELUTanh) continue;
    if (name == activation_name(act)) return act;
    known += std::string(known.empty() ? "'" : ", '") + activation_name(act) + "'";
  }
  throw ValueError(cat("[", op, "] unknown activation '", name, "' (expected one of ", known, ", 'gelu_tanh')"));
}

Tensor gemm(const Tensor& a_in, const Tensor& b_in, const GemmEpilogue& e) {
  DL_CHECK(a_in.ndim() >= 1 && b_in.ndim() >= 1, ValueError,
           "[matmul] expected tensors with at least 1 dimension, got shapes ", shape_str(a_in.shape), " and ",
           shape_str(b_in.shape));
  check_same_device("matmul", a_in, b_in);
  const DType dt = promote(a_in.dtype, b_in.dtype);
  DL_CHECK(dt != DType::Bool, TypeError, "[matmul] expected numeric tensors, got bool");
  DL_CHECK(is_floating(dt) || e.act == Activation::Identity || e.act == Activation::ReLU, TypeError,
           "[matmul] activation '", activation_name(e.act), "' needs float32 or float64 operands, got ",
           dtype_name(dt));
  const KernelTable& k = kernels_for("matmul", a_in);
  // References where no new view or cast is needed: at a few microseconds
  // per tiny product, every Tensor copy (two shape vectors) shows.
  Tensor a_view, b_view, a_cast, b_cast;
  const Tensor& a = a_in.ndim() == 1 ? (a_view = unsqueeze(a_in, 0)) : a_in;   // (K,) -> (1, K)
  const Tensor& b = b_in.ndim() == 1 ? (b_view = unsqueeze(b_in, 1)) : b_in;   // (K,) -> (K, 1)
  const int64_t M = a.shape[a.ndim() - 2], K = a.shape[a.ndim() - 1];
  const int64_t Kb = b.shape[b.ndim() - 2], N = b.shape[b.ndim() - 1];
  DL_CHECK(K == Kb, ValueError, "[matmul] shapes ", shape_str(a_in.shape), " and ", shape_str(b_in.shape),
           " cannot be multiplied: inner dimensions ", K, " and ", Kb, " differ");
  const Shape batch = broadcast_shapes("matmul", Shape(a.shape.begin(), a.shape.end() - 2),
                                       Shape(b.shape.begin(), b.shape.end() - 2));
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  const Tensor& ac = a.dtype == dt ? a : (a_cast = astype(a, dt));
  const Tensor& bc = b.dtype == dt ? b : (b_cast = astype(b, dt));
  Tensor out = Tensor::empty(out_shape, dt, a.device());
  Tensor bias;
  if (e.bias) {
    const int64_t want = e.bias_per_row ? M : N;
    DL_CHECK(e.bias->ndim() == 1 && e.bias->shape[0] == want, ValueError, "[matmul] expected a bias of shape (",
             want, ",) (one per ", e.bias_per_row ? "row" : "column", " of the result), got ", shape_str(e.bias->shape));
    check_same_device("matmul", a_in, *e.bias);
    bias = contiguous(astype(*e.bias, dt));
  }
  if (e.c && e.beta != 0) {
    check_same_device("matmul", a_in, *e.c);
    copy_into(out, *e.c);  // broadcasts; the kernel then reads it as beta * C
  }
  if (out.numel() > 0) {
    GemmProblem p;
    p.M = M; p.N = N; p.K = K;
    // With K = 0 the packed kernel has no K block to finish the epilogue in.
    p.variant = K == 0 ? GemmVariant::Naive : e.variant;
    p.alpha = e.alpha;
    p.beta = e.c ? e.beta : 0.0;
    p.bias = e.bias ? bias.data() : nullptr;
    p.bias_per_row = e.bias_per_row;
    p.act = e.act;
    p.act_params = e.act_params;
    p.a_rs = ac.strides[ac.ndim() - 2]; p.a_cs = ac.strides[ac.ndim() - 1];
    p.b_rs = bc.strides[bc.ndim() - 2]; p.b_cs = bc.strides[bc.ndim() - 1];
    p.c_rs = out.strides[out.ndim() - 2]; p.c_cs = out.strides[out.ndim() - 1];
    if (out.ndim() == 2) {  // one matrix: the batch loop is a single step
      p.batch.ndim = 1;
      p.batch.nops = 3;
      p.batch.shape[0] = 1;
      p.batch.data[0] = out.data(); p.batch.data[1] = ac.data(); p.batch.data[2] = bc.data();
    } else {
      // The batch loop walks the first matrix of each operand: views of the
      // (M, N), (M, K), (K, N) corners with the batch dims kept.
      auto first = [](const Tensor& t) {
        return t.view_as(Shape(t.shape.begin(), t.shape.end() - 2), Shape(t.strides.begin(), t.strides.end() - 2),
                         t.offset);
      };
      const Tensor c0 = first(out), a0 = first(ac), b0 = first(bc);
      p.batch = make_loop("matmul", c0, {&a0, &b0});
    }
    k.gemm(dt, p);
  }
  if (a_in.ndim() == 1) out = squeeze(out, std::vector<int64_t>{-2});
  if (b_in.ndim() == 1) out = squeeze(out, std::vector<int64_t>{-1});
  return out;
}

}  // namespace dlcore::ops

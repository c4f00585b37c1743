// The kernel table: the contract between the op layer and a backend. The
// CPU provides one table per ISA (every csrc/cpu/*.cpp is compiled once per
// ISA with DLCORE_ISA naming the namespace; csrc/core/cpu_dispatch.cpp picks
// one at run time); a CUDA backend provides one whose kernels run on the
// device (pointers in StridedLoop / ReduceProblem are then device pointers).
//
// Kernels take raw pointers, sizes and strides that the op layer (csrc/ops)
// has already checked; they never validate or throw.
#pragma once
#include <cstdint>
#include <type_traits>
#include "core/dtype.h"
#include "core/loop.h"

namespace dlcore {

enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum,        // out has the operands' dtype
  Eq, Ne, Lt, Le, Gt, Ge,                           // out is bool
  LogicalAnd, LogicalOr, LogicalXor,                // bool operands, bool out
};
constexpr bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

enum class UnaryOp : uint8_t {
  Neg, Abs, Sign, Square, Reciprocal, Exp, Log, Sqrt, Rsqrt, LogicalNot,
};

enum class ReduceOp : uint8_t { Sum, Max, Min, ArgMax, ArgMin };

// Calls f(std::integral_constant<Op, op>{}) for the run-time op, so that a
// backend instantiates one kernel per op from a single switch.
template <class F>
void dispatch_op(BinaryOp op, F&& f) {
  switch (op) {
#define DL_CASE(name) case BinaryOp::name: return f(std::integral_constant<BinaryOp, BinaryOp::name>{});
    DL_CASE(Add) DL_CASE(Sub) DL_CASE(Mul) DL_CASE(Div) DL_CASE(Pow) DL_CASE(Maximum) DL_CASE(Minimum)
    DL_CASE(Eq) DL_CASE(Ne) DL_CASE(Lt) DL_CASE(Le) DL_CASE(Gt) DL_CASE(Ge)
    DL_CASE(LogicalAnd) DL_CASE(LogicalOr) DL_CASE(LogicalXor)
#undef DL_CASE
  }
}

template <class F>
void dispatch_op(UnaryOp op, F&& f) {
  switch (op) {
#define DL_CASE(name) case UnaryOp::name: return f(std::integral_constant<UnaryOp, UnaryOp::name>{});
    DL_CASE(Neg) DL_CASE(Abs) DL_CASE(Sign) DL_CASE(Square) DL_CASE(Reciprocal)
    DL_CASE(Exp) DL_CASE(Log) DL_CASE(Sqrt) DL_CASE(Rsqrt) DL_CASE(LogicalNot)
#undef DL_CASE
  }
}

// A reduction over a contiguous input, its dims merged into groups that are
// either all kept or all reduced. The output is contiguous over the kept
// groups (in order). Exactly one of the two innermost patterns applies:
//   inner_reduced: the last reduced group has stride 1 -> each output is a
//                  SIMD reduction over contiguous runs;
//   otherwise:     the last kept group has stride 1 (length inner_kept) ->
//                  rows of outputs are accumulated with SIMD across them.
struct ReduceProblem {
  int nk = 0, nr = 0;
  int64_t ksize[kMaxDims], kstride[kMaxDims];  // kept groups: size, input stride (elements)
  int64_t rsize[kMaxDims], rstride[kMaxDims];  // reduced groups
  bool inner_reduced = true;
  const void* in = nullptr;
  void* out = nullptr;        // Sum: int64 for integer/bool input; ArgMax/ArgMin: int64
};

// C = A @ B for a batch of matrices. A is M x K, B is K x N, C is M x N,
// each with its own element strides (rows, columns), so transposed views need
// no copy. `batch` walks the broadcast batch shape with three operands
// (C, A, B): its data pointers are the first matrices, its strides step
// between matrices (0 where an operand is broadcast).
// The activations a GEMM epilogue can apply (the activations family adds more).
enum class Activation : uint8_t { Identity, ReLU };

// Which GEMM kernel runs: the fastest, or the naive oracle (for tests and
// for reading the two side by side in benchmarks).
enum class GemmVariant : uint8_t { Fast, Naive };

// C = act(alpha * A @ B + beta * C + bias): the epilogue of a dense layer
// runs on each tile of C while it is in cache. beta = 0 never reads C (it may
// be uninitialised). bias (contiguous, the problem's dtype, shared by the
// batch) has N entries (one per column) or M (per row, bias_per_row).
struct GemmProblem {
  int64_t M = 0, N = 0, K = 0;
  GemmVariant variant = GemmVariant::Fast;
  double alpha = 1, beta = 0;
  const void* bias = nullptr;
  bool bias_per_row = false;
  Activation act = Activation::Identity;
  int64_t a_rs = 0, a_cs = 0, b_rs = 0, b_cs = 0, c_rs = 0, c_cs = 0;  // elements
  StridedLoop batch;
};

// 2-D convolution over contiguous NCHW tensors (conv1d is H = KH = 1):
// x (N, C, H, W), w (OC, C / groups, KH, KW), y (N, OC, OH, OW), with
// y[n, oc, oh, ow] = bias[oc] + sum over (c, kh, kw) in oc's group of
//   w[oc, c, kh, kw] * x[n, c, oh * sh - ph + kh * dh, ow * sw - pw + kw * dw]
// (x is zero outside the image, so OH / OW alone decide the padding at the
// far edges). The three passes of a conv layer:
//   Forward:        out = y,  a = x,  b = w, bias (OC entries) or null
//   BackwardInput:  out = dx, a = dy, b = w
//   BackwardWeight: out = dw, a = dy, b = x
enum class ConvPass : uint8_t { Forward, BackwardInput, BackwardWeight };
struct ConvProblem {
  int64_t N = 0, C = 0, H = 0, W = 0, OC = 0, KH = 0, KW = 0, OH = 0, OW = 0, groups = 1;
  int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  GemmVariant variant = GemmVariant::Fast;  // Naive: the direct loops, the oracle
};

// 2-D pooling of `planes` contiguous H x W planes into OH x OW ones. An
// output's window covers rows oh * sh - ph + kh * dh (kh < KH), clipped to
// the image -- or, adaptive, rows [floor(oh * H / OH), ceil((oh + 1) * H / OH)).
// Avg divides by the window clipped to the padded image (count_include_pad)
// or to the image. Max stores the flat index (ih * W + iw) of each maximum
// (the first one; NaN wins) for the backward pass.
enum class PoolOp : uint8_t { Max, Avg };
struct PoolProblem {
  int64_t planes = 0, H = 0, W = 0, OH = 0, OW = 0, KH = 1, KW = 1;
  int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  bool count_include_pad = true, adaptive = false;
};

struct KernelTable {
  const char* isa;
  // loop operands: out, a, b (a and b of dtype `dt`, out of dtype dt or bool)
  void (*binary)(BinaryOp op, DType dt, const StridedLoop& loop);
  // loop operands: out, a (same dtype)
  void (*unary)(UnaryOp op, DType dt, const StridedLoop& loop);
  // loop operands: out, a; lo/hi already representable in dt
  void (*clip)(DType dt, const StridedLoop& loop, double lo, double hi);
  // loop operands: out, cond (bool), a, b
  void (*where)(DType dt, const StridedLoop& loop);
  // loop operands: out (dtype dst), a (dtype src)
  void (*copy)(DType dst, DType src, const StridedLoop& loop);
  void (*reduce)(ReduceOp op, DType in_dt, const ReduceProblem& p);
  // out[i] = start + i * step, contiguous; integer dtypes use the exact
  // int_start/int_step, floating ones start/step.
  void (*arange)(DType dt, void* out, int64_t n, double start, double step, int64_t int_start, int64_t int_step);
  // Counter-based random numbers: element i depends only on (seed, offset + i).
  void (*uniform)(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi);
  void (*normal)(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std);
  void (*gemm)(DType dt, const GemmProblem& p);
  void (*conv2d)(ConvPass pass, DType dt, const ConvProblem& p, void* out, const void* a, const void* b,
                 const void* bias);
  // Forward: out (planes, OH, OW), indices (Max only, same shape) from in.
  // Backward: grad_in (planes, H, W) from grad_out (and Max's indices).
  void (*pool2d)(PoolOp op, DType dt, const PoolProblem& p, void* out, int64_t* indices, const void* in);
  void (*pool2d_backward)(PoolOp op, DType dt, const PoolProblem& p, void* grad_in, const void* grad_out,
                          const int64_t* indices);
};

}  // namespace dlcore

// The kernels every backend defines in its own namespace, and its table of them.
#define DLCORE_DECLARE_KERNELS                                                    \
  void binary(BinaryOp, DType, const StridedLoop&);                               \
  void unary(UnaryOp, DType, const StridedLoop&);                                 \
  void clip(DType, const StridedLoop&, double, double);                           \
  void where(DType, const StridedLoop&);                                          \
  void copy(DType, DType, const StridedLoop&);                                    \
  void reduce(ReduceOp, DType, const ReduceProblem&);                             \
  void arange(DType, void*, int64_t, double, double, int64_t, int64_t);           \
  void uniform(DType, void*, int64_t, uint64_t, uint64_t, double, double);        \
  void normal(DType, void*, int64_t, uint64_t, uint64_t, double, double);          \
  void gemm(DType, const GemmProblem&);                                            \
  void conv2d(ConvPass, DType, const ConvProblem&, void*, const void*, const void*, const void*); \
  void pool2d(PoolOp, DType, const PoolProblem&, void*, int64_t*, const void*);      \
  void pool2d_backward(PoolOp, DType, const PoolProblem&, void*, const void*, const int64_t*);
#define DLCORE_KERNEL_TABLE(name)                                                                           \
  KernelTable {                                                                                             \
    name, binary, unary, clip, where, copy, reduce, arange, uniform, normal, gemm, conv2d, pool2d, pool2d_backward \
  }

#define DLCORE_DECLARE_ISA(isa)                            \
  namespace dlcore::cpu::isa {                             \
  const ::dlcore::KernelTable& kernel_table();             \
  double fma_probe(int64_t iters); /* cpu/peak.cpp */      \
  }

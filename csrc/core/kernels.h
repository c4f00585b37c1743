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
// The activation functions (their math: pointwise::activation in
// core/pointwise.h). A GEMM epilogue applies one; the activation kernels
// apply any, forward and backward. Parameters (ActivationParams: a, b):
//   LeakyReLU a = negative slope; ELU a = alpha; SiLU a = beta (x sigmoid(beta x),
//   the Swish family); Softplus a = beta, b = threshold; HardTanh a = min, b = max.
// Heaviside is the perceptron's step (1 for x > 0, else 0) and has no gradient.
enum class Activation : uint8_t {
  Identity, ReLU, LeakyReLU, ELU, SELU, SiLU, Softplus, GELU, GELUTanh, Sigmoid, Tanh, HardTanh, HardSigmoid,
  Heaviside,
};

struct ActivationParams { double a = 0, b = 0; };

// PyTorch's defaults.
constexpr ActivationParams default_params(Activation act) {
  switch (act) {
    case Activation::LeakyReLU: return {0.01, 0};
    case Activation::ELU: case Activation::SiLU: return {1, 0};
    case Activation::Softplus: return {1, 20};
    case Activation::HardTanh: return {-1, 1};
    default: return {0, 0};
  }
}

constexpr bool activation_has_grad(Activation act) { return act != Activation::Heaviside; }

// Which tensor the backward kernel reads: the forward's output where the
// derivative is a cheap function of it (no transcendental to recompute),
// else the input.
constexpr bool activation_grad_uses_output(Activation act) {
  return act == Activation::ReLU || act == Activation::ELU || act == Activation::SELU ||
         act == Activation::Sigmoid || act == Activation::Tanh;
}

// The activations whose parameter `a` may be a tensor (one value per channel,
// broadcast to the input) with a gradient of its own: LeakyReLU is PReLU,
// SiLU is Swish with a learned beta.
constexpr bool activation_has_param_grad(Activation act) {
  return act == Activation::LeakyReLU || act == Activation::SiLU;
}

template <class F>
void dispatch_op(Activation act, F&& f) {
  switch (act) {
#define DL_CASE(name) case Activation::name: return f(std::integral_constant<Activation, Activation::name>{});
    DL_CASE(Identity) DL_CASE(ReLU) DL_CASE(LeakyReLU) DL_CASE(ELU) DL_CASE(SELU) DL_CASE(SiLU) DL_CASE(Softplus)
    DL_CASE(GELU) DL_CASE(GELUTanh) DL_CASE(Sigmoid) DL_CASE(Tanh) DL_CASE(HardTanh) DL_CASE(HardSigmoid)
    DL_CASE(Heaviside)
#undef DL_CASE
  }
}

// f(activation as an integral_constant, T{}) for a floating dtype: one
// kernel instance per (activation, dtype).
template <class F>
void dispatch_activation(Activation act, DType dt, F&& f) {
  dispatch_op(act, [&](auto op) { dispatch_floating(dt, [&](auto tag) { f(op, tag); }); });
}

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
  ActivationParams act_params;  // the activation's parameters (PyTorch's defaults by default)
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

// Softmax along the rows of a contiguous (rows, classes) matrix (the op
// layer moves any axis last). Forward: x -> out = softmax(x) or log_softmax(x).
// Backward: x is the forward's output y, dy its gradient, out = dx.
struct SoftmaxProblem {
  int64_t rows = 0, classes = 0;
  bool log = false;
  const void* x = nullptr;
  const void* dy = nullptr;
  void* out = nullptr;
};

// Cross-entropy of each row of contiguous (rows, classes) logits against an
// integer label (labels; ignore_index rows have loss 0 and gradient 0) or a
// row of target probabilities (target), with label smoothing: the target
// distribution is q = (1 - smoothing) * target + smoothing / classes, and
// optional class weights w (weight, (classes,); null: all 1): a row's loss is
// sum_c w_c q_c (lse - x_c), PyTorch's weighted cross-entropy.
// log_probs: the input already holds log-probabilities (NLL); no softmax.
// Labels are validated here, in the same pass: the smallest row whose label
// is neither in [0, classes) nor ignore_index goes to *bad_row (an atomic
// min; the op layer sets it to rows first and raises the error), and such a
// row counts as ignored.
// Forward: reduce false: loss (rows,); reduce true: loss is one value, the
// sum of the rows' losses, divided when mean by the sum of the rows'
// weights (w[label] for a label, 0 when ignored; 1 for a row of target
// probabilities), summed in an order that does not depend on the thread
// count (scratch: rows x 2 float64 for the rows' (loss, weight) pairs, given
// whenever reduce or mean). stats (rows, 3) float64: each row's max m, log sum
// exp(x - m) -- kept apart so that a huge m does not swallow the log-sum's
// digits -- and its mass S = sum_c w_c q_c. That is all the backward needs
// besides the logits: dlogits = g (S exp((x - m) - logsum) - w q), or
// g * -w q for log-probabilities (stats unused), with g = grad divided when
// mean by the same sum of weights (found by a first pass over the labels).
struct CrossEntropyProblem {
  int64_t rows = 0, classes = 0;
  bool log_probs = false;
  const void* logits = nullptr;
  const int64_t* labels = nullptr;
  const void* target = nullptr;
  const void* weight = nullptr;
  int64_t ignore_index = -100;
  double smoothing = 0;
  bool reduce = false, mean = false;
  int64_t* bad_row = nullptr;
  double* scratch = nullptr;
  void* loss = nullptr;
  void* stats = nullptr;
  const void* grad = nullptr;  // (rows,) when grad_per_row, else one value for every row
  bool grad_per_row = false;
  void* dlogits = nullptr;
};

// Dropout with inverted scaling over a contiguous tensor of n elements:
// out = keep ? x / (1 - p) : 0. Elements come in groups of `group` (1 for
// dropout; a channel's H * W for channel dropout) that share one keep/drop
// draw: draw m is the uniform word m % 2 of Philox block (seed, offset + m / 2)
// (core/philox.h), dropped when below p -- the same on every backend and for
// any thread count. The backward is the same kernel on the gradient.
struct DropoutProblem {
  int64_t n = 0, group = 1;
  double p = 0;
  uint64_t seed = 0, offset = 0;
  const void* x = nullptr;
  void* out = nullptr;
};

// The elementwise losses l(x, t) of an input x and a target t (their math:
// pointwise::loss in core/pointwise.h). Parameter a: SmoothL1's beta (> 0;
// beta = 0 is L1), Huber's delta. BCE takes probabilities x in [0, 1] (logs
// clamped at -100, as in PyTorch), BCEWithLogits logits (stable for any x);
// BCEWithLogitsPosWeight is BCEWithLogits with the positive term scaled by
// a per-element pos_weight p (PyTorch's pos_weight):
// (1 - t) x + (1 + (p - 1) t) log(1 + e^-x).
// KLDiv's x holds log-probabilities and t probabilities (KLDivLogTarget:
// log-probabilities). MSE and L1 against a zero target are the L2 and L1
// penalties of regularizers.
enum class Loss : uint8_t { MSE, L1, SmoothL1, Huber, BCE, BCEWithLogits, BCEWithLogitsPosWeight, KLDiv, KLDivLogTarget };

template <class F>
void dispatch_op(Loss loss, F&& f) {
  switch (loss) {
#define DL_CASE(name) case Loss::name: return f(std::integral_constant<Loss, Loss::name>{});
    DL_CASE(MSE) DL_CASE(L1) DL_CASE(SmoothL1) DL_CASE(Huber) DL_CASE(BCE) DL_CASE(BCEWithLogits)
    DL_CASE(BCEWithLogitsPosWeight) DL_CASE(KLDiv) DL_CASE(KLDivLogTarget)
#undef DL_CASE
  }
}

// f(loss as an integral_constant, T{}) for a floating dtype.
template <class F>
void dispatch_loss(Loss loss, DType dt, F&& f) {
  dispatch_op(loss, [&](auto op) { dispatch_floating(dt, [&](auto tag) { f(op, tag); }); });
}

// Multi-class hinge (the SVM loss; PyTorch's multi_margin_loss) of each row
// of contiguous (rows, classes) scores x against an integer label y:
// loss = w[y] sum over j != y of max(0, margin - x[y] + x[j])^power / classes,
// power 1 or 2 (squared hinge), w the class weights (classes,) or null (all
// 1). Backward: dx from grad (one value per row when grad_per_row, else one
// for every row).
struct MarginProblem {
  int64_t rows = 0, classes = 0;
  int power = 1;
  double margin = 1;
  const void* x = nullptr;
  const int64_t* labels = nullptr;
  const void* weight = nullptr;
  void* loss = nullptr;
  const void* grad = nullptr;
  bool grad_per_row = false;
  void* dx = nullptr;
};

// Cosine similarity of the rows of contiguous (rows, n) matrices a and b:
// out = a.b / (max(|a|, eps) max(|b|, eps)). Backward: da, db from grad (rows,).
struct CosineProblem {
  int64_t rows = 0, n = 0;
  double eps = 1e-8;
  const void* a = nullptr;
  const void* b = nullptr;
  void* out = nullptr;
  const void* grad = nullptr;
  void* da = nullptr;
  void* db = nullptr;
};

// The tensors of a normalization: forward x -> y, saving the statistics
// mean and invstd = 1 / sqrt(var + eps) (float64); backward dy -> dx and
// (where not null) dweight, dbias. weight and bias may be null (1 and 0).
struct NormOperands {
  const void* x = nullptr;
  const void* weight = nullptr;
  const void* bias = nullptr;
  void* y = nullptr;
  double* mean = nullptr;
  double* invstd = nullptr;
  const void* dy = nullptr;
  void* dx = nullptr;
  void* dweight = nullptr;
  void* dbias = nullptr;
};

// Batch norm over a contiguous (N, C, S) tensor (S: the product of the
// spatial dims, 1 for (N, C)): each channel normalized by its statistics over
// N x S elements; parameters and statistics have C entries. training: the
// batch's mean and biased variance, and running_mean / running_var (the
// input's dtype; or null) moved towards the batch's mean and unbiased
// variance by `momentum`. Otherwise the running statistics normalize (and
// are saved as mean / invstd). In training the backward's dx includes the
// statistics' own dependence on x.
struct BatchNormProblem : NormOperands {
  int64_t N = 0, C = 0, S = 1;
  bool training = true;
  double eps = 1e-5, momentum = 0.1;
  void* running_mean = nullptr;
  void* running_var = nullptr;
};

// Layer norm of each row of a contiguous (rows, cols) matrix (cols: the
// normalized trailing dims): parameters have cols entries, statistics rows.
struct LayerNormProblem : NormOperands {
  int64_t rows = 0, cols = 0;
  double eps = 1e-5;
};

// ---- fused optimizer steps over lists of tensors (multi-tensor apply) ------
// The op layer passes a list of tensors, each with up to kMaxListOperands
// contiguous operands of one dtype and numel elements (parameter, gradient,
// then the optimizer's state); the backend covers all of them in one parallel
// region (CPU: a contiguous range of the list's elements per thread) or one
// launch (CUDA: chunks of a few thousand elements, split_list in
// core/multi_tensor.h), so a step over every parameter of a model costs one call.
constexpr int kMaxListOperands = 5;

// One tensor of a list, or one chunk of it: the same struct with its
// pointers advanced to the chunk's first element.
struct ListTensor {
  void* data[kMaxListOperands] = {};
  int64_t numel = 0;
};

struct TensorList {
  const ListTensor* tensors = nullptr;  // host memory, `count` entries
  int64_t count = 0;
};

// The optimizers' updates, PyTorch's formulas in PyTorch's operation order
// (pointwise::optimizer_update, core/pointwise.h). Operands of each tensor:
// 0 the parameter (updated), 1 the gradient (read), then the state
// (updated), null when unused:
//   SGD       2 momentum buffer (momentum > 0)
//   Adagrad   2 sum of squares
//   RMSprop   2 square average, 3 momentum buffer (momentum > 0), 4 gradient average (centered)
//   Adadelta  2 square average, 3 accumulated delta
//   Adam      2 exp_avg, 3 exp_avg_sq, 4 max_exp_avg_sq (amsgrad)
// The scalars are the host-side numbers PyTorch computes in double before
// its tensor ops round them to the tensors' dtype.
enum class Optimizer : uint8_t { SGD, Adagrad, RMSprop, Adadelta, Adam };

struct OptimizerStep {
  Optimizer kind = Optimizer::SGD;
  TensorList list;
  double neg_lr = 0;        // -lr; Adagrad: -lr / (1 + (step - 1) lr_decay); Adam: -lr / (1 - beta1^step)
  double weight_decay = 0;  // L2: g += wd p (0: skipped, so that an inf p does not turn g into NaN)
  double decay = 1;         // Adam decoupled (AdamW): p *= 1 - lr wd before the update
  double momentum = 0;      // SGD, RMSprop
  double one_minus_dampening = 1;
  double beta = 0;          // RMSprop alpha, Adadelta rho, Adam beta1
  double one_minus_beta = 1;
  double beta2 = 0, one_minus_beta2 = 1;  // Adam
  double bias_correction2_sqrt = 1;       // Adam: sqrt(1 - beta2^step)
  double eps = 0;
  bool nesterov = false, first_step = false;  // SGD (first_step: buf = g)
  bool centered = false;                      // RMSprop
  bool amsgrad = false;                       // Adam
};

// Multiplies every element of a list (operand 0) by one factor: `value`, or
// the device scalar `factor` (the list's dtype) when not null; clip_norm: the
// factor is a norm and the multiplier min(1, max_norm / (norm + 1e-6)),
// computed in the dtype as torch.nn.utils.clip_grad_norm_ does.
struct ListScale {
  double value = 1;
  const void* factor = nullptr;
  bool clip_norm = false;
  double max_norm = 0;
};

// The fused gate kernels of the recurrent layers, one step over contiguous
// row-major matrices of `rows` rows (the batch) and `hidden` units H; the
// GEMMs that make the pre-activations are not part of them. Each thread of
// work is one (row, unit): it reads that unit's gates and writes its outputs.
// LSTM (PyTorch's gate order i, f, g, o):
//   forward   gates (rows, 4H), c_prev (rows, H) -> h, c (rows, H):
//             c = sigmoid(f) c_prev + sigmoid(i) tanh(g), h = sigmoid(o) tanh(c)
//   backward  grad_h, grad_c (null: zero), gates, c_prev, c -> grad_gates (rows, 4H),
//             grad_c_prev (rows, H)
struct LstmCellProblem {
  int64_t rows = 0, hidden = 0;
  const void* gates = nullptr;
  const void* c_prev = nullptr;
  void* h = nullptr;
  void* c = nullptr;  // written by the forward, read by the backward
  const void* grad_h = nullptr;
  const void* grad_c = nullptr;
  void* grad_gates = nullptr;
  void* grad_c_prev = nullptr;
};

// GRU (gate order r, z, n), x_gates = x W_ih^T + b_ih and h_gates = h W_hh^T + b_hh:
//   forward   x_gates, h_gates (rows, 3H), h_prev (rows, H) -> h (rows, H):
//             r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z), n = tanh(x_n + r h_n),
//             h = (1 - z) n + z h_prev
//   backward  grad_h, x_gates, h_gates, h_prev -> grad_x_gates, grad_h_gates (rows, 3H),
//             grad_h_prev (rows, H)
struct GruCellProblem {
  int64_t rows = 0, hidden = 0;
  const void* x_gates = nullptr;
  const void* h_gates = nullptr;
  const void* h_prev = nullptr;
  void* h = nullptr;
  const void* grad_h = nullptr;
  void* grad_x_gates = nullptr;
  void* grad_h_gates = nullptr;
  void* grad_h_prev = nullptr;
};

// Gathering and scattering whole rows along one dim: a contiguous tensor is
// viewed as (outer, n, inner) and `index` holds k row numbers in [0, n)
// (int64, in the backend's memory; the op layer checks and wraps them).
//   Select: out (outer, k, inner)  = src[:, index[j], :]       (index_select)
//   Add:    out (outer, n, inner) += src (outer, k, inner) at the rows
//           index[j], repeated rows accumulating in the order of j (index_add)
enum class IndexPass : uint8_t { Select, Add };
struct IndexProblem {
  int64_t outer = 0, n = 0, k = 0, inner = 0;
  void* out = nullptr;
  const void* src = nullptr;
  const int64_t* index = nullptr;
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
  // Activations, floating dtypes. loop operands: out, x; or out, x, a where
  // the tensor a (broadcast) replaces the parameter p.a per element.
  void (*activation)(Activation act, DType dt, const StridedLoop& loop, const ActivationParams& p);
  // loop operands: dx, dy, saved (the input or the output, as
  // activation_grad_uses_output says); or d, dy, x, a with a tensor parameter,
  // where d is dx, or (wrt_param) dy * d act / d a per element.
  void (*activation_backward)(Activation act, DType dt, const StridedLoop& loop, const ActivationParams& p,
                              bool wrt_param);
  void (*softmax)(DType dt, const SoftmaxProblem& p);
  void (*softmax_backward)(DType dt, const SoftmaxProblem& p);
  void (*cross_entropy)(DType dt, const CrossEntropyProblem& p);
  void (*cross_entropy_backward)(DType dt, const CrossEntropyProblem& p);
  void (*dropout)(DType dt, const DropoutProblem& p);
  // loop operands: out, x, t[, p][, w]; a = the loss's parameter, p
  // (BCEWithLogitsPosWeight only) the per-element pos_weight, w (optional)
  // a per-element weight multiplying the loss. p and w are broadcast.
  void (*loss)(Loss loss, DType dt, const StridedLoop& loop, double a);
  // loop operands: dx, x, t, g[, p] (g broadcast: one value, or one per
  // element, a weight already folded in; p as in the forward).
  void (*loss_backward)(Loss loss, DType dt, const StridedLoop& loop, double a);
  void (*multi_margin)(DType dt, const MarginProblem& p);
  void (*multi_margin_backward)(DType dt, const MarginProblem& p);
  void (*cosine_similarity)(DType dt, const CosineProblem& p);
  void (*cosine_similarity_backward)(DType dt, const CosineProblem& p);
  void (*batch_norm)(DType dt, const BatchNormProblem& p);
  void (*batch_norm_backward)(DType dt, const BatchNormProblem& p);
  void (*layer_norm)(DType dt, const LayerNormProblem& p);
  void (*layer_norm_backward)(DType dt, const LayerNormProblem& p);
  void (*optimizer_step)(DType dt, const OptimizerStep& s);
  // The p-norm (p > 0, or inf: max |x|) of all elements of a list (operand 0),
  // accumulated in float64 over fixed chunks in a fixed order, written to
  // `out` (one element of dtype dt in the backend's memory).
  void (*list_norm)(DType dt, const TensorList& list, double p, void* out);
  void (*list_scale)(DType dt, const TensorList& list, const ListScale& s);
  // Clamps every element of a list (operand 0) to [-bound, bound]; NaN stays NaN.
  void (*list_clamp)(DType dt, const TensorList& list, double bound);
  void (*lstm_cell)(DType dt, const LstmCellProblem& p);
  void (*lstm_cell_backward)(DType dt, const LstmCellProblem& p);
  void (*gru_cell)(DType dt, const GruCellProblem& p);
  void (*gru_cell_backward)(DType dt, const GruCellProblem& p);
  void (*index)(IndexPass pass, DType dt, const IndexProblem& p);
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
  void pool2d_backward(PoolOp, DType, const PoolProblem&, void*, const void*, const int64_t*); \
  void activation(Activation, DType, const StridedLoop&, const ActivationParams&);   \
  void activation_backward(Activation, DType, const StridedLoop&, const ActivationParams&, bool); \
  void softmax(DType, const SoftmaxProblem&);                                                   \
  void softmax_backward(DType, const SoftmaxProblem&);                                          \
  void cross_entropy(DType, const CrossEntropyProblem&);                                        \
  void cross_entropy_backward(DType, const CrossEntropyProblem&);                               \
  void dropout(DType, const DropoutProblem&);                                                    \
  void loss(Loss, DType, const StridedLoop&, double);                                           \
  void loss_backward(Loss, DType, const StridedLoop&, double);                                  \
  void multi_margin(DType, const MarginProblem&);                                               \
  void multi_margin_backward(DType, const MarginProblem&);                                      \
  void cosine_similarity(DType, const CosineProblem&);                                          \
  void cosine_similarity_backward(DType, const CosineProblem&);                                  \
  void batch_norm(DType, const BatchNormProblem&);                                              \
  void batch_norm_backward(DType, const BatchNormProblem&);                                     \
  void layer_norm(DType, const LayerNormProblem&);                                              \
  void layer_norm_backward(DType, const LayerNormProblem&);                                     \
  void optimizer_step(DType, const OptimizerStep&);                                             \
  void list_norm(DType, const TensorList&, double, void*);                                      \
  void list_scale(DType, const TensorList&, const ListScale&);                                  \
  void list_clamp(DType, const TensorList&, double);                                            \
  void lstm_cell(DType, const LstmCellProblem&);                                                \
  void lstm_cell_backward(DType, const LstmCellProblem&);                                       \
  void gru_cell(DType, const GruCellProblem&);                                                  \
  void gru_cell_backward(DType, const GruCellProblem&);                                          \
  void index(IndexPass, DType, const IndexProblem&);
#define DLCORE_KERNEL_TABLE(name)                                                                          \
  KernelTable {                                                                                            \
    name, binary, unary, clip, where, copy, reduce, arange, uniform, normal, gemm, conv2d, pool2d,           \
        pool2d_backward, activation, activation_backward, softmax, softmax_backward, cross_entropy,         \
        cross_entropy_backward, dropout, loss, loss_backward, multi_margin, multi_margin_backward,          \
        cosine_similarity, cosine_similarity_backward, batch_norm, batch_norm_backward, layer_norm,        \
        layer_norm_backward, optimizer_step, list_norm, list_scale, list_clamp, lstm_cell,                 \
        lstm_cell_backward, gru_cell, gru_cell_backward, index                                             \
  }

#define DLCORE_DECLARE_ISA(isa)                            \
  namespace dlcore::cpu::isa {                             \
  const ::dlcore::KernelTable& kernel_table();             \
  double fma_probe(int64_t iters); /* cpu/peak.cpp */      \
  }

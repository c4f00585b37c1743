// The op layer: the one place where arguments are checked (shapes, dtypes,
// devices), outputs allocated, and work dispatched on (device, dtype) to a
// kernel. Every error message names the op: "[add] ...".
#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>
#include "core/tensor.h"
#include "core/kernels.h"

namespace dlcore {

// A Python number with its kind, for NumPy/PyTorch-style promotion: a float
// scalar makes an integer tensor float32; an int scalar keeps int32 int32.
struct Scalar {
  enum class Kind { Bool, Int, Float } kind = Kind::Float;
  double f = 0;
  int64_t i = 0;
  static Scalar of_bool(bool b) { return {Kind::Bool, double(b), int64_t(b)}; }
  static Scalar of_int(int64_t v) { return {Kind::Int, double(v), v}; }
  static Scalar of_float(double v) { return {Kind::Float, v, 0}; }
};

// How a loss over samples is reduced (PyTorch's 'none', 'mean', 'sum').
enum class Reduction : uint8_t { None, Mean, Sum };

namespace ops {

// --- shared helpers (common.cpp) ---------------------------------------------
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
// Dimension `dim` (negative counts from the end) as an index in [0, ndim).
int normalize_dim(const char* op, int64_t dim, int ndim);
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
// "[op] expected <what> of a floating dtype (float32 or float64), got int64"
void check_floating(const char* op, const char* what, const Tensor& t);
// `other` matches `ref` in device, shape and dtype (a gradient and what it
// flows through): "[op] expected <what> of shape (2, 3) (the <ref_name>'s), got (3,)".
void check_like(const char* op, const char* what, const Tensor& other, const char* ref_name, const Tensor& ref);
// t contiguous with dim d moved last (a copy unless d is already last), and
// back: moved_back(moved_last(t, d), d) has t's layout.
Tensor moved_last(const Tensor& t, int d);
Tensor moved_back(const Tensor& t, int d);
// Every entry of int64 `labels` is a class index in [0, classes) or
// ignore_index, read on the host before any kernel indexes with them:
// "[op] target 4 is out of bounds for 4 classes (expected 0 <= target < 4)".
void check_labels(const char* op, const Tensor& labels, int64_t classes, std::optional<int64_t> ignore_index);
// Class weights (classes,) of the input's dtype and device, contiguous:
// "[op] expected weight of shape (4,) (one per class), got (3,)".
Tensor class_weights(const char* op, const Tensor& weight, const Tensor& input, int64_t classes);
// Throws that error for `label` (kernels that check labels themselves report one).
[[noreturn]] void label_out_of_range(const char* op, int64_t label, int64_t classes,
                                     std::optional<int64_t> ignore_index);
// The kernel table for the tensor's device (the CPU's ISA table, or the
// registered CUDA backend's), or a clear error when the device has none.
const KernelTable& kernels_for(const char* op, const Tensor& t);
DType scalar_dtype(const Scalar& s);
DType result_dtype(const Tensor& t, const Scalar& s);
// A 0-d CPU tensor holding the scalar converted to dtype.
Tensor scalar_tensor(const Scalar& s, DType dtype);
// The loop over out's shape with `inputs` broadcast against it (core/loop.h).
StridedLoop make_loop(const char* op, const Tensor& out, std::initializer_list<const Tensor*> inputs);

// --- copies (copy.cpp) ------------------------------------------------------
Tensor contiguous(const Tensor& t);
Tensor astype(const Tensor& t, DType dtype);             // no copy if already dtype
Tensor clone(const Tensor& t);
void copy_into(const Tensor& dst, const Tensor& src);    // dst[...] = src (broadcast)
void fill(const Tensor& dst, const Scalar& value);
Tensor to_device(const Tensor& t, Device device);

// --- views (view.cpp) -------------------------------------------------------
Tensor reshape(const Tensor& t, const Shape& shape);     // a view when possible
Tensor view(const Tensor& t, const Shape& shape);        // a view or an error
Tensor permute(const Tensor& t, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& t, int64_t d0, int64_t d1);
Tensor expand(const Tensor& t, const Shape& shape);
Tensor squeeze(const Tensor& t, const std::optional<std::vector<int64_t>>& dims);
Tensor unsqueeze(const Tensor& t, int64_t dim);
Tensor flatten(const Tensor& t, int64_t start, int64_t end);
// t[start:stop:step] along dim, Python slice semantics (clamped, step != 0).
Tensor slice(const Tensor& t, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step);
Tensor select(const Tensor& t, int64_t dim, int64_t index);  // t[..., index, ...], dim removed
Tensor as_strided(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset);

// --- elementwise (elementwise.cpp) ------------------------------------------
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor binary_scalar(BinaryOp op, const Tensor& a, const Scalar& b, bool scalar_first);
Tensor unary(UnaryOp op, const Tensor& a);
Tensor clip(const Tensor& a, const std::optional<Scalar>& lo, const std::optional<Scalar>& hi);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
const char* binary_name(BinaryOp op);
const char* unary_name(UnaryOp op);

// --- matrix multiplication (gemm.cpp) --------------------------------------
Tensor matmul(const Tensor& a, const Tensor& b, GemmVariant variant = GemmVariant::Fast);
// out = act(alpha * a @ b + beta * c + bias), in one pass over out: the dense
// layer's GEMM. c (optional) broadcasts to the result; bias is 1-D with one
// entry per column of the result (or per row, bias_per_row).
struct GemmEpilogue {
  double alpha = 1, beta = 0;
  std::optional<Tensor> c, bias;
  bool bias_per_row = false;
  Activation act = Activation::Identity;
  ActivationParams act_params;
  GemmVariant variant = GemmVariant::Fast;
};
Tensor gemm(const Tensor& a, const Tensor& b, const GemmEpilogue& e);
// The epilogue activation called `name` ("relu", "gelu", "gelu_tanh", ...; see
// activation_name) or a ValueError naming op.
Activation activation_from_name(const char* op, const std::string& name);

// --- convolution (conv.cpp) ------------------------------------------------
// One entry per spatial dim (1 for conv1d, 2 for conv2d). padding_mode "same"
// or "valid" overrides padding; variant Naive runs the direct loops.
struct ConvArgs {
  size_t spatial = 2;
  std::vector<int64_t> stride, padding, dilation;
  std::string padding_mode;
  int64_t groups = 1;
  GemmVariant variant = GemmVariant::Fast;
};
// op: the name errors give ("conv2d", "conv1d_backward_input", ...).
Tensor conv(const char* op, const Tensor& x, const Tensor& w, const std::optional<Tensor>& bias, const ConvArgs& args);
Tensor conv_backward_input(const char* op, const Tensor& grad_out, const Tensor& w, const Shape& input_shape,
                           const ConvArgs& args);
Tensor conv_backward_weight(const char* op, const Tensor& grad_out, const Tensor& x, const Shape& weight_shape,
                            const ConvArgs& args);

// --- pooling (pool.cpp) -----------------------------------------------------
// Over the last two dims of a (C, H, W) or (N, C, H, W) tensor.
struct PoolArgs {
  std::vector<int64_t> kernel, stride, padding, dilation;  // two entries each
  bool ceil_mode = false, count_include_pad = true;
};
std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, const PoolArgs& args);  // (values, int64 indices)
Tensor avg_pool2d(const Tensor& x, const PoolArgs& args);
Tensor adaptive_avg_pool2d(const Tensor& x, const std::vector<int64_t>& output_size);
Tensor max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Shape& input_shape,
                           const PoolArgs& args);
Tensor avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape, const PoolArgs& args);
Tensor adaptive_avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape);

// --- activations (activation.cpp) -------------------------------------------
const char* activation_name(Activation act);
Tensor activation(Activation act, const Tensor& x, const ActivationParams& p);
// grad * act'(x), from `saved`: the forward's output where
// activation_grad_uses_output(act), else its input.
Tensor activation_backward(Activation act, const Tensor& grad, const Tensor& saved, const ActivationParams& p);
// PReLU (LeakyReLU) and Swish (SiLU) with the parameter `a` a tensor: one
// value, or one per channel (dim 1 of x). Backward returns (dx, da).
Tensor param_activation(Activation act, const Tensor& x, const Tensor& a);
std::pair<Tensor, Tensor> param_activation_backward(Activation act, const Tensor& grad, const Tensor& x,
                                                    const Tensor& a);

// --- softmax and cross-entropy (softmax.cpp) ---------------------------------
Tensor softmax(const Tensor& x, int64_t dim, bool log);
Tensor softmax_backward(const Tensor& grad, const Tensor& output, int64_t dim, bool log);
// Class scores (C,), (N, C) or (N, C, d1, ...) against integer labels (the
// shape without C) or probabilities (the scores' shape), with optional class
// weights (C,). log_probs: the input holds log-probabilities (nll_loss;
// labels only, no smoothing). Returns the loss and, for backward, each
// sample's softmax statistics (the sample shape + (3,), float64: max,
// log-sum and target mass, see CrossEntropyProblem; undefined with
// log_probs).
std::pair<Tensor, Tensor> cross_entropy(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                                        Reduction reduction, double smoothing, int64_t ignore_index, bool log_probs);
Tensor cross_entropy_backward(const Tensor& grad, const Tensor& input, const Tensor& target, const Tensor& stats,
                              const std::optional<Tensor>& weight, Reduction reduction, double smoothing,
                              int64_t ignore_index, bool log_probs);

// --- losses (loss.cpp) -------------------------------------------------------
// Elementwise losses of an input and a target (Loss, core/kernels.h): the
// regression losses and kl_div broadcast the two, as PyTorch does; the
// binary cross-entropies take one shape, an optional weight broadcast to it
// and, on logits, an optional pos_weight (broadcast). a: smooth L1's beta,
// Huber's delta. The backward returns the input's gradient over the loss's
// (broadcast) shape; the caller sums it over the dims along which the input
// was broadcast.
const char* loss_name(Loss loss);
Tensor loss(Loss loss, const Tensor& input, const Tensor& target, Reduction reduction, double a,
            const std::optional<Tensor>& weight = std::nullopt, const std::optional<Tensor>& pos_weight = std::nullopt);
Tensor loss_backward(Loss loss, const Tensor& grad, const Tensor& input, const Tensor& target, Reduction reduction,
                     double a, const std::optional<Tensor>& weight = std::nullopt,
                     const std::optional<Tensor>& pos_weight = std::nullopt);
// Regularizer penalties of a weight tensor: l1 ? lambda sum |w| : lambda sum w^2
// (a 0-d tensor), and their gradient (w's shape).
Tensor penalty(bool l1, const Tensor& w, double lambda);
Tensor penalty_backward(bool l1, const Tensor& w, double lambda);
// Multi-class (squared, power 2) hinge of scores (C,) or (N, C) against
// labels () or (N,), with optional class weights (C,).
Tensor multi_margin_loss(const Tensor& input, const Tensor& target, int power, double margin,
                         const std::optional<Tensor>& weight, Reduction reduction);
Tensor multi_margin_loss_backward(const Tensor& grad, const Tensor& input, const Tensor& target, int power,
                                  double margin, const std::optional<Tensor>& weight, Reduction reduction);
// Cosine similarity along dim of two tensors of one shape (the result drops
// dim); the backward returns both inputs' gradients.
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim, double eps);
std::pair<Tensor, Tensor> cosine_similarity_backward(const Tensor& grad, const Tensor& x1, const Tensor& x2,
                                                     int64_t dim, double eps);

// --- normalization (norm.cpp) -------------------------------------------------
// Forward results: the output and the saved statistics (float64, per channel
// for batch norm, per row for layer norm: mean and 1 / sqrt(var + eps)).
struct NormResult {
  Tensor y, mean, invstd;
};
struct NormGrads {
  Tensor dx, dweight, dbias;
};
// Batch norm of (N, C) or (N, C, d1, ...) input over all dims but C. training:
// batch statistics, and running_mean / running_var (if given; contiguous, (C,))
// updated in place with momentum (the variance unbiased, as in PyTorch); else
// the running statistics normalize.
NormResult batch_norm(const Tensor& x, const std::optional<Tensor>& running_mean,
                      const std::optional<Tensor>& running_var, const std::optional<Tensor>& weight,
                      const std::optional<Tensor>& bias, bool training, double momentum, double eps);
NormGrads batch_norm_backward(const Tensor& grad, const Tensor& x, const std::optional<Tensor>& weight,
                              const Tensor& mean, const Tensor& invstd, bool training);
// Layer norm over the trailing dims normalized_shape; weight and bias of that shape.
NormResult layer_norm(const Tensor& x, const Shape& normalized_shape, const std::optional<Tensor>& weight,
                      const std::optional<Tensor>& bias, double eps);
NormGrads layer_norm_backward(const Tensor& grad, const Tensor& x, const Shape& normalized_shape,
                              const std::optional<Tensor>& weight, const Tensor& mean, const Tensor& invstd);

// --- dropout (dropout.cpp) ---------------------------------------------------
// Inverted dropout: each element (channel: each (C, H, W) slice's H x W
// plane of a 3-D or 4-D input) kept with probability 1 - p and scaled by
// 1 / (1 - p). The mask is a function of (seed, offset): with no seed, the
// global generator's next draws. Returns the output and the (seed, offset)
// the backward takes to regenerate the mask.
struct DropoutResult {
  Tensor out;
  uint64_t seed = 0, offset = 0;
};
DropoutResult dropout(const Tensor& x, double p, bool channel, std::optional<uint64_t> seed);
Tensor dropout_backward(const Tensor& grad, double p, bool channel, uint64_t seed, uint64_t offset);

// --- recurrent cells (recurrent.cpp) ------------------------------------------
// One step of an LSTM / GRU layer after its GEMMs (the equations: LstmCellProblem
// and GruCellProblem in core/kernels.h). lstm_cell returns (h, c); its backward
// (grad_gates, grad_c_prev), with grad_c absent when no gradient reached c.
// gru_cell_backward returns (grad_x_gates, grad_h_gates, grad_h_prev).
std::pair<Tensor, Tensor> lstm_cell(const Tensor& gates, const Tensor& c_prev);
std::pair<Tensor, Tensor> lstm_cell_backward(const Tensor& grad_h, const std::optional<Tensor>& grad_c,
                                             const Tensor& gates, const Tensor& c_prev, const Tensor& c);
Tensor gru_cell(const Tensor& x_gates, const Tensor& h_gates, const Tensor& h_prev);
std::tuple<Tensor, Tensor, Tensor> gru_cell_backward(const Tensor& grad_h, const Tensor& x_gates,
                                                     const Tensor& h_gates, const Tensor& h_prev);

// --- row gather and scatter-add (index.cpp) ------------------------------------
// index_select: x's entries at positions `index` (1-D, integer, negative
// counting from the end) along `dim`: shape x.shape with dim's size k.
// index_add: a copy of `base` with the rows of `source` (base's shape with
// dim's size k) added at the positions `index` along dim, repeated positions
// accumulating (np.add.at) -- index_select's backward. Indices are checked on
// the host: "[index_select] index 5 is out of bounds for dim 0 of size 3".
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_add(const Tensor& base, int64_t dim, const Tensor& index, const Tensor& source);

// --- optimizers and gradient clipping (optim.cpp) ------------------------------
// One fused kernel call per list (multi-tensor apply): params and the state
// lists are updated in place; every list holds one tensor per parameter, of
// its shape, all of one floating dtype on one device. An unused optional
// state list is empty. The formulas are PyTorch's (torch.optim, foreach=False).
using TensorVec = std::vector<Tensor>;
void sgd_step(const TensorVec& params, const TensorVec& grads, const TensorVec& momentum_buffers, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov, bool first_step);
void adagrad_step(const TensorVec& params, const TensorVec& grads, const TensorVec& state_sums, double lr,
                  double lr_decay, double weight_decay, double eps, int64_t step);
void rmsprop_step(const TensorVec& params, const TensorVec& grads, const TensorVec& square_avgs,
                  const TensorVec& momentum_buffers, const TensorVec& grad_avgs, double lr, double alpha, double eps,
                  double weight_decay, double momentum, bool centered);
void adadelta_step(const TensorVec& params, const TensorVec& grads, const TensorVec& square_avgs,
                   const TensorVec& acc_deltas, double lr, double rho, double eps, double weight_decay);
// decoupled: AdamW's weight decay (p *= 1 - lr wd) instead of L2.
void adam_step(const TensorVec& params, const TensorVec& grads, const TensorVec& exp_avgs,
               const TensorVec& exp_avg_sqs, const TensorVec& max_exp_avg_sqs, double lr, double beta1, double beta2,
               double eps, double weight_decay, int64_t step, bool decoupled, bool amsgrad);
// The global p-norm (p > 0 or inf) of all tensors: a 0-d tensor of their
// dtype on their device (float32 0 on the CPU for an empty list).
Tensor grad_norm(const TensorVec& tensors, double norm_type);
// Multiplies all tensors in place by `factor` (a one-element tensor) or by
// `value`; with max_norm the factor is a norm and the multiplier
// min(1, max_norm / (norm + 1e-6)): clip_grad_norm_ with no host readback.
void scale_(const TensorVec& tensors, const std::optional<Tensor>& factor, double value,
            std::optional<double> max_norm);
// Clamps all tensors in place to [-clip_value, clip_value].
void clip_value_(const TensorVec& tensors, double clip_value);

// --- reductions (reduce.cpp) ------------------------------------------------
// dims: nullopt = all. Empty list = all too (NumPy's axis=() would be "none";
// PyTorch's dim=[] is "all", which is what these follow).
using Dims = std::optional<std::vector<int64_t>>;
Tensor sum(const Tensor& t, const Dims& dims, bool keepdim);
Tensor mean(const Tensor& t, const Dims& dims, bool keepdim);
Tensor var(const Tensor& t, const Dims& dims, int64_t correction, bool keepdim);
Tensor amax(const Tensor& t, const Dims& dims, bool keepdim);
Tensor amin(const Tensor& t, const Dims& dims, bool keepdim);
Tensor argmax(const Tensor& t, std::optional<int64_t> dim, bool keepdim);
Tensor argmin(const Tensor& t, std::optional<int64_t> dim, bool keepdim);

// --- factories (factory.cpp) ------------------------------------------------
Tensor full(const Shape& shape, const Scalar& value, DType dtype, Device device);
Tensor arange(const Scalar& start, const Scalar& stop, const Scalar& step, DType dtype, Device device);
Tensor rand(const Shape& shape, DType dtype, Device device);
Tensor randn(const Shape& shape, DType dtype, Device device);
void manual_seed(uint64_t seed);
// (seed, offset) of the global generator's next n numbers, reserved: Philox
// blocks [offset, offset + ceil(n / 2)) of that seed are the caller's.
std::pair<uint64_t, uint64_t> reserve_random(int64_t n);
uint64_t initial_seed();
// The whole generator state, (seed, offset), to save with a checkpoint and restore.
std::pair<uint64_t, uint64_t> rng_state();
void set_rng_state(uint64_t seed, uint64_t offset);

}  // namespace ops
}  // namespace dlcore

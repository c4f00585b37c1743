// Fused optimizer steps and gradient clipping over lists of tensors: the
// checks (list lengths, shapes pairwise, one floating dtype, one device,
// contiguous in-place operands, hyper-parameters in range), the host-side
// scalars PyTorch computes in double (bias corrections, the decayed lr),
// and one kernel call per list (multi-tensor apply, core/multi_tensor.h).
#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

std::string item(const char* list, size_t k) { return cat(list, "[", k, "]"); }

// The operands of one call: the first list (the parameters, or the tensors
// of a list op) and the lists that go with it, checked and laid out as the
// kernel's TensorList. Read-only operands that are not contiguous are
// compacted (the copies live as long as this object); updated ones must be
// contiguous, as the kernels write through their data.
class ListArgs {
 public:
  ListArgs(const char* op, const char* name, const TensorVec& first, bool in_place)
      : op_(op), name_(name), first_(first) {
    entries_.resize(first.size());
    for (size_t k = 0; k < first.size(); ++k) {
      const Tensor& t = first[k];
      // Items are named ("params[3]") only for an error: a step over a model's
      // tensors must not spend its time building strings.
      if (!is_floating(t.dtype) || t.device() != first[0].device() || t.dtype != first[0].dtype) {
        const std::string what = item(name, k);
        check_floating(op, what.c_str(), t);
        check_same_device(op, first[0], t);
        throw TypeError(cat("[", op, "] expected ", what, " of dtype ", dtype_name(first[0].dtype), " (the ",
                            item(name, 0), "'s), got ", dtype_name(t.dtype)));
      }
      entries_[k].numel = t.numel();
    }
    place(0, name, first, in_place);
  }

  // The next operand: one tensor per parameter, of its shape, dtype and device.
  void add(const char* name, const TensorVec& ts, bool in_place) {
    DL_CHECK(ts.size() == first_.size(), ValueError, "[", op_, "] expected ", name, " to hold ", first_.size(),
             " tensor(s), one per parameter, got ", ts.size());
    for (size_t k = 0; k < ts.size(); ++k) {
      const Tensor &t = ts[k], &ref = first_[k];
      if (t.device() != ref.device() || t.shape != ref.shape || t.dtype != ref.dtype)
        check_like(op_, item(name, k).c_str(), t, item(name_, k).c_str(), ref);
    }
    place(next_, name, ts, in_place);
  }

  // An optional state operand: given exactly when `used` (the condition
  // names it in errors); its slot is taken either way.
  void add_optional(const char* name, const TensorVec& ts, bool used, const char* condition) {
    DL_CHECK(used || ts.empty(), ValueError, "[", op_, "] expected ", name, " to be empty unless ", condition,
             ", got ", ts.size(), " tensor(s)");
    if (used) add(name, ts, true);
    else ++next_;
  }

  TensorList list() const { return TensorList{entries_.data(), static_cast<int64_t>(entries_.size())}; }
  bool empty() const { return first_.empty(); }
  DType dtype() const { return first_[0].dtype; }
  const Tensor& ref() const { return first_[0]; }
  const KernelTable& kernels() const { return kernels_for(op_, first_[0]); }

 private:
  void place(int slot, const char* name, const TensorVec& ts, bool in_place) {
    for (size_t k = 0; k < ts.size(); ++k) {
      const Tensor* t = &ts[k];
      if (t->numel() > 0 && !t->is_contiguous()) {  // an empty tensor has nothing to walk
        DL_CHECK(!in_place, ValueError, "[", op_, "] expected ", item(name, k),
                 " to be contiguous (it is updated in place)");
        keep_.push_back(contiguous(*t));
        t = &keep_.back();
      }
      entries_[k].data[slot] = t->data();
      if (in_place && t->numel() > 0) updated_.push_back({t->data(), slot, k, name});
    }
    next_ = slot + 1;
    if (in_place) check_updated_once();
  }

  // Two updates of one element would race: each tensor is updated once. The
  // operands placed before were distinct, so a repeat involves this list;
  // the one reported is the first met in order, with its earliest holder.
  void check_updated_once() {
    std::sort(updated_.begin(), updated_.end());
    const Updated *repeat = nullptr, *holder = nullptr;
    for (size_t i = 1, run = 0; i < updated_.size(); ++i) {
      if (updated_[i].data != updated_[run].data) {
        run = i;
      } else if (!repeat || updated_[i].order() < repeat->order()) {
        repeat = &updated_[i];
        holder = &updated_[run];
      }
    }
    DL_CHECK(!repeat, ValueError, "[", op_, "] ", repeat->name(), " is the same tensor as ", holder->name(),
             " (each tensor is updated once per call)");
  }

  const char* op_;
  const char* name_;
  const TensorVec& first_;
  std::vector<ListTensor> entries_;
  std::deque<Tensor> keep_;  // stable addresses
  struct Updated {  // an operand updated in place: where, and which list item
    const void* data;
    int slot;
    size_t k;
    const char* list;
    std::pair<int, size_t> order() const { return {slot, k}; }
    bool operator<(const Updated& o) const {
      return data != o.data ? std::less<const void*>()(data, o.data) : order() < o.order();
    }
    std::string name() const { return item(list, k); }
  };
  std::vector<Updated> updated_;
  int next_ = 0;
};

// "[adam_step] expected 0 <= beta1 < 1, got beta1 = 1.5"; NaN and inf never pass.
void check_param(const char* op, const char* name, double v, bool ok, const char* rule) {
  DL_CHECK(std::isfinite(v) && ok, ValueError, "[", op, "] expected ", rule, ", got ", name, " = ", v);
}

void check_lr_eps_wd(const char* op, double lr, double eps, double weight_decay) {
  check_param(op, "lr", lr, lr >= 0, "lr >= 0");
  check_param(op, "eps", eps, eps >= 0, "eps >= 0");
  check_param(op, "weight_decay", weight_decay, weight_decay >= 0, "weight_decay >= 0");
}

void check_step(const char* op, int64_t step) {
  DL_CHECK(step >= 1, ValueError, "[", op, "] expected step >= 1 (the step being taken, counted from 1), got ", step);
}

// The fields most steps set: -lr, the averaging coefficient beta (RMSprop
// alpha, Adadelta rho, Adam beta1) and 1 - beta, eps, the L2 weight decay.
OptimizerStep make_step(Optimizer kind, double lr, double beta, double eps, double weight_decay) {
  OptimizerStep s;
  s.kind = kind;
  s.neg_lr = -lr;
  s.beta = beta;
  s.one_minus_beta = 1 - beta;
  s.eps = eps;
  s.weight_decay = weight_decay;
  return s;
}

void run(const ListArgs& args, OptimizerStep& s) {
  if (args.empty()) return;
  s.list = args.list();
  args.kernels().optimizer_step(args.dtype(), s);
}

}  // namespace

void sgd_step(const TensorVec& params, const TensorVec& grads, const TensorVec& momentum_buffers, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov, bool first_step) {
  const char* op = "sgd_step";
  check_lr_eps_wd(op, lr, 0, weight_decay);
  check_param(op, "momentum", momentum, momentum >= 0, "momentum >= 0");
  check_param(op, "dampening", dampening, true, "a finite dampening");
  DL_CHECK(!nesterov || (momentum > 0 && dampening == 0), ValueError, "[", op,
           "] Nesterov momentum requires momentum > 0 and dampening == 0, got momentum = ", momentum,
           ", dampening = ", dampening);
  ListArgs args(op, "params", params, true);
  args.add("grads", grads, false);
  args.add_optional("momentum_buffers", momentum_buffers, momentum != 0, "momentum != 0");
  OptimizerStep s = make_step(Optimizer::SGD, lr, 0, 0, weight_decay);
  s.momentum = momentum;
  s.one_minus_dampening = 1 - dampening;
  s.nesterov = nesterov;
  s.first_step = first_step;
  run(args, s);
}

void adagrad_step(const TensorVec& params, const TensorVec& grads, const TensorVec& state_sums, double lr,
                  double lr_decay, double weight_decay, double eps, int64_t step) {
  const char* op = "adagrad_step";
  check_lr_eps_wd(op, lr, eps, weight_decay);
  check_param(op, "lr_decay", lr_decay, lr_decay >= 0, "lr_decay >= 0");
  check_step(op, step);
  ListArgs args(op, "params", params, true);
  args.add("grads", grads, false);
  args.add("state_sums", state_sums, true);
  OptimizerStep s = make_step(Optimizer::Adagrad, lr / (1 + static_cast<double>(step - 1) * lr_decay), 0, eps,
                              weight_decay);
  run(args, s);
}

void rmsprop_step(const TensorVec& params, const TensorVec& grads, const TensorVec& square_avgs,
                  const TensorVec& momentum_buffers, const TensorVec& grad_avgs, double lr, double alpha, double eps,
                  double weight_decay, double momentum, bool centered) {
  const char* op = "rmsprop_step";
  check_lr_eps_wd(op, lr, eps, weight_decay);
  check_param(op, "alpha", alpha, alpha >= 0 && alpha <= 1, "0 <= alpha <= 1");
  check_param(op, "momentum", momentum, momentum >= 0, "momentum >= 0");
  ListArgs args(op, "params", params, true);
  args.add("grads", grads, false);
  args.add("square_avgs", square_avgs, true);
  args.add_optional("momentum_buffers", momentum_buffers, momentum != 0, "momentum != 0");
  args.add_optional("grad_avgs", grad_avgs, centered, "centered");
  OptimizerStep s = make_step(Optimizer::RMSprop, lr, alpha, eps, weight_decay);
  s.momentum = momentum;
  s.centered = centered;
  run(args, s);
}

void adadelta_step(const TensorVec& params, const TensorVec& grads, const TensorVec& square_avgs,
                   const TensorVec& acc_deltas, double lr, double rho, double eps, double weight_decay) {
  const char* op = "adadelta_step";
  check_lr_eps_wd(op, lr, eps, weight_decay);
  check_param(op, "rho", rho, rho >= 0 && rho <= 1, "0 <= rho <= 1");
  ListArgs args(op, "params", params, true);
  args.add("grads", grads, false);
  args.add("square_avgs", square_avgs, true);
  args.add("acc_deltas", acc_deltas, true);
  OptimizerStep s = make_step(Optimizer::Adadelta, lr, rho, eps, weight_decay);
  run(args, s);
}

void adam_step(const TensorVec& params, const TensorVec& grads, const TensorVec& exp_avgs,
               const TensorVec& exp_avg_sqs, const TensorVec& max_exp_avg_sqs, double lr, double beta1, double beta2,
               double eps, double weight_decay, int64_t step, bool decoupled, bool amsgrad) {
  const char* op = "adam_step";
  check_lr_eps_wd(op, lr, eps, weight_decay);
  check_param(op, "beta1", beta1, beta1 >= 0 && beta1 < 1, "0 <= beta1 < 1");
  check_param(op, "beta2", beta2, beta2 >= 0 && beta2 < 1, "0 <= beta2 < 1");
  check_step(op, step);
  ListArgs args(op, "params", params, true);
  args.add("grads", grads, false);
  args.add("exp_avgs", exp_avgs, true);
  args.add("exp_avg_sqs", exp_avg_sqs, true);
  args.add_optional("max_exp_avg_sqs", max_exp_avg_sqs, amsgrad, "amsgrad");
  // PyTorch's host-side numbers: bias corrections in double, then rounded
  // by each tensor op.
  const double n = static_cast<double>(step);
  OptimizerStep s =
      make_step(Optimizer::Adam, lr / (1 - std::pow(beta1, n)), beta1, eps, decoupled ? 0 : weight_decay);
  s.bias_correction2_sqrt = std::sqrt(1 - std::pow(beta2, n));
  s.beta2 = beta2;
  s.one_minus_beta2 = 1 - beta2;
  if (decoupled && weight_decay != 0) s.decay = 1 - lr * weight_decay;
  s.amsgrad = amsgrad;
  run(args, s);
}

Tensor grad_norm(const TensorVec& tensors, double norm_type) {
  const char* op = "grad_norm";
  DL_CHECK(norm_type == HUGE_VAL || (std::isfinite(norm_type) && norm_type > 0), ValueError, "[", op,
           "] expected norm_type > 0 or inf, got ", norm_type);
  ListArgs args(op, "tensors", tensors, false);
  if (args.empty()) return full({}, Scalar::of_float(0), DType::Float32, Device{});
  Tensor out = Tensor::empty({}, args.dtype(), args.ref().device());
  args.kernels().list_norm(args.dtype(), args.list(), norm_type, out.data());
  return out;
}

void scale_(const TensorVec& tensors, const std::optional<Tensor>& factor, double value,
            std::optional<double> max_norm) {
  const char* op = "scale_";
  if (!factor) check_param(op, "factor", value, true, "a finite factor");
  if (max_norm) check_param(op, "max_norm", *max_norm, *max_norm >= 0, "max_norm >= 0");
  ListArgs args(op, "tensors", tensors, true);
  if (args.empty()) return;
  ListScale s;
  s.value = value;
  s.clip_norm = max_norm.has_value();
  s.max_norm = max_norm.value_or(0);
  Tensor f;
  if (factor) {
    DL_CHECK(factor->numel() == 1, ValueError, "[", op, "] expected a factor with one element, got shape ",
             shape_str(factor->shape));
    check_floating(op, "factor", *factor);
    f = contiguous(to_device(astype(*factor, args.dtype()), args.ref().device()));
    s.factor = f.data();
  }
  args.kernels().list_scale(args.dtype(), args.list(), s);
}

void clip_value_(const TensorVec& tensors, double clip_value) {
  const char* op = "clip_value_";
  DL_CHECK(clip_value >= 0, ValueError, "[", op, "] expected clip_value >= 0, got ", clip_value);
  ListArgs args(op, "tensors", tensors, true);
  if (args.empty()) return;
  args.kernels().list_clamp(args.dtype(), args.list(), clip_value);
}

}  // namespace dlcore::ops

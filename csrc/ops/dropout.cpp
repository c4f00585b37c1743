// Dropout and channel dropout: checks, the mask's (seed, offset), and the
// one kernel that runs both directions (the backward regenerates the mask
// from (seed, offset) and applies it to the gradient).
#include <tuple>
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

const char* name_of(bool channel) { return channel ? "dropout2d" : "dropout"; }

// Elements per draw: 1, or the H x W plane of each channel.
int64_t group_of(const char* op, const Tensor& t, bool channel) {
  if (!channel) return 1;
  DL_CHECK(t.ndim() == 3 || t.ndim() == 4, ValueError, "[", op,
           "] expected input of shape (N, C, H, W) or (C, H, W), got ", shape_str(t.shape));
  return t.shape[t.ndim() - 1] * t.shape[t.ndim() - 2];
}

Tensor run(const char* op, const Tensor& x, double p, int64_t group, uint64_t seed, uint64_t offset) {
  const Tensor xc = contiguous(x);
  Tensor out = Tensor::empty(x.shape, x.dtype, x.device());
  DropoutProblem d;
  d.n = x.numel();
  d.group = group;
  d.p = p;
  d.seed = seed;
  d.offset = offset;
  d.x = xc.data();
  d.out = out.data();
  if (d.n > 0 && group > 0) kernels_for(op, x).dropout(x.dtype, d);
  return out;
}

void check(const char* op, const Tensor& t, double p) {
  check_floating(op, "input", t);
  DL_CHECK(p >= 0 && p <= 1, ValueError, "[", op, "] expected a drop probability p in [0, 1], got ", p);
}

}  // namespace

DropoutResult dropout(const Tensor& x, double p, bool channel, std::optional<uint64_t> seed) {
  const char* op = name_of(channel);
  check(op, x, p);
  const int64_t group = group_of(op, x, channel);
  const int64_t draws = group > 0 ? (x.numel() + group - 1) / group : 0;
  DropoutResult r;
  if (seed) r.seed = *seed;
  else std::tie(r.seed, r.offset) = reserve_random(draws);
  r.out = run(op, x, p, group, r.seed, r.offset);
  return r;
}

Tensor dropout_backward(const Tensor& grad, double p, bool channel, uint64_t seed, uint64_t offset) {
  const char* op = name_of(channel);
  check(op, grad, p);
  return run(op, grad, p, group_of(op, grad, channel), seed, offset);
}

}  // namespace dlcore::ops

// Factories: full, arange, rand, randn, and the global random generator.
// The generator is a (seed, offset) pair: each draw of n numbers uses Philox
// blocks [offset, offset + ceil(n / 2)) and then advances the offset, so a
// seed fixes every later draw whatever the thread count (cpu/factory.cpp).
#include <atomic>
#include <cmath>
#include <mutex>
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

struct Generator {
  std::mutex mutex;
  uint64_t seed = 0x5EEDull;
  uint64_t offset = 0;
  // Reserves the blocks for n numbers.
  std::pair<uint64_t, uint64_t> take(int64_t n) {
    std::lock_guard<std::mutex> lock(mutex);
    const uint64_t off = offset;
    offset += static_cast<uint64_t>((n + 1) / 2);
    return {seed, off};
  }
};

Generator& generator() {
  static Generator g;
  return g;
}

void check_float(const char* op, DType dtype) {
  DL_CHECK(is_floating(dtype), TypeError, "[", op, "] expected a floating dtype (float32, float64), got ",
           dtype_name(dtype));
}

// Draws on the target device: the same numbers on every device.
template <class Kernel>
Tensor random(const char* op, const Shape& shape, DType dtype, Device device, Kernel kernel) {
  check_float(op, dtype);
  Tensor out = Tensor::empty(shape, dtype, device);
  const auto [seed, offset] = generator().take(out.numel());
  kernel(kernels_for(op, out), out, seed, offset);
  return out;
}

}  // namespace

Tensor full(const Shape& shape, const Scalar& value, DType dtype, Device device) {
  Tensor out = Tensor::empty(shape, dtype, device);
  fill(out, value);
  return out;
}

Tensor arange(const Scalar& start, const Scalar& stop, const Scalar& step, DType dtype, Device device) {
  DL_CHECK(step.f != 0, ValueError, "[arange] step must be nonzero");
  DL_CHECK(std::isfinite(start.f) && std::isfinite(stop.f) && std::isfinite(step.f), ValueError,
           "[arange] expected finite start, stop and step, got ", start.f, ", ", stop.f, ", ", step.f);
  const bool exact = start.kind != Scalar::Kind::Float && stop.kind != Scalar::Kind::Float &&
                     step.kind != Scalar::Kind::Float;
  int64_t n;
  if (exact) {  // integer bounds: count without rounding (128-bit, no overflow)
    const __int128 span = static_cast<__int128>(stop.i) - start.i, st = step.i;
    const __int128 c = span / st + ((span % st != 0) && ((span > 0) == (st > 0)) ? 1 : 0);
    n = c > 0 ? static_cast<int64_t>(c) : 0;
  } else {
    const double count = std::ceil((stop.f - start.f) / step.f);
    DL_CHECK(count < 9.0e15, ValueError, "[arange] too many elements: ", count);
    n = count > 0 ? static_cast<int64_t>(count) : 0;
  }
  Tensor out = Tensor::empty({n}, dtype, device);
  // Integer dtypes step in exact integers (float bounds truncated, as NumPy).
  const int64_t int_start = exact ? start.i : static_cast<int64_t>(start.f);
  const int64_t int_step = exact ? step.i : static_cast<int64_t>(step.f);
  kernels_for("arange", out).arange(dtype, out.data(), n, start.f, step.f, int_start, int_step);
  return out;
}

Tensor rand(const Shape& shape, DType dtype, Device device) {
  return random("rand", shape, dtype, device, [&](const KernelTable& k, Tensor& out, uint64_t seed, uint64_t offset) {
    k.uniform(dtype, out.data(), out.numel(), seed, offset, 0.0, 1.0);
  });
}

Tensor randn(const Shape& shape, DType dtype, Device device) {
  return random("randn", shape, dtype, device, [&](const KernelTable& k, Tensor& out, uint64_t seed, uint64_t offset) {
    k.normal(dtype, out.data(), out.numel(), seed, offset, 0.0, 1.0);
  });
}

std::pair<uint64_t, uint64_t> reserve_random(int64_t n) { return generator().take(n); }

void manual_seed(uint64_t seed) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.seed = seed;
  g.offset = 0;
}

uint64_t initial_seed() {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  return g.seed;
}

std::pair<uint64_t, uint64_t> rng_state() {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  return {g.seed, g.offset};
}

void set_rng_state(uint64_t seed, uint64_t offset) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.seed = seed;
  g.offset = offset;
}

}  // namespace dlcore::ops

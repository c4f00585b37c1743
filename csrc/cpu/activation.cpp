// Activation kernels, forward and backward: sigmoid, tanh, ReLU, leaky ReLU /
// PReLU, ELU, SELU, SiLU / Swish, softplus, GELU (erf and tanh forms), hard
// tanh, hard sigmoid, Heaviside (forward only).
//
// Shapes: a StridedLoop (core/loop.h) over the input's shape. Forward
// operands: out, x[, a]; backward: dx, dy, saved, or d, dy, x, a. The tensor
// parameter a (PReLU's slope, Swish's beta; one per channel) arrives
// broadcast, with stride 0 along the rows where it is constant.
// Algorithm: the rows of cpu/rows.h -- OpenMP over the elements, an `omp
// simd` loop per contiguous row -- with the activation a template parameter,
// so every (activation, dtype, ISA) is its own vectorized loop.
// Numerics: the formulas of core/pointwise.h (shared with CUDA and the GEMM
// epilogue) with math.h's vectorizable math (ActivationMath: exp_neg, since
// those formulas take exp of non-positive arguments only; expm1, log1p, tanh,
// erfc and GELU's tail). A large float32 tensor costs its memory traffic: the
// few dozen vector operations per element of sigmoid, tanh, SiLU and GELU
// (one exp and one rational function) run faster than one core reads
// and writes memory (docs/results.md).
#include "core/kernels.h"
#include "core/pointwise.h"
#include "cpu/math.h"
#include "cpu/rows.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

// The per-element functions are forced inline into their row loops: GCC left
// the larger ones (SiLU, GELU and GELU-tanh backward) as calls, which kept
// those loops scalar (about 20 ns an element).
#define DL_ELEMENT __attribute__((always_inline))

template <Activation act, class T>
void forward(const StridedLoop& loop, T a, T b) {
  if (loop.nops == 3) {
    run(loop, [b](char* const* p, const int64_t* s, int64_t n) {
      binary_row<T, T, T>(p, s, n, [b](T x, T w) DL_ELEMENT { return pointwise::activation<act, T, ActivationMath>(x, w, b); });
    });
  } else {
    run(loop, [a, b](char* const* p, const int64_t* s, int64_t n) {
      unary_row<T, T>(p, s, n, [a, b](T x) DL_ELEMENT { return pointwise::activation<act, T, ActivationMath>(x, a, b); });
    });
  }
}

template <Activation act, class T>
void backward(const StridedLoop& loop, T a, T b, bool wrt_param) {
  if constexpr (activation_has_grad(act)) {
    if (loop.nops == 3) {
      run(loop, [a, b](char* const* p, const int64_t* s, int64_t n) {
        binary_row<T, T, T>(p, s, n,
                            [a, b](T dy, T v) DL_ELEMENT { return pointwise::activation_grad<act, T, ActivationMath>(dy, v, a, b); });
      });
    } else if constexpr (activation_has_param_grad(act)) {
      if (wrt_param) {
        run(loop, [](char* const* p, const int64_t* s, int64_t n) {
          ternary_row<T>(p, s, n,
                         [](T dy, T x, T w) DL_ELEMENT { return pointwise::activation_param_grad<act, T, ActivationMath>(dy, x, w); });
        });
      } else {
        run(loop, [b](char* const* p, const int64_t* s, int64_t n) {
          ternary_row<T>(p, s, n,
                         [b](T dy, T x, T w) DL_ELEMENT { return pointwise::activation_grad<act, T, ActivationMath>(dy, x, w, b); });
        });
      }
    }
  }
}

}  // namespace

void activation(Activation act, DType dt, const StridedLoop& loop, const ActivationParams& p) {
  dispatch_activation(act, dt, [&](auto op, auto tag) {
    using T = decltype(tag);
    forward<decltype(op)::value, T>(loop, static_cast<T>(p.a), static_cast<T>(p.b));
  });
}

void activation_backward(Activation act, DType dt, const StridedLoop& loop, const ActivationParams& p,
                         bool wrt_param) {
  dispatch_activation(act, dt, [&](auto op, auto tag) {
    using T = decltype(tag);
    backward<decltype(op)::value, T>(loop, static_cast<T>(p.a), static_cast<T>(p.b), wrt_param);
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA

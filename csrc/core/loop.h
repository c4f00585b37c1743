// StridedLoop: n operands walked together over one broadcast shape.
//
// The op layer builds it (broadcasting, byte strides, merging of dimensions
// that are contiguous for every operand) so that kernels see the fewest and
// longest inner rows. Kernels call for_each_row() on a range of linear
// element indices and get, per row, the operands' pointers and inner strides:
// an inner loop with all strides equal to the element size (or 0 for a
// broadcast scalar) is the SIMD fast path.
#pragma once
#include <cstdint>

namespace dlcore {

constexpr int kMaxDims = 16;
constexpr int kMaxOperands = 5;

struct StridedLoop {
  int ndim = 0;                                  // >= 1; dim ndim-1 is the inner one
  int nops = 0;                                  // operand 0 is the output
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxOperands][kMaxDims] = {};  // bytes
  char* data[kMaxOperands] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= shape[d];
    return n;
  }

  // Calls row(ptrs, inner_strides, n) for the rows covering linear indices
  // [begin, end) in row-major order of `shape`.
  template <class F>
  void for_each_row(int64_t begin, int64_t end, const F& row) const {
    const int64_t inner = shape[ndim - 1];
    int64_t idx[kMaxDims];
    int64_t rest = begin;
    for (int d = ndim - 1; d >= 0; --d) { idx[d] = rest % shape[d]; rest /= shape[d]; }
    char* ptr[kMaxOperands];
    for (int k = 0; k < nops; ++k) {
      ptr[k] = data[k];
      for (int d = 0; d < ndim; ++d) ptr[k] += idx[d] * strides[k][d];
    }
    int64_t inner_strides[kMaxOperands];
    for (int k = 0; k < nops; ++k) inner_strides[k] = strides[k][ndim - 1];
    int64_t pos = begin;
    while (pos < end) {
      const int64_t n = (inner - idx[ndim - 1] < end - pos) ? inner - idx[ndim - 1] : end - pos;
      row(ptr, inner_strides, n);
      pos += n;
      if (pos >= end) break;
      // Back to the start of this row, then step the outer dims like an odometer.
      for (int k = 0; k < nops; ++k) ptr[k] -= idx[ndim - 1] * strides[k][ndim - 1];
      idx[ndim - 1] = 0;
      for (int d = ndim - 2; d >= 0; --d) {
        for (int k = 0; k < nops; ++k) ptr[k] += strides[k][d];
        if (++idx[d] < shape[d]) break;
        for (int k = 0; k < nops; ++k) ptr[k] -= shape[d] * strides[k][d];
        idx[d] = 0;
      }
    }
  }
};

}  // namespace dlcore

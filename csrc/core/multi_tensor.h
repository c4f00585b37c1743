// Multi-tensor apply: a TensorList (core/kernels.h) cut into chunks that
// one launch covers (CUDA, a block per chunk), or one parallel loop (the CPU
// norm, whose per-chunk partial sums must not depend on the thread count).
// Each chunk is a ListTensor whose pointers start at its first element, so
// a kernel needs no table of tensors besides the chunks themselves.
#pragma once
#include <algorithm>
#include <vector>
#include "core/kernels.h"

namespace dlcore {

// The chunks of at most `chunk` elements of every tensor of the list, in
// order (empty tensors have none): which elements a chunk holds depends only
// on the list and `chunk`, so per-chunk partial results combine in a fixed
// order whatever the number of threads.
inline std::vector<ListTensor> split_list(const TensorList& list, int64_t chunk, size_t itemsize) {
  std::vector<ListTensor> chunks;
  for (int64_t k = 0; k < list.count; ++k) {
    const ListTensor& t = list.tensors[k];
    for (int64_t start = 0; start < t.numel; start += chunk) {
      ListTensor c;
      c.numel = std::min(chunk, t.numel - start);
      for (int j = 0; j < kMaxListOperands; ++j)
        c.data[j] = t.data[j] ? static_cast<char*>(t.data[j]) + start * static_cast<int64_t>(itemsize) : nullptr;
      chunks.push_back(c);
    }
  }
  return chunks;
}

}  // namespace dlcore

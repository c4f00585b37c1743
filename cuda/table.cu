// The CUDA backend's kernel table: the launchers of every cuda/ file.
#include "common.cuh"
#include "table.h"

namespace dlcore::cuda {

void binary(BinaryOp, DType, const StridedLoop&);
void unary(UnaryOp, DType, const StridedLoop&);
void clip(DType, const StridedLoop&, double, double);
void where(DType, const StridedLoop&);
void copy(DType, DType, const StridedLoop&);
void reduce(ReduceOp, DType, const ReduceProblem&);
void arange(DType, void*, int64_t, double, double, int64_t, int64_t);
void uniform(DType, void*, int64_t, uint64_t, uint64_t, double, double);
void normal(DType, void*, int64_t, uint64_t, uint64_t, double, double);

const KernelTable& kernel_table() {
#if defined(__CUDACC__)
  static const KernelTable table{"cuda", binary, unary, clip, where, copy, reduce, arange, uniform, normal};
#else
  static const KernelTable table{"cuda-emulated", binary, unary, clip, where, copy, reduce, arange, uniform, normal};
#endif
  return table;
}

}  // namespace dlcore::cuda

// This ISA's kernel table: the kernels of every csrc/cpu file, as compiled
// with this translation unit's ISA flags.
#include "core/kernels.h"

namespace dlcore::cpu::DLCORE_ISA {

void binary(BinaryOp, DType, const StridedLoop&);
void unary(UnaryOp, DType, const StridedLoop&);
void clip(DType, const StridedLoop&, double, double);
void where(DType, const StridedLoop&);
void copy(DType, DType, const StridedLoop&);
void reduce(ReduceOp, DType, const ReduceProblem&);
void arange(DType, void*, int64_t, double, double, int64_t, int64_t);
void uniform(DType, void*, int64_t, uint64_t, uint64_t, double, double);
void normal(DType, void*, int64_t, uint64_t, uint64_t, double, double);

#define DLCORE_STR2(x) #x
#define DLCORE_STR(x) DLCORE_STR2(x)

const KernelTable& kernel_table() {
  static const KernelTable table{DLCORE_STR(DLCORE_ISA), binary, unary, clip, where, copy,
                                 reduce, arange, uniform, normal};
  return table;
}

}  // namespace dlcore::cpu::DLCORE_ISA

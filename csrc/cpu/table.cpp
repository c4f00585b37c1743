// This ISA's kernel table: the kernels of every csrc/cpu file, as compiled
// with this translation unit's ISA flags.
#include "core/kernels.h"

namespace dlcore::cpu::DLCORE_ISA {

DLCORE_DECLARE_KERNELS

#define DLCORE_STR2(x) #x
#define DLCORE_STR(x) DLCORE_STR2(x)

const KernelTable& kernel_table() {
  static const KernelTable table = DLCORE_KERNEL_TABLE(DLCORE_STR(DLCORE_ISA));
  return table;
}

}  // namespace dlcore::cpu::DLCORE_ISA

// The CUDA backend's kernel table: the launchers of every cuda/ file.
#include "common.cuh"
#include "table.h"

namespace dlcore::cuda {

DLCORE_DECLARE_KERNELS

const KernelTable& kernel_table() {
#if defined(__CUDACC__)
  static const KernelTable table = DLCORE_KERNEL_TABLE("cuda");
#else
  static const KernelTable table = DLCORE_KERNEL_TABLE("cuda-emulated");
#endif
  return table;
}

}  // namespace dlcore::cuda

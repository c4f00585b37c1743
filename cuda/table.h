// Host-side declarations of the CUDA backend (no CUDA headers), for the
// pybind11 module that registers it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include "core/kernels.h"

namespace dlcore::cuda {

const KernelTable& kernel_table();

struct DeviceInfo {
  std::string name;
  int major, minor, multiprocessors;
  size_t free_bytes, total_bytes;
};

struct MemoryStats {
  size_t allocated, reserved, peak_allocated, num_allocs, num_device_mallocs;
};

bool emulated();
int device_count();
void set_device(int device);
void* allocate(int device, size_t nbytes);
void release(int device, void* ptr);
void copy(void* dst, const void* src, size_t nbytes, int kind, int device);  // kind: 0 H2D, 1 D2H, 2 D2D
void synchronize(int device);
DeviceInfo device_info(int device);
int runtime_version();
MemoryStats memory_stats(int device);
void reset_peak_memory_stats(int device);
void empty_cache();

}  // namespace dlcore::cuda

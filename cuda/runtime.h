// Host-side interface of cuda/runtime.cu, free of CUDA headers so that the
// pybind11 module (compiled by the host compiler) can include it.
#pragma once
#include <cstddef>
#include <string>

namespace dlcore::cuda {

struct DeviceInfo {
  std::string name;
  int major, minor, multiprocessors;
  size_t free_bytes, total_bytes;
};

int device_count();
void* allocate(int device, size_t nbytes);
void release(int device, void* ptr);
void copy(void* dst, const void* src, size_t nbytes, int kind, int device);  // kind: 0 H2D, 1 D2H, 2 D2D
void synchronize(int device);
DeviceInfo device_info(int device);
int runtime_version();

}  // namespace dlcore::cuda

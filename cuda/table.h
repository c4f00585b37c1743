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

// A timing event on a device's stream (cudaEvent_t; under the emulator, which
// runs every launch to completion, the host's steady clock when recorded).
class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record(int device);          // after the work queued on the device's stream so far
  void synchronize();               // waits until the recorded point has been reached
  double elapsed_ms(const Event& end) const;  // both recorded; waits for end

 private:
  void* handle_ = nullptr;  // cudaEvent_t
  int64_t host_ns_ = -1;    // the emulator's timestamp
  bool recorded_ = false;
};

}  // namespace dlcore::cuda

// Device backends. The CPU backend is built in; the CUDA backend lives in a
// separate extension module (dlcore._C_cuda, or its CPU-emulated twin) that
// registers itself here when Python imports it, so the core never links the
// CUDA runtime and `import dlcore` works on machines without a GPU driver.
#pragma once
#include <cstddef>
#include "core/dtype.h"
#include "core/kernels.h"

namespace dlcore {

enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice };

struct DeviceBackend {
  const char* name;                      // "cuda" or "cuda (emulated)"
  int (*device_count)();
  void* (*allocate)(int device, size_t nbytes);
  void (*release)(int device, void* ptr);
  void (*copy)(void* dst, const void* src, size_t nbytes, CopyKind kind, int device);
  void (*synchronize)(int device);
  void (*set_device)(int device);         // makes `device` current for the kernels that follow
  const KernelTable* kernels;            // the device's kernels, same contract as the CPU's
};

// The version guards against a _C_cuda built from other sources than _C.
constexpr int kBackendAbiVersion = 3;
void register_backend(DeviceType type, const DeviceBackend* backend);
// The registered backend for a device, or a clear error when there is none.
const DeviceBackend& backend_for(Device device, const char* op);
bool has_backend(DeviceType type);

}  // namespace dlcore

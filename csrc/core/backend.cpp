#include "core/backend.h"
#include "core/error.h"

namespace dlcore {

static const DeviceBackend* g_backends[2] = {nullptr, nullptr};

void register_backend(DeviceType type, const DeviceBackend* backend) {
  g_backends[static_cast<int>(type)] = backend;
}

bool has_backend(DeviceType type) { return g_backends[static_cast<int>(type)] != nullptr; }

const DeviceBackend& backend_for(Device device, const char* op) {
  const DeviceBackend* be = g_backends[static_cast<int>(device.type)];
  DL_CHECK(be != nullptr, RuntimeError, "[", op, "] device ", device.str(),
           " is not available: dlcore has no CUDA device here (dlcore.cuda.is_available() is False)");
  const int count = be->device_count();
  DL_CHECK(device.index >= 0 && device.index < count, ValueError, "[", op, "] device ", device.str(),
           " does not exist: ", count, " CUDA device(s) present");
  return *be;
}

}  // namespace dlcore

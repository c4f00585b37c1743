// dlcore._C_cuda: the CUDA backend module. On import it registers its device
// backend with dlcore._C (through the capsule _C._register_backend) when a
// CUDA device is present.
#include <pybind11/pybind11.h>
#include "core/backend.h"
#include "runtime.h"

namespace py = pybind11;
using namespace dlcore;

namespace {

void copy_kind(void* dst, const void* src, size_t n, CopyKind kind, int device) {
  cuda::copy(dst, src, n, static_cast<int>(kind), device);
}

const DeviceBackend kCudaBackend{"cuda", cuda::device_count, cuda::allocate, cuda::release, copy_kind,
                                 cuda::synchronize, nullptr};

}  // namespace

PYBIND11_MODULE(_C_cuda, m) {
  m.doc() = "dlcore's CUDA backend";
  m.def("device_count", &cuda::device_count);
  m.def("runtime_version", &cuda::runtime_version);
  m.def("synchronize", &cuda::synchronize, py::arg("device") = 0);
  m.def("device_info", [](int device) {
    const auto info = cuda::device_info(device);
    py::dict d;
    d["name"] = info.name;
    d["capability"] = py::make_tuple(info.major, info.minor);
    d["multiprocessors"] = info.multiprocessors;
    d["free_bytes"] = info.free_bytes;
    d["total_bytes"] = info.total_bytes;
    return d;
  });
  m.def("register", [](py::capsule registry) {
    using Fn = bool (*)(int, int, const DeviceBackend*);
    auto fn = reinterpret_cast<Fn>(registry.get_pointer());
    return fn(kBackendAbiVersion, static_cast<int>(DeviceType::CUDA), &kCudaBackend);
  });
}

// The CUDA device backend: device count, memory and copies through the CUDA
// runtime (linked statically, so a machine without a driver simply reports
// zero devices). Registered with the core by dlcore._C_cuda at import.
#include <cuda_runtime.h>
#include <stdexcept>
#include <string>
#include "runtime.h"

namespace dlcore::cuda {

namespace {

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error state where possible
    throw std::runtime_error(std::string("[cuda] ") + what + ": " + cudaGetErrorString(err));
  }
}

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;  // no driver or no device: CUDA is simply not available
  }
  return n;
}

void* allocate(int device, size_t nbytes) {
  if (nbytes == 0) return nullptr;
  check(cudaSetDevice(device), "cudaSetDevice");
  void* p = nullptr;
  check(cudaMalloc(&p, nbytes), "cudaMalloc");
  return p;
}

void release(int device, void* ptr) {
  if (!ptr) return;
  cudaSetDevice(device);
  cudaFree(ptr);  // errors here (e.g. at driver shutdown) cannot be reported
}

void copy(void* dst, const void* src, size_t nbytes, int kind, int device) {
  if (nbytes == 0) return;
  check(cudaSetDevice(device), "cudaSetDevice");
  const cudaMemcpyKind k = kind == 0 ? cudaMemcpyHostToDevice : kind == 1 ? cudaMemcpyDeviceToHost
                                                                          : cudaMemcpyDeviceToDevice;
  check(cudaMemcpy(dst, src, nbytes, k), "cudaMemcpy");
}

void synchronize(int device) {
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

DeviceInfo device_info(int device) {
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  size_t free_b = 0, total_b = 0;
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
  return DeviceInfo{prop.name, prop.major, prop.minor, prop.multiProcessorCount, free_b, total_b};
}

int runtime_version() {
  int v = 0;
  cudaRuntimeGetVersion(&v);
  return v;
}

}  // namespace dlcore::cuda

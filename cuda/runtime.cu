// The CUDA device backend's runtime: device count, a caching device
// allocator, copies, synchronisation, timing events.
//
// Under nvcc this talks to the CUDA runtime (linked statically, so a machine
// without a driver simply reports zero devices). Under the host compiler --
// the emulated backend -- "device" memory is host memory and copies are
// memcpy, behind the same interface, so everything above is unchanged.
//
// Memory goes through the caching allocator of core/caching_allocator.h.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <mutex>
#include "common.cuh"
#include "core/caching_allocator.h"
#include "core/error.h"
#include "table.h"

namespace dlcore::cuda {

namespace {

#if defined(__CUDACC__)
void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the error state where it is not sticky
    throw RuntimeError(cat("[cuda] ", what, " failed: ", cudaGetErrorString(err)));
  }
}
void* raw_malloc(int device, size_t n) {
  check(cudaSetDevice(device), "cudaSetDevice");
  void* p = nullptr;
  if (cudaMalloc(&p, n) != cudaSuccess) { cudaGetLastError(); return nullptr; }
  return p;
}
void raw_free(int device, void* p) {
  cudaSetDevice(device);
  cudaFree(p);  // errors here (e.g. at driver shutdown) cannot be reported
}
#else
void* raw_malloc(int, size_t n) { return std::aligned_alloc(256, (n + 255) / 256 * 256); }
void raw_free(int, void* p) { std::free(p); }
#endif

constexpr int kMaxDevices = 16;

#if defined(__CUDACC__)
cudaStream_t device_stream(int device) {
  static std::once_flag once[kMaxDevices];
  static cudaStream_t streams[kMaxDevices];
  std::call_once(once[device], [device] {
    check(cudaSetDevice(device), "cudaSetDevice");
    check(cudaStreamCreateWithFlags(&streams[device], cudaStreamNonBlocking), "cudaStreamCreate");
  });
  return streams[device];
}
#endif

using DeviceAllocator = CachingAllocator<raw_malloc, raw_free, kMaxDevices>;

DeviceAllocator& allocator() {
  // Unbounded cache, as device memory is dlcore's to use; never destroyed,
  // since tensors may be freed during interpreter shutdown.
  static DeviceAllocator* a = new DeviceAllocator(SIZE_MAX);
  return *a;
}

}  // namespace

cudaStream_t current_stream() {
#if defined(__CUDACC__)
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  return device_stream(device);
#else
  return nullptr;  // the emulator runs each launch to completion
#endif
}

DeviceBuffer::DeviceBuffer(size_t nbytes, const void* host) {
#if defined(__CUDACC__)
  check(cudaGetDevice(&device_), "cudaGetDevice");
#endif
  ptr_ = allocator().allocate(device_, nbytes);
  if (host == nullptr || nbytes == 0) return;
#if defined(__CUDACC__)
  // Queued on the stream without waiting for it: a pageable source is staged
  // before the call returns, so the host table may go at once.
  check(cudaMemcpyAsync(ptr_, host, nbytes, cudaMemcpyHostToDevice, device_stream(device_)), "cudaMemcpyAsync");
#else
  std::memcpy(ptr_, host, nbytes);
#endif
}

DeviceBuffer::~DeviceBuffer() { allocator().release(device_, ptr_); }

void set_device(int device) {
#if defined(__CUDACC__)
  check(cudaSetDevice(device), "cudaSetDevice");
#else
  (void)device;
#endif
}

bool emulated() {
#if defined(__CUDACC__)
  return false;
#else
  return true;
#endif
}

int device_count() {
#if defined(__CUDACC__)
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;  // no driver or no device: CUDA is simply not available
  }
  return n < kMaxDevices ? n : kMaxDevices;
#else
  return 1;
#endif
}

void* allocate(int device, size_t nbytes) { return allocator().allocate(device, nbytes); }
void release(int device, void* ptr) { allocator().release(device, ptr); }
MemoryStats memory_stats(int device) {
  const AllocatorStats s = allocator().stats(device);
  return MemoryStats{s.allocated, s.reserved, s.peak_allocated, s.num_allocs, s.num_raw_allocs};
}
void reset_peak_memory_stats(int device) { allocator().reset_peak(device); }
void empty_cache() { allocator().empty_cache(); }

void copy(void* dst, const void* src, size_t nbytes, int kind, int device) {
  if (nbytes == 0) return;
#if defined(__CUDACC__)
  check(cudaSetDevice(device), "cudaSetDevice");
  const cudaMemcpyKind k = kind == 0 ? cudaMemcpyHostToDevice
                                     : kind == 1 ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
  // On the device's stream, after the kernels that produced the data; a copy
  // that touches host memory completes before returning (the host buffer may
  // be freed or read right after).
  cudaStream_t s = device_stream(device);
  check(cudaMemcpyAsync(dst, src, nbytes, k, s), "cudaMemcpyAsync");
  if (k != cudaMemcpyDeviceToDevice) check(cudaStreamSynchronize(s), "cudaStreamSynchronize");
#else
  (void)kind;
  (void)device;
  std::memcpy(dst, src, nbytes);
#endif
}

void synchronize(int device) {
#if defined(__CUDACC__)
  check(cudaStreamSynchronize(device_stream(device)), "cudaStreamSynchronize");
#else
  (void)device;  // the emulator runs every launch to completion
#endif
}

Event::Event() {
#if defined(__CUDACC__)
  cudaEvent_t e = nullptr;
  check(cudaEventCreate(&e), "cudaEventCreate");
  handle_ = e;
#endif
}

Event::~Event() {
#if defined(__CUDACC__)
  cudaEventDestroy(static_cast<cudaEvent_t>(handle_));
#endif
}

void Event::record(int device) {
#if defined(__CUDACC__)
  check(cudaEventRecord(static_cast<cudaEvent_t>(handle_), device_stream(device)), "cudaEventRecord");
#else
  (void)device;
  host_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::steady_clock::now().time_since_epoch()).count();
#endif
  recorded_ = true;
}

void Event::synchronize() {
  if (!recorded_) throw RuntimeError("[cuda.Event.synchronize] the event was never recorded");
#if defined(__CUDACC__)
  check(cudaEventSynchronize(static_cast<cudaEvent_t>(handle_)), "cudaEventSynchronize");
#endif
}

double Event::elapsed_ms(const Event& end) const {
  if (!recorded_ || !end.recorded_)
    throw RuntimeError("[cuda.Event.elapsed_time] both events must be recorded first");
#if defined(__CUDACC__)
  check(cudaEventSynchronize(static_cast<cudaEvent_t>(end.handle_)), "cudaEventSynchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(handle_), static_cast<cudaEvent_t>(end.handle_)),
        "cudaEventElapsedTime");
  return ms;
#else
  return static_cast<double>(end.host_ns_ - host_ns_) * 1e-6;
#endif
}

DeviceInfo device_info(int device) {
#if defined(__CUDACC__)
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  size_t free_b = 0, total_b = 0;
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
  return DeviceInfo{prop.name, prop.major, prop.minor, prop.multiProcessorCount, free_b, total_b};
#else
  (void)device;
  return DeviceInfo{"dlcore SIMT emulator (CPU)", 0, 0, 1, 0, 0};
#endif
}

int runtime_version() {
#if defined(__CUDACC__)
  int v = 0;
  cudaRuntimeGetVersion(&v);
  return v;
#else
  return 0;
#endif
}

}  // namespace dlcore::cuda

// A caching allocator over a device's raw malloc/free.
//
// Raw allocations are expensive where it matters: cudaMalloc/cudaFree
// synchronise the device and cost tens of microseconds, and on the CPU a large
// block comes from a fresh mmap whose every 4 KiB page faults on first touch
// (a 64 MiB output costs ~16k faults, more than the kernel that fills it).
// A training loop asks for the same sizes step after step, so freed blocks are
// kept in per-device free lists (sizes rounded up to 512 bytes) and handed to
// requests of up to the same size class (a block at most twice the request).
// `max_cached` bounds the bytes kept per device (the oldest-largest are
// returned first); empty_cache() returns everything, and an allocation that
// fails empties the cache and retries once.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>
#include "core/error.h"

namespace dlcore {

struct AllocatorStats {
  size_t allocated = 0, reserved = 0, peak_allocated = 0, num_allocs = 0, num_raw_allocs = 0;
};

template <void* (*RawMalloc)(int, size_t), void (*RawFree)(int, void*), int kDevices = 16>
class CachingAllocator {
 public:
  explicit CachingAllocator(size_t max_cached) : max_cached_(max_cached) {}

  void* allocate(int device, size_t nbytes) {
    if (nbytes == 0) return nullptr;
    const size_t size = (nbytes + kRound - 1) / kRound * kRound;
    std::lock_guard<std::mutex> lock(mutex_);
    Pool& d = pools_[device];
    void* p = nullptr;
    size_t got = size;
    auto it = d.free_blocks.lower_bound(size);
    if (it != d.free_blocks.end() && it->first <= 2 * size) {
      got = it->first;
      p = it->second;
      d.free_blocks.erase(it);
      d.cached -= got;
    } else {
      p = RawMalloc(device, size);
      if (!p) {  // out of memory: give the cache back and try once more
        release_cached(device, 0);
        p = RawMalloc(device, size);
      }
      DL_CHECK(p != nullptr, RuntimeError, "[allocate] out of memory allocating ", nbytes, " bytes (",
               d.stats.allocated, " bytes in use by dlcore on this device)");
      ++d.stats.num_raw_allocs;
    }
    d.sizes[p] = got;
    d.stats.allocated += got;
    ++d.stats.num_allocs;
    if (d.stats.allocated > d.stats.peak_allocated) d.stats.peak_allocated = d.stats.allocated;
    return p;
  }

  void release(int device, void* p) {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mutex_);
    Pool& d = pools_[device];
    auto it = d.sizes.find(p);
    if (it == d.sizes.end()) return;
    d.stats.allocated -= it->second;
    d.cached += it->second;
    d.free_blocks.emplace(it->second, p);
    d.sizes.erase(it);
    if (d.cached > max_cached_) release_cached(device, max_cached_ / 2);
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int i = 0; i < kDevices; ++i) release_cached(i, 0);
  }

  AllocatorStats stats(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    AllocatorStats s = pools_[device].stats;
    s.reserved = s.allocated + pools_[device].cached;
    return s;
  }

  void reset_peak(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    pools_[device].stats.peak_allocated = pools_[device].stats.allocated;
  }

 private:
  static constexpr size_t kRound = 512;

  struct Pool {
    std::multimap<size_t, void*> free_blocks;  // size -> block
    std::unordered_map<void*, size_t> sizes;   // blocks in use
    size_t cached = 0;
    AllocatorStats stats;
  };

  // Frees cached blocks, largest first, until at most `keep` bytes remain.
  void release_cached(int device, size_t keep) {  // caller holds the mutex
    Pool& d = pools_[device];
    while (d.cached > keep && !d.free_blocks.empty()) {
      auto it = std::prev(d.free_blocks.end());
      RawFree(device, it->second);
      d.cached -= it->first;
      d.free_blocks.erase(it);
    }
  }

  const size_t max_cached_;
  std::mutex mutex_;
  Pool pools_[kDevices];
};

}  // namespace dlcore

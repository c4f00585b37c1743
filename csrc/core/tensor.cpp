#include "core/tensor.h"
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include "core/backend.h"
#include "core/caching_allocator.h"

namespace dlcore {

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) os << ",";
  os << ")";
  return os.str();
}

DType dtype_from_name(const std::string& name) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (name == dtype_name(static_cast<DType>(i))) return static_cast<DType>(i);
  throw TypeError(cat("[dtype] expected one of bool, int32, int64, float32, float64, got '", name, "'"));
}

Device device_from_string(const std::string& s) {
  if (s == "cpu") return Device{DeviceType::CPU, 0};
  if (s == "cuda") return Device{DeviceType::CUDA, 0};
  if (s.rfind("cuda:", 0) == 0 && s.size() > 5 && s.find_first_not_of("0123456789", 5) == std::string::npos)
    return Device{DeviceType::CUDA, std::stoi(s.substr(5))};
  throw ValueError(cat("[device] expected 'cpu', 'cuda' or 'cuda:N', got '", s, "'"));
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  // Unsigned: a zero-size tensor may have other dims whose product overflows
  // (its strides are never used to address memory then).
  Shape st(shape.size());
  uint64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    st[i] = static_cast<int64_t>(s);
    s *= static_cast<uint64_t>(std::max<int64_t>(shape[i], 1));
  }
  return st;
}

namespace {

// Large CPU blocks go through a caching allocator: glibc serves them with a
// fresh mmap and unmaps them on free, so each step of a training loop would
// page-fault its way through every big buffer again. Blocks of 2 MiB and up
// are whole 2 MiB pages, aligned to them and advised to use transparent huge
// pages: an optimizer step over ten 1000 x 1000 float32 tensors took 13-36%
// less time on them than on 4 KiB pages, for at most 2 MiB of slack per block.
constexpr size_t kCachedCpuBlock = 256 << 10;
constexpr size_t kHugePage = 2 << 20;

// The bytes a CPU block of n bytes takes: requests are rounded before they
// reach the cache, so that its accounting and its reuse see the real size.
size_t cpu_block_bytes(size_t n) { return n >= kHugePage ? (n + kHugePage - 1) / kHugePage * kHugePage : n; }

void* cpu_raw_malloc(int, size_t n) {
  if (n >= kHugePage) {
    n = cpu_block_bytes(n);
    void* p = std::aligned_alloc(kHugePage, n);
#ifdef MADV_HUGEPAGE
    if (p) madvise(p, n, MADV_HUGEPAGE);  // a hint: fine if the kernel ignores it
#endif
    return p;
  }
  return std::aligned_alloc(64, (n + 63) / 64 * 64);
}
void cpu_raw_free(int, void* p) { std::free(p); }

using CpuAllocator = CachingAllocator<cpu_raw_malloc, cpu_raw_free, 1>;
CpuAllocator& cpu_allocator() {
  static CpuAllocator* a = new CpuAllocator(size_t(1) << 30);  // at most 1 GiB cached; never destroyed
  return *a;
}

}  // namespace

int64_t checked_numel(const char* op, const Shape& shape) {
  int64_t n = 1;
  bool overflow = false, empty = false;
  for (int64_t d : shape) {
    DL_CHECK(d >= 0, ValueError, "[", op, "] sizes must be non-negative, got ", shape_str(shape));
    empty |= d == 0;
    overflow |= __builtin_mul_overflow(n, d, &n);
  }
  if (empty) return 0;  // a zero-size dim: no elements, however large the others
  DL_CHECK(!overflow, ValueError, "[", op, "] a tensor of shape ", shape_str(shape),
           " has more elements than fit in int64");
  return n;
}

int64_t Tensor::numel() const { return shape_numel(shape); }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 1) continue;
    if (shape[i] == 0) return true;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  const int64_t numel = checked_numel("empty", shape);
  DL_CHECK(numel <= (int64_t(1) << 60) / int64_t(dlcore::itemsize(dtype)), ValueError, "[empty] a tensor of shape ",
           shape_str(shape), " would need more than 2^60 bytes");
  const size_t nbytes = static_cast<size_t>(numel) * dlcore::itemsize(dtype);
  std::shared_ptr<Storage> storage;
  if (device.is_cpu()) {
    if (nbytes >= kCachedCpuBlock) {
      void* p = cpu_allocator().allocate(0, cpu_block_bytes(nbytes));
      storage = std::make_shared<Storage>(p, nbytes, device, [](void* q) { cpu_allocator().release(0, q); });
    } else {
      // 64-byte alignment: one cache line, one AVX-512 vector.
      void* p = std::aligned_alloc(64, (std::max<size_t>(nbytes, 1) + 63) / 64 * 64);
      if (!p) throw std::bad_alloc();
      storage = std::make_shared<Storage>(p, nbytes, device, [](void* q) { std::free(q); });
    }
  } else {
    const DeviceBackend& be = backend_for(device, "empty");
    void* p = be.allocate(device.index, nbytes);
    const int index = device.index;
    auto release = be.release;
    storage = std::make_shared<Storage>(p, nbytes, device, [index, release](void* q) { release(index, q); });
  }
  return Tensor(std::move(storage), dtype, shape, contiguous_strides(shape), 0);
}

}  // namespace dlcore

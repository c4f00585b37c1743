// Storage and Tensor: the strided n-d array every op works on.
//
// A Storage is a refcounted block of bytes on one device, freed through the
// deleter of whoever allocated it (a device allocator, a NumPy array, a DLPack
// producer). A Tensor is a view of a Storage: dtype + shape + strides (in
// elements, may be 0 for broadcast dims or negative for reversed slices) +
// offset (in elements). Views share the storage; nothing is copied until a
// kernel needs contiguous input (see contiguous()).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>
#include "core/dtype.h"

namespace dlcore {

using Shape = std::vector<int64_t>;

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  std::function<void(void*)> deleter;
  Storage(void* d, size_t n, Device dev, std::function<void(void*)> del)
      : data(d), nbytes(n), device(dev), deleter(std::move(del)) {}
  ~Storage() { if (deleter) deleter(data); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

class Tensor {
 public:
  std::shared_ptr<Storage> storage;
  DType dtype = DType::Float32;
  Shape shape;
  Shape strides;
  int64_t offset = 0;

  Tensor() = default;
  Tensor(std::shared_ptr<Storage> s, DType dt, Shape sh, Shape st, int64_t off)
      : storage(std::move(s)), dtype(dt), shape(std::move(sh)), strides(std::move(st)), offset(off) {}

  // A new, uninitialised, contiguous tensor from the device's allocator.
  static Tensor empty(const Shape& shape, DType dtype, Device device);

  int ndim() const { return static_cast<int>(shape.size()); }
  int64_t numel() const;
  Device device() const { return storage->device; }
  size_t itemsize() const { return dlcore::itemsize(dtype); }
  char* data() const { return static_cast<char*>(storage->data) + offset * static_cast<int64_t>(itemsize()); }
  template <class T> T* data_as() const { return reinterpret_cast<T*>(data()); }
  bool is_contiguous() const;
  Tensor view_as(Shape shape, Shape strides, int64_t offset) const {
    return Tensor(storage, dtype, std::move(shape), std::move(strides), offset);
  }
};

Shape contiguous_strides(const Shape& shape);
int64_t shape_numel(const Shape& shape);
// The element count of a new shape, or a ValueError naming `op` when it is
// negative or does not fit in int64 (a silent overflow would allocate garbage).
int64_t checked_numel(const char* op, const Shape& shape);

}  // namespace dlcore

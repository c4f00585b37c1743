// Element types and devices. The dtype set is closed and small: float32 is
// the first-class type, float64 serves gradcheck and references, int64/int32
// hold labels and indices, bool holds comparison results and masks.
#pragma once
#include <cstdint>
#include <string>
#include "core/error.h"

namespace dlcore {

enum class DType : uint8_t { Bool = 0, Int32 = 1, Int64 = 2, Float32 = 3, Float64 = 4 };
constexpr int kNumDTypes = 5;

inline size_t itemsize(DType t) {
  switch (t) {
    case DType::Bool: return 1;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Float32: return 4;
    case DType::Float64: return 8;
  }
  return 0;
}
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}
inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }
// The enum is ordered so that the wider type of two wins (int64 + float32 ->
// float32, as in PyTorch): promotion is a max.
inline DType promote(DType a, DType b) { return a > b ? a : b; }
DType dtype_from_name(const std::string& name);

// Calls f(T{}) with T the C++ type of `t`: the one dtype switch of the library.
template <class F>
decltype(auto) dispatch_dtype(DType t, F&& f) {
  switch (t) {
    case DType::Bool: return f(bool{});
    case DType::Int32: return f(int32_t{});
    case DType::Int64: return f(int64_t{});
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
  }
  throw RuntimeError("unknown dtype");
}

// The same for the floating dtypes only (the kernels of activations, losses,
// normalization); the op layer has rejected the others, which do nothing.
template <class F>
void dispatch_floating(DType t, F&& f) {
  if (t == DType::Float32) f(float{});
  else if (t == DType::Float64) f(double{});
}

enum class DeviceType : uint8_t { CPU = 0, CUDA = 1 };
struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  bool is_cpu() const { return type == DeviceType::CPU; }
  std::string str() const { return type == DeviceType::CPU ? "cpu" : "cuda:" + std::to_string(index); }
};
Device device_from_string(const std::string& s);

}  // namespace dlcore

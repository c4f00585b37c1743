// Copies: compaction of strided views, dtype casts, assignment into views,
// fills, and moves between devices.
#include "core/backend.h"
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

// Whether two tensors may touch the same bytes: a conservative test on the
// address ranges they span (two storages can alias, e.g. through DLPack).
bool may_overlap(const Tensor& a, const Tensor& b) {
  if (a.device() != b.device() || a.numel() == 0 || b.numel() == 0) return false;
  auto range = [](const Tensor& t) {
    int64_t lo = 0, hi = 0;
    for (int d = 0; d < t.ndim(); ++d) {
      const int64_t span = (t.shape[d] - 1) * t.strides[d];
      (span < 0 ? lo : hi) += span;
    }
    const auto base = reinterpret_cast<intptr_t>(t.data());
    const auto item = static_cast<int64_t>(t.itemsize());
    return std::pair<intptr_t, intptr_t>{base + lo * item, base + (hi + 1) * item};
  };
  const auto ra = range(a), rb = range(b);
  return ra.first < rb.second && rb.first < ra.second;
}

// dst = src on their (common) device, with a dtype conversion if they differ.
void run_copy(const char* op, const Tensor& dst, const Tensor& src) {
  kernels_for(op, dst).copy(dst.dtype, src.dtype, make_loop(op, dst, {&src}));
}

}  // namespace

Tensor contiguous(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = Tensor::empty(t.shape, t.dtype, t.device());
  run_copy("contiguous", out, t);
  return out;
}

Tensor astype(const Tensor& t, DType dtype) {
  if (t.dtype == dtype) return t;
  Tensor out = Tensor::empty(t.shape, dtype, t.device());
  run_copy("astype", out, t);
  return out;
}

Tensor clone(const Tensor& t) {
  Tensor out = Tensor::empty(t.shape, t.dtype, t.device());
  copy_into(out, t);
  return out;
}

void copy_into(const Tensor& dst, const Tensor& src) {
  check_same_device("copy_", dst, src);
  const Shape b = broadcast_shapes("copy_", dst.shape, src.shape);
  DL_CHECK(b == dst.shape, ValueError, "[copy_] cannot assign a tensor of shape ", shape_str(src.shape),
           " to a view of shape ", shape_str(dst.shape));
  for (int d = 0; d < dst.ndim(); ++d)
    DL_CHECK(dst.strides[d] != 0 || dst.shape[d] <= 1, ValueError,
             "[copy_] cannot write into a broadcast (expanded) view: several elements share memory");
  // Overlapping source and destination (x[1:] = x[:-1]) read a snapshot.
  run_copy("copy_", dst, may_overlap(dst, src) ? clone(src) : src);
}

void fill(const Tensor& dst, const Scalar& value) {
  copy_into(dst, to_device(scalar_tensor(value, dst.dtype), dst.device()));
}

Tensor to_device(const Tensor& t, Device device) {
  if (t.device() == device) return t;
  if (device.is_cpu() || t.device().is_cpu()) {
    const Device dev = device.is_cpu() ? t.device() : device;
    const DeviceBackend& be = backend_for(dev, "to");
    const Tensor src = contiguous(t);  // compacted on its own device, then one memcpy
    Tensor out = Tensor::empty(src.shape, src.dtype, device);
    be.copy(out.data(), src.data(), static_cast<size_t>(src.numel()) * src.itemsize(),
            device.is_cpu() ? CopyKind::DeviceToHost : CopyKind::HostToDevice, dev.index);
    return out;
  }
  // Between two CUDA devices: through the host (rare; peer copies come later).
  return to_device(to_device(t, Device{}), device);
}

}  // namespace dlcore::ops

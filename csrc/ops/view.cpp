// Views: new shape/strides/offset over the same storage, never a copy
// (reshape copies only when no view can express the result).
#include <algorithm>
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

// Resolves one -1 and checks that the element count is unchanged.
Shape infer_shape(const char* op, const Shape& shape, int64_t numel) {
  Shape out = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      DL_CHECK(infer < 0, ValueError, "[", op, "] only one dimension can be -1, got ", shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      DL_CHECK(out[i] >= 0, ValueError, "[", op, "] invalid shape ", shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    DL_CHECK(known != 0 && numel % known == 0, ValueError, "[", op, "] cannot reshape ", numel,
             " elements into shape ", shape_str(shape));
    out[infer] = numel / known;
  }
  DL_CHECK(shape_numel(out) == numel, ValueError, "[", op, "] cannot reshape ", numel, " elements into shape ",
           shape_str(shape));
  return out;
}

// Strides that view `old` (shape, strides) as `shape`, if any exist: groups of
// old dims that are contiguous among themselves can be split or merged freely
// (the algorithm of PyTorch's computeStride).
std::optional<Shape> view_strides(const Tensor& t, const Shape& shape) {
  if (t.numel() == 0 || t.ndim() == 0) return contiguous_strides(shape);
  Shape st(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_stride = t.strides.back(), tensor_numel = 1, view_numel = 1;
  for (int64_t d = t.ndim() - 1; d >= 0; --d) {
    tensor_numel *= t.shape[d];
    if (d == 0 || (t.shape[d - 1] != 1 && t.strides[d - 1] != tensor_numel * chunk_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        st[view_d] = view_numel * chunk_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) { chunk_stride = t.strides[d - 1]; tensor_numel = 1; view_numel = 1; }
    }
  }
  if (view_d != -1) return std::nullopt;
  return st;
}

}  // namespace

Tensor view(const Tensor& t, const Shape& shape) {
  const Shape s = infer_shape("view", shape, t.numel());
  auto st = view_strides(t, s);
  DL_CHECK(st.has_value(), ValueError, "[view] a tensor of shape ", shape_str(t.shape), " and strides ",
           shape_str(t.strides), " cannot be viewed as ", shape_str(s), "; use reshape(), which copies");
  return t.view_as(s, *st, t.offset);
}

Tensor reshape(const Tensor& t, const Shape& shape) {
  const Shape s = infer_shape("reshape", shape, t.numel());
  if (auto st = view_strides(t, s)) return t.view_as(s, *st, t.offset);
  const Tensor c = contiguous(t);
  return c.view_as(s, contiguous_strides(s), c.offset);
}

Tensor permute(const Tensor& t, const std::vector<int64_t>& dims) {
  DL_CHECK(static_cast<int>(dims.size()) == t.ndim(), ValueError, "[permute] expected ", t.ndim(),
           " dims for a tensor of shape ", shape_str(t.shape), ", got ", shape_str(dims));
  Shape shape(dims.size()), strides(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int d = normalize_dim("permute", dims[i], t.ndim());
    DL_CHECK(!seen[d], ValueError, "[permute] dims must be a permutation, got ", shape_str(dims));
    seen[d] = true;
    shape[i] = t.shape[d];
    strides[i] = t.strides[d];
  }
  return t.view_as(shape, strides, t.offset);
}

Tensor transpose(const Tensor& t, int64_t d0, int64_t d1) {
  if (t.ndim() == 0) return t;
  const int a = normalize_dim("transpose", d0, t.ndim()), b = normalize_dim("transpose", d1, t.ndim());
  Shape shape = t.shape, strides = t.strides;
  std::swap(shape[a], shape[b]);
  std::swap(strides[a], strides[b]);
  return t.view_as(shape, strides, t.offset);
}

Tensor expand(const Tensor& t, const Shape& shape) {
  DL_CHECK(shape.size() >= t.shape.size(), ValueError, "[expand] cannot expand shape ", shape_str(t.shape),
           " to fewer dimensions ", shape_str(shape));
  const size_t lead = shape.size() - t.shape.size();
  Shape out(shape.size()), strides(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      DL_CHECK(shape[i] >= 0, ValueError, "[expand] invalid size ", shape[i], " in ", shape_str(shape));
      out[i] = shape[i];
      strides[i] = 0;
      continue;
    }
    const int64_t have = t.shape[i - lead];
    const int64_t want = shape[i] == -1 ? have : shape[i];
    DL_CHECK(want == have || have == 1, ValueError, "[expand] cannot expand shape ", shape_str(t.shape), " to ",
             shape_str(shape));
    DL_CHECK(want >= 0, ValueError, "[expand] invalid size ", want, " in ", shape_str(shape));
    out[i] = want;
    strides[i] = want == have ? t.strides[i - lead] : 0;
  }
  checked_numel("expand", out);
  return t.view_as(out, strides, t.offset);
}

Tensor squeeze(const Tensor& t, const std::optional<std::vector<int64_t>>& dims) {
  std::vector<bool> drop(t.ndim(), false);
  if (dims) {
    for (int64_t d : *dims) {
      const int n = normalize_dim("squeeze", d, t.ndim());
      if (t.ndim() > 0 && t.shape[n] == 1) drop[n] = true;  // squeezing a non-1 dim is a no-op, as in PyTorch
    }
  } else {
    for (int d = 0; d < t.ndim(); ++d) drop[d] = t.shape[d] == 1;
  }
  Shape shape, strides;
  for (int d = 0; d < t.ndim(); ++d)
    if (!drop[d]) { shape.push_back(t.shape[d]); strides.push_back(t.strides[d]); }
  return t.view_as(shape, strides, t.offset);
}

Tensor unsqueeze(const Tensor& t, int64_t dim) {
  const int n = t.ndim() + 1;
  DL_CHECK(dim >= -n && dim < n, IndexError, "[unsqueeze] dim ", dim, " is out of range for a result with ", n,
           " dimensions");
  const int d = static_cast<int>(dim < 0 ? dim + n : dim);
  Shape shape = t.shape, strides = t.strides;
  const int64_t stride = d < t.ndim() ? t.shape[d] * t.strides[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return t.view_as(shape, strides, t.offset);
}

Tensor flatten(const Tensor& t, int64_t start, int64_t end) {
  if (t.ndim() == 0) return reshape(t, {1});
  const int s = normalize_dim("flatten", start, t.ndim()), e = normalize_dim("flatten", end, t.ndim());
  DL_CHECK(s <= e, ValueError, "[flatten] start_dim ", start, " comes after end_dim ", end);
  Shape shape(t.shape.begin(), t.shape.begin() + s);
  int64_t n = 1;
  for (int d = s; d <= e; ++d) n *= t.shape[d];
  shape.push_back(n);
  shape.insert(shape.end(), t.shape.begin() + e + 1, t.shape.end());
  return reshape(t, shape);
}

Tensor slice(const Tensor& t, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step) {
  DL_CHECK(t.ndim() > 0, IndexError, "[slice] cannot slice a 0-d tensor");
  DL_CHECK(step != 0, ValueError, "[slice] slice step cannot be zero");
  const int d = normalize_dim("slice", dim, t.ndim());
  const int64_t n = t.shape[d];
  // Python's slice.indices(n).
  auto clampi = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v < 0 ? *v + n : *v;
    if (step > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  const int64_t b = clampi(start, step > 0 ? 0 : n - 1), e = clampi(stop, step > 0 ? n : -1);
  const int64_t len = step > 0 ? (e > b ? (e - b + step - 1) / step : 0) : (b > e ? (b - e - step - 1) / -step : 0);
  Shape shape = t.shape, strides = t.strides;
  shape[d] = len;
  strides[d] = t.strides[d] * step;
  return t.view_as(shape, strides, len > 0 ? t.offset + b * t.strides[d] : t.offset);
}

Tensor select(const Tensor& t, int64_t dim, int64_t index) {
  DL_CHECK(t.ndim() > 0, IndexError, "[select] cannot index a 0-d tensor");
  const int d = normalize_dim("select", dim, t.ndim());
  const int64_t n = t.shape[d];
  DL_CHECK(index >= -n && index < n, IndexError, "[select] index ", index, " is out of range for dim ", d,
           " of size ", n);
  const int64_t i = index < 0 ? index + n : index;
  Shape shape = t.shape, strides = t.strides;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return t.view_as(shape, strides, t.offset + i * t.strides[d]);
}

Tensor as_strided(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset) {
  DL_CHECK(shape.size() == strides.size(), ValueError, "[as_strided] shape ", shape_str(shape), " and strides ",
           shape_str(strides), " differ in length");
  const int64_t numel = checked_numel("as_strided", shape);
  int64_t lo = offset, hi = offset;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] > 0) (strides[i] < 0 ? lo : hi) += (shape[i] - 1) * strides[i];
  }
  const int64_t capacity = static_cast<int64_t>(t.storage->nbytes / t.itemsize());
  DL_CHECK(numel == 0 || (lo >= 0 && hi < capacity), ValueError, "[as_strided] shape ", shape_str(shape),
           ", strides ", shape_str(strides), " and offset ", offset, " reach outside the storage of ", capacity,
           " elements");
  return t.view_as(shape, strides, offset);
}

}  // namespace dlcore::ops

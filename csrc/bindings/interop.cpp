// Zero-copy exchange with NumPy (buffer sharing both ways) and with any
// DLPack producer/consumer (PyTorch, CuPy, JAX, NumPy).
#include <pybind11/numpy.h>
#include "bindings/bindings.h"
#include "core/backend.h"
#include "core/dlpack.h"

namespace dlcore::bindings {

namespace {

py::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::Bool: return py::dtype::of<bool>();
    case DType::Int32: return py::dtype::of<int32_t>();
    case DType::Int64: return py::dtype::of<int64_t>();
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
  }
  return py::dtype::of<float>();
}

// A Storage over memory someone else owns: `owner` runs when the last view dies.
Tensor wrap_foreign(void* lowest, size_t nbytes, Device dev, DType dt, Shape shape, Shape strides, int64_t offset,
                    std::function<void(void*)> owner) {
  auto storage = std::make_shared<Storage>(lowest, nbytes, dev, std::move(owner));
  return Tensor(std::move(storage), dt, std::move(shape), std::move(strides), offset);
}

// Lowest and one-past-highest element offsets a (shape, strides) view reaches.
std::pair<int64_t, int64_t> extent(const Shape& shape, const Shape& strides) {
  int64_t lo = 0, hi = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return {0, 0};
    const int64_t span = (shape[d] - 1) * strides[d];
    (span < 0 ? lo : hi) += span;
  }
  return {lo, hi + 1};
}

Tensor from_numpy(py::array arr) {
  const py::dtype dt = arr.dtype();
  DType t;
  if (dt.is(py::dtype::of<float>())) t = DType::Float32;
  else if (dt.is(py::dtype::of<double>())) t = DType::Float64;
  else if (dt.is(py::dtype::of<int64_t>())) t = DType::Int64;
  else if (dt.is(py::dtype::of<int32_t>())) t = DType::Int32;
  else if (dt.is(py::dtype::of<bool>())) t = DType::Bool;
  else
    throw TypeError(cat("[from_numpy] expected an array of bool, int32, int64, float32 or float64, got ",
                        py::str(dt).cast<std::string>(), " (dlcore.tensor() converts other dtypes with a copy)"));
  const int64_t item = static_cast<int64_t>(itemsize(t));
  Shape shape(arr.ndim()), strides(arr.ndim());
  for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
    shape[d] = arr.shape(d);
    DL_CHECK(arr.strides(d) % item == 0, ValueError, "[from_numpy] strides ", arr.strides(d),
             " are not a multiple of the item size ", item, "; pass a copy (np.ascontiguousarray)");
    strides[d] = arr.strides(d) / item;
  }
  const auto [lo, hi] = extent(shape, strides);
  char* first = static_cast<char*>(const_cast<void*>(arr.data()));
  PyObject* owner = arr.release().ptr();  // the storage holds a reference to the array
  return wrap_foreign(first + lo * item, static_cast<size_t>((hi - lo) * item), Device{}, t, shape, strides, -lo,
                      [owner](void*) {
                        if (!Py_IsInitialized()) return;
                        py::gil_scoped_acquire gil;
                        Py_DECREF(owner);
                      });
}

py::array to_numpy(const Tensor& t) {
  DL_CHECK(t.device().is_cpu(), TypeError, "[numpy] the tensor is on ", t.device().str(),
           "; copy it to the host first with .cpu()");
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end()), strides(t.ndim());
  for (int d = 0; d < t.ndim(); ++d) strides[d] = t.strides[d] * static_cast<py::ssize_t>(t.itemsize());
  // The capsule keeps the storage alive as long as the array (or its views).
  auto* keep = new std::shared_ptr<Storage>(t.storage);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  return py::array(numpy_dtype(t.dtype), shape, strides, t.data(), base);
}

// ---- DLPack ----------------------------------------------------------------

struct ExportContext {
  std::shared_ptr<Storage> storage;
  Shape shape, strides;
};

template <class Managed>
Managed* make_managed(const Tensor& t) {
  auto* ctx = new ExportContext{t.storage, t.shape, t.strides};
  auto* m = new Managed{};
  DLTensor& dl = m->dl_tensor;
  dl.data = t.data();  // the first element, offset 0: what PyTorch and NumPy expect
  dl.byte_offset = 0;
  dl.device = DLDevice{t.device().is_cpu() ? kDLCPU : kDLCUDA, t.device().index};
  dl.ndim = t.ndim();
  switch (t.dtype) {
    case DType::Bool: dl.dtype = {kDLBool, 8, 1}; break;
    case DType::Int32: dl.dtype = {kDLInt, 32, 1}; break;
    case DType::Int64: dl.dtype = {kDLInt, 64, 1}; break;
    case DType::Float32: dl.dtype = {kDLFloat, 32, 1}; break;
    case DType::Float64: dl.dtype = {kDLFloat, 64, 1}; break;
  }
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  m->manager_ctx = ctx;
  m->deleter = [](Managed* self) {
    delete static_cast<ExportContext*>(self->manager_ctx);
    delete self;
  };
  return m;
}

template <class Managed>
void capsule_destructor(PyObject* cap, const char* name) {
  // Unconsumed capsules (still named "dltensor"/"dltensor_versioned") own their tensor.
  if (PyCapsule_IsValid(cap, name)) {
    auto* m = static_cast<Managed*>(PyCapsule_GetPointer(cap, name));
    if (m && m->deleter) m->deleter(m);
  }
}

py::capsule to_dlpack(const Tensor& t, bool versioned) {
  if (versioned) {
    auto* m = make_managed<DLManagedTensorVersioned>(t);
    m->version = {1, 0};
    m->flags = 0;
    return py::capsule(PyCapsule_New(m, "dltensor_versioned", [](PyObject* cap) {
      capsule_destructor<DLManagedTensorVersioned>(cap, "dltensor_versioned");
    }), false);
  }
  auto* m = make_managed<DLManagedTensor>(t);
  return py::capsule(PyCapsule_New(m, "dltensor", [](PyObject* cap) {
    capsule_destructor<DLManagedTensor>(cap, "dltensor");
  }), false);
}

DType dtype_from_dl(DLDataType d) {
  DL_CHECK(d.lanes == 1, TypeError, "[from_dlpack] vector dtypes (lanes = ", d.lanes, ") are not supported");
  if (d.code == kDLFloat && d.bits == 32) return DType::Float32;
  if (d.code == kDLFloat && d.bits == 64) return DType::Float64;
  if (d.code == kDLInt && d.bits == 64) return DType::Int64;
  if (d.code == kDLInt && d.bits == 32) return DType::Int32;
  if (d.code == kDLBool && d.bits == 8) return DType::Bool;
  throw TypeError(cat("[from_dlpack] expected bool, int32, int64, float32 or float64, got DLPack type code ",
                      int(d.code), " with ", int(d.bits), " bits"));
}

template <class Managed>
Tensor import_managed(Managed* m) {
  const DLTensor& dl = m->dl_tensor;
  // Everything that can fail is checked before ownership moves to the tensor;
  // on failure the producer's deleter frees the memory.
  auto release = [m] { if (m->deleter) m->deleter(m); };
  Device dev;
  DType dt;
  try {
    if (dl.device.device_type == kDLCPU || dl.device.device_type == kDLCUDAHost) dev = Device{};
    else if (dl.device.device_type == kDLCUDA || dl.device.device_type == kDLCUDAManaged)
      dev = Device{DeviceType::CUDA, dl.device.device_id};
    else
      throw TypeError(cat("[from_dlpack] expected a CPU or CUDA tensor, got DLPack device type ",
                          int(dl.device.device_type)));
    if (!dev.is_cpu()) backend_for(dev, "from_dlpack");
    dt = dtype_from_dl(dl.dtype);
  } catch (...) {
    release();
    throw;
  }
  Shape shape(dl.shape, dl.shape + dl.ndim);
  Shape strides = dl.strides ? Shape(dl.strides, dl.strides + dl.ndim) : contiguous_strides(shape);
  const int64_t item = static_cast<int64_t>(itemsize(dt));
  const auto [lo, hi] = extent(shape, strides);
  char* first = static_cast<char*>(dl.data) + dl.byte_offset;
  return wrap_foreign(first + lo * item, static_cast<size_t>((hi - lo) * item), dev, dt, shape, strides, -lo,
                      [release](void*) { release(); });
}

Tensor from_dlpack_capsule(py::capsule cap) {
  PyObject* obj = cap.ptr();
  if (PyCapsule_IsValid(obj, "dltensor_versioned")) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(obj, "dltensor_versioned"));
    DL_CHECK(m->version.major == 1, TypeError, "[from_dlpack] unsupported DLPack major version ", m->version.major);
    PyCapsule_SetName(obj, "used_dltensor_versioned");
    const bool read_only = m->flags & DLPACK_FLAG_BITMASK_READ_ONLY;
    Tensor t = import_managed(m);
    // dlcore tensors are writable: a read-only export is copied.
    return read_only ? ops::clone(t) : t;
  }
  if (PyCapsule_IsValid(obj, "dltensor")) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(obj, "dltensor"));
    PyCapsule_SetName(obj, "used_dltensor");
    return import_managed(m);
  }
  throw TypeError("[from_dlpack] expected an unused DLPack capsule ('dltensor' or 'dltensor_versioned')");
}

}  // namespace

void init_interop(py::module_& m) {
  m.def("from_numpy", &from_numpy, py::arg("array"));
  m.def("to_numpy", &to_numpy, py::arg("tensor"));
  m.def("to_dlpack", &to_dlpack, py::arg("tensor"), py::arg("versioned") = false);
  m.def("from_dlpack_capsule", &from_dlpack_capsule, py::arg("capsule"));
}

}  // namespace dlcore::bindings

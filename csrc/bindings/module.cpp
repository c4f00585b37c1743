// dlcore._C: the core extension module.
#include "bindings/bindings.h"

namespace dlcore::bindings {

Scalar to_scalar(py::handle obj, const char* op) {
  if (py::isinstance<py::bool_>(obj)) return Scalar::of_bool(obj.cast<bool>());
  if (py::isinstance<py::int_>(obj)) {
    try {
      return Scalar::of_int(obj.cast<int64_t>());
    } catch (const py::cast_error&) {
      throw ValueError(cat("[", op, "] integer ", py::str(obj).cast<std::string>(), " does not fit in int64"));
    }
  }
  if (py::isinstance<py::float_>(obj) || PyNumber_Check(obj.ptr()))
    return Scalar::of_float(obj.cast<double>());
  throw TypeError(cat("[", op, "] expected a number, got ", py::str(py::type::of(obj)).cast<std::string>()));
}

}  // namespace dlcore::bindings

PYBIND11_MODULE(_C, m) {
  namespace py = pybind11;
  using namespace dlcore;
  m.doc() = "dlcore's kernels and op layer";
  py::register_exception<dlcore::RuntimeError>(m, "DLCoreError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ValueError& e) { PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const TypeError& e) { PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const IndexError& e) { PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const NotImplementedError& e) { PyErr_SetString(PyExc_NotImplementedError, e.what());
    }
  });
  bindings::init_runtime(m);
  bindings::init_tensor(m);
  bindings::init_interop(m);
  bindings::init_elementwise(m);
  bindings::init_reduce(m);
  bindings::init_gemm(m);
  bindings::init_conv(m);
  bindings::init_activation(m);
  bindings::init_softmax(m);
  bindings::init_loss(m);
  bindings::init_norm(m);
  bindings::init_dropout(m);
  bindings::init_index(m);
  bindings::init_recurrent(m);
  bindings::init_optim(m);
  bindings::init_factory(m);
}

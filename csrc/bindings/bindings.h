// Thin pybind11 bindings: convert arguments, release the GIL around kernels,
// call the op layer. One init_<family>(m) per file.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include "ops/ops.h"

namespace dlcore::bindings {

namespace py = pybind11;

// A Python bool/int/float as a Scalar, keeping its kind for promotion.
Scalar to_scalar(py::handle obj, const char* op);
// 'mean', 'sum' or 'none'.
Reduction to_reduction(const std::string& name, const char* op);

void init_tensor(py::module_& m);
void init_interop(py::module_& m);
void init_elementwise(py::module_& m);
void init_reduce(py::module_& m);
void init_gemm(py::module_& m);
void init_conv(py::module_& m);
void init_activation(py::module_& m);
void init_softmax(py::module_& m);
void init_loss(py::module_& m);
void init_norm(py::module_& m);
void init_dropout(py::module_& m);
void init_index(py::module_& m);
void init_recurrent(py::module_& m);
void init_optim(py::module_& m);
void init_factory(py::module_& m);
void init_runtime(py::module_& m);

}  // namespace dlcore::bindings

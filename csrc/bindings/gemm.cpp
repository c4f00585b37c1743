// Matrix multiplication.
#include "bindings/bindings.h"

namespace dlcore::bindings {

void init_gemm(py::module_& m) { m.def("matmul", &ops::matmul, py::call_guard<py::gil_scoped_release>()); }

}  // namespace dlcore::bindings

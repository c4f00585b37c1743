// Elementwise ops: one binding per op name, for tensors and Python scalars.
#include "bindings/bindings.h"

namespace dlcore::bindings {

void init_elementwise(py::module_& m) {
  const BinaryOp binaries[] = {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Pow,
                               BinaryOp::Maximum, BinaryOp::Minimum, BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt,
                               BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge, BinaryOp::LogicalAnd,
                               BinaryOp::LogicalOr, BinaryOp::LogicalXor};
  for (BinaryOp op : binaries) {
    const char* name = ops::binary_name(op);
    m.def(name, [op](const Tensor& a, const Tensor& b) {
      py::gil_scoped_release nogil;
      return ops::binary(op, a, b);
    });
    // name_scalar(tensor, number, scalar_first): `2 - x` is sub_scalar(x, 2, True).
    m.def((std::string(name) + "_scalar").c_str(), [op, name](const Tensor& a, py::handle s, bool scalar_first) {
      const Scalar sc = to_scalar(s, name);
      py::gil_scoped_release nogil;
      return ops::binary_scalar(op, a, sc, scalar_first);
    });
  }
  const UnaryOp unaries[] = {UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Sign, UnaryOp::Square, UnaryOp::Reciprocal,
                             UnaryOp::Exp, UnaryOp::Log, UnaryOp::Sqrt, UnaryOp::Rsqrt, UnaryOp::LogicalNot};
  for (UnaryOp op : unaries)
    m.def(ops::unary_name(op), [op](const Tensor& a) { return ops::unary(op, a); },
          py::call_guard<py::gil_scoped_release>());
  m.def("clip", [](const Tensor& a, py::handle lo, py::handle hi) {
    std::optional<Scalar> l, h;
    if (!lo.is_none()) l = to_scalar(lo, "clip");
    if (!hi.is_none()) h = to_scalar(hi, "clip");
    py::gil_scoped_release nogil;
    return ops::clip(a, l, h);
  });
  m.def("where", &ops::where, py::call_guard<py::gil_scoped_release>());
}

}  // namespace dlcore::bindings

// Elementwise ops: type promotion, broadcasting, output allocation, dispatch.
// Promotion follows PyTorch: the wider of two tensor dtypes in the order
// bool < int32 < int64 < float32 < float64; a Python scalar only lifts the
// category (int tensor * 0.5 -> float32); true division and float-only unary
// ops (exp, log, sqrt, ...) turn integers into float32; arithmetic on two
// bools is done in int64.
#include <cmath>
#include <limits>
#include "ops/ops.h"

namespace dlcore::ops {


const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt",
                                "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"};
  return names[static_cast<int>(op)];
}

const char* unary_name(UnaryOp op) {
  static const char* names[] = {"neg", "abs", "sign", "square", "reciprocal", "exp", "log", "sqrt", "rsqrt",
                                "logical_not"};
  return names[static_cast<int>(op)];
}

namespace {

bool is_logical(BinaryOp op) { return op >= BinaryOp::LogicalAnd; }

// The dtype the kernel computes in, from the promoted dtype of the operands.
DType compute_dtype(BinaryOp op, DType promoted) {
  if (is_logical(op)) return DType::Bool;
  if (op == BinaryOp::Div && !is_floating(promoted)) return DType::Float32;
  if (promoted == DType::Bool && !is_comparison(op) && op != BinaryOp::Maximum && op != BinaryOp::Minimum)
    return DType::Int64;
  return promoted;
}

Tensor run_binary(BinaryOp op, const Tensor& a, const Tensor& b, DType dt) {
  const char* name = binary_name(op);
  check_same_device(name, a, b);
  const KernelTable& k = kernels_for(name, a);
  const Shape shape = broadcast_shapes(name, a.shape, b.shape);
  const Tensor ac = astype(a, dt), bc = astype(b, dt);
  Tensor out = Tensor::empty(shape, is_comparison(op) ? DType::Bool : dt, a.device());
  k.binary(op, dt, make_loop(name, out, {&ac, &bc}));
  return out;
}

}  // namespace

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  return run_binary(op, a, b, compute_dtype(op, promote(a.dtype, b.dtype)));
}

Tensor binary_scalar(BinaryOp op, const Tensor& a, const Scalar& s, bool scalar_first) {
  const DType dt = compute_dtype(op, result_dtype(a, s));
  const Tensor st = to_device(scalar_tensor(s, dt), a.device());
  return scalar_first ? run_binary(op, st, a, dt) : run_binary(op, a, st, dt);
}

Tensor unary(UnaryOp op, const Tensor& a) {
  const char* name = unary_name(op);
  const KernelTable& k = kernels_for(name, a);
  DType dt = a.dtype;
  switch (op) {
    case UnaryOp::LogicalNot: dt = DType::Bool; break;
    case UnaryOp::Reciprocal: case UnaryOp::Exp: case UnaryOp::Log: case UnaryOp::Sqrt: case UnaryOp::Rsqrt:
      if (!is_floating(dt)) dt = DType::Float32;
      break;
    default:
      DL_CHECK(dt != DType::Bool, TypeError, "[", name, "] expected a numeric tensor, got bool");
  }
  const Tensor ac = astype(a, dt);
  Tensor out = Tensor::empty(a.shape, dt, a.device());
  k.unary(op, dt, make_loop(name, out, {&ac}));
  return out;
}

Tensor clip(const Tensor& a, const std::optional<Scalar>& lo, const std::optional<Scalar>& hi) {
  const KernelTable& k = kernels_for("clip", a);
  DL_CHECK(a.dtype != DType::Bool, TypeError, "[clip] expected a numeric tensor, got bool");
  // Bounds promote like the scalar operand of a binary op: a float bound makes an int tensor float32.
  DType dt = a.dtype;
  if (lo) dt = promote(dt, result_dtype(a, *lo));
  if (hi) dt = promote(dt, result_dtype(a, *hi));
  double l = lo ? lo->f : -std::numeric_limits<double>::infinity();
  double h = hi ? hi->f : std::numeric_limits<double>::infinity();
  if (std::isnan(l) || std::isnan(h))  // a NaN bound makes every element NaN (NumPy)
    return full(a.shape, Scalar::of_float(std::numeric_limits<double>::quiet_NaN()), dt, a.device());
  if (!is_floating(dt)) {  // bounds outside the integer range clamp to it
    const double imin = dt == DType::Int32 ? -2147483648.0 : -9223372036854775808.0;
    const double imax = dt == DType::Int32 ? 2147483647.0 : 9223372036854774784.0;
    l = std::clamp(l, imin, imax);
    h = std::clamp(h, imin, imax);
  }
  const Tensor ac = astype(a, dt);
  Tensor out = Tensor::empty(a.shape, dt, a.device());
  k.clip(dt, make_loop("clip", out, {&ac}), l, h);
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_same_device("where", cond, a);
  check_same_device("where", a, b);
  const KernelTable& k = kernels_for("where", a);
  const Shape shape = broadcast_shapes("where", broadcast_shapes("where", cond.shape, a.shape), b.shape);
  const DType dt = promote(a.dtype, b.dtype);
  const Tensor c = astype(cond, DType::Bool), ac = astype(a, dt), bc = astype(b, dt);
  Tensor out = Tensor::empty(shape, dt, a.device());
  k.where(dt, make_loop("where", out, {&c, &ac, &bc}));
  return out;
}

}  // namespace dlcore::ops

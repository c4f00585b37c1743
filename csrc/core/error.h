// Errors raised by the op layer. Each maps to one Python exception class in
// the bindings, and every message starts with the op's name in brackets:
//   [add] operands could not be broadcast together: (2, 3) and (4,)
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <cstdint>

namespace dlcore {

struct ValueError : std::runtime_error { using std::runtime_error::runtime_error; };
struct TypeError : std::runtime_error { using std::runtime_error::runtime_error; };
struct IndexError : std::runtime_error { using std::runtime_error::runtime_error; };
struct NotImplementedError : std::runtime_error { using std::runtime_error::runtime_error; };
struct RuntimeError : std::runtime_error { using std::runtime_error::runtime_error; };

inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) { os << v; append(os, rest...); }

template <class... Args>
std::string cat(const Args&... args) { std::ostringstream os; append(os, args...); return os.str(); }

// "(2, 3, 8)" -- shapes are printed the way Python prints tuples.
std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace dlcore

// DL_CHECK(cond, ValueError, "[op] expected ", x, ", got ", y)
#define DL_CHECK(cond, Err, ...) \
  do { if (!(cond)) throw ::dlcore::Err(::dlcore::cat(__VA_ARGS__)); } while (0)

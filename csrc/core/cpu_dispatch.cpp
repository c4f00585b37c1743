// Run-time choice of the CPU kernel table (the best ISA this CPU and OS
// support, or DLCORE_CPU_ISA), and the CPU thread count (DLCORE_NUM_THREADS,
// default: all cores OpenMP sees).
#include "core/cpu_dispatch.h"
#include <atomic>
#include <cstdlib>
#include <string>
#include "core/error.h"
#include "core/parallel.h"

DLCORE_DECLARE_ISA(baseline)
#if DLCORE_HAVE_AVX2
DLCORE_DECLARE_ISA(avx2)
#endif
#if DLCORE_HAVE_AVX512
DLCORE_DECLARE_ISA(avx512)
#endif

namespace dlcore {

namespace {

std::vector<std::string> supported() {
  std::vector<std::string> isas{"baseline"};
#if DLCORE_HAVE_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isas.push_back("avx2");
#endif
#if DLCORE_HAVE_AVX512
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    isas.push_back("avx512");
#endif
  return isas;
}

const KernelTable* table_named(const std::string& name) {
  if (name == "baseline") return &cpu::baseline::kernel_table();
#if DLCORE_HAVE_AVX2
  if (name == "avx2") return &cpu::avx2::kernel_table();
#endif
#if DLCORE_HAVE_AVX512
  if (name == "avx512") return &cpu::avx512::kernel_table();
#endif
  return nullptr;
}

// The name itself if this build and CPU support it, else a ValueError.
std::string checked_isa(const std::string& name) {
  std::string list;
  for (const auto& s : supported()) {
    if (s == name) return name;
    list += (list.empty() ? "" : ", ") + s;
  }
  throw ValueError(cat("[set_cpu_isa] expected one of the ISAs this CPU and build support (", list,
                       "), got '", name, "'"));
}

std::atomic<const KernelTable*>& current() {
  static std::atomic<const KernelTable*> table{[] {
    const char* env = std::getenv("DLCORE_CPU_ISA");
    return table_named(env && *env ? checked_isa(env) : supported().back());
  }()};
  return table;
}

int default_threads() {
  if (const char* env = std::getenv("DLCORE_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

std::atomic<int> g_threads{0};

}  // namespace

std::vector<std::string> supported_cpu_isas() { return supported(); }

const KernelTable& cpu_kernels() { return *current().load(std::memory_order_relaxed); }

double fma_probe(int64_t iters) {
  const std::string isa = cpu_kernels().isa;
#if DLCORE_HAVE_AVX512
  if (isa == "avx512") return cpu::avx512::fma_probe(iters);
#endif
#if DLCORE_HAVE_AVX2
  if (isa == "avx2") return cpu::avx2::fma_probe(iters);
#endif
  return cpu::baseline::fma_probe(iters);
}

void set_cpu_isa(const std::string& name) { current().store(table_named(checked_isa(name))); }

int num_threads() {
  int n = g_threads.load(std::memory_order_relaxed);
  if (n == 0) { n = default_threads(); g_threads.store(n); }
  return n;
}

void set_num_threads(int n) {
  DL_CHECK(n >= 1, ValueError, "[set_num_threads] expected a thread count >= 1, got ", n);
  g_threads.store(n);
}

std::atomic<int>& active_parallel_regions() {
  static std::atomic<int> active{0};
  return active;
}

}  // namespace dlcore

// simt.h: a SIMT emulator that runs CUDA C++ kernels on the CPU.
//
// The same cuda/*.cu sources that nvcc compiles for the GPU are compiled by
// the host C++ compiler against this header (through cuda/compat.h).
//
//  * A launch spreads the grid's blocks over OS threads (OpenMP, dynamic
//    schedule). A block runs start to finish on one OS thread.
//  * Inside a block every CUDA thread is a cooperative fiber with its own
//    stack. Fibers switch only at __syncthreads() and at warp intrinsics,
//    which are barriers (block-wide, or among the lanes named in the mask).
//  * The order in which ready fibers run between barriers is forward,
//    reverse or random (SIMT_SCHEDULE), so a missing __syncthreads shows up.
//  * Kernel bugs (divergent barriers, deadlocks, shuffles from lanes outside
//    the mask, invalid launch shapes...) are recorded, never abort(): read
//    them with simt::get_and_clear_error() after the launch.
//
// See docs/emulator.md for the design, its limits and how to debug with it.
// C++17, g++ >= 12 or clang; x86-64 uses a hand-written context switch,
// other targets (or -DSIMT_USE_UCONTEXT) use ucontext.
#pragma once

#if defined(__CUDACC__)
#error "simt.h is the CPU emulator of CUDA: under nvcc include compat.h, which passes through to CUDA"
#endif

#include <math.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <sys/mman.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) && !defined(SIMT_USE_UCONTEXT)
#define SIMT_ASM_SWITCH 1
#else
#define SIMT_ASM_SWITCH 0
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SIMT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIMT_ASAN 1
#endif
#endif
#ifndef SIMT_ASAN
#define SIMT_ASAN 0
#endif
#if SIMT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

// Lets kernel and test code tell the emulator from a real GPU build.
#define SIMT_EMULATOR 1

// ===========================================================================
// CUDA surface: qualifiers, vector types, built-in variables
// ===========================================================================

#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// A block runs entirely on one OS thread, so a thread_local variable is
// private to the running block and shared by its fibers: that is exactly
// what __shared__ means. (It is not reset between blocks; see emulator.md.)
#define __shared__ static thread_local
// __restrict__ is already a GNU keyword. __noinline__ is not defined: GNU
// headers use __attribute__((__noinline__)).

// `__shared__ alignas(16) T x[n];` is fine for nvcc, but with __shared__ =
// `static thread_local` g++ rejects a standard attribute in the middle of the
// decl-specifiers. So alignas becomes the equivalent GNU attribute, which may
// stand anywhere; align_arg<X>() takes either a type or a value, as alignas
// does. (libstdc++ compiles with this macro; -DSIMT_NO_ALIGNAS_MACRO turns
// it off, then write __align__(n) after __shared__.)
#ifndef SIMT_NO_ALIGNAS_MACRO
namespace simt { namespace detail {
template <class T>
constexpr std::size_t align_arg() { return alignof(T); }
template <std::size_t N>
constexpr std::size_t align_arg() { return N; }
}}  // namespace simt::detail
#define alignas(...) __attribute__((aligned(::simt::detail::align_arg<__VA_ARGS__>())))
#endif

struct uint3 { unsigned int x, y, z; };
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

#define SIMT_VEC2(T, name, al)                                           \
  struct __attribute__((aligned(al))) name { T x, y; };                  \
  inline constexpr name make_##name(T x, T y) { return name{x, y}; }
#define SIMT_VEC3(T, name)                                               \
  struct name { T x, y, z; };                                            \
  inline constexpr name make_##name(T x, T y, T z) { return name{x, y, z}; }
#define SIMT_VEC4(T, name, al)                                           \
  struct __attribute__((aligned(al))) name { T x, y, z, w; };            \
  inline constexpr name make_##name(T x, T y, T z, T w) { return name{x, y, z, w}; }

SIMT_VEC2(signed char, char2, 2)
SIMT_VEC4(signed char, char4, 4)
SIMT_VEC2(unsigned char, uchar2, 2)
SIMT_VEC4(unsigned char, uchar4, 4)
SIMT_VEC2(short, short2, 4)
SIMT_VEC4(short, short4, 8)
SIMT_VEC2(unsigned short, ushort2, 4)
SIMT_VEC4(unsigned short, ushort4, 8)
SIMT_VEC2(int, int2, 8)
SIMT_VEC3(int, int3)
SIMT_VEC4(int, int4, 16)
SIMT_VEC2(unsigned int, uint2, 8)
SIMT_VEC4(unsigned int, uint4, 16)
SIMT_VEC2(long long, longlong2, 16)
SIMT_VEC2(unsigned long long, ulonglong2, 16)
SIMT_VEC2(float, float2, 8)
SIMT_VEC3(float, float3)
SIMT_VEC4(float, float4, 16)
SIMT_VEC2(double, double2, 16)
SIMT_VEC3(double, double3)
inline constexpr uint3 make_uint3(unsigned int x, unsigned int y, unsigned int z) { return uint3{x, y, z}; }
#undef SIMT_VEC2
#undef SIMT_VEC3
#undef SIMT_VEC4

constexpr int warpSize = 32;

// ===========================================================================
// Public API of the emulator
// ===========================================================================
namespace simt {

// The first error recorded by the launches made from this OS thread since
// the last get_and_clear_error() ("" when none), like cudaGetLastError:
// later errors do not overwrite it. A launch with an error still returns
// normally; a fatal error (deadlock, mask conflict, __trap, exception) stops
// the rest of that launch.
std::string last_error();
std::string get_and_clear_error();

// Schedule of ready fibers between barriers: "forward" (default), "reverse",
// "random" or "random:<seed>". set_schedule overrides the SIMT_SCHEDULE
// environment variable (read at each launch); set_schedule("") goes back to
// it. Returns false (and changes nothing) for an invalid spec.
bool set_schedule(const std::string& spec);
std::string schedule();

// OS threads a launch may use: n > 0 fixes it, 0 goes back to the default
// (SIMT_THREADS if set, else omp_get_max_threads()).
void set_num_threads(int n);
int num_threads();

// Dynamic shared memory above 48 KiB needs this opt-in, as on a GPU with
// cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize).
void set_max_dynamic_shared(const void* kernel, size_t bytes);

// Launches a kernel: arguments are converted to the kernel's parameter types
// and copied once, each CUDA thread gets its own copy. Synchronous. Use
// DL_LAUNCH (compat.h) rather than calling this directly.
template <class... P, class S, class... A>
void launch(const char* kernel_name, const char* file, int line, void (*kernel)(P...), dim3 grid,
            dim3 block, size_t shared_bytes, S&& stream, A&&... args);

// The running block's dynamic shared memory (DL_DYNAMIC_SHARED).
unsigned char* dynamic_shared();

// Limits of the emulated device.
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr size_t kDefaultMaxDynamicShared = 48 * 1024;
constexpr size_t kMaxDynamicShared = 227 * 1024;

// ===========================================================================
// Internals
// ===========================================================================
namespace detail {

enum class FState : unsigned char { Ready, Running, Barrier, Warp, ActiveMask, Exited };

enum Op : unsigned char {
  OP_SYNCWARP, OP_SHFL_IDX, OP_SHFL_UP, OP_SHFL_DOWN, OP_SHFL_XOR, OP_BALLOT, OP_ANY, OP_ALL,
  OP_MATCH_ANY, OP_MATCH_ALL, OP_RED_ADD, OP_RED_MIN_U, OP_RED_MAX_U, OP_RED_MIN_S, OP_RED_MAX_S,
  OP_RED_AND, OP_RED_OR, OP_RED_XOR
};

inline const char* op_name(int op) {
  static const char* const names[] = {
      "__syncwarp", "__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync",
      "__ballot_sync", "__any_sync", "__all_sync", "__match_any_sync", "__match_all_sync",
      "__reduce_add_sync", "__reduce_min_sync", "__reduce_max_sync", "__reduce_min_sync",
      "__reduce_max_sync", "__reduce_and_sync", "__reduce_or_sync", "__reduce_xor_sync"};
  return names[op];
}

struct Context {
#if SIMT_ASM_SWITCH
  void* sp = nullptr;
#else
  ucontext_t uc;
#endif
};

// --------------------------------------------------------------------------
// Context switch
// --------------------------------------------------------------------------
#if SIMT_ASM_SWITCH
// void ctx_switch(void** save_sp, void* new_sp): pushes the callee-saved
// registers and the SSE/x87 control words on the current stack, stores the
// stack pointer in *save_sp, loads new_sp and pops the same from there.
__attribute__((naked, noinline)) inline void ctx_switch(void** /*save_sp*/, void* /*new_sp*/) noexcept {
  __asm__ volatile(
      "pushq %rbp\n\t"
      "pushq %rbx\n\t"
      "pushq %r12\n\t"
      "pushq %r13\n\t"
      "pushq %r14\n\t"
      "pushq %r15\n\t"
      "subq $8, %rsp\n\t"
      "stmxcsr (%rsp)\n\t"
      "fnstcw 4(%rsp)\n\t"
      "movq %rsp, (%rdi)\n\t"
      "movq %rsi, %rsp\n\t"
      "ldmxcsr (%rsp)\n\t"
      "fldcw 4(%rsp)\n\t"
      "addq $8, %rsp\n\t"
      "popq %r15\n\t"
      "popq %r14\n\t"
      "popq %r13\n\t"
      "popq %r12\n\t"
      "popq %rbx\n\t"
      "popq %rbp\n\t"
      "ret\n\t");
}
// First code a new fiber runs: r12 = argument, r13 = entry function. Marks
// the return address undefined so that unwinders stop here.
__attribute__((naked, noinline)) inline void fiber_trampoline() noexcept {
  __asm__ volatile(
      ".cfi_undefined rip\n\t"
      "movq %r12, %rdi\n\t"
      "callq *%r13\n\t"
      "ud2\n\t");
}
#endif

// --------------------------------------------------------------------------
// Per-launch state and errors
// --------------------------------------------------------------------------
enum class Order : unsigned char { Forward, Reverse, Random };

struct LaunchState {
  const char* name = "";
  const char* file = "";
  int line = 0;
  dim3 grid, block;
  size_t smem = 0;
  void (*invoke)(void*) = nullptr;
  void* ctx = nullptr;
  Order order = Order::Forward;
  uint64_t seed = 0;
  size_t stack_bytes = 0;
  std::atomic<bool> aborted{false};
  std::atomic<unsigned long> nerrors{0};
  std::mutex mu;
  std::string first;

  std::string header() const {
    return std::string("simt: kernel '") + name + "' (launched at " + file + ":" + std::to_string(line) + ")";
  }
  // Records an error: only the first one's message is kept (and formatted).
  template <class F>
  void error(F&& make_message, bool fatal) {
    if (fatal) aborted.store(true, std::memory_order_relaxed);
    if (nerrors.fetch_add(1, std::memory_order_relaxed) == 0) {
      std::string m = make_message();
      std::lock_guard<std::mutex> lock(mu);
      first = std::move(m);
    }
  }
};

inline std::string& thread_error() {
  static thread_local std::string err;
  return err;
}
inline void set_thread_error(const std::string& msg) {
  std::string& e = thread_error();
  if (e.empty()) e = msg;
}

inline std::string fmt_hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}
inline std::string fmt_site(const char* file, int line) { return std::string(file) + ":" + std::to_string(line); }
inline std::string fmt3(unsigned x, unsigned y, unsigned z) {
  return "(" + std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(z) + ")";
}
// "0-15,17,20-21"
inline std::string fmt_lanes(unsigned m) {
  std::string s;
  for (int i = 0; i < 32;) {
    if (!((m >> i) & 1u)) { ++i; continue; }
    int j = i;
    while (j + 1 < 32 && ((m >> (j + 1)) & 1u)) ++j;
    if (!s.empty()) s += ",";
    s += std::to_string(i);
    if (j > i) s += "-" + std::to_string(j);
    i = j + 1;
  }
  return s.empty() ? "none" : s;
}
inline bool same_site(const char* f1, int l1, const char* f2, int l2) {
  return l1 == l2 && (f1 == f2 || std::strcmp(f1, f2) == 0);
}

// --------------------------------------------------------------------------
// Fibers and the per-OS-thread worker that runs blocks
// --------------------------------------------------------------------------
struct Worker;

struct Fiber {
  Context ctx;
  Worker* w = nullptr;
  uint3 tid{0, 0, 0};
  unsigned lin = 0, warp = 0, lane = 0;
  FState state = FState::Exited;
  unsigned char op = 0;      // warp operation waited in
  int param = 0, width = 32;
  unsigned mask = 0;         // effective mask of the warp operation
  uint64_t val = 0, res = 0; // value given / result
  const char* file = "";     // where the fiber waits
  int line = 0;
  const char* what = "";     // barrier name
  int pred = 0;
  char* stack_lo = nullptr;  // usable stack [stack_lo, stack_hi)
  char* stack_hi = nullptr;
  char* low_water = nullptr; // deepest frame seen at a switch (ASan unpoisoning)
  void* fake_stack = nullptr;
};

struct WarpGroup { unsigned mask, arrived; };
struct WarpState {
  unsigned exists, exited;
  unsigned am_pending;  // lanes parked in __activemask
  int active;           // lanes Ready or Running
  int ngroups;
  WarpGroup g[32];
};

struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

// What threadIdx reads outside a kernel (index 0, no worker).
inline Fiber host_fiber;

struct Tls {
  Fiber* cur = &host_fiber;  // the running CUDA thread
  Worker* w = nullptr;       // the worker running a block on this OS thread
  uint3 block_idx{0, 0, 0};
  dim3 block_dim{1, 1, 1};
  dim3 grid_dim{1, 1, 1};
  unsigned char* smem = nullptr;
};
inline thread_local Tls tls;

[[noreturn]] inline void fiber_entry(void* arg) noexcept;

struct Worker {
  static constexpr unsigned kQueue = 2048;  // > kMaxThreadsPerBlock, power of two
  static constexpr unsigned kChunk = 64;    // stacks per mmap

  std::unique_ptr<Fiber[]> fibers{new Fiber[kMaxThreadsPerBlock]};
  Fiber* q[kQueue];
  unsigned qh = 0, qt = 0;
  Fiber* scratch[kMaxThreadsPerBlock];
  WarpState warps[kMaxThreadsPerBlock / 32];

  LaunchState* L = nullptr;
  unsigned n = 0, live = 0;
  unsigned bar_count = 0, rel_count = 0, rel_n = 0;
  Fiber* bar_first = nullptr;
  bool bar_diverged = false;
  bool abort_block = false;
  Order order = Order::Forward;
  Rng rng{0};

  Context main_ctx;
  void* main_fake = nullptr;
  const void* main_bottom = nullptr;
  size_t main_size = 0;
  bool from_main = false;

  // fiber stacks: chunks of kChunk stacks, each [guard page][stack_bytes]
  struct Chunk { char* base; size_t bytes; };
  Chunk chunks[kMaxThreadsPerBlock / kChunk] = {};
  unsigned nchunks = 0;
  size_t stack_bytes = 0, stride = 0;

  unsigned char* smem = nullptr;
  size_t smem_cap = 0;

  ~Worker() {
    free_stacks();
    std::free(smem);
  }

  void free_stacks() {
    for (unsigned c = 0; c < nchunks; ++c) {
#if SIMT_ASAN
      __asan_unpoison_memory_region(chunks[c].base, chunks[c].bytes);
#endif
      munmap(chunks[c].base, chunks[c].bytes);
    }
    nchunks = 0;
  }

  bool ensure_stacks(unsigned count, size_t bytes) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    bytes = (bytes + page - 1) / page * page;
    if (bytes != stack_bytes) {
      free_stacks();
      stack_bytes = bytes;
      stride = bytes + page;
    }
    while (nchunks * kChunk < count) {
      const size_t total = stride * kChunk;
      void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED) return false;
      char* base = static_cast<char*>(p);
      for (unsigned k = 0; k < kChunk; ++k) {
        // A guard page below each stack; without it (vm.max_map_count
        // reached) the emulator still works, overflows are just not caught.
        mprotect(base + k * stride, page, PROT_NONE);
        Fiber& f = fibers[nchunks * kChunk + k];
        f.stack_lo = base + k * stride + page;
        f.stack_hi = f.stack_lo + stack_bytes;
        f.low_water = f.stack_lo;
      }
      chunks[nchunks++] = Chunk{base, total};
    }
    return true;
  }

  bool ensure_smem(size_t bytes) {
    if (bytes <= smem_cap) return true;
    std::free(smem);
    const size_t cap = (bytes + 127) / 128 * 128;
    smem = static_cast<unsigned char*>(std::aligned_alloc(128, cap));
    smem_cap = smem ? cap : 0;
    return smem != nullptr;
  }

  // ---- errors ----
  std::string where(const Fiber* f) const {
    std::string s = L->header() + ", block " + fmt3(tls.block_idx.x, tls.block_idx.y, tls.block_idx.z);
    if (f) s += ", thread " + fmt3(f->tid.x, f->tid.y, f->tid.z);
    return s;
  }
  template <class F>
  void fail(const Fiber* f, F&& make_message, bool fatal) {
    if (fatal) abort_block = true;
    L->error([&] { return where(f) + ": " + make_message(); }, fatal);
  }

  // ---- ready queue ----
  void push(Fiber* f) {
    if (f->state != FState::Ready && f->state != FState::Running) ++warps[f->warp].active;
    f->state = FState::Ready;
    q[qt++ & (kQueue - 1)] = f;
  }
  Fiber* pop() { return qh == qt ? nullptr : q[qh++ & (kQueue - 1)]; }
  // Pushes list[0..cnt) in the schedule's order.
  void push_ordered(Fiber** list, unsigned cnt) {
    if (order == Order::Forward) {
      for (unsigned i = 0; i < cnt; ++i) push(list[i]);
    } else if (order == Order::Reverse) {
      for (unsigned i = cnt; i-- > 0;) push(list[i]);
    } else {
      for (unsigned i = cnt; i > 1; --i) std::swap(list[i - 1], list[rng.next() % i]);
      for (unsigned i = 0; i < cnt; ++i) push(list[i]);
    }
  }

  // The running fiber stops being runnable (waits or exits). When no lane of
  // its warp is runnable any more, the lanes parked in __activemask learn
  // which lanes reached the same call site with them.
  void block_self(Fiber* self, FState st) {
    self->state = st;
    WarpState& ws = warps[self->warp];
    if (--ws.active == 0 && ws.am_pending) resolve_activemask(self->warp);
  }
  void resolve_activemask(unsigned warp) {
    WarpState& ws = warps[warp];
    Fiber* base = &fibers[warp * 32];
    unsigned pend = ws.am_pending;
    ws.am_pending = 0;
    unsigned cnt = 0;
    while (pend) {
      const Fiber& a = base[__builtin_ctz(pend)];
      unsigned same = 0;
      for (unsigned k = pend; k; k &= k - 1) {
        const unsigned l = static_cast<unsigned>(__builtin_ctz(k));
        if (same_site(base[l].file, base[l].line, a.file, a.line)) same |= 1u << l;
      }
      for (unsigned k = same; k; k &= k - 1) {
        Fiber* f = &base[__builtin_ctz(k)];
        f->res = same;
        scratch[cnt++] = f;
      }
      pend &= ~same;
    }
    push_ordered(scratch, cnt);
  }

  // ---- switching ----
  static void asan_start(void** fake_save, const void* bottom, size_t size) {
#if SIMT_ASAN
    __sanitizer_start_switch_fiber(fake_save, bottom, size);
#else
    (void)fake_save, (void)bottom, (void)size;
#endif
  }
  // Runs on the fiber that has just been switched to.
  void resumed(Fiber* self) {
#if SIMT_ASAN
    if (from_main) {
      from_main = false;
      __sanitizer_finish_switch_fiber(self->fake_stack, &main_bottom, &main_size);
    } else {
      __sanitizer_finish_switch_fiber(self->fake_stack, nullptr, nullptr);
    }
#else
    (void)self;
#endif
  }
  static void swap(Context& from, Context& to) {
#if SIMT_ASM_SWITCH
    ctx_switch(&from.sp, to.sp);
#else
    swapcontext(&from.uc, &to.uc);
#endif
  }
  void switch_to(Fiber* self, Fiber* next) {
    tls.cur = next;
    next->state = FState::Running;
    self->low_water = static_cast<char*>(__builtin_frame_address(0));
    asan_start(&self->fake_stack, next->stack_lo, static_cast<size_t>(next->stack_hi - next->stack_lo));
    swap(self->ctx, next->ctx);
    resumed(self);
  }
  void switch_to_main(Fiber* self) {
    tls.cur = &host_fiber;
    self->low_water = static_cast<char*>(__builtin_frame_address(0));
    asan_start(&self->fake_stack, main_bottom, main_size);
    swap(self->ctx, main_ctx);
    resumed(self);
  }
  void run_fiber(Fiber* f) {  // from the main context
    tls.cur = f;
    f->state = FState::Running;
    from_main = true;
    asan_start(&main_fake, f->stack_lo, static_cast<size_t>(f->stack_hi - f->stack_lo));
    swap(main_ctx, f->ctx);
#if SIMT_ASAN
    __sanitizer_finish_switch_fiber(main_fake, nullptr, nullptr);
#endif
    from_main = false;
  }
  // The running fiber waits (its state already says for what): run the next
  // ready fiber, or return to the block loop when none is ready.
  void park(Fiber* self) {
    Fiber* next = pop();
    if (next == self) {
      self->state = FState::Running;
      return;
    }
    if (next)
      switch_to(self, next);
    else
      switch_to_main(self);
  }
  // A fatal error: leave this fiber (and its block) for good.
  [[noreturn]] void abandon(Fiber* self) {
    abort_block = true;
    switch_to_main(self);
    std::abort();  // unreachable: the block loop never resumes an abandoned block
  }
  [[noreturn]] void exit_fiber(Fiber* self) {
    --live;
    WarpState& ws = warps[self->warp];
    ws.exited |= 1u << self->lane;
    // As in PTX, warp operations wait for the non-exited lanes of their mask
    // only: a group that was waiting for this lane may be complete now.
    for (int k = 0; k < ws.ngroups;) {
      WarpGroup& g = ws.g[k];
      if ((g.mask >> self->lane) & 1u && g.arrived == (g.mask & ~ws.exited)) {
        const WarpGroup done = g;
        g = ws.g[--ws.ngroups];
        complete_group(self->warp, done.mask, done.arrived);
      } else {
        ++k;
      }
    }
    block_self(self, FState::Exited);
    self->low_water = static_cast<char*>(__builtin_frame_address(0));
    Fiber* next = abort_block ? nullptr : pop();
    if (next) {
      tls.cur = next;
      next->state = FState::Running;
      asan_start(nullptr, next->stack_lo, static_cast<size_t>(next->stack_hi - next->stack_lo));
      swap(self->ctx, next->ctx);
    } else {
      tls.cur = &host_fiber;
      asan_start(nullptr, main_bottom, main_size);
      swap(self->ctx, main_ctx);
    }
    std::abort();  // unreachable
  }

  void init_fiber(Fiber& f, unsigned i, const dim3& bd) {
    f.w = this;
    f.lin = i;
    f.lane = i & 31u;
    f.warp = i >> 5;
    f.tid = uint3{i % bd.x, (i / bd.x) % bd.y, i / (bd.x * bd.y)};
    f.state = FState::Ready;
    f.fake_stack = nullptr;
    // Offset each stack top by 64 B * index so that the saved contexts do
    // not all fall into one L1 set.
    char* top = f.stack_hi - 64 * (i & 63u);
    top = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(top) & ~uintptr_t(15));
#if SIMT_ASAN
    // A reused stack still carries the poisoned redzones of the frames that
    // were live when its previous fiber last switched away.
    char* lo = f.low_water - f.stack_lo > 4096 ? f.low_water - 4096 : f.stack_lo;
    __asan_unpoison_memory_region(lo, static_cast<size_t>(f.stack_hi - lo));
#endif
    f.low_water = top - 256;
#if SIMT_ASM_SWITCH
    uint32_t mxcsr;
    uint16_t fpucw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpucw));
    uint64_t* sp = reinterpret_cast<uint64_t*>(top);
    *--sp = 0;  // a null frame above the trampoline: unwinders stop
    *--sp = 0;
    *--sp = reinterpret_cast<uint64_t>(&fiber_trampoline);  // "return" address
    *--sp = 0;                                              // rbp
    *--sp = 0;                                              // rbx
    *--sp = reinterpret_cast<uint64_t>(&f);                 // r12: argument
    *--sp = reinterpret_cast<uint64_t>(&fiber_entry);       // r13: entry
    *--sp = 0;                                              // r14
    *--sp = 0;                                              // r15
    *--sp = static_cast<uint64_t>(mxcsr) | (static_cast<uint64_t>(fpucw) << 32);
    f.ctx.sp = sp;
#else
    getcontext(&f.ctx.uc);
    f.ctx.uc.uc_stack.ss_sp = f.stack_lo;
    f.ctx.uc.uc_stack.ss_size = static_cast<size_t>(top - f.stack_lo);
    f.ctx.uc.uc_link = nullptr;
    // makecontext passes int arguments: the pointer goes in two halves
    const uint64_t a = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&f));
    makecontext(&f.ctx.uc, reinterpret_cast<void (*)()>(&uc_entry), 2, static_cast<unsigned>(a >> 32),
                static_cast<unsigned>(a & 0xffffffffu));
#endif
  }
#if !SIMT_ASM_SWITCH
  static void uc_entry(unsigned hi, unsigned lo) {
    fiber_entry(reinterpret_cast<void*>(static_cast<uintptr_t>((static_cast<uint64_t>(hi) << 32) | lo)));
  }
#endif

  // ---- barriers ----
  void release_barrier() {
    unsigned cnt = 0, preds = 0;
    for (unsigned i = 0; i < n; ++i) {
      Fiber* f = &fibers[i];
      if (f->state == FState::Barrier) {
        scratch[cnt++] = f;
        preds += f->pred != 0;
      }
    }
    rel_count = preds;
    rel_n = cnt;
    bar_count = 0;
    push_ordered(scratch, cnt);
  }

  void complete_group(unsigned warp, unsigned gmask, unsigned part);
  void deadlock();
  void run_block(LaunchState& Ls, unsigned long long b);
};

inline Worker& worker() {
  static thread_local std::unique_ptr<Worker> w;
  if (!w) w.reset(new Worker());
  return *w;
}

[[noreturn]] inline void fiber_entry(void* arg) noexcept {
  Fiber* f = static_cast<Fiber*>(arg);
  Worker* w = f->w;
  w->resumed(f);
  try {
    w->L->invoke(w->L->ctx);
  } catch (const std::exception& e) {
    std::string what = e.what();
    w->fail(f, [&] { return "the kernel threw an exception: " + what; }, true);
  } catch (...) {
    w->fail(f, [] { return std::string("the kernel threw an exception"); }, true);
  }
  w->exit_fiber(f);
}

// Shuffle source lane following the PTX shfl.sync rules (segments of width
// lanes); returns lane itself when the source is outside the segment.
inline unsigned shfl_source(int op, unsigned lane, int param, int width) {
  const unsigned seg = static_cast<unsigned>(width);
  const unsigned lo = lane & ~(seg - 1), hi = lo + seg - 1;
  switch (op) {
    case OP_SHFL_IDX: return lo | (static_cast<unsigned>(param) & (seg - 1));
    case OP_SHFL_UP: {
      const long long j = static_cast<long long>(lane) - static_cast<long long>(static_cast<unsigned>(param));
      return j >= static_cast<long long>(lo) ? static_cast<unsigned>(j) : lane;
    }
    case OP_SHFL_DOWN: {
      const unsigned long long j = static_cast<unsigned long long>(lane) + static_cast<unsigned>(param);
      return j <= hi ? static_cast<unsigned>(j) : lane;
    }
    default: {  // xor
      const unsigned j = lane ^ (static_cast<unsigned>(param) & 31u);
      return j <= hi ? j : lane;
    }
  }
}

// All non-exited lanes of gmask (part) have arrived: compute every lane's
// result (the last lane to arrive does it for all) and make them ready.
inline void Worker::complete_group(unsigned warp, unsigned gmask, unsigned part) {
  Fiber* base = &fibers[warp * 32];
  const int first_lane = __builtin_ctz(part);
  const int op0 = base[first_lane].op;
  unsigned ballot = 0;
  bool have_ballot = false;
  unsigned cnt = 0;
  int mixed_lane = -1;
  for (unsigned m = part; m; m &= m - 1) {
    const unsigned l = static_cast<unsigned>(__builtin_ctz(m));
    Fiber& f = base[l];
    if (f.op != op0 && mixed_lane < 0) mixed_lane = static_cast<int>(l);
    switch (f.op) {
      case OP_SYNCWARP: f.res = 0; break;
      case OP_SHFL_IDX: case OP_SHFL_UP: case OP_SHFL_DOWN: case OP_SHFL_XOR: {
        const unsigned src = shfl_source(f.op, l, f.param, f.width);
        if ((part >> src) & 1u) {
          f.res = base[src].val;
        } else {
          f.res = ~uint64_t(0);  // NaN for float and double
          const unsigned lanes = warps[warp].exists;
          const unsigned fm = f.mask;
          fail(&f, [&] {
            std::string s = std::string(op_name(f.op)) + " at " + fmt_site(f.file, f.line) + ": lane " +
                            std::to_string(l) + " reads lane " + std::to_string(src);
            if (!((lanes >> src) & 1u))
              s += ", which does not exist (the block has " + std::to_string(n) + " threads; warp " +
                   std::to_string(warp) + " has lanes " + fmt_lanes(lanes) + ")";
            else if ((gmask >> src) & 1u)
              s += ", which has exited";
            else
              s += ", which is not in the mask " + fmt_hex(fm);
            return s + "; the result is undefined (the emulator returns all-one bits: NaN for float/double)";
          }, false);
        }
        break;
      }
      case OP_BALLOT: case OP_ANY: case OP_ALL: {
        if (!have_ballot) {
          for (unsigned k = part; k; k &= k - 1) {
            const unsigned j = static_cast<unsigned>(__builtin_ctz(k));
            if (base[j].val != 0) ballot |= 1u << j;
          }
          have_ballot = true;
        }
        f.res = f.op == OP_BALLOT ? ballot : f.op == OP_ANY ? (ballot != 0) : (ballot == part);
        break;
      }
      case OP_MATCH_ANY: {
        unsigned r = 0;
        for (unsigned k = part; k; k &= k - 1) {
          const unsigned j = static_cast<unsigned>(__builtin_ctz(k));
          if (base[j].val == f.val) r |= 1u << j;
        }
        f.res = r;
        break;
      }
      case OP_MATCH_ALL: {
        bool all = true;
        for (unsigned k = part; k; k &= k - 1) all &= base[__builtin_ctz(k)].val == f.val;
        f.res = all ? part : 0;
        break;
      }
      default: {  // reductions over 32-bit values
        uint32_t acc_u = 0;
        int32_t acc_s = 0;
        bool init = false;
        for (unsigned k = part; k; k &= k - 1) {
          const uint32_t u = static_cast<uint32_t>(base[__builtin_ctz(k)].val);
          const int32_t s = static_cast<int32_t>(u);
          switch (f.op) {
            case OP_RED_ADD: acc_u += u; break;
            case OP_RED_MIN_U: acc_u = init ? std::min(acc_u, u) : u; break;
            case OP_RED_MAX_U: acc_u = init ? std::max(acc_u, u) : u; break;
            case OP_RED_MIN_S: acc_s = init ? std::min(acc_s, s) : s; break;
            case OP_RED_MAX_S: acc_s = init ? std::max(acc_s, s) : s; break;
            case OP_RED_AND: acc_u = init ? (acc_u & u) : u; break;
            case OP_RED_OR: acc_u |= u; break;
            default: acc_u ^= u; break;
          }
          init = true;
        }
        f.res = (f.op == OP_RED_MIN_S || f.op == OP_RED_MAX_S) ? static_cast<uint32_t>(acc_s) : acc_u;
        break;
      }
    }
    scratch[cnt++] = &f;
  }
  if (mixed_lane >= 0) {
    const Fiber& a = base[first_lane];
    const Fiber& b = base[mixed_lane];
    fail(&b, [&] {
      return "lanes of warp " + std::to_string(warp) + " (mask " + fmt_hex(gmask) +
             ") meet at different warp operations: lane " + std::to_string(first_lane) + " in " +
             op_name(a.op) + " at " + fmt_site(a.file, a.line) + ", lane " + std::to_string(mixed_lane) +
             " in " + op_name(b.op) + " at " + fmt_site(b.file, b.line);
    }, false);
  }
  push_ordered(scratch, cnt);
}

inline void Worker::deadlock() {
  // One line per run of consecutive threads waiting at the same place.
  std::string lines;
  int nlines = 0;
  auto describe = [&](const Fiber& f) -> std::string {
    switch (f.state) {
      case FState::Barrier: return std::string(f.what) + " at " + fmt_site(f.file, f.line);
      case FState::Warp: {
        const WarpState& ws = warps[f.warp];
        unsigned arrived = 0;
        for (int k = 0; k < ws.ngroups; ++k)
          if (ws.g[k].mask == f.mask) arrived = ws.g[k].arrived;
        const unsigned missing = f.mask & ~arrived & ~ws.exited;
        std::string s = std::string(op_name(f.op)) + " (mask " + fmt_hex(f.mask) + ") at " + fmt_site(f.file, f.line);
        if (missing) s += "; lanes " + fmt_lanes(missing) + " of the mask wait elsewhere";
        return s;
      }
      case FState::ActiveMask: return "__activemask at " + fmt_site(f.file, f.line);
      case FState::Exited: return "exited";
      default: return "ready";
    }
  };
  for (unsigned i = 0; i < n;) {
    const std::string d = describe(fibers[i]);
    unsigned j = i;
    while (j + 1 < n && describe(fibers[j + 1]) == d) ++j;
    if (nlines < 24) {
      lines += "\n  threads " + std::to_string(i) + (j > i ? "-" + std::to_string(j) : std::string()) + ": " + d;
    } else if (nlines == 24) {
      lines += "\n  ...";
    }
    ++nlines;
    i = j + 1;
  }
  const unsigned nlive = live;
  fail(nullptr, [&] {
    return "deadlock: none of the " + std::to_string(nlive) +
           " threads still running can proceed (a __syncthreads not reached by every thread, or a warp "
           "operation whose mask names a lane that waits elsewhere); "
           "where each thread (linear index) waits:" + lines;
  }, true);
}

inline void Worker::run_block(LaunchState& Ls, unsigned long long b) {
  L = &Ls;
  const dim3 g = Ls.grid, bd = Ls.block;
  tls.block_idx = uint3{static_cast<unsigned>(b % g.x), static_cast<unsigned>((b / g.x) % g.y),
                        static_cast<unsigned>(b / (static_cast<unsigned long long>(g.x) * g.y))};
  tls.block_dim = bd;
  tls.grid_dim = g;
  tls.w = this;
  n = bd.x * bd.y * bd.z;
  if (!ensure_stacks(n, Ls.stack_bytes)) {
    fail(nullptr, [] { return std::string("cannot map the fiber stacks (mmap failed)"); }, true);
    tls.w = nullptr;
    tls.cur = &host_fiber;
    return;
  }
  if (Ls.smem) {
    if (!ensure_smem(Ls.smem)) {
      fail(nullptr, [] { return std::string("cannot allocate the dynamic shared memory"); }, true);
      tls.w = nullptr;
      tls.cur = &host_fiber;
      return;
    }
#if SIMT_ASAN
    __asan_unpoison_memory_region(smem, smem_cap);
#endif
    std::memset(smem, 0xFF, Ls.smem);  // poison: unwritten floats read as NaN
#if SIMT_ASAN
    // the reused arena may be larger than this launch asked for
    __asan_poison_memory_region(smem + Ls.smem, smem_cap - Ls.smem);
#endif
  }
  tls.smem = Ls.smem ? smem : nullptr;
  order = Ls.order;
  rng.s = Ls.seed * 0x9e3779b97f4a7c15ull ^ (b + 1) * 0xd1b54a32d192ed03ull;
  for (unsigned i = 0; i < n; ++i) init_fiber(fibers[i], i, bd);
  for (unsigned wi = 0; wi * 32 < n; ++wi) {
    const unsigned lanes = std::min(32u, n - wi * 32);
    warps[wi].exists = lanes == 32 ? ~0u : (1u << lanes) - 1;
    warps[wi].exited = 0;
    warps[wi].ngroups = 0;
    warps[wi].am_pending = 0;
    warps[wi].active = static_cast<int>(lanes);
  }
  live = n;
  bar_count = 0;
  abort_block = false;
  qh = qt = 0;
  for (unsigned i = 0; i < n; ++i) scratch[i] = &fibers[i];
  push_ordered(scratch, n);
  for (;;) {
    if (abort_block) break;  // the block's remaining fibers are abandoned
    Fiber* f = pop();
    if (!f) {
      if (live == 0) break;
      if (bar_count == live) {
        release_barrier();
        continue;
      }
      deadlock();
      break;
    }
    run_fiber(f);
  }
  tls.w = nullptr;
  tls.cur = &host_fiber;
  tls.smem = nullptr;
}

// --------------------------------------------------------------------------
// Settings
// --------------------------------------------------------------------------
struct Settings {
  std::mutex mu;
  bool schedule_set = false;
  std::string schedule;
  std::atomic<int> threads{0};
  std::unordered_map<const void*, size_t> max_smem;
};
inline Settings& settings() {
  static Settings s;
  return s;
}

inline bool parse_schedule(const std::string& spec, Order& order, uint64_t& seed) {
  seed = 0;
  if (spec.empty() || spec == "forward") {
    order = Order::Forward;
    return true;
  }
  if (spec == "reverse") {
    order = Order::Reverse;
    return true;
  }
  if (spec == "random") {
    order = Order::Random;
    seed = 1;
    return true;
  }
  if (spec.compare(0, 7, "random:") == 0 && spec.size() > 7) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(spec.c_str() + 7, &end, 10);
    if (*end != '\0') return false;
    order = Order::Random;
    seed = v;
    return true;
  }
  return false;
}

inline std::string effective_schedule() {
  Settings& s = settings();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.schedule_set) return s.schedule;
  }
  const char* e = std::getenv("SIMT_SCHEDULE");
  return e ? std::string(e) : std::string("forward");
}

inline size_t stack_bytes_setting() {
  size_t kb = SIMT_ASAN ? 256 : 64;
  if (const char* e = std::getenv("SIMT_STACK_KB")) {
    const long v = std::atol(e);
    if (v >= 16) kb = static_cast<size_t>(v);
  }
  return kb * 1024;
}

inline int os_threads_setting() {
  const int fixed = settings().threads.load(std::memory_order_relaxed);
  if (fixed > 0) return fixed;
  if (const char* e = std::getenv("SIMT_THREADS")) {
    const int v = std::atoi(e);
    if (v > 0) return v;
  }
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

inline void run_launch(const char* name, const char* file, int line, const void* kernel, dim3 grid, dim3 block,
                       size_t smem, void (*invoke)(void*), void* ctx) {
  LaunchState L;
  L.name = name;
  L.file = file;
  L.line = line;
  L.grid = grid;
  L.block = block;
  L.smem = smem;
  L.invoke = invoke;
  L.ctx = ctx;
  auto config_error = [&](const std::string& why) {
    set_thread_error(L.header() + ": invalid launch configuration: grid " + fmt3(grid.x, grid.y, grid.z) +
                     ", block " + fmt3(block.x, block.y, block.z) + ", " + std::to_string(smem) +
                     " bytes of dynamic shared memory: " + why);
  };
  if (tls.w) {
    set_thread_error(L.header() + ": launching a kernel from inside a kernel is not supported by the emulator");
    return;
  }
  const unsigned long long nthreads = static_cast<unsigned long long>(block.x) * block.y * block.z;
  if (block.x == 0 || block.y == 0 || block.z == 0) return config_error("a block dimension is 0");
  if (block.x > 1024 || block.y > 1024 || block.z > 64)
    return config_error("block dimensions are limited to (1024, 1024, 64)");
  if (nthreads > kMaxThreadsPerBlock) return config_error("more than 1024 threads per block");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return config_error("a grid dimension is 0");
  if (grid.x > 2147483647u || grid.y > 65535u || grid.z > 65535u)
    return config_error("grid dimensions are limited to (2^31-1, 65535, 65535)");
  {
    size_t limit = kDefaultMaxDynamicShared;
    Settings& s = settings();
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.max_smem.find(kernel);
    if (it != s.max_smem.end()) limit = it->second;
    if (smem > limit)
      return config_error("more dynamic shared memory than the kernel's limit of " + std::to_string(limit) +
                          " bytes (above 48 KiB, opt in with DL_SET_MAX_DYNAMIC_SHARED)");
  }
  const std::string spec = effective_schedule();
  if (!parse_schedule(spec, L.order, L.seed)) {
    set_thread_error(L.header() + ": invalid SIMT_SCHEDULE '" + spec +
                     "' (expected forward, reverse, random or random:<seed>)");
    return;
  }
  L.stack_bytes = stack_bytes_setting();

  const unsigned long long nblocks = static_cast<unsigned long long>(grid.x) * grid.y * grid.z;
  const long long nt = std::min<long long>(os_threads_setting(), static_cast<long long>(nblocks));
  auto run_one = [&L](unsigned long long b) {
    if (L.aborted.load(std::memory_order_relaxed)) return;
    try {
      worker().run_block(L, b);
    } catch (const std::exception& e) {  // e.g. bad_alloc creating the worker
      const std::string what = e.what();
      L.error([&] { return L.header() + ": " + what; }, true);
    }
  };
#ifdef _OPENMP
  if (nt > 1) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(static_cast<int>(nt))
    for (long long b = 0; b < static_cast<long long>(nblocks); ++b) run_one(static_cast<unsigned long long>(b));
  } else
#endif
  {
    for (unsigned long long b = 0; b < nblocks; ++b) run_one(b);
  }
  const unsigned long ne = L.nerrors.load();
  if (ne) {
    std::string msg = L.first;
    if (ne > 1) msg += " [and " + std::to_string(ne - 1) + " more error(s) in this launch]";
    set_thread_error(msg);
  }
}

template <class... P>
struct KernelCall {
  void (*kernel)(P...);
  std::tuple<std::decay_t<P>...>* args;
  static void invoke(void* p) {
    auto* c = static_cast<KernelCall*>(p);
    std::apply(c->kernel, *c->args);  // by-value parameters: each CUDA thread gets its own copy
  }
};

// ---- barrier and warp operations, called by the intrinsics ----
inline void outside_kernel(const char* what, const char* file, int line) {
  set_thread_error(std::string("simt: ") + what + " at " + fmt_site(file, line) + " called outside a kernel");
}

// Block-wide barrier; returns the number of threads whose predicate is
// non-zero (n_out: number of threads that took part).
inline int barrier(int pred, const char* what, const char* file, int line, int* n_out = nullptr) {
  Fiber* self = tls.cur;
  if (!self->w) {
    outside_kernel(what, file, line);
    return 0;
  }
  Worker& w = *self->w;
  self->file = file;
  self->line = line;
  self->what = what;
  if (w.bar_count == 0) {
    w.bar_first = self;
    w.bar_diverged = false;
  } else if (!w.bar_diverged && !same_site(file, line, w.bar_first->file, w.bar_first->line)) {
    w.bar_diverged = true;
    const Fiber* o = w.bar_first;
    w.fail(self, [&] {
      return std::string("divergent barriers: this thread waits in ") + what + " at " + fmt_site(file, line) +
             " while thread " + fmt3(o->tid.x, o->tid.y, o->tid.z) + " waits in " + o->what + " at " +
             fmt_site(o->file, o->line) +
             " (every thread of a block must reach the same __syncthreads; the emulator releases them together)";
    }, false);
  }
  self->pred = pred;
  ++w.bar_count;
  w.block_self(self, FState::Barrier);
  w.park(self);
  if (n_out) *n_out = static_cast<int>(w.rel_n);
  return static_cast<int>(w.rel_count);
}

inline uint64_t warp_op(int op, unsigned mask, uint64_t val, int param, int width, const char* file, int line) {
  Fiber* self = tls.cur;
  if (!self->w) {
    outside_kernel(op_name(op), file, line);
    return 0;
  }
  Worker& w = *self->w;
  WarpState& ws = w.warps[self->warp];
  const unsigned bit = 1u << self->lane;
  if (!(mask & bit)) {
    w.fail(self, [&] {
      return std::string(op_name(op)) + " at " + fmt_site(file, line) + ": the calling lane " +
             std::to_string(self->lane) + " is not in the mask " + fmt_hex(mask) + " (undefined behaviour)";
    }, false);
    mask |= bit;
  }
  if (width < 1 || width > 32 || (width & (width - 1))) {
    w.fail(self, [&] {
      return std::string(op_name(op)) + " at " + fmt_site(file, line) + ": width " + std::to_string(width) +
             " is not a power of two in [1, 32]";
    }, false);
    width = 32;
  }
  const unsigned eff = mask & ws.exists;  // lanes beyond blockDim do not exist
  self->op = static_cast<unsigned char>(op);
  self->mask = eff;
  self->val = val;
  self->param = param;
  self->width = width;
  self->file = file;
  self->line = line;
  w.block_self(self, FState::Warp);
  WarpGroup* g = nullptr;
  for (int k = 0; k < ws.ngroups; ++k) {
    WarpGroup& gg = ws.g[k];
    if (gg.mask == eff) {
      g = &gg;
    } else if (gg.mask & eff) {
      const Fiber& o = w.fibers[self->warp * 32 + static_cast<unsigned>(__builtin_ctz(gg.arrived))];
      w.fail(self, [&] {
        return std::string(op_name(op)) + " at " + fmt_site(file, line) + " with mask " + fmt_hex(eff) +
               " overlaps the mask " + fmt_hex(gg.mask) + " of " + op_name(o.op) + " at " +
               fmt_site(o.file, o.line) + " where lane " + std::to_string(o.lane) +
               " waits: the lanes of a warp operation must all name the same mask";
      }, true);
      w.abandon(self);
    }
  }
  if (!g) {
    g = &ws.g[ws.ngroups++];
    g->mask = eff;
    g->arrived = 0;
  }
  g->arrived |= bit;
  if (g->arrived == (g->mask & ~ws.exited)) {  // exited lanes are not waited for
    const WarpGroup done = *g;
    *g = ws.g[--ws.ngroups];
    w.complete_group(self->warp, done.mask, done.arrived);
  }
  w.park(self);
  return self->res;
}

template <class T>
inline uint64_t to_bits(T v) {
  static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 8, "warp operations take values of at most 8 bytes");
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T>
inline T from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

[[noreturn]] inline void trap(const char* file, int line) {
  Fiber* self = tls.cur;
  if (!self->w) {
    std::fprintf(stderr, "simt: __trap() at %s:%d outside a kernel\n", file, line);
    std::abort();
  }
  self->w->fail(self, [&] { return "__trap() at " + fmt_site(file, line); }, true);
  self->w->abandon(self);
}

}  // namespace detail

// ===========================================================================
// Public API: definitions
// ===========================================================================
inline std::string last_error() { return detail::thread_error(); }
inline std::string get_and_clear_error() {
  std::string e;
  e.swap(detail::thread_error());
  return e;
}
inline bool set_schedule(const std::string& spec) {
  detail::Settings& s = detail::settings();
  std::lock_guard<std::mutex> lock(s.mu);
  if (spec.empty()) {
    s.schedule_set = false;
    return true;
  }
  detail::Order o;
  uint64_t seed;
  if (!detail::parse_schedule(spec, o, seed)) return false;
  s.schedule_set = true;
  s.schedule = spec;
  return true;
}
inline std::string schedule() { return detail::effective_schedule(); }
inline void set_num_threads(int n) { detail::settings().threads.store(n > 0 ? n : 0); }
inline int num_threads() { return detail::os_threads_setting(); }
inline void set_max_dynamic_shared(const void* kernel, size_t bytes) {
  detail::Settings& s = detail::settings();
  std::lock_guard<std::mutex> lock(s.mu);
  s.max_smem[kernel] = std::min(bytes, kMaxDynamicShared);
}
inline unsigned char* dynamic_shared() { return detail::tls.smem; }

template <class... P, class S, class... A>
inline void launch(const char* kernel_name, const char* file, int line, void (*kernel)(P...), dim3 grid, dim3 block,
                   size_t shared_bytes, S&& stream, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "DL_LAUNCH: wrong number of kernel arguments");
  (void)stream;  // the emulator is synchronous
  std::tuple<std::decay_t<P>...> params(static_cast<std::decay_t<P>>(std::forward<A>(args))...);
  detail::KernelCall<P...> call{kernel, &params};
  detail::run_launch(kernel_name, file, line, reinterpret_cast<const void*>(kernel), grid, block, shared_bytes,
                     &detail::KernelCall<P...>::invoke, &call);
}

}  // namespace simt

// ===========================================================================
// CUDA built-in variables and intrinsics (global namespace, as in CUDA)
// ===========================================================================
#define threadIdx (static_cast<const ::uint3&>(::simt::detail::tls.cur->tid))
#define blockIdx (static_cast<const ::uint3&>(::simt::detail::tls.block_idx))
#define blockDim (static_cast<const ::dim3&>(::simt::detail::tls.block_dim))
#define gridDim (static_cast<const ::dim3&>(::simt::detail::tls.grid_dim))

// ---- barriers ----
inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::simt::detail::barrier(0, "__syncthreads", file, line);
}
inline int __syncthreads_count(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return ::simt::detail::barrier(pred != 0, "__syncthreads_count", file, line);
}
inline int __syncthreads_and(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  int n = 0;
  const int c = ::simt::detail::barrier(pred != 0, "__syncthreads_and", file, line, &n);
  return c == n;
}
inline int __syncthreads_or(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return ::simt::detail::barrier(pred != 0, "__syncthreads_or", file, line) > 0;
}

// ---- warp operations: barriers among the lanes named in the mask ----
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::simt::detail::warp_op(::simt::detail::OP_SYNCWARP, mask, 0, 0, 32, file, line);
}
template <class T>
inline T __shfl_sync(unsigned mask, T var, int srcLane, int width = warpSize, const char* file = __builtin_FILE(),
                     int line = __builtin_LINE()) {
  using namespace ::simt::detail;
  return from_bits<T>(warp_op(OP_SHFL_IDX, mask, to_bits(var), srcLane, width, file, line));
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned int delta, int width = warpSize,
                        const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace ::simt::detail;
  return from_bits<T>(warp_op(OP_SHFL_UP, mask, to_bits(var), static_cast<int>(delta), width, file, line));
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned int delta, int width = warpSize,
                          const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace ::simt::detail;
  return from_bits<T>(warp_op(OP_SHFL_DOWN, mask, to_bits(var), static_cast<int>(delta), width, file, line));
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = warpSize,
                         const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace ::simt::detail;
  return from_bits<T>(warp_op(OP_SHFL_XOR, mask, to_bits(var), laneMask, width, file, line));
}
inline unsigned __ballot_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return static_cast<unsigned>(::simt::detail::warp_op(::simt::detail::OP_BALLOT, mask, pred != 0, 0, 32, file, line));
}
inline int __any_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return static_cast<int>(::simt::detail::warp_op(::simt::detail::OP_ANY, mask, pred != 0, 0, 32, file, line));
}
inline int __all_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return static_cast<int>(::simt::detail::warp_op(::simt::detail::OP_ALL, mask, pred != 0, 0, 32, file, line));
}
template <class T>
inline unsigned __match_any_sync(unsigned mask, T value, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace ::simt::detail;
  return static_cast<unsigned>(warp_op(OP_MATCH_ANY, mask, to_bits(value), 0, 32, file, line));
}
template <class T>
inline unsigned __match_all_sync(unsigned mask, T value, int* pred, const char* file = __builtin_FILE(),
                                 int line = __builtin_LINE()) {
  using namespace ::simt::detail;
  const unsigned r = static_cast<unsigned>(warp_op(OP_MATCH_ALL, mask, to_bits(value), 0, 32, file, line));
  *pred = r != 0;
  return r;
}
#define SIMT_REDUCE(name, T, op)                                                                              \
  inline T name(unsigned mask, T value, const char* file = __builtin_FILE(), int line = __builtin_LINE()) { \
    return static_cast<T>(static_cast<uint32_t>(::simt::detail::warp_op(                                     \
        ::simt::detail::op, mask, static_cast<uint32_t>(value), 0, 32, file, line)));                       \
  }
SIMT_REDUCE(__reduce_add_sync, unsigned, OP_RED_ADD)
SIMT_REDUCE(__reduce_add_sync, int, OP_RED_ADD)
SIMT_REDUCE(__reduce_min_sync, unsigned, OP_RED_MIN_U)
SIMT_REDUCE(__reduce_min_sync, int, OP_RED_MIN_S)
SIMT_REDUCE(__reduce_max_sync, unsigned, OP_RED_MAX_U)
SIMT_REDUCE(__reduce_max_sync, int, OP_RED_MAX_S)
SIMT_REDUCE(__reduce_and_sync, unsigned, OP_RED_AND)
SIMT_REDUCE(__reduce_or_sync, unsigned, OP_RED_OR)
SIMT_REDUCE(__reduce_xor_sync, unsigned, OP_RED_XOR)
#undef SIMT_REDUCE

// The lanes converged with the caller. Emulated as a meeting point: the
// lane waits until no lane of its warp can run (each has reached a barrier, a
// warp operation, an __activemask or has exited) and gets the set of lanes
// waiting at this same __activemask call site.
inline unsigned __activemask(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::simt::detail::Fiber* self = ::simt::detail::tls.cur;
  if (!self->w) return 1u;
  ::simt::detail::Worker& w = *self->w;
  self->file = file;
  self->line = line;
  self->what = "__activemask";
  w.warps[self->warp].am_pending |= 1u << self->lane;
  w.block_self(self, ::simt::detail::FState::ActiveMask);
  w.park(self);
  return static_cast<unsigned>(self->res);
}

#define __trap() ::simt::detail::trap(__FILE__, __LINE__)
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __nanosleep(unsigned) {}
inline long long clock64() {
  return static_cast<long long>(std::chrono::steady_clock::now().time_since_epoch().count());
}

// ===========================================================================
// Atomics: real atomics (blocks run concurrently on several OS threads).
// ===========================================================================
namespace simt { namespace detail {
template <class T, class F>
inline T atomic_update(T* addr, F f) {  // CAS loop on the bit pattern
  T old = __atomic_load_n(addr, __ATOMIC_RELAXED);
  T desired;
  do {
    desired = f(old);
  } while (!__atomic_compare_exchange(addr, &old, &desired, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return old;
}
template <class T>
inline T atomic_update_fp(T* addr, T v, int op) {
  T old;
  __atomic_load(addr, &old, __ATOMIC_RELAXED);
  T desired;
  do {
    desired = op == 0 ? old + v : old - v;
  } while (!__atomic_compare_exchange(addr, &old, &desired, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return old;
}
}}  // namespace simt::detail

#define SIMT_ATOMIC_INT(T)                                                                                          \
  inline T atomicAdd(T* a, T v) { return __atomic_fetch_add(a, v, __ATOMIC_RELAXED); }                              \
  inline T atomicSub(T* a, T v) { return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED); }                              \
  inline T atomicExch(T* a, T v) { return __atomic_exchange_n(a, v, __ATOMIC_RELAXED); }                            \
  inline T atomicAnd(T* a, T v) { return __atomic_fetch_and(a, v, __ATOMIC_RELAXED); }                              \
  inline T atomicOr(T* a, T v) { return __atomic_fetch_or(a, v, __ATOMIC_RELAXED); }                                \
  inline T atomicXor(T* a, T v) { return __atomic_fetch_xor(a, v, __ATOMIC_RELAXED); }                              \
  inline T atomicMax(T* a, T v) {                                                                                   \
    return ::simt::detail::atomic_update(a, [v](T o) { return o > v ? o : v; });                                    \
  }                                                                                                                 \
  inline T atomicMin(T* a, T v) {                                                                                   \
    return ::simt::detail::atomic_update(a, [v](T o) { return o < v ? o : v; });                                    \
  }                                                                                                                 \
  inline T atomicCAS(T* a, T compare, T v) {                                                                        \
    __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);                         \
    return compare;                                                                                                 \
  }
SIMT_ATOMIC_INT(int)
SIMT_ATOMIC_INT(unsigned int)
SIMT_ATOMIC_INT(unsigned long long)
#undef SIMT_ATOMIC_INT
inline long long atomicMax(long long* a, long long v) {
  return ::simt::detail::atomic_update(a, [v](long long o) { return o > v ? o : v; });
}
inline long long atomicMin(long long* a, long long v) {
  return ::simt::detail::atomic_update(a, [v](long long o) { return o < v ? o : v; });
}
inline unsigned short atomicCAS(unsigned short* a, unsigned short compare, unsigned short v) {
  __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return compare;
}
inline float atomicAdd(float* a, float v) { return ::simt::detail::atomic_update_fp(a, v, 0); }
inline double atomicAdd(double* a, double v) { return ::simt::detail::atomic_update_fp(a, v, 0); }
inline float atomicSub(float* a, float v) { return ::simt::detail::atomic_update_fp(a, v, 1); }  // not in CUDA
inline float atomicExch(float* a, float v) {
  float old;
  __atomic_exchange(a, &v, &old, __ATOMIC_RELAXED);
  return old;
}
inline unsigned int atomicInc(unsigned int* a, unsigned int v) {
  return ::simt::detail::atomic_update(a, [v](unsigned o) { return o >= v ? 0u : o + 1; });
}
inline unsigned int atomicDec(unsigned int* a, unsigned int v) {
  return ::simt::detail::atomic_update(a, [v](unsigned o) { return (o == 0 || o > v) ? v : o - 1; });
}
// Scoped variants are the same operations here.
#define SIMT_ATOMIC_SCOPED(name)                                              \
  template <class T, class... U>                                              \
  inline auto name##_block(T* a, U... v) -> decltype(name(a, v...)) {         \
    return name(a, v...);                                                     \
  }                                                                           \
  template <class T, class... U>                                              \
  inline auto name##_system(T* a, U... v) -> decltype(name(a, v...)) {        \
    return name(a, v...);                                                     \
  }
SIMT_ATOMIC_SCOPED(atomicAdd)
SIMT_ATOMIC_SCOPED(atomicSub)
SIMT_ATOMIC_SCOPED(atomicExch)
SIMT_ATOMIC_SCOPED(atomicMax)
SIMT_ATOMIC_SCOPED(atomicMin)
SIMT_ATOMIC_SCOPED(atomicCAS)
SIMT_ATOMIC_SCOPED(atomicAnd)
SIMT_ATOMIC_SCOPED(atomicOr)
SIMT_ATOMIC_SCOPED(atomicXor)
SIMT_ATOMIC_SCOPED(atomicInc)
SIMT_ATOMIC_SCOPED(atomicDec)
#undef SIMT_ATOMIC_SCOPED

// ===========================================================================
// Math intrinsics. The fast-math ones are full precision here.
// ===========================================================================
namespace simt { namespace intrin {
template <class To, class From>
inline To bit_cast(From v) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast size");
  To t;
  std::memcpy(&t, &v, sizeof(To));
  return t;
}
inline float rsqrtf(float x) { return 1.0f / ::sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / ::sqrt(x); }
inline float saturate(float x) { return x >= 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); }  // NaN -> 0
}}  // namespace simt::intrin

// glibc declares some __name math functions itself, so these are macros.
#define __expf(x) (::expf(static_cast<float>(x)))
#define __exp10f(x) (::exp10f(static_cast<float>(x)))
#define __logf(x) (::logf(static_cast<float>(x)))
#define __log2f(x) (::log2f(static_cast<float>(x)))
#define __log10f(x) (::log10f(static_cast<float>(x)))
#define __powf(x, y) (::powf(static_cast<float>(x), static_cast<float>(y)))
#define __sinf(x) (::sinf(static_cast<float>(x)))
#define __cosf(x) (::cosf(static_cast<float>(x)))
#define __tanf(x) (::tanf(static_cast<float>(x)))
#define __sincosf(x, s, c) (::sincosf(static_cast<float>(x), (s), (c)))
#define rsqrtf(x) (::simt::intrin::rsqrtf(x))
#define rsqrt(x) (::simt::intrin::rsqrt(x))

inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline double __drcp_rn(double x) { return 1.0 / x; }
inline float __fsqrt_rn(float x) { return ::sqrtf(x); }
inline float __fmaf_rn(float a, float b, float c) { return ::fmaf(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return ::fma(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline float __saturatef(float x) { return ::simt::intrin::saturate(x); }
inline int __float_as_int(float x) { return ::simt::intrin::bit_cast<int>(x); }
inline float __int_as_float(int x) { return ::simt::intrin::bit_cast<float>(x); }
inline unsigned int __float_as_uint(float x) { return ::simt::intrin::bit_cast<unsigned int>(x); }
inline float __uint_as_float(unsigned int x) { return ::simt::intrin::bit_cast<float>(x); }
inline long long __double_as_longlong(double x) { return ::simt::intrin::bit_cast<long long>(x); }
inline double __longlong_as_double(long long x) { return ::simt::intrin::bit_cast<double>(x); }
inline int __float2int_rn(float x) { return static_cast<int>(::nearbyintf(x)); }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rd(float x) { return static_cast<int>(::floorf(x)); }
inline int __float2int_ru(float x) { return static_cast<int>(::ceilf(x)); }
inline unsigned int __float2uint_rn(float x) { return static_cast<unsigned int>(::nearbyintf(x)); }
inline long long __float2ll_rn(float x) { return static_cast<long long>(::nearbyintf(x)); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }
inline float __uint2float_rn(unsigned int x) { return static_cast<float>(x); }
inline float __ll2float_rn(long long x) { return static_cast<float>(x); }
inline int __double2int_rn(double x) { return static_cast<int>(::nearbyint(x)); }
inline float __double2float_rn(double x) { return static_cast<float>(x); }
inline float normcdff(float x) { return 0.5f * ::erfcf(-x * 0.70710678118654752f); }
inline double normcdf(double x) { return 0.5 * ::erfc(-x * 0.70710678118654752); }
template <class T>
inline T __ldg(const T* p) { return *p; }
template <class T>
inline T __ldcs(const T* p) { return *p; }
template <class T>
inline T __ldcg(const T* p) { return *p; }
template <class T>
inline void __stcs(T* p, T v) { *p = v; }
template <class T>
inline void __stcg(T* p, T v) { *p = v; }

inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned int __brev(unsigned int x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  return __builtin_bswap32(x);
}
inline unsigned long long __brevll(unsigned long long x) {
  return (static_cast<unsigned long long>(__brev(static_cast<unsigned>(x))) << 32) | __brev(static_cast<unsigned>(x >> 32));
}
inline int __mul24(int a, int b) { return (a << 8 >> 8) * (b << 8 >> 8); }
inline unsigned int __umul24(unsigned int a, unsigned int b) { return (a & 0xffffffu) * (b & 0xffffffu); }
inline int __mulhi(int a, int b) { return static_cast<int>((static_cast<long long>(a) * b) >> 32); }
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
  return static_cast<unsigned int>((static_cast<unsigned long long>(a) * b) >> 32);
}
inline long long __mul64hi(long long a, long long b) { return static_cast<long long>((static_cast<__int128>(a) * b) >> 64); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}

// min/max as CUDA declares them (math_functions.hpp), mixed signedness
// promoting to unsigned, float/double mixing to double.
#define SIMT_MINMAX(R, A, B)                                           \
  inline R min(A a, B b) { return static_cast<R>(a) < static_cast<R>(b) ? static_cast<R>(a) : static_cast<R>(b); } \
  inline R max(A a, B b) { return static_cast<R>(a) > static_cast<R>(b) ? static_cast<R>(a) : static_cast<R>(b); }
SIMT_MINMAX(int, int, int)
SIMT_MINMAX(unsigned int, unsigned int, unsigned int)
SIMT_MINMAX(unsigned int, int, unsigned int)
SIMT_MINMAX(unsigned int, unsigned int, int)
SIMT_MINMAX(long, long, long)
SIMT_MINMAX(unsigned long, unsigned long, unsigned long)
SIMT_MINMAX(unsigned long, long, unsigned long)
SIMT_MINMAX(unsigned long, unsigned long, long)
SIMT_MINMAX(long long, long long, long long)
SIMT_MINMAX(unsigned long long, unsigned long long, unsigned long long)
SIMT_MINMAX(unsigned long long, long long, unsigned long long)
SIMT_MINMAX(unsigned long long, unsigned long long, long long)
#undef SIMT_MINMAX
inline float min(float a, float b) { return ::fminf(a, b); }
inline float max(float a, float b) { return ::fmaxf(a, b); }
inline double min(double a, double b) { return ::fmin(a, b); }
inline double max(double a, double b) { return ::fmax(a, b); }
inline double min(float a, double b) { return ::fmin(a, b); }
inline double max(float a, double b) { return ::fmax(a, b); }
inline double min(double a, float b) { return ::fmin(a, b); }
inline double max(double a, float b) { return ::fmax(a, b); }

// Shared memory (dynamic, poisoned; static arrays), launch semantics
// (template kernels through a pointer, per-thread parameter copies, struct
// and float4 arguments, 3D indices), __syncthreads_count/and/or, and launch
// configuration errors.
#include "common.h"

// Threads write the even elements of the dynamic arena only; everything is
// copied out, so the odd elements show what unwritten shared memory holds.
__global__ void half_written(float* out, int n) {
  DL_DYNAMIC_SHARED(float, s);
  for (int i = threadIdx.x; i < n; i += blockDim.x)
    if (i % 2 == 0) s[i] = static_cast<float>(i + 1000 * blockIdx.x);
  __syncthreads();
  for (int i = threadIdx.x; i < n; i += blockDim.x) out[blockIdx.x * n + i] = s[i];
}

// Static shared array: reverse each block's chunk, ragged last block.
__global__ void reverse_chunks(const float* in, float* out, int n) {
  __shared__ alignas(16) float s[256];  // alignas after __shared__ is valid CUDA
  const int base = blockIdx.x * blockDim.x;
  const int len = min(static_cast<int>(blockDim.x), n - base);
  const int t = threadIdx.x;
  if (t < len) s[t] = in[base + t];
  __syncthreads();
  if (t < len) out[base + t] = s[len - 1 - t];
}

struct AddOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};

// Inclusive block scan (Hillis-Steele, double buffered) with any operator,
// in dynamic shared memory of 2 * blockDim.x elements of T.
template <class T, class Op>
__global__ void block_scan(const T* in, T* out, int n) {
  DL_DYNAMIC_SHARED(T, buf);
  const int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
  const Op op;
  int src = 0;
  if (i < n) buf[t] = in[i];
  __syncthreads();
  const int len = min(static_cast<int>(blockDim.x), n - static_cast<int>(blockIdx.x * blockDim.x));
  for (int off = 1; off < len; off *= 2) {
    const int dst = 1 - src;
    if (t < len) buf[dst * blockDim.x + t] = t >= off ? op(buf[src * blockDim.x + t - off], buf[src * blockDim.x + t]) : buf[src * blockDim.x + t];
    __syncthreads();
    src = dst;
  }
  if (i < n) out[i] = buf[src * blockDim.x + t];
}

// Each CUDA thread must get its own copy of the by-value parameter n.
__global__ void count_down(int n, int* out) {
  int c = 0;
  while (n > static_cast<int>(threadIdx.x)) {
    n -= blockDim.x;
    ++c;
  }
  out[threadIdx.x] = c;
}

__global__ void indices_3d(int4* out) {
  const int bx = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const int tx = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const int g = bx * blockDim.x * blockDim.y * blockDim.z + tx;
  out[2 * g] = make_int4(threadIdx.x, threadIdx.y, threadIdx.z, 0);
  out[2 * g + 1] = make_int4(blockIdx.x, blockIdx.y, blockIdx.z, blockDim.x * 100 + blockDim.y * 10 + blockDim.z);
}

__global__ void sync_predicates(const int* pred, int* count, int* all, int* any) {
  const int t = threadIdx.x;
  const int p = pred[blockIdx.x * blockDim.x + t];
  const int c = __syncthreads_count(p);
  const int a = __syncthreads_and(p);
  const int o = __syncthreads_or(p);
  if (t == 0) {
    count[blockIdx.x] = c;
    all[blockIdx.x] = a;
    any[blockIdx.x] = o;
  }
}

struct Affine {
  float scale;
  int n;
  float bias[4];
};

// Struct argument by value and float4 loads/stores from aligned pointers.
__global__ void affine4(Affine p, const float* in, float* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i * 4 >= p.n) return;
  const float4 v = reinterpret_cast<const float4*>(in)[i];
  reinterpret_cast<float4*>(out)[i] =
      make_float4(v.x * p.scale + p.bias[0], v.y * p.scale + p.bias[1], v.z * p.scale + p.bias[2], v.w * p.scale + p.bias[3]);
}

__global__ void big_shared(float* out, int n) {
  DL_DYNAMIC_SHARED(float, s);
  for (int i = threadIdx.x; i < n; i += blockDim.x) s[i] = static_cast<float>(i);
  __syncthreads();
  if (threadIdx.x == 0) out[0] = s[n - 1];
}

__global__ void noop() {}

struct alignas(16) Pair { float v; int i; };

// Alignment of shared arrays declared with alignas / __align__.
__global__ void shared_alignment(unsigned* out) {
  __shared__ alignas(64) unsigned char raw[sizeof(Pair) * 8];
  __shared__ __align__(32) float f[3];
  __shared__ Pair pairs[4];
  out[threadIdx.x] = static_cast<unsigned>(reinterpret_cast<uintptr_t>(raw) % 64 +
                                           reinterpret_cast<uintptr_t>(f) % 32 +
                                           reinterpret_cast<uintptr_t>(pairs) % 16);
  raw[threadIdx.x] = 0;
  f[threadIdx.x % 3] = 0;
  pairs[threadIdx.x % 4].i = 0;
}

// Intrinsics and CUDA's min/max overloads (tolerances cover the GPU's
// approximate fast-math versions).
__global__ void intrinsics(const float* x, float* out, int* iout) {
  const int t = threadIdx.x;
  const float v = x[t];
  out[t * 12 + 0] = __expf(v);
  out[t * 12 + 1] = __logf(v + 2.0f);
  out[t * 12 + 2] = __powf(v + 2.0f, 1.5f);
  out[t * 12 + 3] = __fdividef(v, 3.0f);
  out[t * 12 + 4] = rsqrtf(v + 2.0f);
  out[t * 12 + 5] = __frcp_rn(v + 2.0f);
  out[t * 12 + 6] = __fmaf_rn(v, 2.0f, 1.0f);
  out[t * 12 + 7] = __ldg(&x[t]);
  out[t * 12 + 8] = __int_as_float(__float_as_int(v));
  out[t * 12 + 9] = __saturatef(v);
  out[t * 12 + 10] = fminf(v, 0.25f) + fmaxf(v, -0.25f) + expf(v);
  out[t * 12 + 11] = min(v, 0.5f) + max(v, -0.5f);
  iout[t * 4 + 0] = min(t - 5, 3);
  iout[t * 4 + 1] = static_cast<int>(max(static_cast<unsigned>(t), 7u));
  iout[t * 4 + 2] = __popc(static_cast<unsigned>(t) * 0x01010101u);
  iout[t * 4 + 3] = __clz(t + 1);
}

int main() {
  // 1. dynamic shared memory: written part correct; unwritten part poisoned
  //    (emulator) in every block, even blocks that reuse the same arena.
  {
    const int n = 64, blocks = 4;
    float* out = dev_alloc<float>(n * blocks);
    DL_LAUNCH(half_written, blocks, 32, n * sizeof(float), 0, out, n);
    CHECK_LAUNCH_OK("half_written");
    for (int b = 0; b < blocks; ++b)
      for (int i = 0; i < n; i += 2)
        CHECK(out[b * n + i] == static_cast<float>(i + 1000 * b), "dynamic shared block %d element %d", b, i);
#ifdef SIMT_EMULATOR
    for (int b = 0; b < blocks; ++b)
      for (int i = 1; i < n; i += 2) {
        unsigned bits;
        std::memcpy(&bits, &out[b * n + i], 4);
        CHECK(std::isnan(out[b * n + i]) && bits == 0xffffffffu, "unwritten dynamic shared block %d element %d: %08x", b, i, bits);
      }
#endif
    dev_free(out);
  }
  // 2. static shared arrays
  {
    const int n = 1000;
    float* in = dev_alloc<float>(n);
    float* out = dev_alloc<float>(n);
    for (int i = 0; i < n; ++i) in[i] = static_cast<float>(i);
    DL_LAUNCH(reverse_chunks, (n + 255) / 256, 256, 0, 0, in, out, n);
    CHECK_LAUNCH_OK("reverse_chunks");
    for (int i = 0; i < n; ++i) {
      const int base = i / 256 * 256, len = std::min(256, n - base);
      CHECK(out[i] == in[base + len - 1 - (i - base)], "reverse_chunks element %d", i);
    }
    dev_free(in);
    dev_free(out);
  }
  {
    unsigned* out = dev_alloc<unsigned>(8);
    DL_LAUNCH(shared_alignment, 1, 8, 0, 0, out);
    CHECK_LAUNCH_OK("shared_alignment");
    for (int t = 0; t < 8; ++t) CHECK(out[t] == 0, "misaligned shared array (thread %d: %u)", t, out[t]);
    CHECK(alignof(Pair) == 16, "alignas(16) struct");
    dev_free(out);
  }
  // 3. template kernels with a functor, launched through a local pointer
  {
    const int n = 300, bs = 128, blocks = (n + bs - 1) / bs;
    float* inf = dev_alloc<float>(n);
    float* outf = dev_alloc<float>(n);
    int* ini = dev_alloc<int>(n);
    int* outi = dev_alloc<int>(n);
    for (int i = 0; i < n; ++i) {
      inf[i] = static_cast<float>(i % 7);
      ini[i] = (i * 37) % 101;
    }
    auto k1 = block_scan<float, AddOp>;
    DL_LAUNCH(k1, blocks, bs, 2 * bs * sizeof(float), 0, inf, outf, n);
    CHECK_LAUNCH_OK("block_scan<float, AddOp>");
    auto k2 = block_scan<int, MaxOp>;
    DL_LAUNCH(k2, blocks, bs, 2 * bs * sizeof(int), nullptr, ini, outi, n);
    CHECK_LAUNCH_OK("block_scan<int, MaxOp>");
    float acc = 0;
    int mx = 0;
    for (int i = 0; i < n; ++i) {
      if (i % bs == 0) acc = 0, mx = -1;
      acc += inf[i];
      mx = std::max(mx, ini[i]);
      CHECK(outf[i] == acc, "scan add element %d: %g want %g", i, outf[i], acc);
      CHECK(outi[i] == mx, "scan max element %d: %d want %d", i, outi[i], mx);
    }
    dev_free(inf); dev_free(outf); dev_free(ini); dev_free(outi);
  }
  // 4. by-value parameters are per-thread copies
  {
    int* out = dev_alloc<int>(64);
    const int n = 200;
    DL_LAUNCH(count_down, 1, 64, 0, 0, n, out);
    CHECK_LAUNCH_OK("count_down");
    for (int t = 0; t < 64; ++t) {
      int c = 0;
      for (int m = n; m > t; m -= 64) ++c;
      CHECK(out[t] == c, "count_down thread %d: %d want %d", t, out[t], c);
    }
    dev_free(out);
  }
  // 5. 3D blocks and grids
  {
    const dim3 grid(2, 3, 2), block(4, 3, 2);
    const int total = 12 * 24;
    int4* out = dev_alloc<int4>(2 * total);
    DL_LAUNCH(indices_3d, grid, block, 0, 0, out);
    CHECK_LAUNCH_OK("indices_3d");
    int g = 0;
    for (unsigned bz = 0; bz < 2; ++bz)
      for (unsigned by = 0; by < 3; ++by)
        for (unsigned bx = 0; bx < 2; ++bx)
          for (unsigned tz = 0; tz < 2; ++tz)
            for (unsigned ty = 0; ty < 3; ++ty)
              for (unsigned tx = 0; tx < 4; ++tx, ++g) {
                const int4 t = out[2 * g], b = out[2 * g + 1];
                CHECK(t.x == (int)tx && t.y == (int)ty && t.z == (int)tz, "threadIdx at %d", g);
                CHECK(b.x == (int)bx && b.y == (int)by && b.z == (int)bz && b.w == 432, "blockIdx at %d", g);
              }
    dev_free(out);
  }
  // 6. __syncthreads_count / _and / _or
  {
    const int blocks = 3, bs = 96;
    int* pred = dev_alloc<int>(blocks * bs);
    int* count = dev_alloc<int>(blocks);
    int* all = dev_alloc<int>(blocks);
    int* any = dev_alloc<int>(blocks);
    for (int i = 0; i < blocks * bs; ++i) pred[i] = i / bs == 0 ? (i % 3 == 0) * 5 : i / bs == 1 ? 1 : 0;
    DL_LAUNCH(sync_predicates, blocks, bs, 0, 0, pred, count, all, any);
    CHECK_LAUNCH_OK("sync_predicates");
    CHECK(count[0] == 32 && all[0] == 0 && any[0] == 1, "block 0: %d %d %d", count[0], all[0], any[0]);
    CHECK(count[1] == 96 && all[1] == 1 && any[1] == 1, "block 1: %d %d %d", count[1], all[1], any[1]);
    CHECK(count[2] == 0 && all[2] == 0 && any[2] == 0, "block 2: %d %d %d", count[2], all[2], any[2]);
    dev_free(pred); dev_free(count); dev_free(all); dev_free(any);
  }
  // 7. struct argument and float4 accesses
  {
    const int n = 1024;
    float* in = dev_alloc<float>(n);
    float* out = dev_alloc<float>(n);
    for (int i = 0; i < n; ++i) in[i] = static_cast<float>(i);
    const Affine p{2.0f, n, {1.0f, 2.0f, 3.0f, 4.0f}};
    DL_LAUNCH(affine4, n / 4 / 64, 64, 0, 0, p, in, out);
    CHECK_LAUNCH_OK("affine4");
    for (int i = 0; i < n; ++i) CHECK(out[i] == 2.0f * i + p.bias[i % 4], "affine4 element %d", i);
    dev_free(in);
    dev_free(out);
  }
  // 8. invalid configurations are reported, and the next launch works
  {
    float* out = dev_alloc<float>(1);
    struct Bad { dim3 grid, block; size_t smem; const char* what; };
    const Bad bad[] = {
        {dim3(1), dim3(1025), 0, "1025 threads"},
        {dim3(1), dim3(32, 32, 2), 0, "2048 threads"},
        {dim3(1), dim3(1, 1, 65), 0, "blockDim.z 65"},
        {dim3(0), dim3(32), 0, "empty grid"},
        {dim3(1, 0, 1), dim3(32), 0, "empty grid y"},
        {dim3(1), dim3(32), 64 * 1024, "64 KiB dynamic shared without opt-in"},
    };
    for (const Bad& b : bad) {
      DL_LAUNCH(big_shared, b.grid, b.block, b.smem, 0, out, 16);
      const std::string e = launch_error();
      CHECK(!e.empty(), "no error for %s", b.what);
      std::printf("config error (%s): %s\n", b.what, e.c_str());
      DL_LAUNCH(noop, 1, 1, 0, 0);
      CHECK_LAUNCH_OK("launch after a failed one");
    }
    // with the opt-in, 64 KiB works
    DL_SET_MAX_DYNAMIC_SHARED(big_shared, 64 * 1024);
    DL_LAUNCH(big_shared, 1, 256, 64 * 1024, 0, out, 16384);
    CHECK_LAUNCH_OK("64 KiB dynamic shared with opt-in");
    CHECK(out[0] == 16383.0f, "64 KiB dynamic shared: %g", out[0]);
    dev_free(out);
  }
  // 9. intrinsics
  {
    const int n = 32;
    float* x = dev_alloc<float>(n);
    float* out = dev_alloc<float>(n * 12);
    int* iout = dev_alloc<int>(n * 4);
    for (int i = 0; i < n; ++i) x[i] = -1.5f + 0.1f * i;
    DL_LAUNCH(intrinsics, 1, n, 0, 0, x, out, iout);
    CHECK_LAUNCH_OK("intrinsics");
    for (int t = 0; t < n; ++t) {
      const double v = x[t];
      const double want[12] = {std::exp(v), std::log(v + 2), std::pow(v + 2, 1.5), v / 3, 1 / std::sqrt(v + 2),
                               1 / (v + 2), v * 2 + 1, v, v, std::min(1.0, std::max(0.0, v)),
                               std::min(v, 0.25) + std::max(v, -0.25) + std::exp(v), std::min(v, 0.5) + std::max(v, -0.5)};
      for (int k = 0; k < 12; ++k)
        CHECK(std::fabs(out[t * 12 + k] - want[k]) <= 1e-4 * (1 + std::fabs(want[k])), "intrinsic %d at x=%g: %g want %g",
              k, v, out[t * 12 + k], want[k]);
      unsigned pc = static_cast<unsigned>(t) * 0x01010101u;
      int bits = 0;
      for (; pc; pc &= pc - 1) ++bits;
      int lz = 0;
      while (lz < 32 && !((static_cast<unsigned>(t + 1) << lz) & 0x80000000u)) ++lz;
      CHECK(iout[t * 4 + 0] == std::min(t - 5, 3) && iout[t * 4 + 1] == std::max(t, 7), "int min/max at %d", t);
      CHECK(iout[t * 4 + 2] == bits && iout[t * 4 + 3] == lz, "__popc/__clz at %d", t);
    }
    dev_free(x);
    dev_free(out);
    dev_free(iout);
  }
#ifdef SIMT_EMULATOR
  // 10. the emulator's settings API
  {
    const std::string before = simt::schedule();
    CHECK(!simt::set_schedule("sideways"), "invalid schedule accepted");
    CHECK(simt::schedule() == before, "invalid schedule changed the setting");
    CHECK(simt::set_schedule("random:42") && simt::schedule() == "random:42", "set_schedule(random:42)");
    int* out = dev_alloc<int>(64);
    DL_LAUNCH(count_down, 1, 64, 0, 0, 200, out);
    CHECK_LAUNCH_OK("launch under random:42");
    CHECK(simt::set_schedule("") && simt::schedule() == before, "set_schedule(\"\") restores the environment's");
    const int threads = simt::num_threads();
    simt::set_num_threads(3);
    CHECK(simt::num_threads() == 3, "set_num_threads(3)");
    simt::set_num_threads(0);
    CHECK(simt::num_threads() == threads, "set_num_threads(0) restores the default");
    CHECK(simt::last_error().empty(), "stale error");
    dev_free(out);
  }
#endif
  return finish("shared_mem");
}

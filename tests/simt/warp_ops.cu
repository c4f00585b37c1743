// Warp intrinsics against a CPU model of the CUDA rules: the four shuffles
// at every width and with partial masks, several value types, divergent
// groups in one warp, reductions, ballot/any/all, __activemask, __syncwarp,
// match and reduce. Exit code 0 when everything matches.
#include "common.h"

enum Kind { IDX = 0, UP = 1, DOWN = 2, XOR = 3 };

// The CUDA Programming Guide's rules, written independently of the emulator.
static int expected_source(int kind, int lane, int param, int width) {
  const int base = lane / width * width, l = lane % width;
  switch (kind) {
    case IDX: return base + ((param % width) + width) % width;
    case UP: return static_cast<unsigned>(l) >= static_cast<unsigned>(param) ? lane - param : lane;
    case DOWN: return static_cast<unsigned long long>(l) + static_cast<unsigned>(param) < static_cast<unsigned>(width) ? lane + param : lane;
    default: {
      const int j = lane ^ (param & 31);
      return j / width <= lane / width ? j : lane;  // earlier groups are readable, later ones give var back
    }
  }
}

template <class T>
__global__ void shuffle_kernel(const T* in, T* out, int kind, int param, int width, unsigned mask) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  const int lane = threadIdx.x % 32;
  if (!((mask >> lane) & 1u)) return;  // lanes outside the mask do not take part
  const T v = in[t];
  T r;
  switch (kind) {
    case IDX: r = __shfl_sync(mask, v, param, width); break;
    case UP: r = __shfl_up_sync(mask, v, static_cast<unsigned>(param), width); break;
    case DOWN: r = __shfl_down_sync(mask, v, static_cast<unsigned>(param), width); break;
    default: r = __shfl_xor_sync(mask, v, param, width); break;
  }
  out[t] = r;
}

template <class T>
static void check_shuffle(const char* tname, int kind, int param, int width, unsigned mask) {
  const int nb = 2, nt = 64, n = nb * nt;
  T* in = dev_alloc<T>(n);
  T* out = dev_alloc<T>(n);
  for (int i = 0; i < n; ++i) {
    in[i] = static_cast<T>(1000 + 3 * i);
    out[i] = static_cast<T>(-7);
  }
  auto k = shuffle_kernel<T>;
  DL_LAUNCH(k, nb, nt, 0, 0, in, out, kind, param, width, mask);
  CHECK_LAUNCH_OK("shuffle");
  static const char* names[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync"};
  for (int i = 0; i < n; ++i) {
    const int lane = i % 32, warp_base = i - lane;
    const T want = ((mask >> lane) & 1u) ? in[warp_base + expected_source(kind, lane, param, width)] : static_cast<T>(-7);
    CHECK(out[i] == want, "%s<%s> param %d width %d mask %08x: thread %d got %g, want %g", names[kind], tname, param,
          width, mask, i, static_cast<double>(out[i]), static_cast<double>(want));
  }
  dev_free(in);
  dev_free(out);
}

// Two halves of each warp shuffle separately, at different call sites.
__global__ void divergent_halves(const float* in, float* out) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  const int lane = threadIdx.x % 32;
  const float v = in[t];
  if (lane < 16)
    out[t] = __shfl_down_sync(0x0000ffffu, v, 1, 16);
  else
    out[t] = __shfl_xor_sync(0xffff0000u, v, 3, 16);
}

// Full-warp sums: tree with __shfl_down_sync and butterfly with __shfl_xor_sync.
template <class T>
__global__ void warp_sums(const T* in, T* down_sum, T* xor_sum) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  T a = in[t], b = in[t];
  for (int off = 16; off > 0; off /= 2) {
    a += __shfl_down_sync(0xffffffffu, a, off);
    b += __shfl_xor_sync(0xffffffffu, b, off);
  }
  if (threadIdx.x % 32 == 0) down_sum[t / 32] = a;
  xor_sum[t] = b;
}

__global__ void votes(const int* pred, unsigned mask, unsigned* ballot, int* any, int* all) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  const int lane = threadIdx.x % 32;
  if ((mask >> lane) & 1u) {
    ballot[t] = __ballot_sync(mask, pred[t]);
    any[t] = __any_sync(mask, pred[t]);
    all[t] = __all_sync(mask, pred[t]);
  }
}

// Every third lane exits; the others meet in __syncwarp, then read the mask.
__global__ void active_mask(unsigned* out) {
  const int lane = threadIdx.x % 32;
  const int warp_lanes = min(32, static_cast<int>(blockDim.x) - static_cast<int>(threadIdx.x / 32 * 32));
  unsigned survivors = 0;
  for (int l = 0; l < warp_lanes; ++l)
    if (l % 3 != 0) survivors |= 1u << l;
  out[threadIdx.x] = 0;
  if (lane % 3 == 0) return;
  __syncwarp(survivors);
  out[threadIdx.x] = __activemask();
}

__global__ void syncwarp_exchange(int* out) {
  __shared__ int s[64];
  const int t = threadIdx.x;
  s[t] = 10 * t;
  __syncwarp();
  out[t] = s[(t / 32) * 32 + (t % 32 + 1) % 32];
}

__global__ void match_and_reduce(const int* in, unsigned* match_any, unsigned* match_all, int* all_pred, int* red_add,
                                 unsigned* red_umin, int* red_max, unsigned* red_or) {
  const int t = threadIdx.x;
  const int lane = t % 32;
  match_any[t] = __match_any_sync(0xffffffffu, lane / 4);
  int p = 0;
  match_all[t] = __match_all_sync(0xffffffffu, t / 32, &p);  // uniform in a warp
  all_pred[t] = p;
  red_add[t] = __reduce_add_sync(0xffffffffu, in[t]);
  red_umin[t] = __reduce_min_sync(0xffffffffu, static_cast<unsigned>(in[t] + 100));
  red_max[t] = __reduce_max_sync(0xffffffffu, in[t]);
  red_or[t] = __reduce_or_sync(0xffffffffu, 1u << (lane % 8));
}

// blockDim 48: the second warp has 16 lanes; a mask naming only those is valid.
__global__ void partial_warp_sum(const float* in, float* out) {
  const int t = threadIdx.x;
  const unsigned mask = __activemask();
  const int lanes = __popc(mask);
  float v = in[t];
  for (int off = 1; off < lanes; off *= 2) v += __shfl_xor_sync(mask, v, off, lanes);
  out[t] = v;
}

// Lanes 20-31 of each warp exit early. As in PTX, full-mask warp operations
// then wait for the non-exited lanes only; nobody reads an exited lane.
__global__ void after_exit(const int* pred, unsigned* ballot, float* sum4) {
  const int lane = threadIdx.x % 32;
  if (lane >= 20) return;
  __syncwarp();
  ballot[threadIdx.x] = __ballot_sync(0xffffffffu, pred[threadIdx.x]);
  float v = static_cast<float>(threadIdx.x);
  for (int off = 1; off < 4; off *= 2) v += __shfl_xor_sync(0xffffffffu, v, off, 4);
  sum4[threadIdx.x] = v;
}

int main() {
  // 1. all four shuffles, every width, full mask, float
  const int widths[] = {32, 16, 8, 4, 2, 1};
  for (int w : widths) {
    const int idx_params[] = {0, 1, w - 1, w + 3, -1, 31};
    for (int p : idx_params) check_shuffle<float>("float", IDX, p, w, 0xffffffffu);
    const int deltas[] = {0, 1, 3, w, 40};
    for (int d : deltas) {
      check_shuffle<float>("float", UP, d, w, 0xffffffffu);
      check_shuffle<float>("float", DOWN, d, w, 0xffffffffu);
    }
    const int xors[] = {1, 3, w - 1, w, 2 * w, 31};  // >= width: earlier groups only
    for (int x : xors) check_shuffle<float>("float", XOR, x, w, 0xffffffffu);
  }
  // 2. partial masks: sources stay inside the mask's lanes
  const unsigned masks[] = {0x0000ffffu, 0xffff0000u, 0x00ff00ffu, 0x0f0f0f0fu};
  const int mask_width[] = {16, 16, 8, 4};
  for (int m = 0; m < 4; ++m) {
    const int w = mask_width[m];
    for (int p : {0, 1, w - 1}) {
      check_shuffle<float>("float", IDX, p, w, masks[m]);
      check_shuffle<float>("float", UP, p, w, masks[m]);
      check_shuffle<float>("float", DOWN, p, w, masks[m]);
    }
    check_shuffle<float>("float", XOR, 1, w, masks[m]);
    check_shuffle<float>("float", XOR, w - 1, w, masks[m]);
  }
  // 3. other value types
  for (int kind = 0; kind < 4; ++kind) {
    check_shuffle<double>("double", kind, 5, 32, 0xffffffffu);
    check_shuffle<int>("int", kind, 3, 16, 0xffffffffu);
    check_shuffle<unsigned>("unsigned", kind, 2, 8, 0xffffffffu);
    check_shuffle<long long>("long long", kind, 7, 32, 0xffffffffu);
  }

  // 4. divergent halves of a warp
  {
    const int n = 64;
    float* in = dev_alloc<float>(n);
    float* out = dev_alloc<float>(n);
    for (int i = 0; i < n; ++i) in[i] = static_cast<float>(i);
    DL_LAUNCH(divergent_halves, 1, n, 0, 0, in, out);
    CHECK_LAUNCH_OK("divergent_halves");
    for (int i = 0; i < n; ++i) {
      const int lane = i % 32, base = i - lane;
      const int src = lane < 16 ? expected_source(DOWN, lane, 1, 16) : expected_source(XOR, lane, 3, 16);
      CHECK(out[i] == in[base + src], "divergent halves: thread %d got %g want %g", i, out[i], in[base + src]);
    }
    dev_free(in);
    dev_free(out);
  }

  // 5. warp sums, int and double
  {
    const int n = 256;
    int* in = dev_alloc<int>(n);
    int* dsum = dev_alloc<int>(n / 32);
    int* xsum = dev_alloc<int>(n);
    double* ind = dev_alloc<double>(n);
    double* dsumd = dev_alloc<double>(n / 32);
    double* xsumd = dev_alloc<double>(n);
    for (int i = 0; i < n; ++i) {
      in[i] = i * 7 - 300;
      ind[i] = 0.25 * i;
    }
    DL_LAUNCH(warp_sums<int>, 1, n, 0, 0, in, dsum, xsum);
    CHECK_LAUNCH_OK("warp_sums<int>");
    auto kd = warp_sums<double>;
    DL_LAUNCH(kd, 1, n, 0, 0, ind, dsumd, xsumd);
    CHECK_LAUNCH_OK("warp_sums<double>");
    for (int w = 0; w < n / 32; ++w) {
      int s = 0;
      double sd = 0;
      for (int l = 0; l < 32; ++l) {
        s += in[w * 32 + l];
        sd += ind[w * 32 + l];
      }
      CHECK(dsum[w] == s, "warp %d down-sum %d want %d", w, dsum[w], s);
      CHECK(dsumd[w] == sd, "warp %d double down-sum %g want %g", w, dsumd[w], sd);
      for (int l = 0; l < 32; ++l) {
        CHECK(xsum[w * 32 + l] == s, "warp %d lane %d xor-sum %d want %d", w, l, xsum[w * 32 + l], s);
        CHECK(xsumd[w * 32 + l] == sd, "warp %d lane %d double xor-sum", w, l);
      }
    }
    dev_free(in); dev_free(dsum); dev_free(xsum); dev_free(ind); dev_free(dsumd); dev_free(xsumd);
  }

  // 6. ballot / any / all, full and partial masks
  {
    const int n = 128;
    int* pred = dev_alloc<int>(n);
    unsigned* ballot = dev_alloc<unsigned>(n);
    int* any = dev_alloc<int>(n);
    int* all = dev_alloc<int>(n);
    for (int i = 0; i < n; ++i) pred[i] = (i / 32 == 1) ? 1 : (i / 32 == 2) ? 0 : (i * 13 % 5 == 0) * (i + 1);
    for (unsigned mask : {0xffffffffu, 0x0f0f0f0fu, 0x80000001u, 0x00000004u}) {
      for (int i = 0; i < n; ++i) ballot[i] = 12345u, any[i] = all[i] = -1;
      DL_LAUNCH(votes, 2, n / 2, 0, 0, pred, mask, ballot, any, all);
      CHECK_LAUNCH_OK("votes");
      for (int i = 0; i < n; ++i) {
        const int lane = i % 32, base = i - lane;
        if (!((mask >> lane) & 1u)) {
          CHECK(ballot[i] == 12345u, "votes: lane outside the mask wrote");
          continue;
        }
        unsigned b = 0;
        for (int l = 0; l < 32; ++l)
          if (((mask >> l) & 1u) && pred[base + l]) b |= 1u << l;
        CHECK(ballot[i] == b, "ballot mask %08x thread %d got %08x want %08x", mask, i, ballot[i], b);
        CHECK(any[i] == (b != 0), "any mask %08x thread %d", mask, i);
        CHECK(all[i] == (b == mask), "all mask %08x thread %d", mask, i);
      }
    }
    dev_free(pred); dev_free(ballot); dev_free(any); dev_free(all);
  }

  // 7. __activemask after exits, with a partial last warp (blockDim 40)
  {
    const int n = 40;
    unsigned* out = dev_alloc<unsigned>(n);
    DL_LAUNCH(active_mask, 1, n, 0, 0, out);
    CHECK_LAUNCH_OK("active_mask");
    for (int i = 0; i < n; ++i) {
      const int lane = i % 32, lanes = i < 32 ? 32 : 8;
      unsigned want = 0;
      for (int l = 0; l < lanes; ++l)
        if (l % 3 != 0) want |= 1u << l;
      if (lane % 3 == 0) want = 0;
      CHECK(out[i] == want, "__activemask thread %d got %08x want %08x", i, out[i], want);
    }
    dev_free(out);
  }

  // 8. __syncwarp orders shared-memory writes and reads within a warp
  {
    int* out = dev_alloc<int>(64);
    DL_LAUNCH(syncwarp_exchange, 1, 64, 0, 0, out);
    CHECK_LAUNCH_OK("syncwarp_exchange");
    for (int t = 0; t < 64; ++t) {
      const int want = 10 * ((t / 32) * 32 + (t % 32 + 1) % 32);
      CHECK(out[t] == want, "__syncwarp exchange thread %d got %d want %d", t, out[t], want);
    }
    dev_free(out);
  }

  // 9. match and reduce (sm_80)
  {
    const int n = 64;
    int* in = dev_alloc<int>(n);
    unsigned* many = dev_alloc<unsigned>(n);
    unsigned* mall = dev_alloc<unsigned>(n);
    int* apred = dev_alloc<int>(n);
    int* radd = dev_alloc<int>(n);
    unsigned* rumin = dev_alloc<unsigned>(n);
    int* rmax = dev_alloc<int>(n);
    unsigned* ror = dev_alloc<unsigned>(n);
    for (int i = 0; i < n; ++i) in[i] = (i * 37) % 23 - 11;
    DL_LAUNCH(match_and_reduce, 1, n, 0, 0, in, many, mall, apred, radd, rumin, rmax, ror);
    CHECK_LAUNCH_OK("match_and_reduce");
    for (int i = 0; i < n; ++i) {
      const int lane = i % 32, base = i - lane;
      int s = 0, mx = -1000;
      unsigned umn = ~0u;
      for (int l = 0; l < 32; ++l) {
        s += in[base + l];
        mx = std::max(mx, in[base + l]);
        umn = std::min(umn, static_cast<unsigned>(in[base + l] + 100));
      }
      CHECK(many[i] == 0xfu << (lane / 4 * 4), "match_any thread %d got %08x", i, many[i]);
      CHECK(mall[i] == 0xffffffffu && apred[i] == 1, "match_all thread %d", i);
      CHECK(radd[i] == s, "reduce_add thread %d got %d want %d", i, radd[i], s);
      CHECK(rumin[i] == umn, "reduce_min thread %d", i);
      CHECK(rmax[i] == mx, "reduce_max thread %d", i);
      CHECK(ror[i] == 0xffu, "reduce_or thread %d", i);
    }
    dev_free(in); dev_free(many); dev_free(mall); dev_free(apred); dev_free(radd); dev_free(rumin); dev_free(rmax); dev_free(ror);
  }

  // 10. blockDim 48: a sum over the 16 lanes of the partial warp
  {
    const int n = 48;
    float* in = dev_alloc<float>(n);
    float* out = dev_alloc<float>(n);
    for (int i = 0; i < n; ++i) in[i] = static_cast<float>(i);
    DL_LAUNCH(partial_warp_sum, 1, n, 0, 0, in, out);
    CHECK_LAUNCH_OK("partial_warp_sum");
    float s0 = 0, s1 = 0;
    for (int i = 0; i < 32; ++i) s0 += in[i];
    for (int i = 32; i < 48; ++i) s1 += in[i];
    for (int i = 0; i < n; ++i) CHECK(out[i] == (i < 32 ? s0 : s1), "partial warp sum thread %d got %g", i, out[i]);
    dev_free(in);
    dev_free(out);
  }
  // 11. full-mask operations after some lanes exited
  {
    const int n = 64;
    int* pred = dev_alloc<int>(n);
    unsigned* ballot = dev_alloc<unsigned>(n);
    float* sum4 = dev_alloc<float>(n);
    for (int i = 0; i < n; ++i) pred[i] = i % 3 == 1, ballot[i] = 7u, sum4[i] = -1.0f;
    DL_LAUNCH(after_exit, 1, n, 0, 0, pred, ballot, sum4);
    CHECK_LAUNCH_OK("after_exit");
    for (int i = 0; i < n; ++i) {
      const int lane = i % 32, base = i - lane;
      if (lane >= 20) {
        CHECK(ballot[i] == 7u && sum4[i] == -1.0f, "after_exit: exited lane %d wrote", i);
        continue;
      }
      unsigned b = 0;
      for (int l = 0; l < 20; ++l)
        if (pred[base + l]) b |= 1u << l;
      const int g = i / 4 * 4;
      CHECK(ballot[i] == b, "after_exit ballot thread %d: %08x want %08x", i, ballot[i], b);
      CHECK(sum4[i] == static_cast<float>(4 * g + 6), "after_exit sum thread %d: %g", i, sum4[i]);
    }
    dev_free(pred);
    dev_free(ballot);
    dev_free(sum4);
  }
  return finish("warp_ops");
}

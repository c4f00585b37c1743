// Kernels with bugs that a GPU lets pass silently (or hangs on), and that the
// emulator must report. ./bugs <mode> runs one; it prints the launch error as
//   ERROR: <message>     (or NOERROR)
// and exits 0, unless the bug crashes the process (oob_write under ASan,
// stack_overflow). Lines the messages must name carry a "// SITE:<name>"
// comment that tests/test_simt.py looks up.
#include "common.h"

// Half of each block waits at one __syncthreads, half at another.
__global__ void divergent_sync(float* out) {
  if (threadIdx.x < 32) {
    out[threadIdx.x] = 1.0f;
    __syncthreads();  // SITE:divergent_a
  } else {
    out[threadIdx.x] = 2.0f;
    __syncthreads();  // SITE:divergent_b
  }
}

// Half a warp in __syncthreads, the other half in a full-mask shuffle.
__global__ void deadlock(float* out) {
  float v = static_cast<float>(threadIdx.x);
  if (threadIdx.x % 32 < 16)
    __syncthreads();  // SITE:deadlock_sync
  else
    v = __shfl_xor_sync(0xffffffffu, v, 1);  // SITE:deadlock_shfl
  out[threadIdx.x] = v;
}

// Lanes 16-31 return early; lanes 0-15 shuffle down with a full mask, so
// lane 15 reads lane 16, which has exited (PTX: the value is undefined).
__global__ void exited_lane(float* out) {
  if (threadIdx.x % 32 >= 16) return;
  float v = static_cast<float>(threadIdx.x);
  v += __shfl_down_sync(0xffffffffu, v, 1);  // SITE:exited_shfl
  out[threadIdx.x] = v;
}

// Lanes 0-15 take part (mask 0x0000ffff) but read lanes 16-31.
__global__ void shfl_outside_mask(float* out) {
  const int lane = threadIdx.x % 32;
  float v = static_cast<float>(threadIdx.x);
  if (lane < 16) v = __shfl_sync(0x0000ffffu, v, lane + 16);  // SITE:outside_shfl
  out[threadIdx.x] = v;
}

// blockDim 48: in the second warp a full-mask shuffle down by 16 reads
// lanes 16-31, which do not exist.
__global__ void shfl_missing_lane(float* out) {
  float v = static_cast<float>(threadIdx.x);
  v = __shfl_down_sync(0xffffffffu, v, 16);  // SITE:missing_shfl
  out[threadIdx.x] = v;
}

// Lanes 0-15 name mask 0x0000ffff, lanes 16-31 the full warp.
__global__ void mask_conflict(float* out) {
  float v = static_cast<float>(threadIdx.x);
  if (threadIdx.x < 16)
    v = __shfl_xor_sync(0x0000ffffu, v, 1);  // SITE:conflict_a
  else
    v = __shfl_xor_sync(0xffffffffu, v, 1);  // SITE:conflict_b
  out[threadIdx.x] = v;
}

__global__ void trap_kernel(float* out) {
  if (threadIdx.x == 5 && blockIdx.x == 1) __trap();  // SITE:trap
  out[blockIdx.x * blockDim.x + threadIdx.x] = 1.0f;
}

// One thread too many writes: out has n elements.
__global__ void oob_write(float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) out[i] = 1.0f;  // SITE:oob  (should be i < n)
}

// Dynamic shared memory of 32 floats; thread 31 writes one past the end.
__global__ void shared_overflow(float* out) {
  DL_DYNAMIC_SHARED(float, s);
  s[threadIdx.x + 1] = 1.0f;  // SITE:smem_oob  (s[threadIdx.x] intended)
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];
}

// About 1 MiB of locals: far beyond a fiber stack.
__global__ void stack_overflow(float* out) {
  volatile float big[256 * 1024];
  for (int i = 0; i < 256 * 1024; i += 512) big[i] = static_cast<float>(i);
  out[threadIdx.x] = big[threadIdx.x * 512];
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::printf("usage: bugs <mode>\n");
    return 2;
  }
  const std::string mode = argv[1];
  float* out = dev_alloc<float>(256);
  for (int i = 0; i < 256; ++i) out[i] = -1.0f;
  int shown = 64;
  if (mode == "divergent_sync") DL_LAUNCH(divergent_sync, 2, 64, 0, 0, out);
  else if (mode == "deadlock") DL_LAUNCH(deadlock, 2, 64, 0, 0, out);
  else if (mode == "exited_lane") DL_LAUNCH(exited_lane, 1, 64, 0, 0, out);
  else if (mode == "shfl_outside_mask") DL_LAUNCH(shfl_outside_mask, 1, 32, 0, 0, out), shown = 32;
  else if (mode == "shfl_missing_lane") DL_LAUNCH(shfl_missing_lane, 1, 48, 0, 0, out), shown = 48;
  else if (mode == "mask_conflict") DL_LAUNCH(mask_conflict, 1, 32, 0, 0, out), shown = 32;
  else if (mode == "trap") DL_LAUNCH(trap_kernel, 4, 32, 0, 0, out);
  else if (mode == "oob_write") {
    const int n = 100;
    float* small = dev_alloc<float>(n);
    DL_LAUNCH(oob_write, 4, 32, 0, 0, small, n);
    dev_free(small);
  } else if (mode == "shared_overflow") {
    DL_LAUNCH(shared_overflow, 1, 32, 1024, 0, out);  // a larger arena first, as in a real program
    DL_LAUNCH(shared_overflow, 1, 32, 32 * sizeof(float), 0, out);
  } else if (mode == "stack_overflow") DL_LAUNCH(stack_overflow, 1, 4, 0, 0, out);
  else {
    std::printf("unknown mode %s\n", mode.c_str());
    return 2;
  }
  const std::string e = launch_error();
  if (e.empty())
    std::printf("NOERROR\n");
  else
    std::printf("ERROR: %s\n", e.c_str());
  std::printf("out:");
  for (int i = 0; i < shown; ++i) std::printf(" %g", out[i]);
  std::printf("\n");
  dev_free(out);
  return 0;
}

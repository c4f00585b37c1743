// Shared-memory tiled SGEMM, C[M,N] = A[M,K] * B[K,N] (row-major), one
// output per thread, TILE x TILE threads per block. The two barriers can be
// switched off to show that the emulator catches their absence.
#pragma once
#include "compat.h"

template <int TILE, bool SYNC_AFTER_LOAD = true, bool SYNC_AFTER_COMPUTE = true>
__global__ void sgemm_tiled(int M, int N, int K, const float* __restrict__ A, const float* __restrict__ B,
                            float* __restrict__ C) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx;
  float acc = 0.0f;
  for (int t = 0; t < K; t += TILE) {
    As[ty][tx] = (row < M && t + tx < K) ? A[row * K + t + tx] : 0.0f;
    Bs[ty][tx] = (t + ty < K && col < N) ? B[(t + ty) * N + col] : 0.0f;
    if (SYNC_AFTER_LOAD) __syncthreads();
#pragma unroll 8
    for (int k = 0; k < TILE; ++k) acc += As[ty][k] * Bs[k][tx];
    if (SYNC_AFTER_COMPUTE) __syncthreads();
  }
  if (row < M && col < N) C[row * N + col] = acc;
}

template <int TILE, bool S1, bool S2>
inline void launch_sgemm(int M, int N, int K, const float* A, const float* B, float* C, void* stream) {
  const dim3 block(TILE, TILE), grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
  auto k = sgemm_tiled<TILE, S1, S2>;
  DL_LAUNCH(k, grid, block, 0, stream, M, N, K, A, B, C);
}

// CSR sparse x dense: Y[M, N] (+)= S[M, K] * X[K, N], S in CSR (rowPtr M+1, colIdx, values),
// X row-major with leading dim ldx, Y with ldy. One warp per sparse row and 32*VEC columns; the
// warp reads each stored element once (broadcast by shuffle) and streams rows of X.
#include "kiln.cuh"

extern "C" __global__ void kiln_spmm_csr(float* Y, const int* __restrict__ rowPtr, const int* __restrict__ colIdx,
                                         const float* __restrict__ values, const float* __restrict__ X,
                                         int M, int N, int ldx, int ldy, int accumulate) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.y * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= M) return;
    const int c0 = blockIdx.x * 128;
    const int p0 = rowPtr[row], p1 = rowPtr[row + 1];
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    for (int base = p0; base < p1; base += 32) {
        int p = base + lane;
        int myCol = p < p1 ? colIdx[p] : 0;
        float myVal = p < p1 ? values[p] : 0.f;
        int cnt = min(32, p1 - base);
        for (int e = 0; e < cnt; e++) {
            int kcol = __shfl_sync(0xffffffffu, myCol, e);
            float v = __shfl_sync(0xffffffffu, myVal, e);
            const float* xr = X + (long long) kcol * ldx;
#pragma unroll
            for (int q = 0; q < 4; q++) {
                int c = c0 + q * 32 + lane;
                if (c < N) acc[q] = fmaf(v, xr[c], acc[q]);
            }
        }
    }
#pragma unroll
    for (int q = 0; q < 4; q++) {
        int c = c0 + q * 32 + lane;
        if (c < N) {
            long long o = (long long) row * ldy + c;
            Y[o] = accumulate ? Y[o] + acc[q] : acc[q];
        }
    }
}

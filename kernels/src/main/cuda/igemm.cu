// int8 GEMM on tensor cores (wmma s8 x s8 -> s32), dequantizing epilogue, the signed-activation
// case of dev.kiln.kernels.cpu.QGemm.gemmDequant:
//   y[i,j] = scaleA * scaleB[j or 0] * (sum_p A[i,p]*B[j,p] - zpA * bSum[j]) + bias[j]
// A int8 [M, K] (row i at A + i*lda), B int8 [N, K] (a weight, row j at B + j*ldb), bSum[j] =
// sum_p B[j,p] (only read when zpA != 0), scaleB of nScaleB = 1 or N values, bias null or N values.
// Without scales (raw != 0) y holds the int32 accumulators (sum_p (A[i,p]-zpA)*B[j,p]) as int.
//
// A 128 x 128 block tile, 64 deep, 8 warps (2 x 4) of 64 x 32, fragments 16 x 16 x 16. Shared
// tiles are stored as [k/16][row][16] so every fragment pointer is 256-bit aligned with ldm 16.
#include "kiln.cuh"
#include <mma.h>

using namespace nvcuda;

constexpr int QBM = 128, QBN = 128, QBK = 64, QTHREADS = 256;

__device__ __forceinline__ unsigned int loadWord(const signed char* p, long long row, int ld, int k, int rows, int K, bool aligned) {
    if (row >= rows) return 0u;
    const signed char* q = p + row * ld + k;
    if (aligned && k + 3 < K) return *reinterpret_cast<const unsigned int*>(q);
    unsigned int w = 0;
#pragma unroll
    for (int b = 0; b < 4; b++) {
        if (k + b < K) w |= (unsigned int) (unsigned char) q[b] << (8 * b);
    }
    return w;
}

extern "C" __global__ void __launch_bounds__(256) kiln_igemm(void* Y, const signed char* __restrict__ A,
        const signed char* __restrict__ B, const int* __restrict__ bSum, const float* __restrict__ scaleB,
        const float* __restrict__ bias, float scaleA, int zpA, int nScaleB, int M, int N, int K, int lda, int ldb, int ldy,
        int raw) {
    constexpr int WA = QBM * QBK / 4 / QTHREADS, WB = QBN * QBK / 4 / QTHREADS;   // 32-bit words per thread
    __shared__ __align__(128) signed char As[QBK / 16][QBM][16];
    __shared__ __align__(128) signed char Bs[QBK / 16][QBN][16];
    __shared__ __align__(128) int stage[8][256];

    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int wm = warp / 4, wn = warp % 4;
    const int bm = blockIdx.y * QBM, bn = blockIdx.x * QBN;
    const bool alignedA = ((lda & 3) == 0) && ((reinterpret_cast<size_t>(A) & 3) == 0);
    const bool alignedB = ((ldb & 3) == 0) && ((reinterpret_cast<size_t>(B) & 3) == 0);

    unsigned int ra[WA], rb[WB];
    auto fetch = [&](int k0) {
#pragma unroll
        for (int t = 0; t < WA; t++) {
            int l = tid + t * QTHREADS, i = l / (QBK / 4), k = (l % (QBK / 4)) * 4;
            ra[t] = k0 + k < K ? loadWord(A, bm + i, lda, k0 + k, M, K, alignedA) : 0u;
        }
#pragma unroll
        for (int t = 0; t < WB; t++) {
            int l = tid + t * QTHREADS, j = l / (QBK / 4), k = (l % (QBK / 4)) * 4;
            rb[t] = k0 + k < K ? loadWord(B, bn + j, ldb, k0 + k, N, K, alignedB) : 0u;
        }
    };
    auto store = [&]() {
#pragma unroll
        for (int t = 0; t < WA; t++) {
            int l = tid + t * QTHREADS, i = l / (QBK / 4), k = (l % (QBK / 4)) * 4;
            *reinterpret_cast<unsigned int*>(&As[k / 16][i][k % 16]) = ra[t];
        }
#pragma unroll
        for (int t = 0; t < WB; t++) {
            int l = tid + t * QTHREADS, j = l / (QBK / 4), k = (l % (QBK / 4)) * 4;
            *reinterpret_cast<unsigned int*>(&Bs[k / 16][j][k % 16]) = rb[t];
        }
    };

    wmma::fragment<wmma::accumulator, 16, 16, 16, int> acc[4][2];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0);

    fetch(0);
    for (int k0 = 0; k0 < K; k0 += QBK) {
        __syncthreads();
        store();
        __syncthreads();
        if (k0 + QBK < K) fetch(k0 + QBK);
#pragma unroll
        for (int kc = 0; kc < QBK / 16; kc++) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, signed char, wmma::row_major> fa[4];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, signed char, wmma::col_major> fb[2];
#pragma unroll
            for (int i = 0; i < 4; i++) wmma::load_matrix_sync(fa[i], &As[kc][wm * 64 + i * 16][0], 16);
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(fb[j], &Bs[kc][wn * 32 + j * 16][0], 16);
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
    }

    int* st = stage[warp];
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 2; j++) {
            wmma::store_matrix_sync(st, acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
            int r0 = bm + wm * 64 + i * 16, c0 = bn + wn * 32 + j * 16;
            for (int e = lane; e < 256; e += 32) {
                int gi = r0 + e / 16, gj = c0 + e % 16;
                if (gi < M && gj < N) {
                    int a = st[e] - (zpA != 0 ? zpA * bSum[gj] : 0);
                    long long p = (long long) gi * ldy + gj;
                    if (raw) {
                        static_cast<int*>(Y)[p] = a;
                    } else {
                        float v = scaleA * scaleB[nScaleB == 1 ? 0 : gj] * (float) a;
                        static_cast<float*>(Y)[p] = bias ? v + bias[gj] : v;
                    }
                }
            }
            __syncwarp();
        }
    }
}

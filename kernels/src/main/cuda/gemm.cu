// fp32 GEMM, CUDA cores: C[b] (+)= op(A[b]) * op(B[b]) (+ bias), batched over blockIdx.z.
// op(A) is [M, K]: A[i*lda + k], or A[k*lda + i] with transA; op(B) is [K, N]: B[k*ldb + j], or
// B[j*ldb + k] with transB. biasMode 0 none, 1 bias[j] (per column, Linear), 2 bias[i] (per row,
// conv). Batch strides sA/sB may be 0 (broadcast operand).
//
// Tiling: a BM x BN block tile, BK deep, in two shared-memory buffers (the next tile is fetched
// into registers while the current one is multiplied); each of the 256 threads owns a TM x TN
// register tile split in two halves BM/2 (BN/2) apart, so its shared loads are vector loads
// without bank conflicts.
#include "kiln.cuh"

template <int BM, int BN, int BK, int TM, int TN>
__device__ __forceinline__ void sgemmTile(float* __restrict__ C, const float* __restrict__ A, const float* __restrict__ B,
                                          const float* __restrict__ bias, int M, int N, int K, int lda, int ldb, int ldc,
                                          long long sA, long long sB, long long sC, int transA, int transB,
                                          int biasMode, int accumulate) {
    constexpr int THREADS = (BM / TM) * (BN / TN);
    constexpr int LA = BM * BK / THREADS;
    constexpr int LB = BN * BK / THREADS;
    __shared__ __align__(16) float As[2][BK][BM];
    __shared__ __align__(16) float Bs[2][BK][BN];

    const int tid = threadIdx.x;
    const int bm = blockIdx.y * BM, bn = blockIdx.x * BN;
    A += blockIdx.z * sA;
    B += blockIdx.z * sB;
    C += blockIdx.z * sC;

    float ra[LA], rb[LB];
    auto fetch = [&](int k0) {
#pragma unroll
        for (int t = 0; t < LA; t++) {
            int l = tid + t * THREADS;
            int i, k;
            if (transA) { k = l / BM; i = l % BM; } else { i = l / BK; k = l % BK; }
            int gi = bm + i, gk = k0 + k;
            ra[t] = (gi < M && gk < K) ? (transA ? A[(long long) gk * lda + gi] : A[(long long) gi * lda + gk]) : 0.f;
        }
#pragma unroll
        for (int t = 0; t < LB; t++) {
            int l = tid + t * THREADS;
            int j, k;
            if (transB) { j = l / BK; k = l % BK; } else { k = l / BN; j = l % BN; }
            int gj = bn + j, gk = k0 + k;
            rb[t] = (gj < N && gk < K) ? (transB ? B[(long long) gj * ldb + gk] : B[(long long) gk * ldb + gj]) : 0.f;
        }
    };
    auto store = [&](int buf) {
#pragma unroll
        for (int t = 0; t < LA; t++) {
            int l = tid + t * THREADS;
            int i, k;
            if (transA) { k = l / BM; i = l % BM; } else { i = l / BK; k = l % BK; }
            As[buf][k][i] = ra[t];
        }
#pragma unroll
        for (int t = 0; t < LB; t++) {
            int l = tid + t * THREADS;
            int j, k;
            if (transB) { j = l / BK; k = l % BK; } else { k = l / BN; j = l % BN; }
            Bs[buf][k][j] = rb[t];
        }
    };

    const int tx = tid % (BN / TN), ty = tid / (BN / TN);
    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TN; j++) acc[i][j] = 0.f;

    fetch(0);
    store(0);
    __syncthreads();
    int buf = 0;
    for (int k0 = 0; k0 < K; k0 += BK) {
        bool more = k0 + BK < K;
        if (more) fetch(k0 + BK);
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float a[TM], b[TN];
#pragma unroll
            for (int i = 0; i < TM / 2; i++) {
                a[i] = As[buf][k][ty * (TM / 2) + i];
                a[i + TM / 2] = As[buf][k][BM / 2 + ty * (TM / 2) + i];
            }
#pragma unroll
            for (int j = 0; j < TN / 2; j++) {
                b[j] = Bs[buf][k][tx * (TN / 2) + j];
                b[j + TN / 2] = Bs[buf][k][BN / 2 + tx * (TN / 2) + j];
            }
#pragma unroll
            for (int i = 0; i < TM; i++)
#pragma unroll
                for (int j = 0; j < TN; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        if (more) {
            store(buf ^ 1);
            __syncthreads();
            buf ^= 1;
        }
    }

#pragma unroll
    for (int i = 0; i < TM; i++) {
        int gi = bm + (i < TM / 2 ? ty * (TM / 2) + i : BM / 2 + ty * (TM / 2) + i - TM / 2);
        if (gi >= M) continue;
#pragma unroll
        for (int j = 0; j < TN; j++) {
            int gj = bn + (j < TN / 2 ? tx * (TN / 2) + j : BN / 2 + tx * (TN / 2) + j - TN / 2);
            if (gj >= N) continue;
            float v = acc[i][j];
            if (biasMode == 1) v += bias[gj]; else if (biasMode == 2) v += bias[gi];
            long long p = (long long) gi * ldc + gj;
            C[p] = accumulate ? C[p] + v : v;
        }
    }
}

// 128 x 128 tiles, 8 x 8 per thread: large products.
extern "C" __global__ void __launch_bounds__(256) kiln_sgemm128(float* C, const float* A, const float* B, const float* bias,
        int M, int N, int K, int lda, int ldb, int ldc, long long sA, long long sB, long long sC,
        int transA, int transB, int biasMode, int accumulate) {
    sgemmTile<128, 128, 8, 8, 8>(C, A, B, bias, M, N, K, lda, ldb, ldc, sA, sB, sC, transA, transB, biasMode, accumulate);
}

// 64 x 64 tiles, 4 x 4 per thread: small products (more blocks to fill the GPU).
extern "C" __global__ void __launch_bounds__(256) kiln_sgemm64(float* C, const float* A, const float* B, const float* bias,
        int M, int N, int K, int lda, int ldb, int ldc, long long sA, long long sB, long long sC,
        int transA, int transB, int biasMode, int accumulate) {
    sgemmTile<64, 64, 16, 4, 4>(C, A, B, bias, M, N, K, lda, ldb, ldc, sA, sB, sC, transA, transB, biasMode, accumulate);
}

// Tensor-core GEMM with fp32 inputs rounded to TF32 or BF16 and fp32 accumulation (wmma):
// C (+)= op(A) * op(B) (+ bias), same arguments and layouts as kiln_sgemm128 (gemm.cu).
//
// A 128 x 128 block tile, 32 deep, 8 warps in a 2 x 4 grid, each warp a 64 x 32 tile of 4 x 2
// fragments of 16 x 16. Tiles are converted to the input precision once when stored to shared
// memory; the next tile is fetched into registers while the current one is multiplied. The
// accumulators go through shared memory for the bounds-checked epilogue (bias, accumulate).
#include "kiln.cuh"
#include <mma.h>
#include <cuda_bf16.h>

using namespace nvcuda;

constexpr int TBM = 128, TBN = 128, TBK = 32, TTHREADS = 256;

template <typename T> __device__ __forceinline__ T toInput(float v);
template <> __device__ __forceinline__ float toInput<float>(float v) { return wmma::__float_to_tf32(v); }
template <> __device__ __forceinline__ __nv_bfloat16 toInput<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

template <typename T> struct Frag;
template <> struct Frag<float> {
    static constexpr int K = 8;
    using A = wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major>;
    using B = wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major>;
};
template <> struct Frag<__nv_bfloat16> {
    static constexpr int K = 16;
    using A = wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major>;
    using B = wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major>;
};

template <typename T>
__device__ __forceinline__ void tcGemm(float* __restrict__ C, const float* __restrict__ A, const float* __restrict__ B,
                                       const float* __restrict__ bias, int M, int N, int K, int lda, int ldb, int ldc,
                                       long long sA, long long sB, long long sC, int transA, int transB,
                                       int biasMode, int accumulate) {
    constexpr int APAD = 8, BPAD = 8;
    constexpr int LA = TBM * TBK / TTHREADS, LB = TBN * TBK / TTHREADS;
    // A tile [TBM][TBK + APAD] and B tile [TBK][TBN + BPAD]; the fp32 staging of the epilogue reuses it.
    constexpr int ABYTES = TBM * (TBK + APAD) * sizeof(T), BBYTES = TBK * (TBN + BPAD) * sizeof(T);
    constexpr int TILE_BYTES = ABYTES + BBYTES;
    constexpr int STAGE_BYTES = 8 * 16 * 16 * sizeof(float);
    __shared__ __align__(128) unsigned char smem[TILE_BYTES > STAGE_BYTES ? TILE_BYTES : STAGE_BYTES];
    T (*As)[TBK + APAD] = reinterpret_cast<T (*)[TBK + APAD]>(smem);
    T (*Bs)[TBN + BPAD] = reinterpret_cast<T (*)[TBN + BPAD]>(smem + ABYTES);

    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int wm = warp / 4, wn = warp % 4;          // warp tile origin: (wm*64, wn*32)
    const int bm = blockIdx.y * TBM, bn = blockIdx.x * TBN;
    A += blockIdx.z * sA;
    B += blockIdx.z * sB;
    C += blockIdx.z * sC;

    float ra[LA], rb[LB];
    auto fetch = [&](int k0) {
#pragma unroll
        for (int t = 0; t < LA; t++) {
            int l = tid + t * TTHREADS, i, k;
            if (transA) { k = l / TBM; i = l % TBM; } else { i = l / TBK; k = l % TBK; }
            int gi = bm + i, gk = k0 + k;
            ra[t] = (gi < M && gk < K) ? (transA ? A[(long long) gk * lda + gi] : A[(long long) gi * lda + gk]) : 0.f;
        }
#pragma unroll
        for (int t = 0; t < LB; t++) {
            int l = tid + t * TTHREADS, j, k;
            if (transB) { j = l / TBK; k = l % TBK; } else { k = l / TBN; j = l % TBN; }
            int gj = bn + j, gk = k0 + k;
            rb[t] = (gj < N && gk < K) ? (transB ? B[(long long) gj * ldb + gk] : B[(long long) gk * ldb + gj]) : 0.f;
        }
    };
    auto store = [&]() {
#pragma unroll
        for (int t = 0; t < LA; t++) {
            int l = tid + t * TTHREADS, i, k;
            if (transA) { k = l / TBM; i = l % TBM; } else { i = l / TBK; k = l % TBK; }
            As[i][k] = toInput<T>(ra[t]);
        }
#pragma unroll
        for (int t = 0; t < LB; t++) {
            int l = tid + t * TTHREADS, j, k;
            if (transB) { j = l / TBK; k = l % TBK; } else { k = l / TBN; j = l % TBN; }
            Bs[k][j] = toInput<T>(rb[t]);
        }
    };

    wmma::fragment<wmma::accumulator, 16, 16, Frag<T>::K, float> acc[4][2];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.f);

    fetch(0);
    for (int k0 = 0; k0 < K; k0 += TBK) {
        __syncthreads();
        store();
        __syncthreads();
        if (k0 + TBK < K) fetch(k0 + TBK);
#pragma unroll
        for (int kk = 0; kk < TBK; kk += Frag<T>::K) {
            typename Frag<T>::A fa[4];
            typename Frag<T>::B fb[2];
#pragma unroll
            for (int i = 0; i < 4; i++) wmma::load_matrix_sync(fa[i], &As[wm * 64 + i * 16][kk], TBK + APAD);
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(fb[j], &Bs[kk][wn * 32 + j * 16], TBN + BPAD);
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
    }
    __syncthreads();
    float* stage = reinterpret_cast<float*>(smem) + warp * 256;
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 2; j++) {
            wmma::store_matrix_sync(stage, acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
            int r0 = bm + wm * 64 + i * 16, c0 = bn + wn * 32 + j * 16;
            for (int e = lane; e < 256; e += 32) {
                int gi = r0 + e / 16, gj = c0 + e % 16;
                if (gi < M && gj < N) {
                    float v = stage[e];
                    if (biasMode == 1) v += bias[gj]; else if (biasMode == 2) v += bias[gi];
                    long long p = (long long) gi * ldc + gj;
                    C[p] = accumulate ? C[p] + v : v;
                }
            }
            __syncwarp();
        }
    }
}

extern "C" __global__ void __launch_bounds__(256) kiln_gemm_tf32(float* C, const float* A, const float* B, const float* bias,
        int M, int N, int K, int lda, int ldb, int ldc, long long sA, long long sB, long long sC,
        int transA, int transB, int biasMode, int accumulate) {
    tcGemm<float>(C, A, B, bias, M, N, K, lda, ldb, ldc, sA, sB, sC, transA, transB, biasMode, accumulate);
}

extern "C" __global__ void __launch_bounds__(256) kiln_gemm_bf16(float* C, const float* A, const float* B, const float* bias,
        int M, int N, int K, int lda, int ldb, int ldc, long long sA, long long sB, long long sC,
        int transA, int transB, int biasMode, int accumulate) {
    tcGemm<__nv_bfloat16>(C, A, B, bias, M, N, K, lda, ldb, ldc, sA, sB, sC, transA, transB, biasMode, accumulate);
}

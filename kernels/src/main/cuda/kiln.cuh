// Shared helpers of Kiln's CUDA kernels. Every kernel is extern "C" so that the Java side finds it
// by its plain name (cuModuleGetFunction); dims are int (tensors hold < 2^31 elements), pointers
// are device addresses.
#pragma once
#include <cstdint>

#define KILN_MAX_RANK 8

// Up to four same-shaped strided operands (operand 0 is the output): shape and per-operand
// element strides (0 where an operand is broadcast) and offsets. All int, so the Java side writes
// it as 4 + 8 + 32 + 4 ints, passed by value.
struct Strides {
    int rank;
    int shape[KILN_MAX_RANK];
    int st[4][KILN_MAX_RANK];
    int off[4];
};

// Element offsets of linear index i (row-major over shape) in the first `ops` operands.
template <int OPS>
__device__ __forceinline__ void offsets(const Strides& d, long long i, long long* o) {
#pragma unroll
    for (int k = 0; k < OPS; k++) o[k] = d.off[k];
    for (int r = d.rank - 1; r >= 0; r--) {
        int s = d.shape[r];
        long long q = i / s;
        int c = (int) (i - q * s);
        i = q;
#pragma unroll
        for (int k = 0; k < OPS; k++) o[k] += (long long) c * d.st[k][r];
    }
}

#define GRID_STRIDE(i, n) for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < (n); \
                               i += (long long) gridDim.x * blockDim.x)

// Block-wide reductions over blockDim.x threads (a multiple of 32, at most 1024); every thread
// gets the result.
__device__ __forceinline__ float warpSum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warpMax(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ float blockSum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warpSum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.f;
    return warpSum(v);
}

__device__ __forceinline__ float blockMax(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warpMax(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : -INFINITY;
    return warpMax(v);
}

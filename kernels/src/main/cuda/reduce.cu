// Reductions of one dim of a contiguous [outer, n, inner] tensor to [outer, inner].
// kind: 0 sum, 1 max, 2 min, 3 argmax, 4 argmin (indices as int64, first extreme wins;
// NaN wins over numbers, as Math.max). Two shapes: one block per row when inner == 1 (the
// reduced dim is contiguous), else one thread per output column walking the dim.
#include "kiln.cuh"

__device__ __forceinline__ bool better(int kind, float v, float best) {
    if (v != v) return best == best;           // first NaN wins
    if (best != best) return false;
    return (kind == 1 || kind == 3) ? v > best : v < best;
}

extern "C" __global__ void kiln_reduce_rows(int kind, float* out, long long* idx, const float* x, int rows, int n) {
    __shared__ float sv[1024];
    __shared__ int si[1024];
    __shared__ float scratch[32];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = x + (long long) r * n;
        if (kind == 0) {
            float s = 0.f;
            for (int j = threadIdx.x; j < n; j += blockDim.x) s += row[j];
            s = blockSum(s, scratch);
            if (threadIdx.x == 0) out[r] = s;
            __syncthreads();
            continue;
        }
        float best = NAN;
        int bi = -1;
        for (int j = threadIdx.x; j < n; j += blockDim.x) {
            float v = row[j];
            if (bi < 0 || better(kind, v, best)) { best = v; bi = j; }
        }
        sv[threadIdx.x] = best;
        si[threadIdx.x] = bi;
        __syncthreads();
        for (int s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) {
                int oi = si[threadIdx.x + s];
                float ov = sv[threadIdx.x + s];
                int mi = si[threadIdx.x];
                // keep the earlier index on ties: candidates of lower threads hold lower indices
                float cur = sv[threadIdx.x];
                bool tie = ov == cur || (ov != ov && cur != cur);
                if (oi >= 0 && (mi < 0 || better(kind, ov, cur) || (tie && oi < mi))) {
                    sv[threadIdx.x] = ov;
                    si[threadIdx.x] = oi;
                }
            }
            __syncthreads();
        }
        if (threadIdx.x == 0) {
            if (kind <= 2) out[r] = sv[0]; else idx[r] = si[0];
        }
        __syncthreads();
    }
}

extern "C" __global__ void kiln_reduce_cols(int kind, float* out, long long* idx, const float* x, int outer, int n, int inner) {
    long long total = (long long) outer * inner;
    GRID_STRIDE(t, total) {
        int o = (int) (t / inner), i = (int) (t - (long long) o * inner);
        const float* p = x + (long long) o * n * inner + i;
        if (kind == 0) {
            float s = 0.f;
            for (int j = 0; j < n; j++) s += p[(long long) j * inner];
            out[t] = s;
        } else {
            float best = p[0];
            int bi = 0;
            for (int j = 1; j < n; j++) {
                float v = p[(long long) j * inner];
                if (better(kind, v, best)) { best = v; bi = j; }
            }
            if (kind <= 2) out[t] = best; else idx[t] = bi;
        }
    }
}

// Index ops over contiguous tensors viewed as [outer, d, inner] along the indexed dim, int64
// indices (checked in range by the engine before the launch). The add variants use atomicAdd,
// so repeated indices sum in an unspecified order.
#include "kiln.cuh"

// out[o, j, i] = x[o, idx[j], i]; x [outer, dx, inner], out [outer, nIdx, inner].
extern "C" __global__ void kiln_index_select(float* out, const float* x, const long long* idx, int outer, int dx, int nIdx, int inner) {
    long long total = (long long) outer * nIdx * inner;
    GRID_STRIDE(t, total) {
        int i = (int) (t % inner);
        long long q = t / inner;
        int j = (int) (q % nIdx), o = (int) (q / nIdx);
        out[t] = x[((long long) o * dx + idx[j]) * inner + i];
    }
}

// out[o, idx[j], i] += src[o, j, i]; out zero-filled [outer, dOut, inner].
extern "C" __global__ void kiln_index_add(float* out, const float* src, const long long* idx, int outer, int dOut, int nIdx, int inner) {
    long long total = (long long) outer * nIdx * inner;
    GRID_STRIDE(t, total) {
        int i = (int) (t % inner);
        long long q = t / inner;
        int j = (int) (q % nIdx), o = (int) (q / nIdx);
        atomicAdd(out + ((long long) o * dOut + idx[j]) * inner + i, src[t]);
    }
}

// out[o, j, i] = x[o, idx[o, j, i], i]; x [outer, dx, inner], idx and out [outer, dj, inner].
extern "C" __global__ void kiln_gather(float* out, const float* x, const long long* idx, int outer, int dx, int dj, int inner) {
    long long total = (long long) outer * dj * inner;
    GRID_STRIDE(t, total) {
        int i = (int) (t % inner);
        int o = (int) (t / ((long long) dj * inner));
        out[t] = x[((long long) o * dx + idx[t]) * inner + i];
    }
}

// out[o, idx[o, j, i], i] += src[o, j, i]; out zero-filled [outer, dOut, inner].
extern "C" __global__ void kiln_scatter_add(float* out, const float* src, const long long* idx, int outer, int dOut, int dj, int inner) {
    long long total = (long long) outer * dj * inner;
    GRID_STRIDE(t, total) {
        int i = (int) (t % inner);
        int o = (int) (t / ((long long) dj * inner));
        atomicAdd(out + ((long long) o * dOut + idx[t]) * inner + i, src[t]);
    }
}

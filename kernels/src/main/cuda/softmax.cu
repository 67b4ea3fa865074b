// (Log-)softmax over one dim of a contiguous [outer, n, inner] tensor and its gradient, and the
// fused cross-entropy of logits [rows, c] with int64 class indices. Rows kernels (inner == 1) use
// one block per row; cols kernels one thread per (outer, inner) column.
#include "kiln.cuh"

extern "C" __global__ void kiln_softmax_rows(float* y, const float* x, int rows, int n, int logOut) {
    __shared__ float scratch[32];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + (long long) r * n;
        float* yr = y + (long long) r * n;
        float m = -INFINITY;
        for (int j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, xr[j]);
        m = blockMax(m, scratch);
        float s = 0.f;
        for (int j = threadIdx.x; j < n; j += blockDim.x) s += expf(xr[j] - m);
        s = blockSum(s, scratch);
        if (logOut) {
            float ls = logf(s);
            for (int j = threadIdx.x; j < n; j += blockDim.x) yr[j] = xr[j] - m - ls;
        } else {
            float inv = 1.f / s;
            for (int j = threadIdx.x; j < n; j += blockDim.x) yr[j] = expf(xr[j] - m) * inv;
        }
        __syncthreads();
    }
}

extern "C" __global__ void kiln_softmax_cols(float* y, const float* x, int outer, int n, int inner, int logOut) {
    long long total = (long long) outer * inner;
    GRID_STRIDE(t, total) {
        int o = (int) (t / inner), i = (int) (t - (long long) o * inner);
        long long base = (long long) o * n * inner + i;
        float m = -INFINITY;
        for (int j = 0; j < n; j++) m = fmaxf(m, x[base + (long long) j * inner]);
        float s = 0.f;
        for (int j = 0; j < n; j++) s += expf(x[base + (long long) j * inner] - m);
        float ls = logf(s), inv = 1.f / s;
        for (int j = 0; j < n; j++) {
            long long p = base + (long long) j * inner;
            y[p] = logOut ? x[p] - m - ls : expf(x[p] - m) * inv;
        }
    }
}

// softmax: gx = y * (gy - sum(gy * y)); log-softmax: gx = gy - exp(y) * sum(gy).
extern "C" __global__ void kiln_softmax_bwd_rows(float* gx, const float* y, const float* gy, int rows, int n, int logOut) {
    __shared__ float scratch[32];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        long long b = (long long) r * n;
        float s = 0.f;
        for (int j = threadIdx.x; j < n; j += blockDim.x) s += logOut ? gy[b + j] : gy[b + j] * y[b + j];
        s = blockSum(s, scratch);
        for (int j = threadIdx.x; j < n; j += blockDim.x) {
            gx[b + j] = logOut ? gy[b + j] - expf(y[b + j]) * s : y[b + j] * (gy[b + j] - s);
        }
        __syncthreads();
    }
}

extern "C" __global__ void kiln_softmax_bwd_cols(float* gx, const float* y, const float* gy, int outer, int n, int inner, int logOut) {
    long long total = (long long) outer * inner;
    GRID_STRIDE(t, total) {
        int o = (int) (t / inner), i = (int) (t - (long long) o * inner);
        long long base = (long long) o * n * inner + i;
        float s = 0.f;
        for (int j = 0; j < n; j++) {
            long long p = base + (long long) j * inner;
            s += logOut ? gy[p] : gy[p] * y[p];
        }
        for (int j = 0; j < n; j++) {
            long long p = base + (long long) j * inner;
            gx[p] = logOut ? gy[p] - expf(y[p]) * s : y[p] * (gy[p] - s);
        }
    }
}

// loss[r] = logsumexp(x[r, :]) - x[r, label[r]]; lse[r] keeps logsumexp for the backward.
// A label outside [0, c) gives NaN (the engine checks labels before the launch).
extern "C" __global__ void kiln_xent_fwd(float* loss, float* lse, const float* x, const long long* label, int rows, int c) {
    __shared__ float scratch[32];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + (long long) r * c;
        float m = -INFINITY;
        for (int j = threadIdx.x; j < c; j += blockDim.x) m = fmaxf(m, xr[j]);
        m = blockMax(m, scratch);
        float s = 0.f;
        for (int j = threadIdx.x; j < c; j += blockDim.x) s += expf(xr[j] - m);
        s = blockSum(s, scratch);
        if (threadIdx.x == 0) {
            float l = m + logf(s);
            long long t = label[r];
            lse[r] = l;
            loss[r] = (t >= 0 && t < c) ? l - xr[t] : NAN;
        }
        __syncthreads();
    }
}

// gx[r, j] = (exp(x[r, j] - lse[r]) - (j == label[r])) * gloss[r].
extern "C" __global__ void kiln_xent_bwd(float* gx, const float* x, const float* lse, const long long* label,
                                         const float* gloss, int rows, int c) {
    long long total = (long long) rows * c;
    GRID_STRIDE(i, total) {
        int r = (int) (i / c), j = (int) (i - (long long) r * c);
        float p = expf(x[i] - lse[r]);
        gx[i] = (p - (j == label[r] ? 1.f : 0.f)) * gloss[r];
    }
}

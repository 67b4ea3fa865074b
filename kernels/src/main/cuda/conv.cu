// Convolution helpers around the GEMM kernels (im2col lowering, NCHW): im2col and its adjoint
// col2im (a gather, so no atomics and a fixed summation order), the [N, C, HW] -> [C, N*HW]
// transpose of an output gradient, and the bias gradient.
//
// Geometry: input [N, C, H, W], weight [OC, C/G, KH, KW], output [N, OC, OH, OW]; a call covers
// images n0 .. n0+nb-1 and channels c0 .. c0+cg-1 (one group). col is [cg*KH*KW, nb*OH*OW].
#include "kiln.cuh"

struct ConvShape {
    int C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;
};

extern "C" __global__ void kiln_im2col(float* col, const float* x, ConvShape s, int n0, int nb, int c0, int cg) {
    long long ohw = (long long) s.OH * s.OW, cols = nb * ohw, total = (long long) cg * s.KH * s.KW * cols;
    GRID_STRIDE(t, total) {
        long long r = t / cols, q = t - r * cols;
        int img = (int) (q / ohw), p = (int) (q - img * ohw);
        int oy = p / s.OW, ox = p - oy * s.OW;
        int c = (int) (r / (s.KH * s.KW)), kk = (int) (r - (long long) c * s.KH * s.KW);
        int ki = kk / s.KW, kj = kk - ki * s.KW;
        int iy = oy * s.SH - s.PH + ki * s.DH, ix = ox * s.SW - s.PW + kj * s.DW;
        float v = 0.f;
        if (iy >= 0 && iy < s.H && ix >= 0 && ix < s.W) {
            v = x[(((long long) (n0 + img) * s.C + c0 + c) * s.H + iy) * s.W + ix];
        }
        col[t] = v;
    }
}

// gx[n0+img, c0+c, iy, ix] = sum of the col entries that im2col read from that position.
extern "C" __global__ void kiln_col2im(float* gx, const float* col, ConvShape s, int n0, int nb, int c0, int cg) {
    long long hw = (long long) s.H * s.W, ohw = (long long) s.OH * s.OW, cols = nb * ohw;
    long long total = (long long) nb * cg * hw;
    GRID_STRIDE(t, total) {
        int img = (int) (t / (cg * hw));
        long long rem = t - (long long) img * cg * hw;
        int c = (int) (rem / hw), p = (int) (rem - (long long) c * hw);
        int iy = p / s.W, ix = p - iy * s.W;
        float acc = 0.f;
        for (int ki = 0; ki < s.KH; ki++) {
            int ty = iy + s.PH - ki * s.DH;
            if (ty < 0 || ty % s.SH != 0) continue;
            int oy = ty / s.SH;
            if (oy >= s.OH) continue;
            for (int kj = 0; kj < s.KW; kj++) {
                int tx = ix + s.PW - kj * s.DW;
                if (tx < 0 || tx % s.SW != 0) continue;
                int ox = tx / s.SW;
                if (ox >= s.OW) continue;
                long long r = ((long long) c * s.KH + ki) * s.KW + kj;
                acc += col[r * cols + img * ohw + (long long) oy * s.OW + ox];
            }
        }
        gx[(((long long) (n0 + img) * s.C + c0 + c) * s.H + iy) * s.W + ix] = acc;
    }
}

// out[o, img*hw + p] = y[n0+img, oc0+o, p] for o < ocg: [N, OC, HW] -> [ocg, nb*HW].
extern "C" __global__ void kiln_nchw_to_cn(float* out, const float* y, int n0, int nb, int OC, int oc0, int ocg, int hw) {
    long long cols = (long long) nb * hw, total = (long long) ocg * cols;
    GRID_STRIDE(t, total) {
        int o = (int) (t / cols);
        long long q = t - (long long) o * cols;
        int img = (int) (q / hw), p = (int) (q - (long long) img * hw);
        out[t] = y[((long long) (n0 + img) * OC + oc0 + o) * hw + p];
    }
}

// gb[oc] = sum_{n, p} gy[n, oc, p]: one block per channel.
extern "C" __global__ void kiln_bias_grad(float* gb, const float* gy, int N, int OC, int hw) {
    __shared__ float scratch[32];
    for (int oc = blockIdx.x; oc < OC; oc += gridDim.x) {
        float s = 0.f;
        long long per = (long long) N * hw;
        for (long long t = threadIdx.x; t < per; t += blockDim.x) {
            int n = (int) (t / hw);
            s += gy[((long long) n * OC + oc) * hw + (t - (long long) n * hw)];
        }
        s = blockSum(s, scratch);
        if (threadIdx.x == 0) gb[oc] = s;
        __syncthreads();
    }
}

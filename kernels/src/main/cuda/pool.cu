// Pooling over [planes, H, W] (planes = N*C): max pooling with the flat in-plane index of each
// maximum (int32; the first maximum wins, NaN wins as on the CPU), its backward (atomicAdd where
// windows overlap), average pooling and its backward (a gather), adaptive average pooling.
#include "kiln.cuh"

struct PoolShape {
    int H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;
};

extern "C" __global__ void kiln_maxpool(float* y, int* arg, const float* x, PoolShape s, int planes) {
    long long ohw = (long long) s.OH * s.OW, total = planes * ohw;
    GRID_STRIDE(t, total) {
        int pl = (int) (t / ohw), p = (int) (t - pl * ohw);
        int oy = p / s.OW, ox = p - oy * s.OW;
        const float* xp = x + (long long) pl * s.H * s.W;
        float best = -INFINITY;
        int bi = -1;
        for (int ki = 0; ki < s.KH; ki++) {
            int iy = oy * s.SH - s.PH + ki * s.DH;
            if (iy < 0 || iy >= s.H) continue;
            for (int kj = 0; kj < s.KW; kj++) {
                int ix = ox * s.SW - s.PW + kj * s.DW;
                if (ix < 0 || ix >= s.W) continue;
                float v = xp[iy * s.W + ix];
                if (bi < 0 || v > best || (v != v && best == best)) { best = v; bi = iy * s.W + ix; }
            }
        }
        y[t] = best;
        arg[t] = bi;
    }
}

extern "C" __global__ void kiln_maxpool_bwd(float* gx, const float* gy, const int* arg, int planes, int hw, int ohw) {
    long long total = (long long) planes * ohw;
    GRID_STRIDE(t, total) {
        int pl = (int) (t / ohw);
        int a = arg[t];
        if (a >= 0) atomicAdd(gx + (long long) pl * hw + a, gy[t]);
    }
}

__device__ __forceinline__ int avgDivisor(const PoolShape& s, int oy, int ox, int count, int includePad) {
    if (!includePad) return count;
    int rows = min(oy * s.SH - s.PH + s.KH, s.H + s.PH) - (oy * s.SH - s.PH);
    int cols = min(ox * s.SW - s.PW + s.KW, s.W + s.PW) - (ox * s.SW - s.PW);
    return rows * cols;
}

extern "C" __global__ void kiln_avgpool(float* y, const float* x, PoolShape s, int planes, int includePad) {
    long long ohw = (long long) s.OH * s.OW, total = planes * ohw;
    GRID_STRIDE(t, total) {
        int pl = (int) (t / ohw), p = (int) (t - pl * ohw);
        int oy = p / s.OW, ox = p - oy * s.OW;
        const float* xp = x + (long long) pl * s.H * s.W;
        float acc = 0.f;
        int count = 0;
        for (int ki = 0; ki < s.KH; ki++) {
            int iy = oy * s.SH - s.PH + ki;
            if (iy < 0 || iy >= s.H) continue;
            for (int kj = 0; kj < s.KW; kj++) {
                int ix = ox * s.SW - s.PW + kj;
                if (ix < 0 || ix >= s.W) continue;
                acc += xp[iy * s.W + ix];
                count++;
            }
        }
        int d = avgDivisor(s, oy, ox, count, includePad);
        y[t] = d > 0 ? acc / d : 0.f;
    }
}

extern "C" __global__ void kiln_avgpool_bwd(float* gx, const float* gy, PoolShape s, int planes, int includePad) {
    long long hw = (long long) s.H * s.W, total = planes * hw;
    GRID_STRIDE(t, total) {
        int pl = (int) (t / hw), p = (int) (t - pl * hw);
        int iy = p / s.W, ix = p - iy * s.W;
        const float* gp = gy + (long long) pl * s.OH * s.OW;
        float acc = 0.f;
        for (int oy = 0; oy < s.OH; oy++) {
            int y0 = oy * s.SH - s.PH;
            if (iy < y0 || iy >= y0 + s.KH) continue;
            for (int ox = 0; ox < s.OW; ox++) {
                int x0 = ox * s.SW - s.PW;
                if (ix < x0 || ix >= x0 + s.KW) continue;
                int count = (min(y0 + s.KH, s.H) - max(y0, 0)) * (min(x0 + s.KW, s.W) - max(x0, 0));
                int d = avgDivisor(s, oy, ox, count, includePad);
                if (d > 0) acc += gp[oy * s.OW + ox] / d;
            }
        }
        gx[t] = acc;
    }
}

__device__ __forceinline__ int binStart(int i, int size, int out) { return (int) ((long long) i * size / out); }
__device__ __forceinline__ int binEnd(int i, int size, int out) { return (int) (((long long) (i + 1) * size + out - 1) / out); }

extern "C" __global__ void kiln_adaptive_avgpool(float* y, const float* x, int planes, int H, int W, int OH, int OW) {
    long long ohw = (long long) OH * OW, total = planes * ohw;
    GRID_STRIDE(t, total) {
        int pl = (int) (t / ohw), p = (int) (t - pl * ohw);
        int oy = p / OW, ox = p - oy * OW;
        int y0 = binStart(oy, H, OH), y1 = binEnd(oy, H, OH), x0 = binStart(ox, W, OW), x1 = binEnd(ox, W, OW);
        const float* xp = x + (long long) pl * H * W;
        float acc = 0.f;
        for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) acc += xp[iy * W + ix];
        y[t] = acc / ((y1 - y0) * (x1 - x0));
    }
}

extern "C" __global__ void kiln_adaptive_avgpool_bwd(float* gx, const float* gy, int planes, int H, int W, int OH, int OW) {
    long long hw = (long long) H * W, total = planes * hw;
    GRID_STRIDE(t, total) {
        int pl = (int) (t / hw), p = (int) (t - pl * hw);
        int iy = p / W, ix = p - iy * W;
        const float* gp = gy + (long long) pl * OH * OW;
        float acc = 0.f;
        for (int oy = 0; oy < OH; oy++) {
            int y0 = binStart(oy, H, OH), y1 = binEnd(oy, H, OH);
            if (iy < y0 || iy >= y1) continue;
            for (int ox = 0; ox < OW; ox++) {
                int x0 = binStart(ox, W, OW), x1 = binEnd(ox, W, OW);
                if (ix < x0 || ix >= x1) continue;
                acc += gp[oy * OW + ox] / ((y1 - y0) * (x1 - x0));
            }
        }
        gx[t] = acc;
    }
}

// Fused optimizer updates over contiguous fp32 parameters, element for element the float
// expressions of dev.kiln.nn.optim.FusedF32 (no fused multiply-add: __fmul_rn/__fadd_rn).
#include "kiln.cuh"

#define MUL(a, b) __fmul_rn(a, b)
#define ADD(a, b) __fadd_rn(a, b)

// d = g + wd*w; with buf: buf = first ? d : mom*buf + (1-dampening)*d, d = nesterov ? d + mom*buf : buf;
// w = w + (-lr)*d. buf is null when momentum is 0.
extern "C" __global__ void kiln_sgd(float* w, const float* g, float* buf, float lr, float wd, float mom, float dampening,
                                    int nesterov, int first, long long n) {
    float keep = 1.f - dampening;
    GRID_STRIDE(i, n) {
        float wi = w[i], d = g[i];
        if (wd != 0.f) d = ADD(d, MUL(wi, wd));
        if (buf) {
            float b = first ? d : ADD(MUL(buf[i], mom), MUL(d, keep));
            buf[i] = b;
            d = nesterov ? ADD(d, MUL(b, mom)) : b;
        }
        w[i] = ADD(wi, MUL(d, -lr));
    }
}

// w *= decay; g += l2*w; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g; vmax = max(vmax, v) (AMSGrad,
// vmax null without); w = w + (-stepSize) * (m / (sqrt(vmax or v)/bc2Sqrt + eps)).
extern "C" __global__ void kiln_adam(float* w, const float* g, float* m, float* v, float* vmax, float b1, float b2,
                                     float eps, float l2, float decay, float stepSize, float bc2Sqrt, long long n) {
    float k1 = 1.f - b1, k2 = 1.f - b2, step = -stepSize;
    GRID_STRIDE(i, n) {
        float wi = MUL(w[i], decay);
        float gi = g[i];
        if (l2 != 0.f) gi = ADD(gi, MUL(wi, l2));
        float mi = ADD(MUL(m[i], b1), MUL(gi, k1));
        float vi = ADD(MUL(v[i], b2), MUL(MUL(gi, gi), k2));
        m[i] = mi;
        v[i] = vi;
        if (vmax) {
            vi = fmaxf(vmax[i], vi);
            vmax[i] = vi;
        }
        float denom = ADD(__fdiv_rn(__fsqrt_rn(vi), bc2Sqrt), eps);
        w[i] = ADD(wi, MUL(__fdiv_rn(mi, denom), step));
    }
}

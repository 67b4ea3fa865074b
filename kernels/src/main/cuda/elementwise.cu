// Elementwise kernels: unary ops, binary ops and comparisons with broadcasting (through the
// Strides descriptor), where, strided copies of 1-, 4- and 8-byte elements, fill and axpy.
// Op codes are the ordinals of dev.kiln.kernels.UnaryOp / BinaryOp / CompareOp.
#include "kiln.cuh"

__device__ __forceinline__ float normCdf(float v) { return 0.5f * erfcf(-v * 0.70710678118654752f); }

__device__ __forceinline__ float unaryOp(int op, float v) {
    switch (op) {
        case 0: return -v;
        case 1: return expf(v);
        case 2: return logf(v);
        case 3: return sqrtf(v);
        case 4: return tanhf(v);
        case 5: return v >= 0.f ? 1.f / (1.f + expf(-v)) : expf(v) / (1.f + expf(v));
        case 6: return v < 0.f ? 0.f : v;
        case 7: return v * normCdf(v);
        case 8: return normCdf(v) + v * expf(-0.5f * v * v) * 0.3989422804014327f;
        case 9: return fabsf(v);
        case 10: return v * v;
        case 11: return 1.f / v;
        default: return v > 0.f ? 1.f : v < 0.f ? -1.f : v;
    }
}

__device__ __forceinline__ float binaryOp(int op, float a, float b) {
    switch (op) {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        case 3: return a / b;
        case 4: return (a != a || b != b) ? a + b : fmaxf(a, b);
        case 5: return (a != a || b != b) ? a + b : fminf(a, b);
        default: return powf(a, b);
    }
}

__device__ __forceinline__ bool compareOp(int op, float a, float b) {
    switch (op) {
        case 0: return a == b;
        case 1: return a != b;
        case 2: return a < b;
        case 3: return a <= b;
        case 4: return a > b;
        default: return a >= b;
    }
}

// out[i] = op(x[i]), contiguous.
extern "C" __global__ void kiln_unary(int op, float* out, const float* x, long long n) {
    GRID_STRIDE(i, n) out[i] = unaryOp(op, x[i]);
}

// out[i] = x[i]^p (p = 0.5 is sqrt, p = -0.5 is 1/sqrt, as the CPU kernel).
extern "C" __global__ void kiln_pow_scalar(float* out, const float* x, float p, long long n) {
    GRID_STRIDE(i, n) {
        float v = x[i];
        out[i] = p == 0.5f ? sqrtf(v) : p == -0.5f ? rsqrtf(v) : powf(v, p);
    }
}

// out[o0] = a[o1] op b[o2] over d's shape (out may alias a for in-place ops).
extern "C" __global__ void kiln_binary(int op, float* out, const float* a, const float* b, Strides d, long long n) {
    GRID_STRIDE(i, n) {
        long long o[3];
        offsets<3>(d, i, o);
        out[o[0]] = binaryOp(op, a[o[1]], b[o[2]]);
    }
}

// out[o0] = (a[o1] op b[o2]) ? 1 : 0.
extern "C" __global__ void kiln_compare(int op, unsigned char* out, const float* a, const float* b, Strides d, long long n) {
    GRID_STRIDE(i, n) {
        long long o[3];
        offsets<3>(d, i, o);
        out[o[0]] = compareOp(op, a[o[1]], b[o[2]]) ? 1 : 0;
    }
}

// out[o0] = c[o1] ? a[o2] : b[o3].
extern "C" __global__ void kiln_where(float* out, const unsigned char* c, const float* a, const float* b, Strides d, long long n) {
    GRID_STRIDE(i, n) {
        long long o[4];
        offsets<4>(d, i, o);
        out[o[0]] = c[o[1]] ? a[o[2]] : b[o[3]];
    }
}

// out[o0] = x[o1]: strided (and broadcasting) copies by element size.
extern "C" __global__ void kiln_copy1(unsigned char* out, const unsigned char* x, Strides d, long long n) {
    GRID_STRIDE(i, n) { long long o[2]; offsets<2>(d, i, o); out[o[0]] = x[o[1]]; }
}

extern "C" __global__ void kiln_copy4(unsigned int* out, const unsigned int* x, Strides d, long long n) {
    GRID_STRIDE(i, n) { long long o[2]; offsets<2>(d, i, o); out[o[0]] = x[o[1]]; }
}

extern "C" __global__ void kiln_copy8(unsigned long long* out, const unsigned long long* x, Strides d, long long n) {
    GRID_STRIDE(i, n) { long long o[2]; offsets<2>(d, i, o); out[o[0]] = x[o[1]]; }
}

// out[o0] = v over a strided view.
extern "C" __global__ void kiln_fill(float* out, float v, Strides d, long long n) {
    GRID_STRIDE(i, n) { long long o[1]; offsets<1>(d, i, o); out[o[0]] = v; }
}

// y[i] += alpha * x[i], contiguous.
extern "C" __global__ void kiln_axpy(float* y, float alpha, const float* x, long long n) {
    GRID_STRIDE(i, n) y[i] += alpha * x[i];
}

// Casts between F32 and the integer types used for labels and indices (contiguous).
extern "C" __global__ void kiln_i64_to_f32(float* out, const long long* x, long long n) {
    GRID_STRIDE(i, n) out[i] = (float) x[i];
}

extern "C" __global__ void kiln_i32_to_i64(long long* out, const int* x, long long n) {
    GRID_STRIDE(i, n) out[i] = x[i];
}

extern "C" __global__ void kiln_u8_to_f32(float* out, const unsigned char* x, long long n) {
    GRID_STRIDE(i, n) out[i] = (float) x[i];
}

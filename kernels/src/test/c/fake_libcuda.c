/*
 * A stand-in for libcuda.so.1 for FakeDriverTest: the driver calls Kiln binds, over host memory
 * (a "device pointer" is a malloc'ed host address), with three kernels run on the CPU (kiln_axpy,
 * kiln_copy4, kiln_fill) so that launches check the argument marshalling and the Strides struct
 * layout of kiln.cuh. Not a model of a GPU: it checks the FFM binding, nothing else.
 * Built by the test with: cc -shared -fPIC -O1 -o libfakecuda.so fake_libcuda.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

static int launches;
static unsigned last_grid[3], last_block[3];

int fake_launches(void) { return launches; }
void fake_last_launch(unsigned *out) {
    memcpy(out, last_grid, sizeof last_grid);
    memcpy(out + 3, last_block, sizeof last_block);
}

CUresult cuInit(unsigned flags) { return flags == 0 ? 0 : 1; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = 1; return 0; }
CUresult cuDeviceGet(int *d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
CUresult cuDeviceGetName(char *name, int len, int dev) { (void) dev; strncpy(name, "Kiln fake GPU", len); return 0; }
CUresult cuDeviceGetAttribute(int *v, int attr, int dev) {
    (void) dev;
    switch (attr) {
        case 16: *v = 132; return 0;
        case 75: *v = 9; return 0;
        case 76: *v = 0; return 0;
        default: return 1;
    }
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int dev) { (void) dev; *bytes = 80ull << 30; return 0; }
CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev) { (void) dev; *ctx = (void *) 0x1000; return 0; }
CUresult cuCtxSetCurrent(void *ctx) { return ctx == (void *) 0x1000 ? 0 : 201; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuStreamCreate(void **s, unsigned flags) { (void) flags; *s = (void *) 0x2000; return 0; }
CUresult cuStreamDestroy_v2(void *s) { (void) s; return 0; }
CUresult cuStreamSynchronize(void *s) { return s == (void *) 0x2000 ? 0 : 400; }
CUresult cuEventCreate(void **e, unsigned flags) { (void) flags; *e = malloc(1); return 0; }
CUresult cuEventRecord(void *e, void *s) { (void) e; (void) s; return 0; }
CUresult cuEventSynchronize(void *e) { (void) e; return 0; }
CUresult cuEventElapsedTime_v2(float *ms, void *a, void *b) { (void) a; (void) b; *ms = 1.5f; return 0; }
CUresult cuEventDestroy_v2(void *e) { free(e); return 0; }
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
    if (n > (1ull << 40)) return 2;
    void *m = aligned_alloc(256, (n + 255) / 256 * 256);
    if (!m) return 2;
    *p = (CUdeviceptr) (uintptr_t) m;
    return 0;
}
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *) (uintptr_t) p); return 0; }
CUresult cuMemAllocHost_v2(void **p, size_t n) { *p = malloc(n); return *p ? 0 : 2; }
CUresult cuMemFreeHost(void *p) { free(p); return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) { memcpy((void *) (uintptr_t) d, s, n); return 0; }
CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) { memcpy(d, (void *) (uintptr_t) s, n); return 0; }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, void *st) { (void) st; return cuMemcpyHtoD_v2(d, s, n); }
CUresult cuMemcpyDtoHAsync_v2(void *d, CUdeviceptr s, size_t n, void *st) { (void) st; return cuMemcpyDtoH_v2(d, s, n); }
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, void *st) {
    (void) st;
    memmove((void *) (uintptr_t) d, (void *) (uintptr_t) s, n);
    return 0;
}
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, void *st) { (void) st; memset((void *) (uintptr_t) d, v, n); return 0; }
CUresult cuMemsetD32Async(CUdeviceptr d, unsigned v, size_t n, void *st) {
    (void) st;
    unsigned *p = (unsigned *) (uintptr_t) d;
    for (size_t i = 0; i < n; i++) p[i] = v;
    return 0;
}
CUresult cuMemGetInfo_v2(size_t *f, size_t *t) { *f = 79ull << 30; *t = 80ull << 30; return 0; }
CUresult cuModuleLoadData(void **m, const void *image) { if (!image) return 1; *m = (void *) image; return 0; }
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
    (void) m;
    if (strncmp(name, "kiln_", 5) != 0) return 500;
    *f = strdup(name);
    return 0;
}

/* kiln.cuh's Strides and offsets(), mirrored */
struct Strides { int rank; int shape[8]; int st[4][8]; int off[4]; };
static void offsets(const struct Strides *d, long long i, int ops, long long *o) {
    for (int k = 0; k < ops; k++) o[k] = d->off[k];
    for (int r = d->rank - 1; r >= 0; r--) {
        long long q = i / d->shape[r];
        int c = (int) (i - q * d->shape[r]);
        i = q;
        for (int k = 0; k < ops; k++) o[k] += (long long) c * d->st[k][r];
    }
}

CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shm, void *stream, void **params, void **extra) {
    (void) shm; (void) stream;
    if (extra) return 1;
    const char *name = (const char *) f;
    launches++;
    last_grid[0] = gx; last_grid[1] = gy; last_grid[2] = gz;
    last_block[0] = bx; last_block[1] = by; last_block[2] = bz;
    if (strcmp(name, "kiln_axpy") == 0) {
        float *y = *(float **) params[0];
        float alpha = *(float *) params[1];
        const float *x = *(const float **) params[2];
        long long n = *(long long *) params[3];
        for (long long i = 0; i < n; i++) y[i] += alpha * x[i];
        return 0;
    }
    if (strcmp(name, "kiln_copy4") == 0) {
        unsigned *out = *(unsigned **) params[0];
        const unsigned *x = *(const unsigned **) params[1];
        const struct Strides *d = (const struct Strides *) params[2];
        long long n = *(long long *) params[3];
        for (long long i = 0; i < n; i++) { long long o[2]; offsets(d, i, 2, o); out[o[0]] = x[o[1]]; }
        return 0;
    }
    if (strcmp(name, "kiln_fill") == 0) {
        float *out = *(float **) params[0];
        float v = *(float *) params[1];
        const struct Strides *d = (const struct Strides *) params[2];
        long long n = *(long long *) params[3];
        for (long long i = 0; i < n; i++) { long long o[1]; offsets(d, i, 1, o); out[o[0]] = v; }
        return 0;
    }
    return 801;
}

static const char *name_of(CUresult c) {
    switch (c) {
        case 0: return "CUDA_SUCCESS";
        case 1: return "CUDA_ERROR_INVALID_VALUE";
        case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
        case 500: return "CUDA_ERROR_NOT_FOUND";
        case 801: return "CUDA_ERROR_NOT_SUPPORTED";
        default: return 0;
    }
}
CUresult cuGetErrorName(CUresult c, const char **s) { *s = name_of(c); return *s ? 0 : 1; }
CUresult cuGetErrorString(CUresult c, const char **s) {
    switch (c) {
        case 2: *s = "out of memory"; return 0;
        case 500: *s = "named symbol not found"; return 0;
        case 801: *s = "operation not supported"; return 0;
        default: *s = name_of(c); return *s ? 0 : 1;
    }
}

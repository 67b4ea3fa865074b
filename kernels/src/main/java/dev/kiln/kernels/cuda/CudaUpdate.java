package dev.kiln.kernels.cuda;

/**
 * Fused optimizer updates (optim.cu) and index ops (index.cu) on the GPU: contiguous fp32
 * tensors, int64 indices, device addresses. The updates compute, element for element, the float
 * expressions of the CPU's fused optimizer loops (no fused multiply-add).
 */
public final class CudaUpdate {
    private static final int THREADS = 256;

    private CudaUpdate() {
    }

    /**
     * SGD: d = g + wd*w; with momentum buf = first ? d : mom*buf + (1-dampening)*d and
     * d = nesterov ? d + mom*buf : buf; w += -lr*d. {@code buf} 0 when momentum is 0.
     */
    public static void sgd(CudaDevice d, long w, long g, long buf, float lr, float wd, float mom, float dampening,
                           boolean nesterov, boolean first, long n) {
        if (n > 0) {
            Launch.of(d, "optim", "kiln_sgd").grid(Launch.blocksFor(n, THREADS)).block(THREADS).ptr(w).ptr(g).ptr(buf)
                    .f32(lr).f32(wd).f32(mom).f32(dampening).i32(nesterov ? 1 : 0).i32(first ? 1 : 0).i64(n).run();
        }
    }

    /**
     * Adam / AdamW: w *= decay; g += l2*w; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
     * vmax = max(vmax, v) with AMSGrad (else 0); w += -stepSize * m / (sqrt(vmax or v)/bc2Sqrt + eps).
     */
    public static void adam(CudaDevice d, long w, long g, long m, long v, long vmax, float b1, float b2, float eps, float l2,
                            float decay, float stepSize, float bc2Sqrt, long n) {
        if (n > 0) {
            Launch.of(d, "optim", "kiln_adam").grid(Launch.blocksFor(n, THREADS)).block(THREADS).ptr(w).ptr(g).ptr(m).ptr(v)
                    .ptr(vmax).f32(b1).f32(b2).f32(eps).f32(l2).f32(decay).f32(stepSize).f32(bc2Sqrt).i64(n).run();
        }
    }

    /** out[o, j, i] = x[o, idx[j], i]; x [outer, dx, inner], out [outer, nIdx, inner]. */
    public static void indexSelect(CudaDevice d, long out, long x, long idx, int outer, int dx, int nIdx, int inner) {
        long n = (long) outer * nIdx * inner;
        if (n > 0) {
            Launch.of(d, "index", "kiln_index_select").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                    .ptr(out).ptr(x).ptr(idx).i32(outer).i32(dx).i32(nIdx).i32(inner).run();
        }
    }

    /** out[o, idx[j], i] += src[o, j, i] (atomic; out zero-filled by the caller). */
    public static void indexAdd(CudaDevice d, long out, long src, long idx, int outer, int dOut, int nIdx, int inner) {
        long n = (long) outer * nIdx * inner;
        if (n > 0) {
            Launch.of(d, "index", "kiln_index_add").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                    .ptr(out).ptr(src).ptr(idx).i32(outer).i32(dOut).i32(nIdx).i32(inner).run();
        }
    }

    /** out[o, j, i] = x[o, idx[o, j, i], i]. */
    public static void gather(CudaDevice d, long out, long x, long idx, int outer, int dx, int dj, int inner) {
        long n = (long) outer * dj * inner;
        if (n > 0) {
            Launch.of(d, "index", "kiln_gather").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                    .ptr(out).ptr(x).ptr(idx).i32(outer).i32(dx).i32(dj).i32(inner).run();
        }
    }

    /** out[o, idx[o, j, i], i] += src[o, j, i] (atomic; out zero-filled by the caller). */
    public static void scatterAdd(CudaDevice d, long out, long src, long idx, int outer, int dOut, int dj, int inner) {
        long n = (long) outer * dj * inner;
        if (n > 0) {
            Launch.of(d, "index", "kiln_scatter_add").grid(Launch.blocksFor(n, THREADS)).block(THREADS)
                    .ptr(out).ptr(src).ptr(idx).i32(outer).i32(dOut).i32(dj).i32(inner).run();
        }
    }
}

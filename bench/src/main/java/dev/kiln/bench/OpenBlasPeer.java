package dev.kiln.bench;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_full;

/**
 * OpenBLAS sgemm through JavaCPP with off-heap buffers (a Java array would be copied on every
 * call, which is not how a user who cares about speed calls it). Reports the core type OpenBLAS
 * chose: with OPENBLAS_CORETYPE set it may run narrower kernels than the machine has.
 */
final class OpenBlasPeer implements AutoCloseable {
    private final FloatPointer a;
    private final FloatPointer b;
    private final FloatPointer c;
    private final int m;
    private final int n;
    private final int k;
    private final boolean transB;

    OpenBlasPeer(int m, int n, int k, boolean transB, float[] a, float[] b) {
        this.m = m;
        this.n = n;
        this.k = k;
        this.transB = transB;
        this.a = new FloatPointer(a);
        this.b = new FloatPointer(b);
        this.c = new FloatPointer((long) m * n);
    }

    static String coreName() {
        return openblas_full.openblas_get_corename().getString();
    }

    static void threads(int t) {
        openblas_full.openblas_set_num_threads(t);
    }

    /**
     * C = A * op(B), row-major; for one row of A, {@code cblas_sgemv} (as a user would call it:
     * OpenBLAS's sgemm packs all of B on every call, 1.0 ms for a 1 x 1024 x 1024 product here).
     */
    void run() {
        if (m == 1) {
            if (transB) {
                openblas_full.cblas_sgemv(openblas_full.CblasRowMajor, openblas_full.CblasNoTrans, n, k, 1.0f, b, k, a, 1,
                        0.0f, c, 1);
            } else {
                openblas_full.cblas_sgemv(openblas_full.CblasRowMajor, openblas_full.CblasTrans, k, n, 1.0f, b, n, a, 1,
                        0.0f, c, 1);
            }
            return;
        }
        openblas_full.cblas_sgemm(openblas_full.CblasRowMajor, openblas_full.CblasNoTrans, transB ? openblas_full.CblasTrans : openblas_full.CblasNoTrans,
                m, n, k, 1.0f, a, k, b, transB ? k : n, 0.0f, c, n);
    }

    float first() {
        return c.get(0);
    }

    @Override
    public void close() {
        a.close();
        b.close();
        c.close();
    }
}

package dev.kiln.kernels.cpu;

import java.util.Arrays;

/** The GEMM of scalar mode ({@code Simd.SCALAR}): plain loops, blocked along k, no vectors. */
final class GemmScalar {
    /** Slice of k swept over all of C before the next one. */
    private static final int KC = 256;

    private GemmScalar() {
    }

    /** Validated GEMM with {@code m, n, k > 0}, on the calling thread. */
    static void gemm(boolean acc, float[] c, int cOff, int ldc, boolean transA, float[] a, int aOff, int lda,
                     boolean transB, float[] b, int bOff, int ldb, int m, int n, int k) {
        if (!acc) {
            for (int i = 0; i < m; i++) {
                Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            }
        }
        int aRowStep = transA ? 1 : lda;
        int aColStep = transA ? lda : 1;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int p1 = Math.min(k, p0 + KC);
            for (int i = 0; i < m; i++) {
                int ci = cOff + i * ldc;
                int ai = aOff + i * aRowStep;
                if (transB) {
                    for (int j = 0; j < n; j++) {
                        int bi = bOff + j * ldb;
                        float s = 0f;
                        for (int p = p0; p < p1; p++) {
                            s += a[ai + p * aColStep] * b[bi + p];
                        }
                        c[ci + j] += s;
                    }
                } else {
                    for (int p = p0; p < p1; p++) {
                        float av = a[ai + p * aColStep];
                        int bi = bOff + p * ldb;
                        for (int j = 0; j < n; j++) {
                            c[ci + j] += av * b[bi + j];
                        }
                    }
                }
            }
        }
    }
}

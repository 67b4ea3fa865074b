package dev.kiln.kernels.ref;

import dev.kiln.kernels.cpu.GemmArgs;
import java.util.Objects;

/**
 * Reference GEMM over {@code double[]}: the triple loop of the definition, accumulating in double.
 * Same arguments, layouts and checks as {@code dev.kiln.kernels.cpu.Gemm}.
 */
public final class RefGemm {
    private RefGemm() {
    }

    /**
     * {@code C[m,n] = op(A)[m,k] * op(B)[k,n]}, or {@code +=} when {@code accumulate}; row-major.
     * Element {@code (i,j)} of C is {@code c[cOff + i*ldc + j]}; {@code op(A)(i,p)} is
     * {@code a[aOff + i*lda + p]}, or {@code a[aOff + p*lda + i]} when {@code transA}; likewise B with
     * {@code (p,j)} at {@code b[bOff + p*ldb + j]}, or {@code b[bOff + j*ldb + p]} when {@code transB}.
     * Without {@code accumulate} C is only written; {@code k == 0} gives zeros (or leaves C).
     *
     * @throws IllegalArgumentException on negative dims or offsets, a leading dimension smaller
     *                                  than its row length, or a buffer too small
     */
    public static void dgemm(boolean accumulate, double[] c, int cOff, int ldc,
                             boolean transA, double[] a, int aOff, int lda,
                             boolean transB, double[] b, int bOff, int ldb, int m, int n, int k) {
        check("dgemm", c, cOff, ldc, 0, transA, a, aOff, lda, 0, transB, b, bOff, ldb, 0, 1, m, n, k);
        gemm(accumulate, c, cOff, ldc, transA, a, aOff, lda, transB, b, bOff, ldb, m, n, k);
    }

    /**
     * For each {@code t < batch}: {@link #dgemm} on C, A, B starting at {@code cOff + t*strideC},
     * {@code aOff + t*strideA}, {@code bOff + t*strideB}; a stride of 0 shares that operand.
     *
     * @throws IllegalArgumentException as {@link #dgemm}, and for a negative batch or stride
     */
    public static void dgemmBatched(boolean accumulate, double[] c, int cOff, int ldc, long strideC,
                                    boolean transA, double[] a, int aOff, int lda, long strideA,
                                    boolean transB, double[] b, int bOff, int ldb, long strideB,
                                    int batch, int m, int n, int k) {
        check("dgemmBatched", c, cOff, ldc, strideC, transA, a, aOff, lda, strideA,
                transB, b, bOff, ldb, strideB, batch, m, n, k);
        for (int t = 0; t < batch; t++) {
            gemm(accumulate, c, (int) (cOff + t * strideC), ldc, transA, a, (int) (aOff + t * strideA), lda,
                    transB, b, (int) (bOff + t * strideB), ldb, m, n, k);
        }
    }

    private static void gemm(boolean accumulate, double[] c, int cOff, int ldc,
                             boolean transA, double[] a, int aOff, int lda,
                             boolean transB, double[] b, int bOff, int ldb, int m, int n, int k) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    double bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    private static void check(String name, double[] c, int cOff, int ldc, long strideC,
                              boolean transA, double[] a, int aOff, int lda, long strideA,
                              boolean transB, double[] b, int bOff, int ldb, long strideB,
                              int batch, int m, int n, int k) {
        Objects.requireNonNull(c, name + ": c is null");
        Objects.requireNonNull(a, name + ": a is null");
        Objects.requireNonNull(b, name + ": b is null");
        GemmArgs.check(name, "doubles", c.length, cOff, ldc, strideC, transA, a.length, aOff, lda, strideA,
                transB, b.length, bOff, ldb, strideB, batch, m, n, k);
    }
}

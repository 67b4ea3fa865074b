package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmAxpy.W;

import dev.kiln.kernels.Parallel;

/**
 * Direct GEMM for shapes with few rows or few columns (GEMV-like), where packing does not pay.
 * When both operands can be read along k ({@code op(A)} rows and {@code op(B)} columns contiguous,
 * after copying the small operand if needed) it takes dot products ({@link GemmDot}); otherwise
 * it sweeps the large operand with broadcast coefficients ({@link GemmAxpy}). The large operand is
 * never copied.
 */
final class GemmSmall {
    /** Up to this many rows take the direct path (packing B would not pay off). */
    static final int SMALL_M = 8;
    /** Up to this many columns take the direct path when A is transposed (packing A would not pay off). */
    static final int SMALL_N = 32;
    /** Columns of A swept per block in {@link #fewColumns}: about this many floats of A ... */
    private static final int SWEEP_FLOATS = 1 << 16;
    /** ... and at most this many columns (the scratch buffer holds four such rows). */
    private static final int SWEEP_MAX = 2048;

    /**
     * How long the pool's workers stay awake after a parallel call (system property
     * {@code kiln.gemm.small.spin.micros}, default 50), so that back-to-back calls (batch-1
     * inference layer after layer) do not wait for a parked worker to wake up.
     */
    private static final long SPIN_NANOS = Long.getLong("kiln.gemm.small.spin.micros", 50) * 1000;

    private GemmSmall() {
    }

    /** {@code body} over {@code [0, units)} on the pool when {@code parallel}, else {@code body(0, 1)} here. */
    private static void split(boolean parallel, int units, int grain, Parallel.RangeBody body) {
        if (parallel) {
            Parallel.forRange(units, grain, SPIN_NANOS, body);
        } else {
            body.run(0, 1);
        }
    }

    /**
     * Whether the direct path should take this shape: {@code m <= 8}, or {@code n <= 32} with A
     * transposed. Measured on Zen 5 (k from 84 to 1024): with more rows, or few columns of an
     * untransposed A, the packed path is faster, up to three times (its transposed packing of B
     * costs about as much as the plain copy).
     */
    static boolean suits(boolean transA, int m, int n) {
        return m <= SMALL_M || transA && n <= SMALL_N;
    }

    /** Validated GEMM with {@code m, n, k > 0} that {@link #suits} this path. */
    static void gemm(boolean acc, float[] c, int cOff, int ldc, boolean transA, float[] a, int aOff, int lda,
                     boolean transB, float[] b, int bOff, int ldb, int m, int n, int k) {
        boolean parallel = (long) m * n * k >= Gemm.PARALLEL_MIN_WORK && Parallel.threads() > 1;
        if (m <= n && transB) {
            float[] x = transA ? transpose(a, aOff, lda, k, m) : a;
            int xOff = transA ? 0 : aOff;
            int ldx = transA ? k : lda;
            int units = (n + 3) / 4;
            split(parallel, units, Gemm.grain(4L * m * k), (lo, hi) -> {
                int j0 = lo * 4;
                int j1 = parallel ? Math.min(n, hi * 4) : n;
                if (m == 1) {
                    GemmDot.gemv(acc, c, cOff + j0, x, xOff, b, bOff + j0 * ldb, ldb, j1 - j0, k);
                } else {
                    GemmDot.dot(acc, c, cOff + j0, ldc, x, xOff, ldx, b, bOff + j0 * ldb, ldb, m, j1 - j0, k);
                }
            });
        } else if (m <= n) {
            int units = (n + W - 1) / W;
            split(parallel, units, Gemm.grain((long) m * W * k), (lo, hi) -> {
                int j0 = lo * W;
                int j1 = parallel ? Math.min(n, hi * W) : n;
                fewRows(acc, c, cOff + j0, ldc, transA, a, aOff, lda, b, bOff + j0, ldb, m, j1 - j0, k);
            });
        } else if (!transA) {
            float[] y = transB ? b : transpose(b, bOff, ldb, k, n);
            int yOff = transB ? bOff : 0;
            int ldy = transB ? ldb : k;
            int units = (m + 3) / 4;
            split(parallel, units, Gemm.grain(4L * n * k), (lo, hi) -> {
                int i0 = lo * 4;
                int i1 = parallel ? Math.min(m, hi * 4) : m;
                GemmDot.dot(acc, c, cOff + i0 * ldc, ldc, a, aOff + i0 * lda, lda, y, yOff, ldy, i1 - i0, n, k);
            });
        } else {
            int units = (m + W - 1) / W;
            split(parallel, units, Gemm.grain((long) n * W * k), (lo, hi) -> {
                int i0 = lo * W;
                int i1 = parallel ? Math.min(m, hi * W) : m;
                fewColumns(acc, c, cOff + i0 * ldc, ldc, a, aOff + i0, lda, transB, b, bOff, ldb, i1 - i0, n, k);
            });
        }
    }

    /** {@code C[m,n] (=|+=) op(A)[m,k] * B[k,n]} ({@code B} not transposed): rows of C four at a time. */
    private static void fewRows(boolean acc, float[] c, int cOff, int ldc, boolean transA, float[] a, int aOff,
                                int lda, float[] b, int bOff, int ldb, int m, int n, int k) {
        int aRow = transA ? 1 : lda;
        int aStep = transA ? lda : 1;
        if (m == 1) {
            GemmAxpy.row(acc, c, cOff, a, aOff, aStep, b, bOff, ldb, n, k);
            return;
        }
        int[] o = new int[4];
        int[] so = new int[4];
        for (int i0 = 0; i0 < m; i0 += 4) {
            for (int q = 0; q < 4; q++) {
                int i = Math.min(i0 + q, m - 1);
                o[q] = cOff + i * ldc;
                so[q] = aOff + i * aRow;
            }
            GemmAxpy.rows4(acc, Math.min(4, m - i0), c, o, a, so, aStep, b, bOff, ldb, n, k);
        }
    }

    /**
     * {@code C[m,n] (=|+=) A[k,m]^T * op(B)[k,n]} ({@code A} transposed): columns of C four at a time,
     * each computed as a contiguous row {@code A^T * b_j} into a scratch buffer, then stored; A is
     * swept in column blocks that stay in cache across the groups of columns.
     */
    private static void fewColumns(boolean acc, float[] c, int cOff, int ldc, float[] a, int aOff, int lda,
                                   boolean transB, float[] b, int bOff, int ldb, int m, int n, int k) {
        int bCol = transB ? ldb : 1;
        int bStep = transB ? 1 : ldb;
        int block = Math.min(m, Math.max(W, Math.min(SWEEP_MAX, SWEEP_FLOATS / k) / W * W));
        float[] t = new float[4 * block];
        int[] so = new int[4];
        for (int i0 = 0; i0 < m; i0 += block) {
            int w = Math.min(block, m - i0);
            int[] o = {0, w, 2 * w, 3 * w};
            for (int j0 = 0; j0 < n; j0 += 4) {
                int cols = Math.min(4, n - j0);
                for (int q = 0; q < 4; q++) {
                    so[q] = bOff + Math.min(j0 + q, n - 1) * bCol;
                }
                GemmAxpy.rows4(false, cols, t, o, b, so, bStep, a, aOff + i0, lda, w, k);
                for (int q = 0; q < cols; q++) {
                    for (int i = 0, ci = cOff + i0 * ldc + j0 + q, ti = q * w; i < w; i++, ci += ldc, ti++) {
                        c[ci] = acc ? c[ci] + t[ti] : t[ti];
                    }
                }
            }
        }
    }

    /** Copy of the {@code [rows, cols]} matrix at {@code src} (leading dim {@code ld}) as {@code [cols, rows]}. */
    private static float[] transpose(float[] src, int off, int ld, int rows, int cols) {
        float[] t = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int q = 0; q < cols; q++) {
                t[q * rows + r] = src[off + r * ld + q];
            }
        }
        return t;
    }
}

package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;

import java.util.Arrays;
import java.util.Objects;

/**
 * Single-precision matrix multiply (GEMM), row-major, in the BLAS sense.
 *
 * <p>{@code C[m,n] (=|+=) op(A)[m,k] * op(B)[k,n]}. Element {@code (i,j)} of C sits at
 * {@code c[cOff + i*ldc + j]}. {@code op(A)} is A stored {@code [m,k]} (element {@code (i,p)} at
 * {@code a[aOff + i*lda + p]}) or, when {@code transA}, A stored {@code [k,m]} (element
 * {@code (i,p)} at {@code a[aOff + p*lda + i]}); likewise {@code op(B)} is B stored {@code [k,n]} or,
 * when {@code transB}, {@code [n,k]}.
 *
 * <p>Large shapes go through the BLIS scheme ({@link GemmPacked}): panels of B ({@code KC x NC})
 * and blocks of A ({@code MC x KC}) are packed into per-thread buffers ({@link GemmPack}) and a
 * register-blocked micro-kernel ({@link GemmMicro}) computes {@code MR x NR} tiles of C (8 or 5 rows x
 * 2 vectors). Shapes with few rows or columns, where packing does not pay (a Linear layer on a
 * small batch), take direct dot-product or axpy loops ({@link GemmSmall}); with
 * {@link Simd#SCALAR} a plain blocked scalar loop ({@link GemmScalar}). Threads take disjoint
 * parts of C, so the result does not depend on the thread count.
 *
 * <pre>{@code
 * // y[batch,out] = x[batch,in] * w[out,in]^T
 * Gemm.sgemm(false, y, 0, out, false, x, 0, in, true, w, 0, in, batch, out, in);
 * }</pre>
 */
public final class Gemm {
    /** Below this many multiply-adds a GEMM runs on the calling thread only. */
    static final long PARALLEL_MIN_WORK = 1L << 18;
    /** Each parallel chunk gets at least this many multiply-adds. */
    static final long PARALLEL_CHUNK_WORK = 1L << 17;
    /** Batched GEMMs up to this many multiply-adds each are spread over threads batch-wise. */
    static final long BATCH_SMALL_WORK = 1L << 22;

    private Gemm() {
    }

    /**
     * {@code C[m,n] = op(A)[m,k] * op(B)[k,n]}, or {@code +=} when {@code accumulate}; row-major,
     * see the class comment for the layouts. When {@code accumulate} is false C is only written
     * (its old contents, NaN included, never matter); {@code k == 0} writes zeros (or leaves C as
     * it is when accumulating). Splits the work over {@link Parallel} threads when it is large.
     *
     * @throws IllegalArgumentException on negative dims or offsets, a leading dimension smaller
     *                                  than its row length, or a buffer too small
     */
    public static void sgemm(boolean accumulate, float[] c, int cOff, int ldc,
                             boolean transA, float[] a, int aOff, int lda,
                             boolean transB, float[] b, int bOff, int ldb, int m, int n, int k) {
        check("sgemm", c, cOff, ldc, 0, transA, a, aOff, lda, 0, transB, b, bOff, ldb, 0, 1, m, n, k);
        run(accumulate, c, cOff, ldc, transA, a, aOff, lda, transB, b, bOff, ldb, null, 0, false, m, n, k);
    }

    /**
     * {@code C[m,n] = act(op(A)[m,k] * op(B)[k,n] + bias[n])}: the bias {@code bias[biasOff + j]}
     * is added to every row, then with {@code relu} negatives become zero ({@code v < 0 ? 0 : v},
     * NaN kept), all in the store of the product (a Linear layer's forward in one pass over C).
     * The result has exactly the bits of {@link #sgemm} followed by the bias add and the ReLU.
     * Layouts as {@link #sgemm}; C is only written.
     *
     * @throws IllegalArgumentException as {@link #sgemm}, or when {@code bias} has fewer than
     *                                  {@code n} floats from {@code biasOff}
     */
    public static void sgemmBias(boolean relu, float[] c, int cOff, int ldc,
                                 boolean transA, float[] a, int aOff, int lda,
                                 boolean transB, float[] b, int bOff, int ldb,
                                 float[] bias, int biasOff, int m, int n, int k) {
        check("sgemmBias", c, cOff, ldc, 0, transA, a, aOff, lda, 0, transB, b, bOff, ldb, 0, 1, m, n, k);
        Objects.requireNonNull(bias, "sgemmBias: bias is null");
        if (biasOff < 0 || (long) biasOff + n > bias.length) {
            throw new IllegalArgumentException("sgemmBias: expected a bias of " + n + " floats from offset " + biasOff
                    + ", got an array of " + bias.length);
        }
        run(false, c, cOff, ldc, transA, a, aOff, lda, transB, b, bOff, ldb, bias, biasOff, relu, m, n, k);
    }

    /**
     * For each {@code t < batch}: {@code C_t[m,n] (=|+=) op(A_t)[m,k] * op(B_t)[k,n]} where
     * {@code C_t} starts at {@code cOff + t*strideC}, {@code A_t} at {@code aOff + t*strideA} and
     * {@code B_t} at {@code bOff + t*strideB}; each is laid out as in {@link #sgemm}. A stride of 0
     * shares that operand between all batches (broadcast). Small GEMMs are spread over threads
     * batch by batch; large ones are each split over threads.
     *
     * @throws IllegalArgumentException as {@link #sgemm}, and for a negative batch or stride
     */
    public static void sgemmBatched(boolean accumulate, float[] c, int cOff, int ldc, long strideC,
                                    boolean transA, float[] a, int aOff, int lda, long strideA,
                                    boolean transB, float[] b, int bOff, int ldb, long strideB,
                                    int batch, int m, int n, int k) {
        check("sgemmBatched", c, cOff, ldc, strideC, transA, a, aOff, lda, strideA,
                transB, b, bOff, ldb, strideB, batch, m, n, k);
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        long work = (long) m * n * k;
        int threads = Parallel.threads();
        if (threads > 1 && batch >= threads && work <= BATCH_SMALL_WORK) {
            Parallel.forRange(batch, 1, (lo, hi) -> {
                for (int t = lo; t < hi; t++) {
                    run(accumulate, c, (int) (cOff + t * strideC), ldc, transA, a, (int) (aOff + t * strideA), lda,
                            transB, b, (int) (bOff + t * strideB), ldb, null, 0, false, m, n, k);
                }
            });
        } else {
            for (int t = 0; t < batch; t++) {
                run(accumulate, c, (int) (cOff + t * strideC), ldc, transA, a, (int) (aOff + t * strideA), lda,
                        transB, b, (int) (bOff + t * strideB), ldb, null, 0, false, m, n, k);
            }
        }
    }

    /** One validated GEMM: picks the path (scalar, direct, packed); bias and ReLU as {@link #sgemmBias}. */
    private static void run(boolean accumulate, float[] c, int cOff, int ldc,
                            boolean transA, float[] a, int aOff, int lda,
                            boolean transB, float[] b, int bOff, int ldb,
                            float[] bias, int bo, boolean relu, int m, int n, int k) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
                }
            }
        } else if (!Simd.SCALAR && !GemmSmall.suits(transA, m, n)) {
            GemmPacked.gemm(accumulate, c, cOff, ldc, transA, a, aOff, lda, transB, b, bOff, ldb, bias, bo, relu, m, n, k);
            return;
        } else if (Simd.SCALAR) {
            GemmScalar.gemm(accumulate, c, cOff, ldc, transA, a, aOff, lda, transB, b, bOff, ldb, m, n, k);
        } else {
            GemmSmall.gemm(accumulate, c, cOff, ldc, transA, a, aOff, lda, transB, b, bOff, ldb, m, n, k);
        }
        if (bias != null || relu) {
            for (int i = 0; i < m; i++) {
                GemmEpilogue.biasRelu(c, cOff + i * ldc, bias, bo, relu, n);
            }
        }
    }

    /** Minimum units per parallel chunk so that each chunk does enough work. */
    static int grain(long workPerUnit) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, PARALLEL_CHUNK_WORK / Math.max(1, workPerUnit)));
    }

    private static void check(String name, float[] c, int cOff, int ldc, long strideC,
                              boolean transA, float[] a, int aOff, int lda, long strideA,
                              boolean transB, float[] b, int bOff, int ldb, long strideB,
                              int batch, int m, int n, int k) {
        GemmArgs.nonNull(c, name, "c");
        GemmArgs.nonNull(a, name, "a");
        GemmArgs.nonNull(b, name, "b");
        GemmArgs.check(name, "floats", c.length, cOff, ldc, strideC, transA, a.length, aOff, lda, strideA,
                transB, b.length, bOff, ldb, strideB, batch, m, n, k);
    }
}

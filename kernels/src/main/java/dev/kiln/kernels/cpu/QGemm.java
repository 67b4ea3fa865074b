package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Parallel;
import java.util.Objects;

/**
 * 8-bit quantized matrix multiply with int32 accumulation, and the quantization helpers around it.
 *
 * <p>The product is {@code acc[i,j] = sum_p (A[i,p] - zpA) * B[j,p]} in int32 (wrapping, which
 * cannot happen for {@code k <= 65793}). A holds the activations, {@code [m,k]} row-major: element
 * {@code (i,p)} at {@code a[aOff + i*lda + p]}, read as uint8 ({@code aUnsigned}) or int8. B holds
 * the weights as int8 stored {@code [n,k]}, each output channel's row contiguous like a Linear
 * weight {@code [out,in]}: element {@code (j,p)} at {@code b[bOff + j*ldb + p]}. Weights are
 * symmetric (zero point 0), as in PyTorch's quantized Linear. Output element {@code (i,j)} sits at
 * {@code off + i*ld + j}; every kernel writes ({@code =}) its output.
 *
 * <p>Epilogues are fused: the int32 accumulators go from the micro-kernel through an L1-sized tile
 * to the output, never through an int32 matrix in memory. With {@code s_j = scaleA * scaleB[j]}
 * (float product; {@code scaleB} has length n, or length 1 for a per-tensor scale) and
 * {@code bias_j = bias[j]} ({@code 0} when {@code bias} is null), in float arithmetic:
 * <ul>
 *   <li>dequantize: {@code y = fma((float) acc, s_j, bias_j)};</li>
 *   <li>requantize: {@code t = fma((float) acc, s_j, bias_j) * (1f / scaleY)},
 *       {@code q = clamp(rint(t) + zpY, qmin, qmax)} with rounding half to even and saturation to the
 *       output type's range; with {@code relu} also {@code q = max(q, zpY)} (ReLU in the real
 *       domain); a NaN gives {@code zpY}.</li>
 * </ul>
 *
 * <p>How it runs. Where AVX512_VNNI code can run (Linux x86-64, native access enabled, the CPU
 * flags; {@code -Dkiln.int8.jit=false} turns it off), {@link QGemmJit}: {@code vpdpbusd}
 * micro-kernels generated as machine code at run time and called through the FFM linker, A packed
 * as unsigned bytes (64-row strips of k-quads, or 64-byte chunks of k for batches under 12 rows),
 * B read in place, the zero point corrected with B's column sums. Where AVX2 code can run but no
 * VNNI, {@link QGemmMadd}: {@code vpmaddwd} micro-kernels generated the same way, A widened to
 * 16-bit k-pairs minus its zero point, B to 16-bit k-pairs in panels of 24 columns (or, for
 * batches under 32 rows, read in place and widened as it is loaded), no correction terms. Otherwise the Vector API
 * kernels (no VNNI
 * instruction is reachable for a GEMM from Java through C2, see {@code QGemmKernel} for what was
 * tried, with numbers): bytes are offset to
 * unsigned (corrected with row and column sums) and widened to 16-bit lanes, two k-steps share one
 * 32-bit lane, one 16-bit multiply ({@code vpmullw}) forms both products and 3 more ops add the
 * pair into int32 accumulators ({@link QGemmKernel}). On 512-bit vectors, whole 32-row strips of
 * the batch go through {@link QGemmColumns} (lanes along the batch, B pairs broadcast); the rows
 * left, small batches and narrower vectors take dot products along k ({@link QGemmDot}). Threads
 * split the output into disjoint blocks, so results do not depend on the thread count; all paths
 * give the same int32 accumulators, hence the same outputs.
 *
 * <pre>{@code
 * QGemm.QParams qx = QGemm.dynamicQParams(x, 0, batch * in);
 * QGemm.quantizePerTensor(xq, 0, true, x, 0, batch * in, qx.scale(), qx.zeroPoint());
 * QGemm.gemmDequant(y, 0, out, xq, 0, in, true, qx.zeroPoint(), qx.scale(), w, 0, in, wScales, bias,
 *         batch, out, in);
 * }</pre>
 */
public final class QGemm {
    /** Affine quantization parameters: {@code real = scale * (q - zeroPoint)}. */
    public record QParams(float scale, int zeroPoint) {
    }

    /**
     * Int8 weights {@code [n, k]} (one output channel's k bytes per row, as B in the class comment)
     * packed once for this machine's kernels, as PyTorch's quantized Linear prepacks its weight:
     * a copy of the bytes, and on the AVX2 {@code vpmaddwd} path ({@link #usesMadd}) their 16-bit
     * panels too (twice the bytes), so a call with these weights does not widen B again, and, at
     * the first call with activations in {@code [0, 127]}, the byte kernel's panels and the column
     * sums. Immutable
     * once built; {@link #packWeights} copies, so later writes to the source array do not reach it.
     */
    public static final class PackedWeights {
        private final byte[] bytes;
        private final int n;
        private final int k;
        private volatile int[] panels;
        private volatile QGemmMadd.Quads quads;

        private PackedWeights(byte[] bytes, int n, int k, int[] panels) {
            this.bytes = bytes;
            this.n = n;
            this.k = k;
            this.panels = panels;
        }

        /** Output channels (rows of the weight). */
        public int outputs() {
            return n;
        }

        /** Inputs per channel (k). */
        public int inputs() {
            return k;
        }

        /** The byte kernel's panels and the column sums ({@link QGemmMadd#packQuads}), built on first use. */
        QGemmMadd.Quads quads() {
            QGemmMadd.Quads q = quads;
            if (q == null) {
                q = QGemmMadd.packQuads(bytes, 0, k, n, k);
                quads = q;
            }
            return q;
        }

        /** The {@code vpmaddwd} panels, built here on first use where packing did not build them. */
        int[] panels() {
            int[] p = panels;
            if (p == null) {
                p = QGemmMadd.packAll(bytes, 0, k, n, k);
                panels = p;
            }
            return p;
        }
    }

    private QGemm() {
    }

    /**
     * Packs int8 weights {@code [n, k]} ({@code b[bOff + j*ldb + p]}) for repeated products: see
     * {@link PackedWeights}.
     *
     * @throws IllegalArgumentException on negative dims or offsets, a leading dimension smaller than
     *                                  k, or a buffer too small
     */
    public static PackedWeights packWeights(byte[] b, int bOff, int ldb, int n, int k) {
        Objects.requireNonNull(b, "packWeights: b is null");
        QGemmArgs.checkDims("packWeights", 1, n, k);
        QGemmArgs.checkMatrix("packWeights", "b", b.length, bOff, ldb, n, k);
        byte[] copy = new byte[Math.multiplyExact(n, k)];
        for (int j = 0; j < n; j++) {
            System.arraycopy(b, bOff + j * ldb, copy, j * k, k);
        }
        return new PackedWeights(copy, n, k, QGemmMadd.ENABLED && n > 0 && k > 0
                ? QGemmMadd.packAll(copy, 0, k, n, k) : null);
    }

    /**
     * {@link #gemmS32} with prepacked weights: {@code C[m, w.outputs()]}, k = {@code w.inputs()}.
     *
     * @throws IllegalArgumentException as {@link #gemmS32}
     */
    public static void gemmS32(int[] c, int cOff, int ldc, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                               PackedWeights w, int m) {
        Objects.requireNonNull(c, "gemmS32: c is null");
        Objects.requireNonNull(w, "gemmS32: w is null");
        checkInputs("gemmS32", a, aOff, lda, aUnsigned, zpA, w.bytes, 0, w.k, m, w.n, w.k);
        QGemmArgs.checkMatrix("gemmS32", "c", c.length, cOff, ldc, m, w.n);
        run(QGemmEpilogue.s32(c, cOff, ldc), a, aOff, lda, aUnsigned, zpA, w, m);
    }

    /**
     * {@link #gemmDequant} with prepacked weights: {@code y[m, w.outputs()]}, k = {@code w.inputs()}.
     *
     * @throws IllegalArgumentException as {@link #gemmDequant}
     */
    public static void gemmDequant(float[] y, int yOff, int ldy, byte[] a, int aOff, int lda, boolean aUnsigned,
                                   int zpA, float scaleA, PackedWeights w, float[] scaleB, float[] bias, int m) {
        Objects.requireNonNull(y, "gemmDequant: y is null");
        Objects.requireNonNull(w, "gemmDequant: w is null");
        checkInputs("gemmDequant", a, aOff, lda, aUnsigned, zpA, w.bytes, 0, w.k, m, w.n, w.k);
        checkScales("gemmDequant", scaleB, bias, w.n);
        QGemmArgs.checkMatrix("gemmDequant", "y", y.length, yOff, ldy, m, w.n);
        run(QGemmEpilogue.dequant(y, yOff, ldy, scaleA, scaleB, bias), a, aOff, lda, aUnsigned, zpA, w, m);
    }

    /**
     * {@link #gemmRequant} with prepacked weights: {@code y[m, w.outputs()]}, k = {@code w.inputs()}.
     *
     * @throws IllegalArgumentException as {@link #gemmRequant}
     */
    public static void gemmRequant(byte[] y, int yOff, int ldy, boolean yUnsigned, int zpY, float scaleY,
                                   byte[] a, int aOff, int lda, boolean aUnsigned, int zpA, float scaleA,
                                   PackedWeights w, float[] scaleB, float[] bias, boolean relu, int m) {
        Objects.requireNonNull(y, "gemmRequant: y is null");
        Objects.requireNonNull(w, "gemmRequant: w is null");
        checkInputs("gemmRequant", a, aOff, lda, aUnsigned, zpA, w.bytes, 0, w.k, m, w.n, w.k);
        checkScales("gemmRequant", scaleB, bias, w.n);
        QGemmArgs.checkZeroPoint("gemmRequant", "zpY", zpY, yUnsigned);
        QGemmArgs.checkScale("gemmRequant", "scaleY", scaleY);
        QGemmArgs.checkMatrix("gemmRequant", "y", y.length, yOff, ldy, m, w.n);
        run(QGemmEpilogue.requant(y, yOff, ldy, yUnsigned, zpY, scaleY, scaleA, scaleB, bias, relu),
                a, aOff, lda, aUnsigned, zpA, w, m);
    }

    /**
     * {@code C[m,n] = sum_p (A[i,p] - zpA) * B[j,p]} in int32; C row-major with leading dim
     * {@code ldc}. See the class comment for the layouts.
     *
     * @throws IllegalArgumentException on negative dims or offsets, a leading dimension smaller
     *                                  than its row length, a buffer too small, or {@code zpA} outside
     *                                  the activation type's range
     */
    public static void gemmS32(int[] c, int cOff, int ldc, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                               byte[] b, int bOff, int ldb, int m, int n, int k) {
        Objects.requireNonNull(c, "gemmS32: c is null");
        checkInputs("gemmS32", a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, n, k);
        QGemmArgs.checkMatrix("gemmS32", "c", c.length, cOff, ldc, m, n);
        run(QGemmEpilogue.s32(c, cOff, ldc), a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, n, k);
    }

    /**
     * {@code y[i,j] = fma((float) acc[i,j], scaleA * scaleB[j], bias[j])}: the dequantized product
     * (dynamically quantized Linear), y row-major with leading dim {@code ldy}.
     *
     * @param scaleB per output channel (length n) or per tensor (length 1)
     * @param bias   length n, or null for none
     * @throws IllegalArgumentException as {@link #gemmS32}, and for a {@code scaleB} or {@code bias}
     *                                  of the wrong length
     */
    public static void gemmDequant(float[] y, int yOff, int ldy, byte[] a, int aOff, int lda, boolean aUnsigned,
                                   int zpA, float scaleA, byte[] b, int bOff, int ldb, float[] scaleB, float[] bias,
                                   int m, int n, int k) {
        Objects.requireNonNull(y, "gemmDequant: y is null");
        checkInputs("gemmDequant", a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, n, k);
        checkScales("gemmDequant", scaleB, bias, n);
        QGemmArgs.checkMatrix("gemmDequant", "y", y.length, yOff, ldy, m, n);
        run(QGemmEpilogue.dequant(y, yOff, ldy, scaleA, scaleB, bias), a, aOff, lda, aUnsigned, zpA, b, bOff, ldb,
                m, n, k);
    }

    /**
     * {@code y[i,j] = clamp(rint(fma((float) acc, scaleA * scaleB[j], bias[j]) * (1f / scaleY)) + zpY)}
     * as uint8 ({@code yUnsigned}) or int8, then {@code max(y, zpY)} with {@code relu} (static
     * quantization path); see the class comment for the exact arithmetic.
     *
     * @throws IllegalArgumentException as {@link #gemmDequant}, for {@code zpY} outside the output
     *                                  type's range, and for a {@code scaleY} that is not positive
     *                                  and finite
     */
    public static void gemmRequant(byte[] y, int yOff, int ldy, boolean yUnsigned, int zpY, float scaleY,
                                   byte[] a, int aOff, int lda, boolean aUnsigned, int zpA, float scaleA,
                                   byte[] b, int bOff, int ldb, float[] scaleB, float[] bias, boolean relu,
                                   int m, int n, int k) {
        Objects.requireNonNull(y, "gemmRequant: y is null");
        checkInputs("gemmRequant", a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, n, k);
        checkScales("gemmRequant", scaleB, bias, n);
        QGemmArgs.checkZeroPoint("gemmRequant", "zpY", zpY, yUnsigned);
        QGemmArgs.checkScale("gemmRequant", "scaleY", scaleY);
        QGemmArgs.checkMatrix("gemmRequant", "y", y.length, yOff, ldy, m, n);
        run(QGemmEpilogue.requant(y, yOff, ldy, yUnsigned, zpY, scaleY, scaleA, scaleB, bias, relu),
                a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, n, k);
    }

    /**
     * {@code q[i] = clamp(rint(x[i] * (1f / scale)) + zeroPoint)} for {@code i < n}, uint8
     * ({@code qUnsigned}) or int8, rounding half to even (PyTorch's {@code quantize_per_tensor}).
     *
     * @throws IllegalArgumentException on a negative n or offset, a buffer too small, a scale that is
     *                                  not positive and finite, or a zero point outside the type's range
     */
    public static void quantizePerTensor(byte[] q, int qOff, boolean qUnsigned, float[] x, int xOff, int n,
                                         float scale, int zeroPoint) {
        Objects.requireNonNull(q, "quantizePerTensor: q is null");
        Objects.requireNonNull(x, "quantizePerTensor: x is null");
        QGemmArgs.checkDims("quantizePerTensor", 1, n, 0);
        QGemmArgs.checkScale("quantizePerTensor", "scale", scale);
        QGemmArgs.checkZeroPoint("quantizePerTensor", "zeroPoint", zeroPoint, qUnsigned);
        QGemmArgs.checkMatrix("quantizePerTensor", "x", x.length, xOff, n, 1, n);
        QGemmArgs.checkMatrix("quantizePerTensor", "q", q.length, qOff, n, 1, n);
        QGemmQuant.quantize(q, qOff, qUnsigned, x, xOff, n, scale, zeroPoint);
    }

    /**
     * Row {@code r} of {@code x [rows, cols]} (leading dim {@code ldx}) quantized with
     * {@code scales[r]} and {@code zeroPoints[r]} into row {@code r} of {@code q} (leading dim
     * {@code ldq}), as {@link #quantizePerTensor}: per-channel quantization of a weight {@code [out,in]}.
     *
     * @param zeroPoints length rows, or null for symmetric (all zero)
     * @throws IllegalArgumentException as {@link #quantizePerTensor}, and for scales or zero points
     *                                  shorter than {@code rows}
     */
    public static void quantizeRows(byte[] q, int qOff, int ldq, boolean qUnsigned, float[] x, int xOff, int ldx,
                                    float[] scales, int[] zeroPoints, int rows, int cols) {
        Objects.requireNonNull(q, "quantizeRows: q is null");
        Objects.requireNonNull(x, "quantizeRows: x is null");
        Objects.requireNonNull(scales, "quantizeRows: scales is null");
        QGemmArgs.checkDims("quantizeRows", rows, cols, 0);
        if (scales.length < rows || zeroPoints != null && zeroPoints.length < rows) {
            throw new IllegalArgumentException("quantizeRows: expected " + rows + " scales and zero points, got "
                    + scales.length + " and " + (zeroPoints == null ? "null" : zeroPoints.length));
        }
        for (int r = 0; r < rows; r++) {
            QGemmArgs.checkScale("quantizeRows", "scales[" + r + "]", scales[r]);
            QGemmArgs.checkZeroPoint("quantizeRows", "zeroPoints[" + r + "]", zeroPoints == null ? 0 : zeroPoints[r], qUnsigned);
        }
        QGemmArgs.checkMatrix("quantizeRows", "x", x.length, xOff, ldx, rows, cols);
        QGemmArgs.checkMatrix("quantizeRows", "q", q.length, qOff, ldq, rows, cols);
        for (int r = 0; r < rows; r++) {
            QGemmQuant.quantize(q, qOff + r * ldq, qUnsigned, x, xOff + r * ldx, cols, scales[r],
                    zeroPoints == null ? 0 : zeroPoints[r]);
        }
    }

    /**
     * Min/max-based uint8 parameters for {@code x[off : off+n]}, as PyTorch's dynamic quantization
     * chooses them ({@code ChooseQuantizationParams}) with {@code reduce_range=false}: the full
     * {@code [0, 255]} range, since this kernel's products never saturate (16-bit pair products, or
     * {@code vpdpbusd}, which adds exact products into int32); PyTorch's fbgemm path halves the
     * range to stay clear of {@code vpmaddubsw} saturation on CPUs without VNNI.
     * The range is widened to contain 0; an empty or all-zero input gives scale 0.1, zero point 0.
     *
     * @throws IllegalArgumentException on a negative n or offset, or a buffer too small
     */
    public static QParams dynamicQParams(float[] x, int off, int n) {
        return dynamicQParams(x, off, n, false);
    }

    /**
     * {@link #dynamicQParams(float[], int, int)} with PyTorch's {@code reduce_range} choice: when
     * true the range is {@code [0, 127]}, which reproduces PyTorch's dynamic Linear exactly (its
     * module passes {@code reduce_range=True}, with the oneDNN engine too). On AVX2 machines without
     * VNNI such activations take the faster byte kernel (see {@link #usesMadd}); the products are
     * the same either way.
     */
    public static QParams dynamicQParams(float[] x, int off, int n, boolean reduceRange) {
        Objects.requireNonNull(x, "dynamicQParams: x is null");
        QGemmArgs.checkDims("dynamicQParams", 1, n, 0);
        QGemmArgs.checkMatrix("dynamicQParams", "x", x.length, off, n, 1, n);
        return QGemmQuant.dynamicQParams(x, off, n, reduceRange);
    }

    /**
     * Whether the int8 GEMM runs its run-time generated AVX512_VNNI kernels here (see the class
     * comment); false where the Vector API kernels run instead.
     */
    public static boolean usesVnni() {
        return QGemmJit.ENABLED;
    }

    /**
     * Whether the int8 GEMM runs its run-time generated AVX2 {@code vpmaddwd} kernels here (AVX2
     * without VNNI, see {@link QGemmMadd}); false where the VNNI or the Vector API kernels run.
     */
    public static boolean usesMadd() {
        return QGemmMadd.ENABLED;
    }

    /** One validated call: picks the path. */
    private static void run(QGemmEpilogue out, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                            byte[] b, int bOff, int ldb, int m, int n, int k) {
        if (m == 0 || n == 0) {
            return;
        }
        if (QGemmJit.takes(m, k)) {
            QGemmJit.run(out, a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, m, n, k);
            return;
        }
        if (QGemmMadd.takes(m, k, false)) {
            QGemmMadd.run(out, a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, null, m, n, k);
            return;
        }
        int strips = QGemmColumns.suits(m, n) ? m / QGemmKernel.MR * QGemmKernel.MR : 0;
        if (strips > 0) {
            QGemmColumns.run(out, a, aOff, lda, aUnsigned, zpA, b, bOff, ldb, strips, n, k);
        }
        if (strips < m) {
            QGemmDot.run(out, strips, a, aOff + strips * lda, lda, aUnsigned, zpA, b, bOff, ldb, m - strips, n, k);
        }
    }

    /** Output rows {@code [i0, i1)} and columns {@code [j0, j1)} of a product, on the calling thread. */
    interface Block {
        void run(int i0, int i1, int j0, int j1);
    }

    /**
     * Splits an {@code m x n x k} product over the pool, as the int8 kernels do: one block on one
     * thread when the product is small or there is one thread; else ranges of {@code nb}-column
     * units, or of {@code mb}-row units where there are fewer column units than threads and enough
     * row units. Blocks are disjoint, so results do not depend on the thread count.
     */
    static void overBlocks(int m, int n, int k, int mb, int nb, Block body) {
        int threads = Parallel.threads();
        int unitsN = (n + nb - 1) / nb;
        int unitsM = (m + mb - 1) / mb;
        boolean parallel = threads > 1 && (long) m * n * k >= Gemm.PARALLEL_MIN_WORK;
        if (!parallel || unitsN >= threads || unitsM < threads) {
            Parallel.forRange(parallel ? unitsN : 1, Gemm.grain((long) m * nb * Math.max(1, k)), SPIN_NANOS, (lo, hi) ->
                    body.run(0, m, lo * nb, parallel ? Math.min(n, hi * nb) : n));
        } else {
            Parallel.forRange(unitsM, Gemm.grain((long) mb * n * Math.max(1, k)), SPIN_NANOS, (lo, hi) ->
                    body.run(lo * mb, Math.min(m, hi * mb), 0, n));
        }
    }

    /**
     * How long the pool's workers stay awake after an int8 product (system property
     * {@code kiln.int8.spin.micros}, default 50), so that the next call, after the caller has
     * quantized its activations alone, finds them awake. Zen 3, dynamic Linear b64 1024 -> 1024
     * (min/max, quantize, product) on 2 threads, alternating JVMs: 413-420 us a call without,
     * 381-394 with {@code kiln.spin.micros=50} (every pool call).
     */
    private static final long SPIN_NANOS = Long.getLong("kiln.int8.spin.micros", 50) * 1000;

    /** One validated call with prepacked weights: the same paths, the AVX2 one on the prepacked panels. */
    private static void run(QGemmEpilogue out, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                            PackedWeights w, int m) {
        if (m > 0 && w.n > 0 && QGemmMadd.takes(m, w.k, true)) {
            if (QGemmMadd.sevenBit(a, aOff, lda, aUnsigned, m, w.k)) {
                QGemmMadd.runBytes(out, a, aOff, lda, zpA, w.quads(), m, w.n, w.k);
            } else {
                QGemmMadd.run(out, a, aOff, lda, aUnsigned, zpA, w.bytes, 0, w.k, w.panels(), m, w.n, w.k);
            }
            return;
        }
        run(out, a, aOff, lda, aUnsigned, zpA, w.bytes, 0, w.k, m, w.n, w.k);
    }

    private static void checkInputs(String name, byte[] a, int aOff, int lda, boolean aUnsigned, int zpA,
                                    byte[] b, int bOff, int ldb, int m, int n, int k) {
        GemmArgs.nonNull(a, name, "a");
        GemmArgs.nonNull(b, name, "b");
        QGemmArgs.checkDims(name, m, n, k);
        QGemmArgs.checkZeroPoint(name, "zpA", zpA, aUnsigned);
        QGemmArgs.checkMatrix(name, "a", a.length, aOff, lda, m, k);
        QGemmArgs.checkMatrix(name, "b", b.length, bOff, ldb, n, k);
    }

    private static void checkScales(String name, float[] scaleB, float[] bias, int n) {
        GemmArgs.nonNull(scaleB, name, "scaleB");
        QGemmArgs.checkScales(name, scaleB.length, bias == null ? -1 : bias.length, n);
    }
}

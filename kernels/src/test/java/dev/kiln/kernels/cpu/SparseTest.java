package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.BlockSparse;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.SparseCsr;
import dev.kiln.kernels.TestArrays;
import dev.kiln.kernels.ref.RefSparse;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Sparse} against {@link RefSparse} and against dense {@link Gemm#sgemm} on the same weights.
 * Inputs are uniform in [-1, 1); a row sums at most {@code cols} products, so
 * {@code atol = 1e-4 * sqrt(cols)} with {@code rtol 1e-4} (as in GemmTest) covers fp32 rounding while
 * any indexing mistake fails.
 */
class SparseTest {
    private static final int L = Simd.lanesF();
    private static final int TILE = SparseCsrLoops.TILE;
    private static final double[] DENSITIES = {0, 0.05, 0.1, 0.5, 1};
    /** Batch sizes / im2col widths: vector tails, the 4-vector tile and past it. */
    private static final int[] LANES = {1, L - 1, L, L + 1, 2 * L + 3, TILE, TILE + L + 3, 2 * TILE + 1, SparseCsrLoops.PANEL + TILE + L + 1};
    private static final int[][] BLOCKS = {{1, 1}, {1, 16}, {4, 1}, {4, 4}, {3, 5}, {8, 2}};

    private final SplittableRandom rnd = new SplittableRandom(11);

    /** A dense {@code rows x cols} weight with elements zeroed with probability {@code 1 - density}. */
    private float[] weight(int rows, int cols, double density) {
        float[] w = TestArrays.randomFloats(rnd, rows * cols);
        for (int i = 0; i < w.length; i++) {
            if (rnd.nextDouble() >= density) {
                w[i] = 0f;
            }
        }
        return w;
    }

    /** A weight whose {@code br x bc} blocks are each kept with probability {@code density}, holding some zeros. */
    private float[] blockWeight(int rows, int cols, int br, int bc, double density) {
        float[] w = weight(rows, cols, 0.8);
        for (int r0 = 0; r0 < rows; r0 += br) {
            for (int c0 = 0; c0 < cols; c0 += bc) {
                if (rnd.nextDouble() >= density) {
                    for (int r = r0; r < Math.min(rows, r0 + br); r++) {
                        Arrays.fill(w, r * cols + c0, r * cols + Math.min(cols, c0 + bc), 0f);
                    }
                }
            }
        }
        return w;
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    private static double atol(int cols) {
        return 1e-4 * Math.sqrt(Math.max(1, cols));
    }

    /** Linear layout with padded leading dims and offsets; compares all of y, padding included. */
    private void checkLinear(SparseCsr csr, BlockSparse block, int batch, boolean acc, int pad, int off) {
        int rows = csr != null ? csr.rows() : block.rows();
        int cols = csr != null ? csr.cols() : block.cols();
        int ldx = cols + pad;
        int ldy = rows + pad;
        float[] x = TestArrays.randomFloats(rnd, off + batch * ldx);
        float[] y = acc ? TestArrays.randomFloats(rnd, off + batch * ldy) : filled(off + batch * ldy, Float.NaN);
        double[] ref = TestArrays.toDouble(y);
        String what;
        if (csr != null) {
            Sparse.spmmCsr(y, off, ldy, csr, x, off, ldx, batch, acc);
            RefSparse.spmmCsr(ref, off, ldy, csr, TestArrays.toDouble(x), off, ldx, batch, acc);
            what = "spmmCsr " + csr;
        } else {
            Sparse.spmmBlock(y, off, ldy, block, x, off, ldx, batch, acc);
            RefSparse.spmmBlock(ref, off, ldy, block, TestArrays.toDouble(x), off, ldx, batch, acc);
            what = "spmmBlock " + block;
        }
        TestArrays.assertClose(what + " batch=" + batch + " acc=" + acc + " pad=" + pad + " off=" + off, y, ref,
                atol(cols), 1e-4);
    }

    /** Left layout with padded leading dims and offsets; compares all of C, padding included. */
    private void checkLeft(SparseCsr csr, BlockSparse block, int n, boolean acc, int pad, int off) {
        int rows = csr != null ? csr.rows() : block.rows();
        int cols = csr != null ? csr.cols() : block.cols();
        int ldb = n + pad;
        int ldc = n + pad;
        float[] b = TestArrays.randomFloats(rnd, off + cols * ldb);
        float[] c = acc ? TestArrays.randomFloats(rnd, off + rows * ldc) : filled(off + rows * ldc, Float.NaN);
        double[] ref = TestArrays.toDouble(c);
        String what;
        if (csr != null) {
            Sparse.spmmCsrLeft(c, off, ldc, csr, b, off, ldb, n, acc);
            RefSparse.spmmCsrLeft(ref, off, ldc, csr, TestArrays.toDouble(b), off, ldb, n, acc);
            what = "spmmCsrLeft " + csr;
        } else {
            Sparse.spmmBlockLeft(c, off, ldc, block, b, off, ldb, n, acc);
            RefSparse.spmmBlockLeft(ref, off, ldc, block, TestArrays.toDouble(b), off, ldb, n, acc);
            what = "spmmBlockLeft " + block;
        }
        TestArrays.assertClose(what + " n=" + n + " acc=" + acc + " pad=" + pad + " off=" + off, c, ref, atol(cols),
                1e-4);
    }

    @Test
    void csrMatchesReferenceAtEveryDensityAndTail() {
        int count = 0;
        for (double d : DENSITIES) {
            SparseCsr w = SparseCsr.fromDense(weight(37, 29, d), 0, 37, 29, 0f);
            for (int lanes : LANES) {
                for (boolean acc : new boolean[]{false, true}) {
                    checkLinear(w, null, lanes, acc, count % 3 == 0 ? 0 : 3, count % 2 == 0 ? 0 : 5);
                    checkLeft(w, null, lanes, acc, count % 3 == 1 ? 0 : 2, count % 2 == 1 ? 0 : 7);
                    count++;
                }
            }
        }
    }

    /** Rows of x a multiple of 256 floats apart pack along the rows (see Sparse.packTransposed): all of y still right. */
    @Test
    void linearWithRowsOfXAMultipleOf256FloatsApart() {
        SparseCsr w = SparseCsr.fromDense(weight(41, 250, 0.2), 0, 41, 250, 0f);
        BlockSparse b = BlockSparse.fromDense(weight(41, 250, 0.3), 0, 41, 250, 4, 1, 0f);
        for (int pad : new int[] {6, 262}) {
            for (int batch : new int[] {L + 1, 64, 64 + 2 * L + 3}) {
                for (boolean acc : new boolean[] {false, true}) {
                    checkLinear(w, null, batch, acc, pad, 0);
                    checkLinear(null, b, batch, acc, pad, 0);
                }
            }
        }
    }

    @Test
    void blockMatchesReferenceForEveryBlockShape() {
        int count = 0;
        for (int[] bs : BLOCKS) {
            for (double d : DENSITIES) {
                float[] dense = blockWeight(37, 29, bs[0], bs[1], d);
                BlockSparse w = BlockSparse.fromDense(dense, 0, 37, 29, bs[0], bs[1], 0f);
                for (int lanes : new int[]{1, L + 1, TILE + L + 3}) {
                    for (boolean acc : new boolean[]{false, true}) {
                        checkLinear(null, w, lanes, acc, count % 3 == 0 ? 0 : 3, count % 2 == 0 ? 0 : 5);
                        checkLeft(null, w, lanes, acc, count % 3 == 1 ? 0 : 2, count % 2 == 1 ? 0 : 7);
                        count++;
                    }
                }
            }
        }
    }

    @Test
    void matchesDenseSgemmOnTheSameWeights() {
        int rows = 67;
        int cols = 131;
        int batch = 2 * L + 3;
        for (double d : DENSITIES) {
            float[] dense = weight(rows, cols, d);
            float[] x = TestArrays.randomFloats(rnd, batch * cols);
            float[] expect = new float[batch * rows];
            Gemm.sgemm(false, expect, 0, rows, false, x, 0, cols, true, dense, 0, cols, batch, rows, cols);
            double[] e = TestArrays.toDouble(expect);
            float[] y = new float[batch * rows];
            Sparse.spmmCsr(y, 0, rows, SparseCsr.fromDense(dense, 0, rows, cols, 0f), x, 0, cols, batch, false);
            TestArrays.assertClose("spmmCsr vs sgemm density " + d, y, e, atol(cols), 1e-4);
            Sparse.spmmBlock(y, 0, rows, BlockSparse.fromDense(dense, 0, rows, cols, 4, 4, 0f), x, 0, cols, batch,
                    false);
            TestArrays.assertClose("spmmBlock vs sgemm density " + d, y, e, atol(cols), 1e-4);
            float[] xt = new float[cols * batch];
            for (int t = 0; t < batch; t++) {
                for (int c = 0; c < cols; c++) {
                    xt[c * batch + t] = x[t * cols + c];
                }
            }
            float[] cLeft = new float[rows * batch];
            Sparse.spmmCsrLeft(cLeft, 0, batch, SparseCsr.fromDense(dense, 0, rows, cols, 0f), xt, 0, batch, batch,
                    false);
            for (int t = 0; t < batch; t++) {
                for (int r = 0; r < rows; r++) {
                    assertEquals(y[t * rows + r], cLeft[r * batch + t], atol(cols), "spmmCsrLeft vs spmmCsr");
                }
            }
        }
    }

    /** Batch rows through the 64-, 32- and 16-lane paths (16 for four block rows with 16 registers) and the scalar one give the same bits. */
    @Test
    void eachBatchRowIsExactlyIndependentOfTheBatchSize() {
        eachBatchRowIndependent(2 * TILE + L + 3);
        eachBatchRowIndependent(2 * L + 3);
    }

    private void eachBatchRowIndependent(int batch) {
        int rows = 23;
        int cols = 301;
        SparseCsr csr = SparseCsr.fromDense(weight(rows, cols, 0.3), 0, rows, cols, 0f);
        BlockSparse block = BlockSparse.fromDense(blockWeight(rows, cols, 4, 2, 0.3), 0, rows, cols, 4, 2, 0f);
        BlockSparse column = BlockSparse.fromDense(blockWeight(rows, cols, 4, 1, 0.3), 0, rows, cols, 4, 1, 0f);
        float[] x = TestArrays.randomFloats(rnd, batch * cols);
        float[] all = new float[batch * rows];
        float[] allBlock = new float[batch * rows];
        float[] allColumn = new float[batch * rows];
        Sparse.spmmCsr(all, 0, rows, csr, x, 0, cols, batch, false);
        Sparse.spmmBlock(allBlock, 0, rows, block, x, 0, cols, batch, false);
        Sparse.spmmBlock(allColumn, 0, rows, column, x, 0, cols, batch, false);
        float[] one = new float[rows];
        for (int t = 0; t < batch; t++) {
            Sparse.spmmCsr(one, 0, rows, csr, x, t * cols, cols, 1, false);
            assertArrayEquals(Arrays.copyOfRange(all, t * rows, t * rows + rows), one, "csr batch row " + t);
            Sparse.spmmBlock(one, 0, rows, block, x, t * cols, cols, 1, false);
            assertArrayEquals(Arrays.copyOfRange(allBlock, t * rows, t * rows + rows), one, "block batch row " + t);
            Sparse.spmmBlock(one, 0, rows, column, x, t * cols, cols, 1, false);
            assertArrayEquals(Arrays.copyOfRange(allColumn, t * rows, t * rows + rows), one, "4x1 block batch row " + t);
        }
    }

    @Test
    void resultDoesNotDependOnTheThreadCount() {
        int saved = Parallel.threads();
        try {
            SparseCsr tall = SparseCsr.fromDense(weight(301, 257, 0.5), 0, 301, 257, 0f);
            BlockSparse tallBlock = BlockSparse.fromDense(blockWeight(301, 257, 4, 4, 0.5), 0, 301, 257, 4, 4, 0f);
            SparseCsr few = SparseCsr.fromDense(weight(5, 300, 0.5), 0, 5, 300, 0f);
            BlockSparse fewBlock = BlockSparse.fromDense(blockWeight(5, 300, 4, 1, 0.5), 0, 5, 300, 4, 1, 0f);
            float[] x = TestArrays.randomFloats(rnd, 300 * 1000);
            float[][] out = new float[2][];
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                float[] y = new float[70 * 301 * 2 + 5 * 1000 * 2];
                Sparse.spmmCsr(y, 0, 301, tall, x, 0, 257, 70, false);
                Sparse.spmmBlock(y, 70 * 301, 301, tallBlock, x, 0, 257, 70, false);
                int o = 70 * 301 * 2;
                Sparse.spmmCsrLeft(y, o, 1000, few, x, 0, 1000, 1000, false);
                Sparse.spmmBlockLeft(y, o + 5000, 1000, fewBlock, x, 0, 1000, 1000, false);
                out[threads - 1] = y;
            }
            assertArrayEquals(out[0], out[1]);
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * Two threads take pieces of the Linear layout: one tile of the batch, each thread packing it
     * into its own panel and taking the pieces of its home first, then the other's (64), a few
     * tiles cut into row pieces (70), whole tiles as pieces (260); each must match the one-thread
     * result bit for bit, accumulating or not.
     */
    @Test
    void linearPiecesOnTwoThreadsMatchOneThread() {
        int saved = Parallel.threads();
        try {
            SparseCsr csr = SparseCsr.fromDense(weight(301, 257, 0.5), 0, 301, 257, 0f);
            BlockSparse block = BlockSparse.fromDense(blockWeight(301, 257, 4, 1, 0.5), 0, 301, 257, 4, 1, 0f);
            for (int batch : new int[]{64, 70, 260}) {
                float[] x = TestArrays.randomFloats(rnd, batch * 257);
                float[] init = TestArrays.randomFloats(rnd, batch * 301);
                float[][][] out = new float[2][4][];
                for (int threads = 1; threads <= 2; threads++) {
                    Parallel.setThreads(threads);
                    for (int v = 0; v < 4; v++) {
                        boolean acc = v % 2 == 1;
                        float[] y = acc ? init.clone() : filled(batch * 301, Float.NaN);
                        if (v < 2) {
                            Sparse.spmmCsr(y, 0, 301, csr, x, 0, 257, batch, acc);
                        } else {
                            Sparse.spmmBlock(y, 0, 301, block, x, 0, 257, batch, acc);
                        }
                        out[threads - 1][v] = y;
                    }
                }
                for (int v = 0; v < 4; v++) {
                    assertArrayEquals(out[0][v], out[1][v], "batch " + batch + " variant " + v);
                }
                double[] ref = new double[batch * 301];
                RefSparse.spmmCsr(ref, 0, 301, csr, TestArrays.toDouble(x), 0, 257, batch, false);
                TestArrays.assertClose("csr 2 threads batch " + batch, out[1][0], ref, atol(257), 1e-4);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void emptyShapesWriteNothingOrZeros() {
        SparseCsr empty = SparseCsr.fromDense(new float[0], 0, 3, 0, 0f);
        float[] y = filled(6, Float.NaN);
        Sparse.spmmCsr(y, 0, 3, empty, new float[0], 0, 0, 2, false);
        assertArrayEquals(new float[6], y);
        float[] c = filled(4, 1f);
        Sparse.spmmCsrLeft(c, 0, 2, SparseCsr.fromDense(new float[6], 0, 2, 3, 0f), new float[6], 0, 2, 2, true);
        assertArrayEquals(filled(4, 1f), c);
        Sparse.spmmBlock(y, 0, 3, BlockSparse.fromDense(new float[6], 0, 3, 2, 4, 1, 0f), new float[0], 0, 2, 0, false);
        Sparse.spmmBlockLeft(c, 0, 2, BlockSparse.fromDense(new float[0], 0, 0, 3, 4, 1, 0f), new float[6], 0, 2, 2,
                false);
        assertArrayEquals(filled(4, 1f), c);
    }

    @Test
    void argumentErrorsNameTheKernel() {
        SparseCsr w = SparseCsr.fromDense(weight(4, 6, 0.5), 0, 4, 6, 0f);
        BlockSparse b = BlockSparse.fromDense(weight(4, 6, 0.5), 0, 4, 6, 4, 1, 0f);
        assertMessage("spmmCsr: expected batch >= 0, got -1",
                () -> Sparse.spmmCsr(new float[8], 0, 4, w, new float[12], 0, 6, -1, false));
        assertMessage("spmmCsr: y too small: need 8 floats from offset 1, has 8",
                () -> Sparse.spmmCsr(new float[8], 1, 4, w, new float[12], 0, 6, 2, false));
        assertMessage("spmmCsr: x too small: need 12 floats from offset 0, has 11",
                () -> Sparse.spmmCsr(new float[8], 0, 4, w, new float[11], 0, 6, 2, false));
        assertMessage("spmmCsr: expected ldy >= 4", () -> Sparse.spmmCsr(new float[8], 0, 3, w, new float[12], 0, 6,
                2, false));
        assertMessage("spmmBlock: expected ldx >= 6", () -> Sparse.spmmBlock(new float[8], 0, 4, b, new float[12], 0,
                5, 2, false));
        assertMessage("spmmBlock: expected y offset >= 0", () -> Sparse.spmmBlock(new float[8], -1, 4, b,
                new float[12], 0, 6, 2, false));
        assertMessage("spmmCsrLeft: expected n >= 0", () -> Sparse.spmmCsrLeft(new float[8], 0, 2, w, new float[12],
                0, 2, -2, false));
        assertMessage("spmmCsrLeft: b too small: need 12 floats", () -> Sparse.spmmCsrLeft(new float[8], 0, 2, w,
                new float[11], 0, 2, 2, false));
        assertMessage("spmmBlockLeft: c too small: need 8 floats", () -> Sparse.spmmBlockLeft(new float[7], 0, 2, b,
                new float[12], 0, 2, 2, false));
        assertMessage("spmmBlockLeft: expected ldc >= 2", () -> Sparse.spmmBlockLeft(new float[8], 0, 1, b,
                new float[12], 0, 2, 2, false));
        assertMessage("spmmCsr: expected batch >= 0, got -1",
                () -> RefSparse.spmmCsr(new double[8], 0, 4, w, new double[12], 0, 6, -1, false));
        assertMessage("spmmBlockLeft: c too small: need 8 doubles", () -> RefSparse.spmmBlockLeft(new double[7], 0, 2,
                b, new double[12], 0, 2, 2, false));
        assertThrows(NullPointerException.class, () -> Sparse.spmmCsr(new float[8], 0, 4, null, new float[12], 0, 6,
                2, false));
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}

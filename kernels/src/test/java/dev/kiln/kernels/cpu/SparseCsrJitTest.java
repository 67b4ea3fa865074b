package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.SparseCsr;
import dev.kiln.kernels.TestArrays;
import dev.kiln.kernels.cpu.x86.SparseCsrCode;
import dev.kiln.kernels.ref.RefSparse;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The generated CSR kernel ({@link SparseCsrJit}) against the Vector API path, bit for bit, and
 * against {@link RefSparse}: rows around the 64-row strips (a lone row in a short last strip),
 * columns around the 128-column blocks, batches around the 64 lanes it takes (the rest goes to
 * the Vector API path), with and without accumulation, on one and two threads; plans cut in
 * blocks of 1-7 columns; and the checks that keep bad arguments from reaching the code. Skipped
 * where the code cannot run.
 */
class SparseCsrJitTest {
    private final SplittableRandom rnd = new SplittableRandom(5);

    @BeforeEach
    void needsCode() {
        Assumptions.assumeTrue(SparseCsrJit.SUPPORTED, "the generated sparse kernel cannot run here");
    }

    @AfterEach
    void restorePath() {
        SparseCsrJit.mode = SparseCsrJit.Mode.AUTO;
    }

    private SparseCsr matrix(int rows, int cols, double density) {
        float[] w = TestArrays.randomFloats(rnd, rows * cols);
        for (int i = 0; i < w.length; i++) {
            if (rnd.nextDouble() >= density) {
                w[i] = 0f;
            }
        }
        return SparseCsr.fromDense(w, 0, rows, cols, 0f);
    }

    private static void assertSameBits(String what, float[] want, float[] got) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", Vector API path gives " + want[i]);
            }
        }
    }

    /** y = x W^T (or +=) through the chosen path, from the same starting y. */
    private static float[] linear(SparseCsrJit.Mode mode, SparseCsr w, float[] x, float[] y0, int batch, boolean acc,
                                  int pad) {
        SparseCsrJit.mode = mode;
        float[] y = y0.clone();
        Sparse.spmmCsr(y, 1, w.rows() + pad, w, x, 2, w.cols() + pad, batch, acc);
        return y;
    }

    @Test
    void linearMatchesVectorPathBitForBit() {
        int[] rowsList = {1, 2, 63, 64, 65, 129, 200};
        int[] colsList = {1, 127, 128, 129, 300};
        int[] batches = {1, 63, 64, 65, 130};
        double[] densities = {0, 0.05, 0.5, 1};
        int variant = 0;
        for (int rows : rowsList) {
            for (int cols : colsList) {
                for (int batch : batches) {
                    double density = densities[variant++ % densities.length];
                    boolean acc = variant % 3 == 0;
                    int pad = variant % 2 == 0 ? 0 : 3;
                    SparseCsr w = matrix(rows, cols, density);
                    float[] x = TestArrays.randomFloats(rnd, 2 + batch * (cols + pad));
                    float[] y0 = acc ? TestArrays.randomFloats(rnd, 1 + batch * (rows + pad))
                            : new float[1 + batch * (rows + pad)];
                    if (!acc) {
                        Arrays.fill(y0, Float.NaN);
                    }
                    float[] want = linear(SparseCsrJit.Mode.VECTOR, w, x, y0, batch, acc, pad);
                    float[] got = linear(SparseCsrJit.Mode.JIT, w, x, y0, batch, acc, pad);
                    String what = "spmmCsr " + rows + "x" + cols + " density " + density + " batch " + batch + " acc "
                            + acc + " pad " + pad;
                    assertSameBits(what, want, got);
                    double[] ref = TestArrays.toDouble(y0);
                    RefSparse.spmmCsr(ref, 1, rows + pad, w, TestArrays.toDouble(x), 2, cols + pad, batch, acc);
                    TestArrays.assertClose(what, got, ref, 1e-4 * Math.sqrt(cols), 1e-4);
                }
            }
        }
    }

    @Test
    void leftLayoutMatchesVectorPathBitForBit() {
        for (int rows : new int[] {3, 64, 130}) {
            for (int n : new int[] {1, 64, 100, 200}) {
                SparseCsr w = matrix(rows, 150, 0.3);
                float[] b = TestArrays.randomFloats(rnd, 150 * n);
                float[][] out = new float[2][];
                for (SparseCsrJit.Mode mode : new SparseCsrJit.Mode[] {SparseCsrJit.Mode.VECTOR, SparseCsrJit.Mode.JIT}) {
                    SparseCsrJit.mode = mode;
                    float[] c = new float[rows * n];
                    Arrays.fill(c, Float.NaN);
                    Sparse.spmmCsrLeft(c, 0, n, w, b, 0, n, n, false);
                    out[mode == SparseCsrJit.Mode.JIT ? 1 : 0] = c;
                }
                assertSameBits("spmmCsrLeft " + rows + "x150 n " + n, out[0], out[1]);
            }
        }
    }

    @Test
    void twoThreadsGiveTheOneThreadBits() {
        SparseCsr w = matrix(1024, 1024, 0.1);
        float[] x = TestArrays.randomFloats(rnd, 64 * 1024);
        float[] y0 = new float[64 * 1024];
        SparseCsrJit.mode = SparseCsrJit.Mode.JIT;
        float[] one = y0.clone();
        float[] two = y0.clone();
        int threads = Parallel.threads();
        try {
            Parallel.setThreads(1);
            Sparse.spmmCsr(one, 0, 1024, w, x, 0, 1024, 64, false);
            Parallel.setThreads(2);
            Sparse.spmmCsr(two, 0, 1024, w, x, 0, 1024, 64, false);
        } finally {
            Parallel.setThreads(threads);
        }
        assertSameBits("1024x1024 at 10%, batch 64, 2 threads against 1", one, two);
        SparseCsrJit.mode = SparseCsrJit.Mode.VECTOR;
        float[] vector = y0.clone();
        Sparse.spmmCsr(vector, 0, 1024, w, x, 0, 1024, 64, false);
        assertSameBits("1024x1024 at 10%, batch 64, JIT against Vector API", vector, one);
    }

    @Test
    void plansInNarrowBlocksKeepEveryRowsOrder() {
        Assumptions.assumeTrue(SparseCsrJit.STRIPS_SUPPORTED, "the AVX-512 kernel cannot run here");
        for (int blockCols : new int[] {1, 3, 7}) {
            SparseCsr w = matrix(67, 40, 0.4);
            SparseCsrJit.Plan plan = SparseCsrJit.StripPlan.of(w, blockCols);
            float[] b = TestArrays.randomFloats(rnd, 40 * 70);
            float[] want = new float[67 * 64];
            float[] got = new float[67 * 64];
            SparseCsrLoops.rows(want, 0, 64, false, w.rowPtr(), w.colIdx(), w.values(), 0, 67, b, 3, 70, 0, 64);
            assertEquals(64, SparseCsrJit.rows(plan, got, 0, 64, 0, 67, b, 3, 70, 0, 64));
            assertSameBits("67x40 in blocks of " + blockCols, want, got);
        }
    }

    @Test
    void rowsOffTheStripGridAreLeftToTheVectorPath() {
        Assumptions.assumeTrue(SparseCsrJit.STRIPS_SUPPORTED, "the AVX-512 kernel cannot run here");
        SparseCsr w = matrix(130, 20, 0.5);
        SparseCsrJit.Plan plan = SparseCsrJit.StripPlan.of(w, 128);
        float[] b = new float[20 * 64];
        float[] c = new float[130 * 64];
        assertEquals(0, SparseCsrJit.rows(plan, c, 0, 64, 1, 64, b, 0, 64, 0, 64));
        assertEquals(0, SparseCsrJit.rows(plan, c, 0, 64, 0, 65, b, 0, 64, 0, 64));
        assertEquals(64, SparseCsrJit.rows(plan, c, 0, 64, 128, 130, b, 0, 64, 0, 127));
    }

    @Test
    void aMatrixGetsItsPlanAtItsSecondProduct() {
        Assumptions.assumeTrue(SparseCsrJit.ENABLED, "the generated sparse kernel is switched off");
        SparseCsr w = matrix(64, 64, 0.3);
        assertNull(SparseCsrJit.plan(w));
        SparseCsrJit.Plan plan = SparseCsrJit.plan(w);
        assertNotNull(plan);
        assertSame(plan, SparseCsrJit.plan(w));
        SparseCsrJit.mode = SparseCsrJit.Mode.VECTOR;
        assertNull(SparseCsrJit.plan(w));
    }

    @Test
    void badArgumentsNeverReachTheCode() {
        Assumptions.assumeTrue(SparseCsrJit.STRIPS_SUPPORTED, "the AVX-512 kernel cannot run here");
        SparseCsr w = matrix(64, 20, 0.5);
        SparseCsrJit.Plan plan = SparseCsrJit.StripPlan.of(w, 128);
        float[] b = new float[20 * 64];
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SparseCsrJit.rows(plan, new float[63 * 64], 0, 64, 0, 64, b, 0, 64, 0, 64));
        assertTrue(e.getMessage().contains("out of bounds"), e.getMessage());
        assertThrows(IllegalStateException.class,
                () -> SparseCsrJit.rows(plan, new float[64 * 64], 0, 64, 0, 64, new float[19 * 64 + 63], 0, 64, 0, 64));
        w.colIdx()[w.colIdx().length - 1] = 20;
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> SparseCsrJit.StripPlan.of(w, 8));
        assertTrue(bad.getMessage().contains("outside [0, 20)"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SparseCsrCode.strip(5));
    }

    /**
     * The AVX2 kernel on any range of rows (off any grid, empty rows, the matrix's last element,
     * whose prefetch reads the padding), lanes from an offset, B unaligned and wider than the
     * lanes: bit for bit against the Vector API loop, nothing written outside the rows and lanes.
     */
    @Test
    void rowPlansMatchTheVectorLoopOnAnyRows() {
        Assumptions.assumeTrue(SparseCsrJit.ROWS_SUPPORTED, "the AVX2 kernel cannot run here");
        int[][] shapes = {{1, 1}, {5, 3}, {70, 40}, {129, 300}};
        double[] densities = {0, 0.02, 0.3, 1};
        int variant = 0;
        for (int[] shape : shapes) {
            for (double density : densities) {
                int rows = shape[0];
                int cols = shape[1];
                SparseCsr w = matrix(rows, cols, density);
                SparseCsrJit.RowPlan plan = SparseCsrJit.RowPlan.of(w);
                int ldb = 64 * 2 + 5;
                int bOff = 3 + variant % 5;
                float[] b = TestArrays.randomFloats(rnd, bOff + cols * ldb);
                int ldc = 64 * 2 + 1;
                int[][] ranges = {{0, rows}, {rows / 3, rows - rows / 4}, {rows - 1, rows}};
                for (int[] range : ranges) {
                    int r0 = range[0];
                    int r1 = Math.max(range[1], r0 + 1);
                    for (int j1 : new int[] {64, 127, 128 + 5}) {
                        int j0 = j1 == 64 ? 0 : 2;
                        float[] want = new float[2 + (r1 - r0) * ldc];
                        Arrays.fill(want, Float.NaN);
                        float[] got = want.clone();
                        int done = SparseCsrJit.rows(plan, got, 2, ldc, r0, r1, b, bOff, ldb, j0, j1);
                        int whole = j0 + (j1 - j0) / 64 * 64;
                        assertEquals(whole, done);
                        SparseCsrLoops.rows(want, 2, ldc, false, w.rowPtr(), w.colIdx(), w.values(), r0, r1, b, bOff,
                                ldb, j0, whole);
                        assertSameBits("rows " + r0 + ".." + r1 + " of " + rows + "x" + cols + " density " + density
                                + " lanes " + j0 + ".." + j1, want, got);
                    }
                }
                variant++;
            }
        }
    }

    @Test
    void rowPlansCheckTheMatrixAndTheBuffers() {
        Assumptions.assumeTrue(SparseCsrJit.ROWS_SUPPORTED, "the AVX2 kernel cannot run here");
        SparseCsr w = matrix(64, 20, 0.5);
        SparseCsrJit.RowPlan plan = SparseCsrJit.RowPlan.of(w);
        float[] b = new float[20 * 64];
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SparseCsrJit.rows(plan, new float[63 * 64], 0, 64, 0, 64, b, 0, 64, 0, 64));
        assertTrue(e.getMessage().contains("out of bounds"), e.getMessage());
        assertThrows(IllegalStateException.class,
                () -> SparseCsrJit.rows(plan, new float[64 * 64], 0, 64, 0, 64, new float[19 * 64 + 63], 0, 64, 0, 64));
        assertThrows(IllegalStateException.class,
                () -> SparseCsrJit.rows(plan, new float[64 * 64], 0, 63, 0, 2, b, 0, 64, 0, 64));
        int last = w.colIdx().length - 1;
        int kept = w.colIdx()[last];
        w.colIdx()[last] = 20;
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> SparseCsrJit.RowPlan.of(w));
        assertTrue(bad.getMessage().contains("expected [0, 20)"), bad.getMessage());
        w.colIdx()[last] = kept;
        w.colIdx()[0] = 25;
        assertEquals(kept, plan.idx()[last], "the plan keeps its own checked copy");
    }
}

package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.TestArrays;
import dev.kiln.kernels.ref.RefGemm;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * {@link Gemm} against {@link RefGemm}. Inputs are uniform in [-1, 1); each fp32 product is exact
 * in double and the fp32 sum of k terms of size <= 1 drifts by about {@code eps * sqrt(k)} times
 * its typical magnitude {@code sqrt(k)}, so {@code atol = 1e-4 * sqrt(k)} (plus {@code rtol 1e-4})
 * leaves a wide margin over rounding while any indexing mistake (errors of order 1) fails.
 */
class GemmTest {
    private static final int L = Simd.lanesF();
    private static final int MR = GemmMicro.MR;
    private static final int NR = GemmMicro.NR;
    /** Rows past one tile (a tail strip) that take the packed path: 9 for 8-row tiles, and for 5-row ones. */
    private static final int PACKED_ROWS = Math.max(MR, GemmSmall.SMALL_M) + 1;
    private static final int KC = GemmPacked.KC;
    /** Row and column counts: vector tails, tile and block edges, the direct and the packed paths. */
    private static final int[] MN = {1, 3, 4, L - 1, L, L + 1, 2 * L + 3, MR + 1, 127, 300};
    private static final int[] K = {1, L - 1, L, L + 1, 2 * L + 3, MR + 1, KC - 1, KC, KC + 1, 2 * KC + 3, 1023};

    private final SplittableRandom rnd = new SplittableRandom(42);

    /** Runs one GEMM with padded leading dims and offsets and compares all of C (padding included). */
    private void check(boolean acc, boolean tA, boolean tB, int m, int n, int k, int pad, int off) {
        int lda = (tA ? m : k) + pad;
        int ldb = (tB ? k : n) + pad;
        int ldc = n + pad;
        float[] a = TestArrays.randomFloats(rnd, off + (tA ? k : m) * lda);
        float[] b = TestArrays.randomFloats(rnd, off + (tB ? n : k) * ldb);
        float[] c = acc ? TestArrays.randomFloats(rnd, off + m * ldc) : nans(off + m * ldc);
        double[] ref = TestArrays.toDouble(c);
        Gemm.sgemm(acc, c, off, ldc, tA, a, off, lda, tB, b, off, ldb, m, n, k);
        RefGemm.dgemm(acc, ref, off, ldc, tA, TestArrays.toDouble(a), off, lda, tB, TestArrays.toDouble(b), off, ldb,
                m, n, k);
        TestArrays.assertClose(label(acc, tA, tB, m, n, k) + " pad=" + pad + " off=" + off, c, ref, atol(k), 1e-4);
    }

    private static double atol(int k) {
        return 1e-4 * Math.sqrt(Math.max(1, k));
    }

    private static String label(boolean acc, boolean tA, boolean tB, int m, int n, int k) {
        return "sgemm(" + (acc ? "+=" : "=") + (tA ? " A^T" : " A") + (tB ? " B^T" : " B") + ") m=" + m + " n=" + n
                + " k=" + k;
    }

    private static float[] nans(int size) {
        float[] c = new float[size];
        Arrays.fill(c, Float.NaN);
        return c;
    }

    @Test
    void allShapesAndTranspositions() {
        int[] ks = {1, L + 1, KC + 1};
        int count = 0;
        for (int t = 0; t < 8; t++) {
            boolean acc = (t & 4) != 0;
            boolean tA = (t & 2) != 0;
            boolean tB = (t & 1) != 0;
            for (int m : MN) {
                for (int n : MN) {
                    for (int k : ks) {
                        check(acc, tA, tB, m, n, k, count % 3 == 0 ? 0 : 3, count % 2 == 0 ? 0 : 5);
                        count++;
                    }
                }
            }
        }
    }

    @Test
    void depthsAcrossBlocksAndTails() {
        int[][] mn = {{MR + 1, NR + 3}, {3, 2 * L + 3}, {2 * L + 3, 5}, {2 * MR + 1, 1}};
        for (int k : K) {
            for (int[] s : mn) {
                for (int t = 0; t < 4; t++) {
                    check(t % 2 == 0, (t & 2) != 0, (t & 1) != 0, s[0], s[1], k, 2, 1);
                }
            }
        }
    }

    /** Shapes that take the packed path across several MC row blocks or NC column panels. */
    @Test
    void blockEdgesOfMAndN() {
        int mc = GemmPacked.MC;
        int nc = GemmPacked.NC;
        int n = GemmSmall.SMALL_N + 1;
        assertTrue(!GemmSmall.suits(false, mc + 1, n) && !GemmSmall.suits(true, PACKED_ROWS, nc + NR + 3));
        check(false, false, false, mc + 1, n, 7, 1, 3);
        check(true, true, true, 2 * mc + MR - 1, n + 4, 5, 0, 0);
        check(false, false, true, PACKED_ROWS, nc + NR + 3, 70, 2, 1);
        check(true, true, false, PACKED_ROWS, nc + 1, KC + 2, 0, 2);
    }

    /**
     * The packed path where packing transposes (A untransposed, B transposed): 8 x 8 register
     * transposes over full groups of 8 rows and columns, element copies for the rest of a strip.
     */
    @Test
    void transposingPacksWithTails() {
        int[] ms = {PACKED_ROWS, 2 * MR, 3 * MR + 5, 64};
        int[] ns = {8, 9, 2 * L, NR, NR + 8, NR + 13, 3 * NR - 1};
        int[] ks = {7, 8, 9, 23, KC + 8, KC + 13};
        int count = 0;
        for (int m : ms) {
            for (int n : ns) {
                for (int k : ks) {
                    check(count % 2 == 0, false, count % 3 != 0, m, n, k, count % 4 == 0 ? 0 : 5, count % 5);
                    count++;
                }
            }
        }
        assertTrue(!GemmSmall.suits(false, PACKED_ROWS, 8));
    }

    @Test
    void largeShape() {
        check(false, false, false, 513, 517, 300, 0, 0);
        check(true, false, true, 513, 517, 300, 3, 1);
        check(false, true, false, 513, 517, 300, 1, 0);
        check(true, true, true, 513, 517, 300, 0, 7);
    }

    /** Shallow slices into a C of 1 MB or more run the tiles along the rows of C (GemmPacked.rowsFirst). */
    @Test
    void tilesAlongTheRowsOfALargeC() {
        assertTrue(GemmPacked.rowsFirst(517, 515, 65) && !GemmPacked.rowsFirst(517, 515, 129)
                && !GemmPacked.rowsFirst(300, 784, 64));
        check(true, true, false, 517, 515, 65, 1, 2);
        check(false, false, true, 3 * GemmPacked.MC + 3, 1031, 2 * L + 3, 0, 1);
        int saved = Parallel.threads();
        try {
            assertThreadsKeepBits(false, true, false, 517, 2 * NR + 7 + 512, 64, 2);
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void nanInOutputIsOverwritten() {
        int[][] shapes = {{300, 257, 300}, {3, 200, 40}, {200, 3, 40}, {1, 1, 1}, {MR + 1, NR + 1, KC + 1}};
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) {
                boolean tA = (t & 2) != 0;
                boolean tB = (t & 1) != 0;
                int m = s[0], n = s[1], k = s[2];
                float[] c = nans(m * n);
                Gemm.sgemm(false, c, 0, n, tA, TestArrays.randomFloats(rnd, m * k), 0, tA ? m : k,
                        tB, TestArrays.randomFloats(rnd, k * n), 0, tB ? k : n, m, n, k);
                int bad = IntStream.range(0, c.length).filter(i -> !Float.isFinite(c[i])).findFirst().orElse(-1);
                assertEquals(-1, bad, () -> label(false, tA, tB, m, n, k) + ": non-finite value at index " + bad);
            }
        }
    }

    @Test
    void emptyDims() {
        float[] c = nans(12);
        Gemm.sgemm(false, c, 0, 4, false, new float[0], 0, 0, false, new float[0], 0, 4, 3, 4, 0);
        assertArrayEquals(new float[12], c, "k == 0 without accumulate writes zeros");
        float[] d = {1, 2, 3, 4, 5, 6};
        Gemm.sgemm(true, d, 0, 3, true, new float[0], 0, 2, true, new float[0], 0, 0, 2, 3, 0);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, d, "k == 0 with accumulate leaves C");
        Gemm.sgemm(false, d, 0, 3, false, new float[0], 0, 5, false, new float[5], 0, 0, 0, 0, 5);
        Gemm.sgemmBatched(false, d, 0, 3, 6, false, new float[0], 0, 0, 0, false, new float[0], 0, 3, 0, 0, 2, 3, 0);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, d, "m == 0 and batch == 0 touch nothing");
    }

    /** Batched GEMM against the reference, with A or B shared (stride 0) or C strided with gaps. */
    private void checkBatched(boolean acc, boolean tA, boolean tB, int batch, int m, int n, int k,
                              boolean shareA, boolean shareB) {
        int lda = tA ? m : k;
        int ldb = tB ? k : n;
        long sA = shareA ? 0 : (long) m * k + 3;
        long sB = shareB ? 0 : (long) k * n + 1;
        long sC = (long) m * n + 2;
        float[] a = TestArrays.randomFloats(rnd, (int) (2 + (batch - 1) * sA + m * k));
        float[] b = TestArrays.randomFloats(rnd, (int) ((batch - 1) * sB + k * n));
        float[] c = acc ? TestArrays.randomFloats(rnd, (int) (1 + batch * sC)) : nans((int) (1 + batch * sC));
        double[] ref = TestArrays.toDouble(c);
        Gemm.sgemmBatched(acc, c, 1, n, sC, tA, a, 2, lda, sA, tB, b, 0, ldb, sB, batch, m, n, k);
        RefGemm.dgemmBatched(acc, ref, 1, n, sC, tA, TestArrays.toDouble(a), 2, lda, sA,
                tB, TestArrays.toDouble(b), 0, ldb, sB, batch, m, n, k);
        TestArrays.assertClose("batched " + batch + "x " + label(acc, tA, tB, m, n, k) + " shareA=" + shareA
                + " shareB=" + shareB, c, ref, atol(k), 1e-4);
    }

    @Test
    void batchedWithBroadcast() {
        checkBatched(false, false, false, 5, 20, 33, 17, true, false);
        checkBatched(true, true, true, 5, 20, 33, 17, false, true);
        checkBatched(false, false, true, 7, 3, 40, 65, false, false);
        checkBatched(true, true, false, 4, 37, 2, 9, true, false);
        checkBatched(false, false, true, 3, 150, 140, 210, false, true);
        checkBatched(true, false, false, 1, 64, 300, 100, true, true);
    }

    @Test
    void bReadInPlaceHasTheBitsOfPackedB() {
        int most = GemmPacked.IN_PLACE_ROWS;
        assertTrue(GemmPacked.readsBInPlace(false, 784, most));
        assertFalse(GemmPacked.readsBInPlace(true, 784, most));
        assertFalse(GemmPacked.readsBInPlace(false, 1024, most));
        assertFalse(GemmPacked.readsBInPlace(false, 784, most + 1));
        int[][] shapes = {{Math.min(64, most), 3 * NR + 5, 300}, {MR + 3, NR, KC + 7}, {most, 2 * NR + 1, 40}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            float[] a = TestArrays.randomFloats(rnd, m * k);
            float[] b = TestArrays.randomFloats(rnd, k * n);
            float[] wide = new float[k * 512];
            for (int p = 0; p < k; p++) {
                System.arraycopy(b, p * n, wide, p * 512, n);
            }
            float[] inPlace = new float[m * n];
            float[] packed = new float[m * n];
            Gemm.sgemm(false, inPlace, 0, n, false, a, 0, k, false, b, 0, n, m, n, k);
            Gemm.sgemm(false, packed, 0, n, false, a, 0, k, false, wide, 0, 512, m, n, k);
            assertArrayEquals(packed, inPlace, "B in place (ldb " + n + ") vs packed (ldb 512): "
                    + label(false, false, false, m, n, k));
        }
    }

    /**
     * Up to MC rows, B is packed a strip at a time just before its tiles (it stays in L2); more
     * rows pack the whole panel for all row blocks. Same packed values and tiles, so the first MC
     * rows of a taller product have the bits of those rows alone (bias, tails, several KC slices).
     */
    @Test
    void stripwisePackingHasTheBitsOfThePanel() {
        int mc = GemmPacked.MC;
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(1);
            // The third shape must take the packed path for both the 9 and the 193 rows: with 256-bit
            // vectors 2 * NR is only 32 columns, which an A^T takes through GemmSmall (other sums).
            int wide = Math.max(2 * NR, (GemmSmall.SMALL_N / NR + 1) * NR);
            int[][] shapes = {{mc, 3 * NR + 5, KC + 7}, {mc - 3, NR - 1, 300}, {PACKED_ROWS, wide, 2 * KC + 1}};
            for (int[] s : shapes) {
                for (int t = 0; t < 4; t++) {
                    boolean tA = (t & 2) != 0;
                    boolean tB = (t & 1) != 0 || s[1] % 512 == 0;
                    int m = s[0], n = s[1], k = s[2], tall = 2 * mc + 1;
                    assertEquals(GemmSmall.suits(tA, m, n), GemmSmall.suits(tA, tall, n),
                            "both GEMMs take the same path: " + label(false, tA, tB, m, n, k));
                    float[] a = TestArrays.randomFloats(rnd, tall * k);
                    float[] b = TestArrays.randomFloats(rnd, k * n);
                    float[] bias = TestArrays.randomFloats(rnd, n);
                    float[] all = new float[tall * n];
                    float[] top = new float[m * n];
                    int lda = tA ? tall : k;
                    Gemm.sgemmBias(t == 2, all, 0, n, tA, a, 0, lda, tB, b, 0, tB ? k : n, bias, 0, tall, n, k);
                    Gemm.sgemmBias(t == 2, top, 0, n, tA, a, 0, lda, tB, b, 0, tB ? k : n, bias, 0, m, n, k);
                    assertArrayEquals(Arrays.copyOf(all, m * n), top, "first " + m + " of " + tall + " rows: "
                            + label(false, tA, tB, m, n, k));
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void multithreadedEqualsSingleThreaded() {
        // {1000, 300, 300} and {777, 37, 70}: rows split over threads that share the packed B (GemmSharedB)
        int[][] shapes = {{300, 257, 260}, {40, 700, 100}, {700, 40, 100}, {3, 2000, 300}, {2, 300, 1000},
                {1000, 3, 200}, {1000, 5, 100}, {1000, 300, 300}, {777, 37, 70}};
        int saved = Parallel.threads();
        try {
            for (int[] s : shapes) {
                for (int t = 0; t < 4; t++) {
                    assertThreadsKeepBits(false, (t & 2) != 0, (t & 1) != 0, s[0], s[1], s[2], 2, 2);
                }
            }
            Parallel.setThreads(2);
            checkBatched(false, true, false, 6, 30, 50, 70, false, true);
            checkBatched(true, false, true, 2, 200, 220, 130, true, false);
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * C (=|+=) op(A) op(B) from the same random C on 1 thread and then on each of {@code threads}
     * in turn, bit for bit the same (threads own disjoint parts of C; leaves the thread count set).
     */
    private void assertThreadsKeepBits(boolean acc, boolean tA, boolean tB, int m, int n, int k, int... threads) {
        float[] a = TestArrays.randomFloats(rnd, m * k);
        float[] b = TestArrays.randomFloats(rnd, k * n);
        float[] start = TestArrays.randomFloats(rnd, m * n);
        float[] one = start.clone();
        Parallel.setThreads(1);
        Gemm.sgemm(acc, one, 0, n, tA, a, 0, tA ? m : k, tB, b, 0, tB ? k : n, m, n, k);
        for (int t : threads) {
            Parallel.setThreads(t);
            float[] many = start.clone();
            Gemm.sgemm(acc, many, 0, n, tA, a, 0, tA ? m : k, tB, b, 0, tB ? k : n, m, n, k);
            assertArrayEquals(one, many, t + " threads vs 1: " + label(acc, tA, tB, m, n, k));
        }
    }

    /**
     * Rows split over threads that share several packed B panels (GemmSharedB: two buffers taken in
     * turn, row blocks claimed, a block's next KC slice after its previous one), with tails in every
     * dimension: against the reference on 2 threads, and bit for bit against 1 thread on 2 and 3
     * (more threads than this machine's cores: claimed work, waits on threads that lose their core).
     */
    @Test
    void sharedPanelsAcrossNcAndKc() {
        int nc = GemmPacked.NC;
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(2);
            check(true, false, false, 2 * GemmPacked.MC + MR + 3, nc + NR + 3, KC + 9, 1, 2);
            check(false, true, true, 3 * MR + 1, 2 * nc + 5, 2 * KC + 3, 0, 1);
            int[][] shapes = {{GemmPacked.MC + 2 * MR + 5, nc + 7, 2 * KC + 1}, {5 * MR + 3, 2 * nc + NR + 1, KC + 3}};
            for (int[] s : shapes) {
                for (int t = 0; t < 4; t++) {
                    assertThreadsKeepBits(t == 1, (t & 2) != 0, (t & 1) != 0, s[0], s[1], s[2], 2, 3);
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void argumentErrorsNameTheKernel() {
        float[] x = new float[100];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, x, 0, 10, false, x, 0, 10, false, x, 0, 10, 11, 10, 10));
        assertTrue(e.getMessage().startsWith("sgemm: c too small: need 110 floats from offset 0, has 100"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, x, 0, 10, true, x, 0, 4, false, x, 0, 10, 5, 10, 2));
        assertTrue(e.getMessage().startsWith("sgemm: expected lda >= 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, x, 0, 10, false, x, 0, 10, false, x, 0, 10, -1, 10, 2));
        assertTrue(e.getMessage().startsWith("sgemm: expected dims >= 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemmBatched(false, x, 0, 2, 4, false, x, 0, 2, 0, true, x, 0, 2, 50, 3, 2, 2, 2));
        assertTrue(e.getMessage().startsWith("sgemmBatched: b too small"), e.getMessage());
        double[] d = new double[100];
        e = assertThrows(IllegalArgumentException.class,
                () -> RefGemm.dgemm(false, d, 0, 10, false, d, 0, 10, false, d, 0, 10, 11, 10, 10));
        assertTrue(e.getMessage().startsWith("dgemm: c too small"), e.getMessage());
    }
}

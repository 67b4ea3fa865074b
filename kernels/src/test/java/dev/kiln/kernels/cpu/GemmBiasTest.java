package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.TestArrays;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Gemm#sgemmBias} (bias and ReLU in the GEMM's store) against {@link Gemm#sgemm} followed
 * by the bias add and the ReLU in scalar code: the same float operations, so the bits must be equal
 * on every path (direct, packed full and half-width strips, edge tiles, several k slices, threads).
 * {@link GemmEpilogue#reluBackward} against its one-line rule, {@link GemmEpilogue#columnSums}
 * against {@link Reduce#sum} (same bits).
 */
class GemmBiasTest {
    private static final int L = Simd.lanesF();
    private static final int MR = GemmMicro.MR;
    private static final int NR = GemmMicro.NR;
    private static final int KC = GemmPacked.KC;

    private final SplittableRandom rnd = new SplittableRandom(7);

    private void check(boolean relu, boolean tA, boolean tB, int m, int n, int k) {
        int pad = (m + n) % 3;
        int off = k % 4;
        int lda = (tA ? m : k) + pad;
        int ldb = (tB ? k : n) + pad;
        int ldc = n + pad;
        float[] a = TestArrays.randomFloats(rnd, off + (tA ? k : m) * lda);
        float[] b = TestArrays.randomFloats(rnd, off + (tB ? n : k) * ldb);
        float[] bias = TestArrays.randomFloats(rnd, n + 2);
        float[] got = new float[off + m * ldc];
        Arrays.fill(got, Float.NaN);
        float[] want = got.clone();
        Gemm.sgemmBias(relu, got, off, ldc, tA, a, off, lda, tB, b, off, ldb, bias, 2, m, n, k);
        Gemm.sgemm(false, want, off, ldc, tA, a, off, lda, tB, b, off, ldb, m, n, k);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float v = want[off + i * ldc + j] + bias[2 + j];
                want[off + i * ldc + j] = relu && v < 0f ? 0f : v;
            }
        }
        String what = "sgemmBias relu=" + relu + " tA=" + tA + " tB=" + tB + " m=" + m + " n=" + n + " k=" + k;
        for (int i = 0; i < got.length; i++) {
            int at = i;
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                    () -> what + ": index " + at + " got " + got[at] + ", expected " + want[at]);
        }
    }

    @Test
    void equalsTheUnfusedProductBiasAndRelu() {
        int[] ms = {1, 3, MR, MR + 1, 2 * L + 3, 64, 100};
        int[] ns = {1, L - 1, L, L + 1, NR, NR + 3, 2 * NR + L, 300};
        int[] ks = {1, L + 1, 100, KC + 1};
        int count = 0;
        for (int m : ms) {
            for (int n : ns) {
                for (int k : ks) {
                    check(count % 2 == 0, (count & 2) != 0, count % 3 != 0, m, n, k);
                    count++;
                }
            }
        }
    }

    @Test
    void everyTranspositionAndBlockEdge() {
        for (int t = 0; t < 8; t++) {
            check((t & 4) != 0, (t & 2) != 0, (t & 1) != 0, GemmPacked.MC + MR + 3, GemmPacked.NC + L + 1, 33);
            check((t & 4) == 0, (t & 2) != 0, (t & 1) != 0, 64, 300, 784);
        }
    }

    @Test
    void twoThreadsGiveTheSameBits() {
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(2);
            check(true, false, true, 64, 300, 784);
            check(false, false, true, 300, 64, 200);
            check(true, true, false, 700, 40, 100);
            check(true, false, true, 3, 2000, 300);
            check(true, false, false, 4 * MR + 3, GemmPacked.NC + NR + 1, KC + 5);
            check(false, true, true, 3 * MR, GemmPacked.NC + 3, 2 * KC + 1);
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void reluBackwardPassesWherePositive() {
        float[] y = {1f, 0f, -0f, -2f, Float.NaN, 3f, 0.5f, Float.POSITIVE_INFINITY};
        int n = 1000;
        float[] ys = new float[n];
        float[] gy = TestArrays.randomFloats(rnd, n + 1);
        for (int i = 0; i < n; i++) {
            ys[i] = y[i % y.length];
        }
        for (int len : new int[] {0, 1, L - 1, L, L + 1, 2 * L + 3, n - 1}) {
            float[] gx = new float[len + 2];
            Arrays.fill(gx, Float.NaN);
            GemmEpilogue.reluBackward(gx, 2, gy, 1, ys, 0, len);
            for (int i = 0; i < len; i++) {
                assertEquals(ys[i] > 0f ? gy[1 + i] : 0f, gx[2 + i], "len=" + len + " index " + i + " (y=" + ys[i] + ")");
            }
            assertTrue(Float.isNaN(gx[0]) && Float.isNaN(gx[1]), "writes nothing before its offset");
        }
    }

    @Test
    void columnSumsEqualReduceSum() {
        for (int rows : new int[] {1, 3, 64}) {
            for (int cols : new int[] {1, 7, 8, 9, 31, 32, 33, 100, 300}) {
                int ld = cols + rows % 3;
                float[] g = TestArrays.randomFloats(rnd, 2 + rows * ld);
                float[] packed = new float[rows * cols];
                for (int i = 0; i < rows; i++) {
                    System.arraycopy(g, 2 + i * ld, packed, i * cols, cols);
                }
                float[] want = new float[cols];
                Reduce.sum(want, 0, packed, 0, 1, rows, cols);
                float[] got = new float[cols + 1];
                got[cols] = Float.NaN;
                GemmEpilogue.columnSums(got, 0, g, 2, ld, rows, cols);
                assertArrayEquals(want, Arrays.copyOf(got, cols), "rows=" + rows + " cols=" + cols);
                assertTrue(Float.isNaN(got[cols]), "writes nothing past cols");
            }
        }
    }

    @Test
    void argumentErrors() {
        float[] x = new float[100];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemmBias(false, x, 0, 10, false, x, 0, 10, false, x, 0, 10, new float[9], 0, 10, 10, 10));
        assertTrue(e.getMessage().startsWith("sgemmBias: expected a bias of 10 floats from offset 0, got an array of 9"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemmBias(false, x, 0, 10, false, x, 0, 10, false, x, 0, 10, x, 0, 11, 10, 10));
        assertTrue(e.getMessage().startsWith("sgemmBias: c too small"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GemmEpilogue.reluBackward(x, 0, x, 0, new float[5], 0, 6));
        assertTrue(e.getMessage().startsWith("reluBackward: expected"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GemmEpilogue.columnSums(new float[3], 0, x, 0, 4, 30, 4));
        assertTrue(e.getMessage().startsWith("columnSums: expected"), e.getMessage());
        float[] c = new float[6];
        Gemm.sgemmBias(true, c, 0, 3, false, new float[0], 0, 0, false, new float[0], 0, 3, new float[] {1, -2, 3}, 0, 2, 3, 0);
        assertArrayEquals(new float[] {1, 0, 3, 1, 0, 3}, c, "k == 0: act(bias) in every row");
    }
}

package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.TestArrays;
import dev.kiln.kernels.ref.RefQGemm;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link QGemm} against {@link RefQGemm}. The int32 products must match exactly. The float
 * epilogues are checked twice: bit for bit against the documented float formula applied to the
 * reference accumulators ({@link #dequant}, {@link #requant}), and against the double-precision
 * reference (dequantized values within a few float ulps of the terms' size, requantized values
 * within one step, since float and double may round a value near a .5 boundary differently).
 */
class QGemmTest {
    private static final int L = Simd.lanesF();
    /** Row and column counts: vector tails, 32-row strips plus dot-product rows, tile edges (6, 48). */
    private static final int[] MN = {1, L - 1, L, L + 1, 2 * L + 3, 47, 69};
    /** Depths: odd and even, vector tails of the pair loops (2L values per step). */
    private static final int[] K = {1, 2, L, L + 1, 2 * L, 2 * L + 3, 4 * L + 1, 130};

    private final SplittableRandom rnd = new SplittableRandom(7);

    /** This class checks the Vector API kernels; {@link QGemmJitTest} reruns every case on the VNNI kernel. */
    @BeforeEach
    void forcePath() {
        QGemmJit.mode = QGemmJit.Mode.VECTOR;
    }

    @AfterEach
    void autoPath() {
        QGemmJit.mode = QGemmJit.Mode.AUTO;
    }

    private byte[] bytes(int n) {
        byte[] x = new byte[n];
        for (int i = 0; i < n; i++) {
            x[i] = (byte) rnd.nextInt(256);
        }
        return x;
    }

    private float[] positive(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextDouble(1e-3, 2e-2);
        }
        return x;
    }

    /** One problem: random operands with padding and offsets, and its exact int32 result. */
    private record Case(int m, int n, int k, boolean aUnsigned, int zpA, byte[] a, byte[] b, int off, int pad,
                        int[] acc) {
        int lda() {
            return k + pad;
        }

        int ldo() {
            return n + pad;
        }

        String label() {
            return "m=" + m + " n=" + n + " k=" + k + (aUnsigned ? " uint8" : " int8") + " zpA=" + zpA + " off=" + off
                    + " pad=" + pad;
        }
    }

    private Case newCase(int m, int n, int k, boolean aUnsigned, int zpA, int off, int pad) {
        byte[] a = bytes(off + m * (k + pad));
        byte[] b = bytes(off + n * (k + pad));
        int[] acc = new int[m * n];
        RefQGemm.gemmS32(acc, 0, n, a, off, k + pad, aUnsigned, zpA, b, off, k + pad, m, n, k);
        return new Case(m, n, k, aUnsigned, zpA, a, b, off, pad, acc);
    }

    private Case newCase(int m, int n, int k, int variant) {
        boolean unsigned = variant % 2 == 0;
        int[] zps = unsigned ? new int[] {0, 255, 128, rnd.nextInt(256)}
                : new int[] {-128, 127, 0, rnd.nextInt(-128, 128)};
        return newCase(m, n, k, unsigned, zps[variant / 2 % 4], variant % 3 == 0 ? 0 : 3, variant % 5 == 0 ? 0 : 2);
    }

    private static void checkS32(Case t) {
        int[] c = new int[t.off + t.m * t.ldo()];
        Arrays.fill(c, 0x5a5a5a5a);
        int[] expect = c.clone();
        for (int i = 0; i < t.m; i++) {
            System.arraycopy(t.acc, i * t.n, expect, t.off + i * t.ldo(), t.n);
        }
        QGemm.gemmS32(c, t.off, t.ldo(), t.a, t.off, t.lda(), t.aUnsigned, t.zpA, t.b, t.off, t.lda(), t.m, t.n, t.k);
        assertArrayEquals(expect, c, "gemmS32 " + t.label());
    }

    private void checkDequant(Case t, boolean perChannel, boolean withBias) {
        float scaleA = (float) rnd.nextDouble(0.005, 0.05);
        float[] scaleB = positive(perChannel ? t.n : 1);
        float[] bias = withBias ? TestArrays.randomFloats(rnd, t.n) : null;
        float[] y = new float[t.off + t.m * t.ldo()];
        float[] mirror = y.clone();
        double[] ref = new double[y.length];
        double size = 0;
        for (int i = 0; i < t.m; i++) {
            for (int j = 0; j < t.n; j++) {
                int acc = t.acc[i * t.n + j];
                mirror[t.off + i * t.ldo() + j] = dequant(acc, scaleA, scaleB, bias, j);
                size = Math.max(size, Math.abs((double) acc * scaleA * scaleB[scaleB.length == 1 ? 0 : j]) + 1);
            }
        }
        QGemm.gemmDequant(y, t.off, t.ldo(), t.a, t.off, t.lda(), t.aUnsigned, t.zpA, scaleA, t.b, t.off, t.lda(),
                scaleB, bias, t.m, t.n, t.k);
        RefQGemm.gemmDequant(ref, t.off, t.ldo(), t.a, t.off, t.lda(), t.aUnsigned, t.zpA, scaleA, t.b, t.off, t.lda(),
                TestArrays.toDouble(scaleB), bias == null ? null : TestArrays.toDouble(bias), t.m, t.n, t.k);
        String what = "gemmDequant " + t.label() + (perChannel ? " per-channel" : " per-tensor")
                + (withBias ? " bias" : "");
        assertArrayEquals(mirror, y, what + " vs the float formula");
        TestArrays.assertClose(what + " vs double reference", y, ref, 4e-7 * size, 0);
    }

    private void checkRequant(Case t, boolean yUnsigned, int zpY, boolean relu, boolean perChannel) {
        float scaleA = (float) rnd.nextDouble(0.005, 0.05);
        float[] scaleB = positive(perChannel ? t.n : 1);
        float[] bias = TestArrays.randomFloats(rnd, t.n);
        double typical = Math.sqrt(Math.max(1, t.k)) * 7400 * scaleA * 1e-2;
        float scaleY = (float) (typical / 40);
        byte[] y = bytes(t.off + t.m * t.ldo());
        byte[] mirror = y.clone();
        byte[] ref = y.clone();
        for (int i = 0; i < t.m; i++) {
            for (int j = 0; j < t.n; j++) {
                mirror[t.off + i * t.ldo() + j] = requant(t.acc[i * t.n + j], scaleA, scaleB, bias, j, scaleY, zpY,
                        yUnsigned, relu);
            }
        }
        QGemm.gemmRequant(y, t.off, t.ldo(), yUnsigned, zpY, scaleY, t.a, t.off, t.lda(), t.aUnsigned, t.zpA, scaleA,
                t.b, t.off, t.lda(), scaleB, bias, relu, t.m, t.n, t.k);
        RefQGemm.gemmRequant(ref, t.off, t.ldo(), yUnsigned, zpY, scaleY, t.a, t.off, t.lda(), t.aUnsigned, t.zpA,
                scaleA, t.b, t.off, t.lda(), TestArrays.toDouble(scaleB), TestArrays.toDouble(bias), relu,
                t.m, t.n, t.k);
        String what = "gemmRequant " + t.label() + (yUnsigned ? " to uint8" : " to int8") + " zpY=" + zpY
                + (relu ? " relu" : "") + (perChannel ? " per-channel" : " per-tensor");
        assertArrayEquals(mirror, y, what + " vs the float formula");
        for (int i = 0; i < y.length; i++) {
            int got = yUnsigned ? y[i] & 0xff : y[i];
            int want = yUnsigned ? ref[i] & 0xff : ref[i];
            assertTrue(Math.abs(got - want) <= 1, what + ": index " + i + " got " + got + ", double reference " + want);
        }
    }

    /** The documented dequantization, in float. */
    private static float dequant(int acc, float scaleA, float[] scaleB, float[] bias, int j) {
        return Math.fma((float) acc, scaleA * scaleB[scaleB.length == 1 ? 0 : j], bias == null ? 0f : bias[j]);
    }

    /** The documented requantization: round half to even, saturate, then ReLU at the zero point. */
    private static byte requant(int acc, float scaleA, float[] scaleB, float[] bias, int j, float scaleY, int zpY,
                                boolean yUnsigned, boolean relu) {
        float t = dequant(acc, scaleA, scaleB, bias, j) * (1f / scaleY);
        double q = Math.rint(t) + zpY;
        q = Math.max(yUnsigned ? 0 : -128, Math.min(yUnsigned ? 255 : 127, q));
        return (byte) (relu ? Math.max(q, zpY) : q);
    }

    @Test
    void int32MatchesReferenceOnAllShapes() {
        int variant = 0;
        for (int m : MN) {
            for (int n : MN) {
                for (int k : K) {
                    checkS32(newCase(m, n, k, variant++));
                }
            }
        }
        int[][] shapes = {{1, 7, 1023}, {L - 1, 1023, 33}, {1023, 9, 35}, {40, 50, 1023}, {2 * L + 3, 6, 0}};
        for (int[] s : shapes) {
            for (int v = 0; v < 4; v++) {
                checkS32(newCase(s[0], s[1], s[2], variant++));
            }
        }
    }

    @Test
    void extremeZeroPointsAndWrapAround() {
        int[][] shapes = {{1, 1023, 1}, {1, 1023, 0}, {33, 1023, 1}, {33, 1023, 0}, {1, 70000, 0}, {33, 70000, 1}};
        for (int[] s : shapes) {
            int m = s[0];
            int k = s[1];
            boolean unsigned = s[2] == 1;
            byte[] a = new byte[m * k];
            byte[] b = new byte[7 * k];
            Arrays.fill(a, (byte) (unsigned ? 0 : -128));
            Arrays.fill(b, (byte) -128);
            int[] c = new int[m * 7];
            QGemm.gemmS32(c, 0, 7, a, 0, k, unsigned, unsigned ? 255 : 127, b, 0, k, m, 7, k);
            int[] expect = new int[m * 7];
            Arrays.fill(expect, (int) (k * 255L * 128));
            assertArrayEquals(expect, c, "largest products (int32 wraps past k=65793), m=" + m + " k=" + k
                    + (unsigned ? " uint8" : " int8"));
        }
    }

    @Test
    void dequantizeMatchesReference() {
        int variant = 0;
        for (int m : new int[] {1, 3, 2 * L + 3, 49}) {
            for (int n : new int[] {1, L - 1, 49}) {
                for (int k : new int[] {1, 2 * L + 3, 130}) {
                    Case t = newCase(m, n, k, variant++);
                    checkDequant(t, variant % 2 == 0, variant % 3 != 0);
                    checkDequant(t, variant % 2 != 0, variant % 3 == 0);
                }
            }
        }
        checkDequant(newCase(64, 100, 1023, 1), true, true);
    }

    @Test
    void requantizeMatchesReference() {
        int variant = 0;
        int[][] zps = {{0, 255, 128, 37}, {-128, 127, 0, -5}};
        for (int m : new int[] {1, 3, 2 * L + 3, 49}) {
            for (int n : new int[] {1, L + 1, 49}) {
                for (int k : new int[] {1, 2 * L + 3, 130}) {
                    Case t = newCase(m, n, k, variant++);
                    boolean yUnsigned = variant % 2 == 0;
                    int zpY = zps[yUnsigned ? 0 : 1][variant / 2 % 4];
                    checkRequant(t, yUnsigned, zpY, variant % 3 == 0, variant % 5 < 3);
                }
            }
        }
        checkRequant(newCase(64, 100, 1023, 2), true, 100, true, true);
    }

    /** One value per row: A = a[i] (uint8, zero point 0), B = +-1, k = 1, so acc = +-a[i]. */
    private static byte[] handRequant(int m, int[] a, int sign, float scaleB, float scaleY, boolean yUnsigned, int zpY,
                                      boolean relu) {
        byte[] av = new byte[m];
        for (int i = 0; i < m; i++) {
            av[i] = (byte) a[i % a.length];
        }
        byte[] b = new byte[6];
        Arrays.fill(b, (byte) sign);
        byte[] y = new byte[m * 6];
        QGemm.gemmRequant(y, 0, 6, yUnsigned, zpY, scaleY, av, 0, 1, true, 0, 1f, b, 0, 1, new float[] {scaleB}, null,
                relu, m, 6, 1);
        byte[] col = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            col[i] = y[i * 6 + 5];
        }
        return col;
    }

    @Test
    void roundingHalfToEvenAndSaturationByHand() {
        int[] a = {1, 3, 5, 7, 255, 0};
        for (int m : new int[] {a.length, 32 + a.length}) {
            assertArrayEquals(new byte[] {0, 2, 2, 4, 127, 0}, handRequant(m, a, 1, 0.5f, 1f, false, 0, false),
                    "x/2 half to even, saturated at 127, m=" + m);
            assertArrayEquals(new byte[] {0, -2, -2, -4, -128, 0}, handRequant(m, a, -1, 0.5f, 1f, false, 0, false),
                    "-x/2 half to even, saturated at -128, m=" + m);
            assertArrayEquals(new byte[] {(byte) 200, (byte) 198, (byte) 198, (byte) 196, 72, (byte) 200},
                    handRequant(m, a, -1, 0.5f, 1f, true, 200, false), "uint8 zero point 200, m=" + m);
            assertArrayEquals(new byte[] {(byte) 200, (byte) 200, (byte) 200, (byte) 200, (byte) 200, (byte) 200},
                    handRequant(m, a, -1, 0.5f, 1f, true, 200, true), "relu clamps at the zero point, m=" + m);
            assertArrayEquals(new byte[] {(byte) 201, (byte) 203, (byte) 205, (byte) 207, (byte) 255, (byte) 200},
                    handRequant(m, a, 1, 0.5f, 0.5f, true, 200, true), "saturated at 255, m=" + m);
            assertArrayEquals(new byte[] {-10, -9, -9, -8, 54, -10}, handRequant(m, a, 1, 0.25f, 1f, false, -10, false),
                    "x/4 - 10: 0.25 -> 0, 0.75 -> 1, 1.25 -> 1, 1.75 -> 2, 63.75 -> 64, m=" + m);
        }
    }

    @Test
    void resultDoesNotDependOnTheThreadCount() {
        int[][] shapes = {{64, 512, 256}, {8, 600, 300}, {600, 20, 64}, {100, 300, 99}};
        int saved = Parallel.threads();
        try {
            for (int[] s : shapes) {
                Case t = newCase(s[0], s[1], s[2], false, 3, 0, 0);
                float[] scaleB = positive(t.n);
                float[] bias = TestArrays.randomFloats(rnd, t.n);
                int[][] c = new int[3][t.m * t.n];
                float[][] y = new float[3][t.m * t.n];
                byte[][] q = new byte[3][t.m * t.n];
                for (int threads = 1; threads <= 3; threads++) {
                    Parallel.setThreads(threads);
                    QGemm.gemmS32(c[threads - 1], 0, t.n, t.a, 0, t.k, false, 3, t.b, 0, t.k, t.m, t.n, t.k);
                    QGemm.gemmDequant(y[threads - 1], 0, t.n, t.a, 0, t.k, false, 3, 0.01f, t.b, 0, t.k, scaleB, bias,
                            t.m, t.n, t.k);
                    QGemm.gemmRequant(q[threads - 1], 0, t.n, true, 7, 0.5f, t.a, 0, t.k, false, 3, 0.01f, t.b, 0,
                            t.k, scaleB, bias, true, t.m, t.n, t.k);
                }
                assertArrayEquals(t.acc, c[0], "gemmS32 " + t.label());
                for (int threads = 2; threads <= 3; threads++) {
                    String what = threads + " threads vs 1, " + t.label();
                    assertArrayEquals(c[0], c[threads - 1], "gemmS32 " + what);
                    assertArrayEquals(y[0], y[threads - 1], "gemmDequant " + what);
                    assertArrayEquals(q[0], q[threads - 1], "gemmRequant " + what);
                }
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void prepackedWeightsGiveTheSameResults() {
        int[][] shapes = {{1, 5, 3}, {2, 24, 17}, {3, 25, 64}, {4, 49, 1}, {9, 73, 130}, {65, 50, 33}, {64, 97, 1024}};
        for (int[] sh : shapes) {
            int m = sh[0];
            int n = sh[1];
            int k = sh[2];
            byte[] a = bytes(2 + m * k);
            byte[] b = bytes(1 + n * (k + 3));
            float[] scales = new float[n];
            float[] bias = new float[n];
            for (int j = 0; j < n; j++) {
                scales[j] = 0.001f * (1 + rnd.nextInt(50));
                bias[j] = (float) rnd.nextGaussian();
            }
            String what = "m=" + m + " n=" + n + " k=" + k;
            QGemm.PackedWeights w = QGemm.packWeights(b, 1, k + 3, n, k);
            assertEquals(n, w.outputs(), what);
            assertEquals(k, w.inputs(), what);
            byte[] kept = b.clone();
            Arrays.fill(b, (byte) 7);
            int[] want = new int[m * n];
            int[] got = new int[m * n];
            RefQGemm.gemmS32(want, 0, n, a, 2, k, true, 77, kept, 1, k + 3, m, n, k);
            QGemm.gemmS32(got, 0, n, a, 2, k, true, 77, w, m);
            assertArrayEquals(want, got, "gemmS32, packed (later writes to the source must not reach it), " + what);
            float[] yWant = new float[m * n];
            float[] yGot = new float[m * n];
            QGemm.gemmDequant(yWant, 0, n, a, 2, k, false, -3, 0.02f, kept, 1, k + 3, scales, bias, m, n, k);
            QGemm.gemmDequant(yGot, 0, n, a, 2, k, false, -3, 0.02f, w, scales, bias, m);
            assertArrayEquals(yWant, yGot, "gemmDequant, packed, " + what);
            byte[] qWant = new byte[m * n];
            byte[] qGot = new byte[m * n];
            QGemm.gemmRequant(qWant, 0, n, true, 5, 0.3f, a, 2, k, true, 130, 0.02f, kept, 1, k + 3, scales, bias,
                    true, m, n, k);
            QGemm.gemmRequant(qGot, 0, n, true, 5, 0.3f, a, 2, k, true, 130, 0.02f, w, scales, bias, true, m);
            assertArrayEquals(qWant, qGot, "gemmRequant, packed, " + what);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QGemm.packWeights(new byte[10], 0, 4, 3, 4));
        assertEquals("packWeights: b too small: need 12 elements from offset 0, has 10", e.getMessage());
        QGemm.PackedWeights w = QGemm.packWeights(new byte[12], 0, 4, 3, 4);
        e = assertThrows(IllegalArgumentException.class,
                () -> QGemm.gemmDequant(new float[6], 0, 3, new byte[8], 0, 3, true, 0, 1f, w, new float[1], null, 2));
        assertEquals("gemmDequant: expected lda >= 4 (row length of a), got 3", e.getMessage());
    }

    @Test
    void argumentErrorsNameTheKernel() {
        byte[] x = new byte[100];
        int[] c = new int[100];
        float[] f = new float[100];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QGemm.gemmS32(c, 0, 10, x, 0, 10, true, 0, x, 0, 10, 11, 10, 10));
        assertEquals("gemmS32: a too small: need 110 elements from offset 0, has 100", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> QGemm.gemmS32(c, 0, 10, x, 0, 10, false, 200, x, 0, 10, 2, 2, 2));
        assertEquals("gemmS32: expected zpA in [-128, 127] (int8), got 200", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> QGemm.gemmDequant(f, 0, 10, x, 0, 10, true, 0, 1f, x, 0, 10, new float[3], null, 2, 10, 2));
        assertEquals("gemmDequant: expected scaleB of length 1 or n=10, got 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> QGemm.gemmRequant(x, 0, 10, true, 0, 0f, x, 0, 10, true, 0, 1f, x, 0, 10, new float[1], null,
                        false, 2, 10, 2));
        assertEquals("gemmRequant: expected scaleY > 0 and finite, got 0.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> RefQGemm.gemmS32(c, 0, 5, x, 0, 10, true, 0, x, 0, 10, 2, 10, 2));
        assertEquals("gemmS32: expected ldc >= 10 (row length of c), got 5", e.getMessage());
    }
}

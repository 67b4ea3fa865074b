package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.Simd;
import dev.kiln.kernels.TestArrays;
import dev.kiln.kernels.ref.RefQGemm;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The quantization helpers of {@link QGemm} against {@link RefQGemm} and hand-computed values:
 * bit for bit against the documented float formula, within one step of the double reference
 * (which divides in double instead of multiplying by the float reciprocal), and the round trip
 * {@code |dequant(quant(x)) - x| <= scale / 2} inside the range.
 */
class QGemmQuantTest {
    private static final int L = Simd.lanesF();
    private static final int[] N = {0, 1, L - 1, L, L + 1, 2 * L + 3, 1023};

    private final SplittableRandom rnd = new SplittableRandom(11);

    private static byte formula(float x, float scale, int zp, boolean unsigned) {
        double q = Math.rint(x * (1f / scale)) + zp;
        return (byte) Math.max(unsigned ? 0 : -128, Math.min(unsigned ? 255 : 127, Float.isNaN(x) ? zp : q));
    }

    private float[] values(int n, double range) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextDouble(-range, range);
        }
        return x;
    }

    @Test
    void perTensorMatchesFormulaAndReference() {
        for (int n : N) {
            for (int v = 0; v < 4; v++) {
                boolean unsigned = v % 2 == 0;
                int zp = unsigned ? (v == 0 ? 0 : 255) : (v == 1 ? -128 : 127);
                float scale = (float) rnd.nextDouble(0.005, 0.02);
                float[] x = values(n + 3, 2.0);
                byte[] q = new byte[n + 5];
                byte[] ref = q.clone();
                QGemm.quantizePerTensor(q, 2, unsigned, x, 3, n, scale, zp);
                RefQGemm.quantizePerTensor(ref, 2, unsigned, TestArrays.toDouble(x), 3, n, scale, zp);
                for (int i = 0; i < n + 5; i++) {
                    byte want = i >= 2 && i < n + 2 ? formula(x[i + 1], scale, zp, unsigned) : 0;
                    String what = "n=" + n + " zp=" + zp + " scale=" + scale + " index " + i;
                    assertEquals(want, q[i], what);
                    int got = unsigned ? q[i] & 0xff : q[i];
                    int r = unsigned ? ref[i] & 0xff : ref[i];
                    assertTrue(Math.abs(got - r) <= 1, what + ": got " + got + ", double reference " + r);
                }
            }
        }
    }

    @Test
    void roundingAndSaturationByHand() {
        float[] x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 300f, -300f, Float.NaN, Float.POSITIVE_INFINITY, 0.49f,
                -0.51f, 3.5f, 4.5f, 126.5f, 127.5f, -128.5f};
        byte[] q = new byte[x.length];
        QGemm.quantizePerTensor(q, 0, false, x, 0, x.length, 1f, 0);
        assertArrayEquals(new byte[] {0, 2, 2, 0, -2, -2, 127, -128, 0, 127, 0, -1, 4, 4, 126, 127, -128}, q);
        QGemm.quantizePerTensor(q, 0, true, x, 0, x.length, 2f, 10);
        assertArrayEquals(new byte[] {10, 11, 11, 10, 9, 9, (byte) 160, 0, 10, (byte) 255, 10, 10, 12, 12, 73, 74, 0},
                q, "uint8, scale 2, zero point 10: x/2 half to even, then + 10");
    }

    @Test
    void productsFarOutOfRangeSaturateInEveryLane() {
        // the vector loop clamps the bits of product + 1.5 * 2^23: products near and past 2^22 and
        // 1.5 * 2^23 (whose sums are small or negative floats), infinities, NaN and -0 in every lane
        float[] special = {-1.3e7f, -12582913f, -12582912f, -12582911f, -2e7f, 2e7f, 4194304f, -4194304f, 4194303.5f,
                -4194303.5f, 8388609f, -8388609f, 1e30f, -1e30f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.NaN, -0f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE, 255.5f, -128.5f};
        int n = 3 * L + 5;
        for (int shift = 0; shift < special.length; shift++) {
            float[] x = values(n, 300);
            for (int i = 0; i < n; i += 2) {
                x[i] = special[(i / 2 + shift) % special.length];
            }
            for (int zp : new int[] {0, 3, 127, 255, -128}) {
                boolean unsigned = zp >= 0 && zp != 127;
                for (float scale : new float[] {1f, 0.75f, 1e-3f}) {
                    byte[] q = new byte[n];
                    QGemm.quantizePerTensor(q, 0, unsigned, x, 0, n, scale, zp);
                    for (int i = 0; i < n; i++) {
                        assertEquals(formula(x[i], scale, zp, unsigned), q[i],
                                "x " + x[i] + " scale " + scale + " zp " + zp + (unsigned ? " uint8" : " int8"));
                    }
                }
            }
        }
    }

    @Test
    void rowsUseTheirOwnScaleAndZeroPoint() {
        int rows = 5;
        int cols = 2 * L + 3;
        float[] x = values(rows * (cols + 1), 1.0);
        float[] scales = {0.01f, 0.02f, 0.005f, 0.1f, 0.03f};
        int[] zps = {0, -3, 7, -128, 127};
        byte[] q = new byte[rows * (cols + 2)];
        byte[] ref = new byte[q.length];
        QGemm.quantizeRows(q, 0, cols + 2, false, x, 0, cols + 1, scales, zps, rows, cols);
        RefQGemm.quantizeRows(ref, 0, cols + 2, false, TestArrays.toDouble(x), 0, cols + 1, TestArrays.toDouble(scales),
                zps, rows, cols);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                int i = r * (cols + 2) + j;
                assertEquals(formula(x[r * (cols + 1) + j], scales[r], zps[r], false), q[i], "row " + r + " col " + j);
                assertTrue(Math.abs(q[i] - ref[i]) <= 1, "row " + r + " col " + j + " vs double reference");
            }
        }
        byte[] sym = new byte[q.length];
        QGemm.quantizeRows(sym, 0, cols + 2, false, x, 0, cols + 1, scales, null, rows, cols);
        assertEquals(formula(x[cols + 1], scales[1], 0, false), sym[cols + 2], "null zero points are symmetric");
    }

    @Test
    void dynamicParametersByHand() {
        assertEquals(new QGemm.QParams(2f / 255, 128), QGemm.dynamicQParams(new float[] {-1f, 0.3f, 1f}, 0, 3),
                "[-1, 1]: zero point 127.5 rounds to even 128");
        assertEquals(new QGemm.QParams((float) (2.0 / 255), 0), QGemm.dynamicQParams(new float[] {0.5f, 2f}, 0, 2),
                "positive: the range is widened to 0");
        assertEquals(new QGemm.QParams((float) (3.0 / 255), 255), QGemm.dynamicQParams(new float[] {-3f, -1f}, 0, 2),
                "negative: zero point at the top");
        assertEquals(new QGemm.QParams(0.1f, 0), QGemm.dynamicQParams(new float[] {0f, 0f}, 0, 2), "all zero");
        assertEquals(new QGemm.QParams(0.1f, 0), QGemm.dynamicQParams(new float[0], 0, 0), "empty");
        assertEquals(new QGemm.QParams(6.1e-5f, 0), QGemm.dynamicQParams(new float[] {1e-6f}, 0, 1),
                "smallest scale");
        assertEquals(new QGemm.QParams((float) (2.0 / 127), 64),
                QGemm.dynamicQParams(new float[] {-1f, 1f}, 0, 2, true), "reduce_range: [0, 127], 63.5 -> 64");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QGemm.dynamicQParams(new float[] {1f, Float.NaN}, 0, 2));
        assertTrue(e.getMessage().startsWith("dynamicQParams: expected finite values"), e.getMessage());
    }

    @Test
    void extremesAndNaNAnywhereInTheVectorChains() {
        int n = 1023;
        for (int at : new int[] {0, 1, L, 2 * L + 5, 3 * L + 1, 4 * L + 2, 700, 975, 1000, 1022}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (i % 7) * 0.25f + 0.5f;
            }
            x[at] = -9f;
            x[(at + 333) % n] = 20f;
            QGemm.QParams p = QGemm.dynamicQParams(x, 0, n);
            RefQGemm.QParams r = RefQGemm.dynamicQParams(TestArrays.toDouble(x), 0, n);
            assertEquals((float) r.scale(), p.scale(), "min at " + at);
            assertEquals(r.zeroPoint(), p.zeroPoint(), "min at " + at);
            x[at] = -0f;
            x[(at + 333) % n] = -1e-30f;
            assertEquals(new QGemm.QParams((float) (2.0 / 255), 0), QGemm.dynamicQParams(x, 0, n),
                    "-0 and tiny negatives at " + at);
            for (float bad : new float[] {Float.NaN, -Float.NaN, Float.intBitsToFloat(0xffc00001), Float.POSITIVE_INFINITY,
                    Float.NEGATIVE_INFINITY}) {
                x[at] = bad;
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> QGemm.dynamicQParams(x, 0, n), bad + " at " + at);
                assertTrue(e.getMessage().startsWith("dynamicQParams: expected finite values"), e.getMessage());
            }
        }
    }

    @Test
    void dynamicParametersMatchReferenceAndRoundTrip() {
        for (int n : N) {
            for (int v = 0; v < 6; v++) {
                double range = new double[] {1e-7, 1e-3, 1, 50, 1e4, 3}[v];
                float[] x = values(n + 1, range);
                if (v == 5) {
                    for (int i = 0; i < x.length; i++) {
                        x[i] = Math.abs(x[i]) + 1f;
                    }
                }
                QGemm.QParams p = QGemm.dynamicQParams(x, 1, n);
                RefQGemm.QParams r = RefQGemm.dynamicQParams(TestArrays.toDouble(x), 1, n);
                String what = "n=" + n + " range=" + range;
                assertEquals((float) r.scale(), p.scale(), what);
                assertEquals(r.zeroPoint(), p.zeroPoint(), what);
                byte[] q = new byte[n];
                QGemm.quantizePerTensor(q, 0, true, x, 1, n, p.scale(), p.zeroPoint());
                for (int i = 0; i < n; i++) {
                    double back = p.scale() * ((q[i] & 0xff) - p.zeroPoint());
                    assertTrue(Math.abs(back - x[i + 1]) <= p.scale() * 0.5000001 + 1e-6 * Math.abs(x[i + 1]),
                            what + ": x=" + x[i + 1] + " came back as " + back + ", scale " + p.scale());
                }
            }
        }
    }

    @Test
    void argumentErrorsNameTheHelper() {
        byte[] q = new byte[10];
        float[] x = new float[10];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QGemm.quantizePerTensor(q, 0, true, x, 0, 10, -1f, 0));
        assertEquals("quantizePerTensor: expected scale > 0 and finite, got -1.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> QGemm.quantizePerTensor(q, 0, true, x, 0, 10, 1f, 256));
        assertEquals("quantizePerTensor: expected zeroPoint in [0, 255] (uint8), got 256", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> QGemm.quantizeRows(q, 0, 5, false, x, 0, 5, new float[] {1f}, null, 2, 5));
        assertEquals("quantizeRows: expected 2 scales and zero points, got 1 and null", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> QGemm.quantizePerTensor(q, 1, true, x, 0, 10, 1f, 0));
        assertEquals("quantizePerTensor: q too small: need 10 elements from offset 1, has 10", e.getMessage());
    }
}

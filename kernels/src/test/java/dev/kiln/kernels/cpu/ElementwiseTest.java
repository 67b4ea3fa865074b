package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.CompareOp;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.TestArrays;
import dev.kiln.kernels.UnaryOp;
import dev.kiln.kernels.ref.RefElementwise;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class ElementwiseTest {
    private static final float GUARD = 7.25f;
    private static final int[][] OFFSETS = {{0, 0, 0}, {3, 5, 2}};
    private static final int[][] STRIDES = {{1, 1}, {1, 0}, {0, 1}, {0, 0}};

    /** 1, L-1, L, L+1, 2L+3, 1023 (L the float lanes), without repeats or 0. */
    static int[] sizes() {
        int l = Simd.lanesF();
        return IntStream.of(1, l - 1, l, l + 1, 2 * l + 3, 1023).filter(s -> s > 0).distinct().toArray();
    }

    private static float[] uniform(SplittableRandom rnd, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(lo, hi);
        }
        return a;
    }

    private static float[] guarded(int n) {
        float[] a = new float[n];
        Arrays.fill(a, GUARD);
        return a;
    }

    private static double[] domain(UnaryOp op) {
        return switch (op) {
            case EXP -> new double[] {-20, 20};
            case LOG -> new double[] {1e-3, 100};
            case SQRT -> new double[] {0, 100};
            case TANH, GELU, GELU_GRAD -> new double[] {-10, 10};
            case SIGMOID -> new double[] {-30, 30};
            case RECIPROCAL -> new double[] {0.1, 10};
            default -> new double[] {-5, 5};
        };
    }

    /** TestArrays.assertClose, with the inputs at the first bad index added to the message. */
    private static void assertClose(String what, float[] got, double[] want, double atol, double rtol,
                                    IntFunction<String> inputs) {
        try {
            TestArrays.assertClose(what, got, want, atol, rtol);
        } catch (AssertionError e) {
            int bad = 0;
            while (bad < want.length && (Double.compare(got[bad], want[bad]) == 0
                    || Math.abs(got[bad] - want[bad]) <= atol + rtol * Math.abs(want[bad]))) {
                bad++;
            }
            throw new AssertionError(e.getMessage() + "; inputs at index " + bad + ": " + inputs.apply(bad), e);
        }
    }

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unaryMatchesReference(UnaryOp op) {
        SplittableRandom rnd = new SplittableRandom(op.ordinal());
        double[] dom = domain(op);
        boolean gelu = op == UnaryOp.GELU || op == UnaryOp.GELU_GRAD;
        for (int n : sizes()) {
            for (int[] off : OFFSETS) {
                float[] x = uniform(rnd, off[1] + n + 2, dom[0], dom[1]);
                if (op == UnaryOp.RECIPROCAL) {
                    x[off[1]] = -x[off[1]];
                }
                float[] out = guarded(off[0] + n + 3);
                double[] want = TestArrays.toDouble(out);
                Elementwise.unary(op, out, off[0], x, off[1], n);
                RefElementwise.unary(op, want, off[0], TestArrays.toDouble(x), off[1], n);
                assertClose(op + " n=" + n + " offsets " + off[0] + "/" + off[1], out, want, gelu ? 3e-7 : 1e-7,
                        1e-6, i -> "x=" + (i >= off[0] && i < off[0] + n ? x[i - off[0] + off[1]] : "guard"));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unarySpecialValuesMatchRoundedReference(UnaryOp op) {
        float[] x = {0f, -0f, 1f, -1f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1e-30f, -1e-30f,
            100f, -100f, 88.8f, -88.8f, 1e30f, -1e30f, 0.5f, -0.5f, 3f, -3f, 7f, -7f, 12f, -12f, 30f, -30f};
        float[] out = new float[x.length];
        double[] ref = new double[x.length];
        Elementwise.unary(op, out, 0, x, 0, x.length);
        RefElementwise.unary(op, ref, 0, TestArrays.toDouble(x), 0, x.length);
        for (int i = 0; i < x.length; i++) {
            float want = (float) ref[i];
            boolean ok = Float.compare(out[i], want) == 0 || Math.abs(out[i] - want) <= 3e-7 + 1e-6 * Math.abs(want);
            assertTrue(ok, op + "(" + x[i] + "): got " + out[i] + ", expected " + want);
        }
    }

    @Test
    void knownValues() {
        double[] x = {-6, -3, -1.5, -0.5, 0.25, 1, 2.5, 5};
        double[] gelu = {-5.9195258702261888e-9, -0.0040496940948902836, -0.1002108019032871, -0.15426876936299345,
            0.14967658142073093, 0.84134474606854295, 2.4844758366855597, 4.9999985667421406};
        double[] grad = {-3.5468709453902015e-8, -0.011945647204183927, -0.12746919222997953, 0.13250487534383716,
            0.69537335488363603, 1.0833154705876863, 1.0376110859081452, 1.0000071469460018};
        double[] g = new double[x.length];
        RefElementwise.unary(UnaryOp.GELU, g, 0, x, 0, x.length);
        TestArrays.assertClose("ref gelu", g, gelu, 0, 4e-15);
        RefElementwise.unary(UnaryOp.GELU_GRAD, g, 0, x, 0, x.length);
        TestArrays.assertClose("ref gelu_grad", g, grad, 0, 4e-15);
        float[] xf = {-6, -3, -1.5f, -0.5f, 0.25f, 1, 2.5f, 5};
        float[] gf = new float[x.length];
        Elementwise.unary(UnaryOp.GELU, gf, 0, xf, 0, x.length);
        TestArrays.assertClose("gelu", gf, gelu, 1e-12, 1e-6);
        assertEquals(0.8413447460685429, gf[5], 1e-7);
        Elementwise.unary(UnaryOp.GELU_GRAD, gf, 0, xf, 0, x.length);
        TestArrays.assertClose("gelu_grad", gf, grad, 1e-7, 1e-6);

        float[] s = {-100f, 100f, -1000f, 1000f, 0f};
        float[] sig = new float[s.length];
        Elementwise.unary(UnaryOp.SIGMOID, sig, 0, s, 0, s.length);
        assertArrayEquals(new float[] {(float) 3.720075976020836e-44, 1f, 0f, 1f, 0.5f}, sig);
        double[] sigRef = new double[s.length];
        RefElementwise.unary(UnaryOp.SIGMOID, sigRef, 0, TestArrays.toDouble(s), 0, s.length);
        assertEquals(3.720075976020836e-44, sigRef[0], 1e-58);
        assertEquals(0.0, sigRef[2]);
        assertEquals(1.0, sigRef[3]);

        float[] sg = new float[4];
        Elementwise.unary(UnaryOp.SIGN, sg, 0, new float[] {0f, -2f, 3f, Float.NaN}, 0, 4);
        assertArrayEquals(new float[] {0f, -1f, 1f, Float.NaN}, sg);
    }

    @Test
    void referenceAgreesWithMath() {
        SplittableRandom rnd = new SplittableRandom(7);
        double[] x = new double[200];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextDouble(0.01, 50);
        }
        double[] out = new double[x.length];
        UnaryOp[] ops = {UnaryOp.EXP, UnaryOp.LOG, UnaryOp.SQRT, UnaryOp.TANH, UnaryOp.ABS};
        for (UnaryOp op : ops) {
            RefElementwise.unary(op, out, 0, x, 0, x.length);
            for (int i = 0; i < x.length; i++) {
                double want = switch (op) {
                    case EXP -> Math.exp(x[i]);
                    case LOG -> Math.log(x[i]);
                    case SQRT -> Math.sqrt(x[i]);
                    case TANH -> Math.tanh(x[i]);
                    default -> Math.abs(x[i]);
                };
                assertEquals(want, out[i], 0.0, op + "(" + x[i] + ")");
            }
        }
        RefElementwise.powScalar(out, 0, x, 0, 1.7, x.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Math.pow(x[i], 1.7), out[i], 0.0);
        }
        double[] a = {1, Double.NaN, -0.0, 0.0, 2};
        double[] b = {Double.NaN, 1, 0.0, -0.0, -3};
        double[] r = new double[a.length];
        RefElementwise.binary(BinaryOp.MAX, r, 0, a, 0, 1, b, 0, 1, a.length);
        for (int i = 0; i < a.length; i++) {
            assertEquals(Math.max(a[i], b[i]), r[i], 0.0);
        }
        RefElementwise.binary(BinaryOp.POW, r, 0, a, 0, 1, b, 0, 1, a.length);
        for (int i = 0; i < a.length; i++) {
            assertEquals(Math.pow(a[i], b[i]), r[i], 0.0);
        }
    }

    @ParameterizedTest
    @ValueSource(floats = {0f, 1f, 2f, 3f, 0.5f, -0.5f, -1f, -2f, 1.7f, -2.3f, 4f, -3f, 0.31f})
    void powScalarMatchesReference(float p) {
        SplittableRandom rnd = new SplittableRandom(Float.floatToIntBits(p));
        boolean integer = p == Math.rint(p);
        for (int n : sizes()) {
            for (int[] off : OFFSETS) {
                float[] x = uniform(rnd, off[1] + n, integer ? -3 : 0.05, 3);
                float[] out = guarded(off[0] + n + 2);
                double[] want = TestArrays.toDouble(out);
                Elementwise.powScalar(out, off[0], x, off[1], p, n);
                RefElementwise.powScalar(want, off[0], TestArrays.toDouble(x), off[1], p, n);
                assertClose("pow p=" + p + " n=" + n, out, want, 1e-7, 1e-6,
                        i -> "x=" + (i >= off[0] && i < off[0] + n ? x[i - off[0] + off[1]] : "guard"));
            }
        }
    }

    @Test
    void powScalarEdgeCases() {
        float[] special = {-0f, Float.NEGATIVE_INFINITY, Float.NaN, -2f, 0f, Float.POSITIVE_INFINITY, 1.25f};
        float[] x = new float[2 * Simd.lanesF() + 5];
        for (int i = 0; i < x.length; i++) {
            x[i] = special[i % special.length];
        }
        float[] out = new float[x.length];
        double[] ref = new double[x.length];
        for (float p : new float[] {0f, 0.5f, -0.5f, 2f, 3f, -1f, -2f, 1.5f, 5f}) {
            Elementwise.powScalar(out, 0, x, 0, p, x.length);
            RefElementwise.powScalar(ref, 0, TestArrays.toDouble(x), 0, p, x.length);
            for (int i = 0; i < x.length; i++) {
                assertEquals((float) ref[i], out[i], 0f, "pow(" + x[i] + ", " + p + ")");
            }
        }
    }

    private static float[][] binaryInputs(BinaryOp op, SplittableRandom rnd, int na, int nb) {
        float[] a = op == BinaryOp.POW ? uniform(rnd, na, 0.1, 3) : uniform(rnd, na, -4, 4);
        float[] b = switch (op) {
            case DIV -> uniform(rnd, nb, 0.5, 2);
            case POW -> uniform(rnd, nb, -2, 2);
            default -> uniform(rnd, nb, -4, 4);
        };
        if ((op == BinaryOp.MAX || op == BinaryOp.MIN) && na > 0 && nb > 0) {
            a[rnd.nextInt(na)] = Float.NaN;
            b[rnd.nextInt(nb)] = Float.NaN;
        }
        return new float[][] {a, b};
    }

    @ParameterizedTest
    @EnumSource(BinaryOp.class)
    void binaryMatchesReference(BinaryOp op) {
        SplittableRandom rnd = new SplittableRandom(op.ordinal() + 100);
        for (int n : sizes()) {
            for (int[] off : OFFSETS) {
                for (int[] st : STRIDES) {
                    float[][] ab = binaryInputs(op, rnd, off[1] + n, off[2] + n);
                    float[] a = ab[0];
                    float[] b = ab[1];
                    float[] out = guarded(off[0] + n + 2);
                    double[] want = TestArrays.toDouble(out);
                    Elementwise.binary(op, out, off[0], a, off[1], st[0], b, off[2], st[1], n);
                    RefElementwise.binary(op, want, off[0], TestArrays.toDouble(a), off[1], st[0],
                            TestArrays.toDouble(b), off[2], st[1], n);
                    assertClose(op + " n=" + n + " strides " + st[0] + "," + st[1] + " offsets "
                            + Arrays.toString(off), out, want, 1e-7, 1e-6, i -> {
                                int k = i - off[0];
                                return k < 0 || k >= n ? "guard"
                                        : "a=" + a[off[1] + k * st[0]] + ", b=" + b[off[2] + k * st[1]];
                            });
                }
            }
        }
    }

    @Test
    void binaryBroadcastMayLieInsideTheOutput() {
        int n = 2 * Simd.lanesF() + 3;
        float[] x = uniform(new SplittableRandom(3), n, -1, 1);
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            expected[i] = x[i] - x[0];
        }
        Elementwise.binary(BinaryOp.SUB, x, 0, x, 0, 1, x, 0, 0, n);
        assertArrayEquals(expected, x);
    }

    @ParameterizedTest
    @EnumSource(CompareOp.class)
    void compareMatchesReference(CompareOp op) {
        SplittableRandom rnd = new SplittableRandom(op.ordinal() + 200);
        for (int n : sizes()) {
            for (int[] off : OFFSETS) {
                for (int[] st : STRIDES) {
                    float[] a = new float[off[1] + n];
                    float[] b = new float[off[2] + n];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = rnd.nextInt(4);
                    }
                    for (int i = 0; i < b.length; i++) {
                        b[i] = rnd.nextInt(10) == 0 ? Float.NaN : rnd.nextInt(4);
                    }
                    byte[] out = new byte[off[0] + n + 2];
                    Arrays.fill(out, (byte) 9);
                    byte[] want = out.clone();
                    Elementwise.compare(op, out, off[0], a, off[1], st[0], b, off[2], st[1], n);
                    RefElementwise.compare(op, want, off[0], TestArrays.toDouble(a), off[1], st[0],
                            TestArrays.toDouble(b), off[2], st[1], n);
                    assertArrayEquals(want, out, op + " n=" + n + " strides " + st[0] + "," + st[1]
                            + " a=" + Arrays.toString(a) + " b=" + Arrays.toString(b));
                }
            }
        }
    }

    @Test
    void whereMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(300);
        for (int n : sizes()) {
            for (int[] off : OFFSETS) {
                for (int cs = 0; cs <= 1; cs++) {
                    for (int[] st : STRIDES) {
                        byte[] c = new byte[off[1] + n];
                        for (int i = 0; i < c.length; i++) {
                            c[i] = (byte) (rnd.nextBoolean() ? rnd.nextInt(1, 5) : 0);
                        }
                        float[] a = uniform(rnd, off[2] + n, -1, 1);
                        float[] b = uniform(rnd, n + 1, 5, 6);
                        float[] out = guarded(off[0] + n + 2);
                        double[] want = TestArrays.toDouble(out);
                        Elementwise.where(out, off[0], c, off[1], cs, a, off[2], st[0], b, 1, st[1], n);
                        RefElementwise.where(want, off[0], c, off[1], cs, TestArrays.toDouble(a), off[2], st[0],
                                TestArrays.toDouble(b), 1, st[1], n);
                        int stride = cs;
                        assertClose("where n=" + n + " strides " + cs + "," + st[0] + "," + st[1], out, want, 0, 0,
                                i -> i < off[0] || i >= off[0] + n ? "guard"
                                        : "cond=" + c[off[1] + (i - off[0]) * stride]);
                    }
                }
            }
        }
    }

    @Test
    void fillAxpyScaleMatchReference() {
        SplittableRandom rnd = new SplittableRandom(400);
        for (int n : sizes()) {
            for (int[] off : OFFSETS) {
                float[] x = uniform(rnd, off[1] + n, -2, 2);
                float[] y = uniform(rnd, off[0] + n + 2, -2, 2);
                double[] want = TestArrays.toDouble(y);
                Elementwise.axpy(y, off[0], -0.7f, x, off[1], n);
                RefElementwise.axpy(want, off[0], -0.7f, TestArrays.toDouble(x), off[1], n);
                assertClose("axpy n=" + n, y, want, 1e-7, 1e-6, i -> "y/x at " + i);

                float[] out = guarded(off[0] + n + 2);
                want = TestArrays.toDouble(out);
                Elementwise.scale(out, off[0], x, off[1], 1.5f, -0.25f, n);
                RefElementwise.scale(want, off[0], TestArrays.toDouble(x), off[1], 1.5f, -0.25f, n);
                assertClose("scale n=" + n, out, want, 1e-7, 1e-6, i -> "x at " + i);

                Elementwise.fill(out, off[0], 2.5f, n);
                RefElementwise.fill(want, off[0], 2.5f, n);
                assertClose("fill n=" + n, out, want, 0, 0, i -> "fill at " + i);
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        float[] a = new float[10];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Elementwise.binary(BinaryOp.ADD, a, 0, a, 0, 2, a, 0, 1, 4));
        assertEquals("binary: a stride must be 0 or 1, got 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.unary(UnaryOp.EXP, a, 3, a, 0, 8));
        assertEquals("unary: out too small: need 8 elements from offset 3, has 10", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.fill(a, 0, 1f, -1));
        assertEquals("fill: n must be >= 0, got -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> RefElementwise.where(new double[4], 0, new byte[1], 0, 1, new double[4], 0, 1, new double[4], 0,
                        1, 4));
        assertEquals("where: cond too small: need 4 elements from offset 0, has 1", e.getMessage());
        assertDoesNotThrow(() -> Elementwise.binary(BinaryOp.ADD, a, 0, new float[0], 0, 0, new float[0], 0, 1, 0));
    }

    /**
     * Large calls are split over the threads ({@code Parallel.forElements}); every element is
     * computed on its own, so 1 and 3 threads give the same bits, at offsets and with tails.
     */
    @Test
    void splitOverThreadsGivesTheSameBits() {
        int before = Parallel.threads();
        int n = 2 * Parallel.ELEMENT_GRAIN + 2 * 16 + 5;
        int off = 3;
        float[] a = TestArrays.randomFloats(new SplittableRandom(21), n + off);
        float[] b = TestArrays.randomFloats(new SplittableRandom(22), n + off);
        try {
            float[][] one = null;
            for (int t : new int[] {1, 3}) {
                Parallel.setThreads(t);
                float[][] got = new float[9][n + off];
                Elementwise.unary(UnaryOp.RELU, got[0], off, a, off, n);
                Elementwise.unary(UnaryOp.TANH, got[1], off, a, off, n);
                Elementwise.binary(BinaryOp.MUL, got[2], off, a, off, 1, b, off, 1, n);
                Elementwise.binary(BinaryOp.SUB, got[3], off, a, off, 1, b, 5, 0, n);
                Elementwise.binary(BinaryOp.DIV, got[4], off, a, 7, 0, b, off, 1, n);
                got[5] = b.clone();
                Elementwise.axpy(got[5], off, 0.3f, a, off, n);
                Elementwise.scale(got[6], off, a, off, 1.5f, -0.25f, n);
                Elementwise.fill(got[7], off, 2.5f, n);
                GemmEpilogue.reluBackward(got[8], off, b, off, a, off, n);
                if (one == null) {
                    one = got;
                } else {
                    for (int k = 0; k < got.length; k++) {
                        assertArrayEquals(one[k], got[k], "kernel " + k + " on 3 threads");
                    }
                }
            }
            assertEquals(0f, one[0][off - 1]);
            assertEquals(Math.max(a[off + n - 1], 0f), one[0][off + n - 1]);
            assertEquals(a[off + n - 1] * b[off + n - 1], one[2][off + n - 1]);
            assertEquals(2.5f, one[7][off + n - 1]);
            assertEquals(0f, one[7][off - 1]);
        } finally {
            Parallel.setThreads(before);
        }
    }
}

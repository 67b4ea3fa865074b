package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.kernels.TestArrays;
import dev.kiln.kernels.ref.RefReduce;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ReduceTest {
    private static final int X_OFF = 4;
    private static final int OUT_OFF = 2;
    private static final float GUARD = -3.5f;

    /** (outer, n, inner) shapes: every tail size along n and along inner, plus some big enough to go parallel. */
    static List<int[]> shapes() {
        List<int[]> shapes = new ArrayList<>();
        for (int s : ElementwiseTest.sizes()) {
            shapes.add(new int[] {1, s, 1});
            shapes.add(new int[] {3, s, 1});
            shapes.add(new int[] {2, s, 3});
            shapes.add(new int[] {2, 3, s});
            shapes.add(new int[] {1, 5, s});
            shapes.add(new int[] {s, 1, 2});
        }
        shapes.add(new int[] {40, 1000, 1});
        shapes.add(new int[] {3, 120, 100});
        shapes.add(new int[] {1, 33000, 1});
        shapes.add(new int[] {2, 20, 1000});
        return shapes;
    }

    private static String name(String kernel, int[] s) {
        return kernel + " (outer " + s[0] + ", n " + s[1] + ", inner " + s[2] + ")";
    }

    /** Values in [-1, 1), or small integers (ties) with some NaN when {@code ties}. */
    private static float[] input(SplittableRandom rnd, int[] s, boolean ties) {
        float[] x = new float[X_OFF + s[0] * s[1] * s[2] + 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = ties ? (rnd.nextInt(200) == 0 ? Float.NaN : rnd.nextInt(5) - 2) : (float) rnd.nextDouble(-1, 1);
        }
        return x;
    }

    private static float[] output(int[] s) {
        float[] out = new float[OUT_OFF + s[0] * s[2] + 2];
        Arrays.fill(out, GUARD);
        return out;
    }

    /** The reduced values behind output index k (the guard when k lies outside the output). */
    static String group(float[] x, int xOff, int[] s, int k) {
        if (k < 0 || k >= s[0] * s[2]) {
            return "guard";
        }
        int o = k / s[2];
        int i = k % s[2];
        StringBuilder b = new StringBuilder("(o " + o + ", i " + i + ") reduces [");
        for (int j = 0; j < Math.min(s[1], 12); j++) {
            b.append(j == 0 ? "" : ", ").append(x[xOff + (o * s[1] + j) * s[2] + i]);
        }
        return b.append(s[1] > 12 ? ", ...]" : "]").toString();
    }

    /** TestArrays.assertClose, with the reduced values at the first bad index added to the message. */
    private static void assertClose(String what, float[] got, double[] want, double atol, double rtol, float[] x,
                                    int[] s) {
        try {
            TestArrays.assertClose(what, got, want, atol, rtol);
        } catch (AssertionError e) {
            int bad = 0;
            while (Double.compare(got[bad], want[bad]) == 0
                    || Math.abs(got[bad] - want[bad]) <= atol + rtol * Math.abs(want[bad])) {
                bad++;
            }
            throw new AssertionError(e.getMessage() + "; inputs: " + group(x, X_OFF, s, bad - OUT_OFF), e);
        }
    }

    @Test
    void sumMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int[] s : shapes()) {
            float[] x = input(rnd, s, false);
            float[] out = output(s);
            double[] want = TestArrays.toDouble(out);
            Reduce.sum(out, OUT_OFF, x, X_OFF, s[0], s[1], s[2]);
            RefReduce.sum(want, OUT_OFF, TestArrays.toDouble(x), X_OFF, s[0], s[1], s[2]);
            assertClose(name("sum", s), out, want, 1e-6, 1e-6, x, s);
        }
    }

    @Test
    void maxAndMinMatchReference() {
        SplittableRandom rnd = new SplittableRandom(2);
        for (boolean ties : new boolean[] {false, true}) {
            for (int[] s : shapes()) {
                float[] x = input(rnd, s, ties);
                double[] xd = TestArrays.toDouble(x);
                float[] out = output(s);
                double[] want = TestArrays.toDouble(out);
                Reduce.max(out, OUT_OFF, x, X_OFF, s[0], s[1], s[2]);
                RefReduce.max(want, OUT_OFF, xd, X_OFF, s[0], s[1], s[2]);
                assertClose(name("max", s), out, want, 0, 0, x, s);
                Reduce.min(out, OUT_OFF, x, X_OFF, s[0], s[1], s[2]);
                RefReduce.min(want, OUT_OFF, xd, X_OFF, s[0], s[1], s[2]);
                assertClose(name("min", s), out, want, 0, 0, x, s);
            }
        }
    }

    @Test
    void argmaxAndArgminMatchReference() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (boolean ties : new boolean[] {false, true}) {
            for (int[] s : shapes()) {
                float[] x = input(rnd, s, ties);
                double[] xd = TestArrays.toDouble(x);
                long[] out = new long[OUT_OFF + s[0] * s[2] + 2];
                Arrays.fill(out, -7);
                long[] want = out.clone();
                Reduce.argmax(out, OUT_OFF, x, X_OFF, s[0], s[1], s[2]);
                RefReduce.argmax(want, OUT_OFF, xd, X_OFF, s[0], s[1], s[2]);
                assertArrayEquals(want, out, name("argmax", s) + (ties ? " with ties and NaN" : ""));
                Reduce.argmin(out, OUT_OFF, x, X_OFF, s[0], s[1], s[2]);
                RefReduce.argmin(want, OUT_OFF, xd, X_OFF, s[0], s[1], s[2]);
                assertArrayEquals(want, out, name("argmin", s) + (ties ? " with ties and NaN" : ""));
            }
        }
    }

    @Test
    void handComputedValues() {
        long[] idx = new long[4];
        Reduce.argmax(idx, 0, new float[] {1, 3, 3, 2, 0, -0f, 0, -1}, 0, 2, 4, 1);
        assertArrayEquals(new long[] {1, 0, 0, 0}, idx);
        Reduce.argmin(idx, 0, new float[] {2, 0, 5, 0, 0, -0f, 0, 1}, 0, 2, 4, 1);
        assertArrayEquals(new long[] {1, 0, 0, 0}, idx);
        Reduce.argmax(idx, 0, new float[] {1, Float.NaN, 3, Float.NaN}, 0, 1, 4, 1);
        assertEquals(1, idx[0]);
        Reduce.argmax(idx, 0, new float[] {1, 5, 7, 5, 7, 1}, 0, 1, 3, 2);
        assertArrayEquals(new long[] {1, 0}, Arrays.copyOf(idx, 2));

        float[] m = new float[2];
        Reduce.max(m, 0, new float[] {1, Float.NaN, 3, -1, -2, -3}, 0, 2, 3, 1);
        assertTrue(Float.isNaN(m[0]));
        assertEquals(-1f, m[1]);
        Reduce.min(m, 0, new float[] {1, 2, 3, 4, 5, 6}, 0, 1, 3, 2);
        assertArrayEquals(new float[] {1, 2}, m);
        Reduce.sum(m, 0, new float[] {1, 2, 3, 4, 5, 6}, 0, 1, 3, 2);
        assertArrayEquals(new float[] {9, 12}, m);
        assertEquals(21.0, Reduce.sumAll(new float[] {0, 1, 2, 3, 4, 5, 6}, 0, 7));
    }

    @Test
    void millionElementSumsAreAccurate() {
        SplittableRandom rnd = new SplittableRandom(4);
        int n = 1_000_000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextDouble(0, 1);
        }
        double exact = RefReduce.sumAll(TestArrays.toDouble(x), 0, n);
        assertEquals(exact, Reduce.sumAll(x, 0, n), exact * 1e-12);
        float[] out = new float[1];
        Reduce.sum(out, 0, x, 0, 1, n, 1);
        assertEquals(exact, out[0], exact * 1e-7);
        for (int inner : new int[] {4, 40}) {
            float[] cols = new float[inner];
            Reduce.sum(cols, 0, x, 0, 1, n / inner, inner);
            double[] want = new double[inner];
            RefReduce.sum(want, 0, TestArrays.toDouble(x), 0, 1, n / inner, inner);
            TestArrays.assertClose("column sums of [" + n / inner + ", " + inner + "]", cols, want, 0, 1e-7);
        }
    }

    @Test
    void emptyAxis() {
        float[] out = {5, 5};
        Reduce.sum(out, 0, new float[0], 0, 2, 0, 1);
        assertArrayEquals(new float[] {0, 0}, out);
        assertEquals(0.0, Reduce.sumAll(new float[0], 0, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Reduce.max(out, 0, new float[0], 0, 2, 0, 1));
        assertEquals("max: the reduced axis is empty (n = 0) but 2 x 1 results are asked for", e.getMessage());
        Reduce.argmax(new long[0], 0, new float[0], 0, 0, 0, 3);
    }

    @Test
    void rejectsBadArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Reduce.sum(new float[2], 0, new float[10], 1, 2, 5, 1));
        assertEquals("sum: x too small: need 10 elements from offset 1, has 10", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> RefReduce.argmin(new long[1], 0, new double[10], 0, 2, 5, 1));
        assertEquals("argmin: out too small: need 2 elements from offset 0, has 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Reduce.min(new float[2], 0, new float[10], 0, -1, 5, 1));
        assertEquals("min: expected outer, n, inner >= 0, got outer -1, n 5, inner 1", e.getMessage());
    }
}

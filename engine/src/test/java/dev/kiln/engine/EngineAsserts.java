package dev.kiln.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.function.Executable;

/**
 * Shared assertions of the engine tests: values of a tensor against expected numbers with
 * {@code |a - e| <= atol + rtol * |e|}, failures naming what was checked, the shape, the first bad
 * index and the largest difference; and "throws with a message containing" checks.
 */
final class EngineAsserts {
    /** F32 results of a handful of float ops on small values: a few ulps of 1. */
    static final double F32_TOL = 1e-5;

    private EngineAsserts() {
    }

    /** Asserts shape and values (row-major) of {@code t} within {@code tol} (absolute and relative). */
    /** {@code actual} holds exactly {@code expected}'s F32 values (raw bits), shape included. */
    static void assertSameBits(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.contiguous().toFloatArray();
        float[] a = actual.contiguous().toFloatArray();
        for (int i = 0; i < e.length; i++) {
            int at = i;
            assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]),
                    () -> what + ": index " + at + " got " + a[at] + ", expected " + e[at]);
        }
    }

    static void assertValues(String what, Tensor t, int[] shape, double[] expected, double tol) {
        assertArrayEquals(shape, t.shape(), () -> what + ": shape " + Shape.str(t.shape()) + ", expected " + Shape.str(shape));
        assertClose(what + " " + Shape.str(shape), t.toDoubleArray(), expected, tol, tol);
    }

    /** Asserts {@code |actual[i] - expected[i]| <= atol + rtol * |expected[i]|} for all i. */
    static void assertClose(String what, double[] actual, double[] expected, double atol, double rtol) {
        assertEquals(expected.length, actual.length, () -> what + ": element count");
        int firstBad = -1;
        int worst = -1;
        double worstDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            double a = actual[i];
            double e = expected[i];
            if (Double.compare(a, e) == 0) {
                continue;
            }
            double diff = Double.isNaN(a - e) ? Double.POSITIVE_INFINITY : Math.abs(a - e);
            if (diff > atol + rtol * Math.abs(e)) {
                if (firstBad < 0) {
                    firstBad = i;
                }
                if (worst < 0 || diff > worstDiff) {
                    worst = i;
                    worstDiff = diff;
                }
            }
        }
        if (firstBad >= 0) {
            throw new AssertionError(what + ": mismatch at index " + firstBad + ": got " + actual[firstBad] + ", expected "
                    + expected[firstBad] + "; max difference " + worstDiff + " at index " + worst + " (atol " + atol + ", rtol "
                    + rtol + ")\n actual   " + java.util.Arrays.toString(actual) + "\n expected " + java.util.Arrays.toString(expected));
        }
    }

    /** Asserts that {@code body} throws {@code type} with a message containing every one of {@code parts}. */
    static <T extends Throwable> T assertThrowsWith(Class<T> type, Executable body, String... parts) {
        T e = assertThrows(type, body);
        String msg = String.valueOf(e.getMessage());
        for (String p : parts) {
            assertTrue(msg.contains(p), () -> "expected the message to contain '" + p + "', got: " + msg);
        }
        return e;
    }

    /** F64 values as an array, for readable expectations. */
    static double[] d(double... v) {
        return v;
    }

    /** A shape literal. */
    static int[] s(int... v) {
        return v;
    }
}

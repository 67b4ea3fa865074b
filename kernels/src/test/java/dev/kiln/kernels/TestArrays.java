package dev.kiln.kernels;

import java.util.SplittableRandom;

/**
 * Shared helpers for kernel tests: seeded random inputs, float/double conversion and a closeness
 * assertion {@code |a - r| <= atol + rtol * |r|} whose failure names the first bad index, the values
 * there and the largest difference seen.
 */
public final class TestArrays {
    private TestArrays() {
    }

    /** {@code n} floats uniform in {@code [-1, 1)}. */
    public static float[] randomFloats(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-1.0, 1.0);
        }
        return a;
    }

    /** The same values widened to double. */
    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    /** Asserts {@code |actual[i] - expected[i]| <= atol + rtol * |expected[i]|} for every index of expected. */
    public static void assertClose(String what, float[] actual, double[] expected, double atol, double rtol) {
        assertClose(what, toDouble(actual), expected, atol, rtol);
    }

    /** Asserts {@code |actual[i] - expected[i]| <= atol + rtol * |expected[i]|} for every index of expected. */
    public static void assertClose(String what, double[] actual, double[] expected, double atol, double rtol) {
        if (actual.length < expected.length) {
            throw new AssertionError(what + ": actual has " + actual.length + " elements, expected "
                    + expected.length);
        }
        int firstBad = -1;
        int worst = -1;
        double worstDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            double a = actual[i];
            double r = expected[i];
            if (Double.compare(a, r) == 0 || Double.isNaN(a) && Double.isNaN(r)) {
                continue;
            }
            double diff = Double.isNaN(a - r) ? Double.POSITIVE_INFINITY : Math.abs(a - r);
            if (diff > atol + rtol * Math.abs(r)) {
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
            throw new AssertionError(what + ": mismatch at index " + firstBad + ": got " + actual[firstBad]
                    + ", expected " + expected[firstBad] + "; max difference " + worstDiff + " at index " + worst
                    + " (got " + actual[worst] + ", expected " + expected[worst] + "), atol " + atol + ", rtol "
                    + rtol + ", " + expected.length + " elements");
        }
    }

    /** {@code n} NaNs: an output buffer whose every element a kernel must write. */
    public static float[] nans(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, Float.NaN);
        return a;
    }
}

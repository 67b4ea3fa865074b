package dev.kiln.engine;

import java.util.Arrays;

/** Static helpers on shapes (int arrays): element counts, strides, broadcasting, formatting. */
public final class Shape {
    private Shape() {
    }

    /** Number of elements of a shape (1 for a scalar shape {@code []}). */
    public static int numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape: expected non-negative sizes, got " + str(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("shape: at most " + (Integer.MAX_VALUE - 8) + " elements, got " + str(shape));
            }
        }
        return (int) n;
    }

    /** Row-major strides of a contiguous tensor of this shape. */
    public static int[] contiguousStrides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(shape[i], 1);
        }
        return s;
    }

    /** NumPy broadcast of two shapes; {@code op} names the operation in the error. */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int n = Math.max(a.length, b.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int da = i < n - a.length ? 1 : a[i - (n - a.length)];
            int db = i < n - b.length ? 1 : b[i - (n - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes cannot be broadcast: " + str(a) + " and " + str(b)
                        + " (dim " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Wraps a possibly negative dim into {@code [0, rank)}. */
    public static int dim(String op, int dim, int rank) {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= Math.max(rank, 1) || (rank == 0 && d != 0)) {
            throw new IllegalArgumentException(op + ": dim out of range: expected in [" + (-Math.max(rank, 1)) + ", "
                    + (Math.max(rank, 1) - 1) + "], got " + dim);
        }
        return d;
    }

    /** Formats a shape as {@code [2, 3]}. */
    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /** Product of {@code shape[from..to)}. */
    public static int prod(int[] shape, int from, int to) {
        int p = 1;
        for (int i = from; i < to; i++) {
            p *= shape[i];
        }
        return p;
    }
}

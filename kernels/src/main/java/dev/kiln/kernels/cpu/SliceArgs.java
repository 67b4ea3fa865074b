package dev.kiln.kernels.cpu;

/**
 * Argument checks shared by the slice kernels ({@link Elementwise}, {@link Reduce}, {@link Softmax})
 * and their references in {@code ref}, so both accept exactly the same arguments. Buffers are given
 * by their length, so one check serves {@code float[]}, {@code double[]}, {@code byte[]} and
 * {@code long[]}. Each throws {@link IllegalArgumentException} naming the kernel, the argument,
 * what was expected and what was given.
 *
 * <pre>{@code
 * SliceArgs.count("unary", "n", n);
 * SliceArgs.slice("unary", "out", out.length, outOff, n);
 * SliceArgs.strided("binary", "b", b.length, bOff, bStride, n);
 * }</pre>
 */
public final class SliceArgs {
    private SliceArgs() {
    }

    /** Throws unless {@code value >= 0}. */
    public static void count(String kernel, String name, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(kernel + ": " + name + " must be >= 0, got " + value);
        }
    }

    /** Throws unless the three dims of an {@code (outer, n, inner)} layout are all {@code >= 0}. */
    public static void dims(String kernel, int outer, int n, int inner) {
        if (outer < 0 || n < 0 || inner < 0) {
            throw new IllegalArgumentException(kernel + ": expected outer, n, inner >= 0, got outer " + outer
                    + ", n " + n + ", inner " + inner);
        }
    }

    /** Throws unless a buffer of length {@code length} holds {@code need} elements from {@code off >= 0}. */
    public static void slice(String kernel, String buffer, int length, int off, long need) {
        if (off < 0) {
            throw new IllegalArgumentException(kernel + ": " + buffer + " offset must be >= 0, got " + off);
        }
        if (need > length - (long) off) {
            throw new IllegalArgumentException(kernel + ": " + buffer + " too small: need " + need
                    + " elements from offset " + off + ", has " + length);
        }
    }

    /**
     * Throws unless {@code stride} is 0 (one value broadcast) or 1 (n consecutive values) and the
     * buffer holds what that stride reads for {@code n} elements.
     */
    public static void strided(String kernel, String buffer, int length, int off, int stride, int n) {
        if (stride != 0 && stride != 1) {
            throw new IllegalArgumentException(kernel + ": " + buffer + " stride must be 0 or 1, got " + stride);
        }
        slice(kernel, buffer, length, off, stride == 0 ? Math.min(n, 1) : n);
    }

    /**
     * The checks of every {@code (outer, n, inner)} reduction ({@code Reduce}, {@code RefReduce}):
     * dims {@code >= 0}, x holds {@code outer*n*inner} and out {@code outer*inner} elements from their
     * offsets, and, when {@code nonEmpty} (max, argmax, ...), {@code n >= 1} unless there is no output.
     */
    public static void reduction(String kernel, int outLength, int outOff, int xLength, int xOff, int outer,
                                 int n, int inner, boolean nonEmpty) {
        dims(kernel, outer, n, inner);
        slice(kernel, "x", xLength, xOff, volume(outer, n, inner));
        slice(kernel, "out", outLength, outOff, (long) outer * inner);
        if (nonEmpty && n == 0 && outer != 0 && inner != 0) {
            throw new IllegalArgumentException(kernel + ": the reduced axis is empty (n = 0) but " + outer + " x "
                    + inner + " results are asked for");
        }
    }

    /**
     * The checks of the fused cross-entropy kernels ({@code Softmax}, {@code RefSoftmax}): rows and
     * n {@code >= 1} unless there are no rows, the buffers hold their rows, and every target index
     * lies in {@code [0, n)}.
     */
    public static void crossEntropy(String kernel, int rows, int n, int xLength, int xOff, long[] target, int tOff,
                                    String rowBuffer, int rowLength, int rowOff) {
        dims(kernel, rows, n, 1);
        if (rows > 0 && n == 0) {
            throw new IllegalArgumentException(kernel + ": expected n >= 1 classes for " + rows + " rows, got 0");
        }
        slab(kernel, "x", xLength, xOff, rows, n, 1);
        slice(kernel, "target", target.length, tOff, rows);
        slice(kernel, rowBuffer, rowLength, rowOff, rows);
        for (int r = 0; r < rows; r++) {
            long t = target[tOff + r];
            if (t < 0 || t >= n) {
                throw new IllegalArgumentException(kernel + ": expected target indices in [0, " + n + "), got " + t
                        + " in row " + r);
            }
        }
    }

    /** Throws unless the dims are {@code >= 0} and the buffer holds {@code outer*n*inner} elements from {@code off}. */
    public static void slab(String kernel, String buffer, int length, int off, int outer, int n, int inner) {
        dims(kernel, outer, n, inner);
        slice(kernel, buffer, length, off, volume(outer, n, inner));
    }

    /** {@code a * b * c} for non-negative ints, saturating at {@code Long.MAX_VALUE}. */
    public static long volume(int a, int b, int c) {
        long ab = (long) a * b;
        return c != 0 && ab > Long.MAX_VALUE / c ? Long.MAX_VALUE : ab * c;
    }
}

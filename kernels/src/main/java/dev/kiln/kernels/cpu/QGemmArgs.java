package dev.kiln.kernels.cpu;

/**
 * Argument checks shared by {@link QGemm} and {@code RefQGemm}, so the int8 kernel and its
 * reference accept exactly the same arguments and say the same thing when they refuse one.
 */
public final class QGemmArgs {
    private QGemmArgs() {
    }

    /** Dims >= 0. */
    public static void checkDims(String name, int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(name + ": expected dims >= 0, got m=" + m + ", n=" + n + ", k=" + k);
        }
    }

    /** scaleB of length 1 or n; bias (length -1 when absent) of length n. */
    public static void checkScales(String name, int scaleBLength, int biasLength, int n) {
        if (scaleBLength != 1 && scaleBLength != n) {
            throw new IllegalArgumentException(name + ": expected scaleB of length 1 or n=" + n + ", got "
                    + scaleBLength);
        }
        if (biasLength >= 0 && biasLength != n) {
            throw new IllegalArgumentException(name + ": expected bias of length n=" + n + ", got " + biasLength);
        }
    }

    public static void checkZeroPoint(String name, String what, int zp, boolean unsigned) {
        int lo = unsigned ? 0 : -128;
        int hi = unsigned ? 255 : 127;
        if (zp < lo || zp > hi) {
            throw new IllegalArgumentException(name + ": expected " + what + " in [" + lo + ", " + hi + "] ("
                    + (unsigned ? "uint8" : "int8") + "), got " + zp);
        }
    }

    public static void checkScale(String name, String what, double scale) {
        if (!(scale > 0) || scale == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException(name + ": expected " + what + " > 0 and finite, got " + scale);
        }
    }

    /** Checks a row-major {@code [rows, cols]} operand with leading dim {@code ld} at {@code off}. */
    public static void checkMatrix(String name, String what, int length, int off, int ld, int rows, int cols) {
        if (off < 0) {
            throw new IllegalArgumentException(name + ": expected " + what + " offset >= 0, got " + off);
        }
        if (ld < cols) {
            throw new IllegalArgumentException(name + ": expected ld" + what + " >= " + cols + " (row length of "
                    + what + "), got " + ld);
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        long need = (rows - 1L) * ld + cols;
        if (need > (long) length - off) {
            throw new IllegalArgumentException(name + ": " + what + " too small: need " + need
                    + " elements from offset " + off + ", has " + length);
        }
    }
}

package dev.kiln.kernels.cpu;

/**
 * Argument checks shared by {@link Gemm} and {@code RefGemm}, so the fp32 kernel and its double
 * reference accept exactly the same arguments and say the same thing when they refuse one.
 */
public final class GemmArgs {
    private GemmArgs() {
    }

    /**
     * Throws a {@link NullPointerException} saying {@code "name: what is null"} when {@code o} is
     * null. The message is built only then: the kernels check their arrays on every call, and
     * {@code Objects.requireNonNull(o, name + ...)} concatenated it every time (about 170 B a
     * {@code sgemm} call).
     */
    static void nonNull(Object o, String name, String what) {
        if (o == null) {
            throw new NullPointerException(name + ": " + what + " is null");
        }
    }

    /**
     * Checks dims, offsets, leading dims and batch strides of C[m,n] = op(A)[m,k] op(B)[k,n] against
     * the buffer lengths; {@code unit} names the element type in messages ("floats", "doubles").
     */
    public static void check(String name, String unit, int cLen, int cOff, int ldc, long strideC,
                             boolean transA, int aLen, int aOff, int lda, long strideA,
                             boolean transB, int bLen, int bOff, int ldb, long strideB,
                             int batch, int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0 || batch < 0) {
            throw new IllegalArgumentException(name + ": expected dims >= 0, got m=" + m + ", n=" + n + ", k=" + k
                    + (batch == 1 ? "" : ", batch=" + batch));
        }
        checkOperand(name, unit, "c", cLen, cOff, ldc, strideC, m, n, batch);
        checkOperand(name, unit, "a", aLen, aOff, lda, strideA, transA ? k : m, transA ? m : k, batch);
        checkOperand(name, unit, "b", bLen, bOff, ldb, strideB, transB ? n : k, transB ? k : n, batch);
    }

    private static void checkOperand(String name, String unit, String what, int length, int off, int ld, long stride,
                                     int rows, int cols, int batch) {
        if (off < 0) {
            throw new IllegalArgumentException(name + ": expected " + what + " offset >= 0, got " + off);
        }
        if (ld < cols) {
            throw new IllegalArgumentException(name + ": expected ld" + what + " >= " + cols + " (row length of "
                    + what + "), got " + ld);
        }
        if (stride < 0) {
            throw new IllegalArgumentException(name + ": expected stride of " + what + " >= 0, got " + stride);
        }
        if (batch == 0 || rows == 0 || cols == 0) {
            return;
        }
        long need;
        try {
            need = Math.addExact(Math.multiplyExact(batch - 1L, stride), (rows - 1L) * ld + cols);
        } catch (ArithmeticException e) {
            need = Long.MAX_VALUE;
        }
        if (need > (long) length - off) {
            throw new IllegalArgumentException(name + ": " + what + " too small: need " + need
                    + " " + unit + " from offset " + off + ", has " + length);
        }
    }
}

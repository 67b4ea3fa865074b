package dev.kiln.kernels.ref;

import dev.kiln.kernels.BlockSparse;
import dev.kiln.kernels.SparseCsr;
import java.util.Objects;

/**
 * Reference sparse products over {@code double[]}: the loops of the definition over the stored
 * elements, accumulating in double (the weights stay float and are widened). Same arguments,
 * layouts and checks as {@code dev.kiln.kernels.cpu.Sparse}: Linear layout
 * {@code y[batch, rows] (=|+=) x[batch, cols] * W^T}, Left layout
 * {@code C[rows, n] (=|+=) W[rows, cols] * B[cols, n]}.
 */
public final class RefSparse {
    private RefSparse() {
    }

    /**
     * {@code y[t, r] (=|+=) sum_p values[p] * x[t, colIdx[p]]} over the stored elements of row r;
     * y at {@code y[yOff + t*ldy + r]}, x at {@code x[xOff + t*ldx + c]}.
     *
     * @throws IllegalArgumentException on a negative batch or offset, {@code ldy < rows},
     *                                  {@code ldx < cols}, or a buffer too small
     */
    public static void spmmCsr(double[] y, int yOff, int ldy, SparseCsr w, double[] x, int xOff, int ldx, int batch,
                               boolean accumulate) {
        Objects.requireNonNull(w, "spmmCsr: w is null");
        checkLinear("spmmCsr", y, yOff, ldy, w.rows(), w.cols(), x, xOff, ldx, batch);
        for (int t = 0; t < batch; t++) {
            csr(y, yOff + t * ldy, 1, accumulate, w, x, xOff + t * ldx, 1);
        }
    }

    /**
     * {@link #spmmCsr} for a block-sparse weight, summing over every element of the stored blocks
     * that lies inside the matrix (their zeros included).
     *
     * @throws IllegalArgumentException as {@link #spmmCsr}
     */
    public static void spmmBlock(double[] y, int yOff, int ldy, BlockSparse w, double[] x, int xOff, int ldx,
                                 int batch, boolean accumulate) {
        Objects.requireNonNull(w, "spmmBlock: w is null");
        checkLinear("spmmBlock", y, yOff, ldy, w.rows(), w.cols(), x, xOff, ldx, batch);
        for (int t = 0; t < batch; t++) {
            block(y, yOff + t * ldy, 1, accumulate, w, x, xOff + t * ldx, 1);
        }
    }

    /**
     * {@code C[r, j] (=|+=) sum_p values[p] * B[colIdx[p], j]} over the stored elements of row r;
     * C at {@code c[cOff + r*ldc + j]}, B at {@code b[bOff + q*ldb + j]}.
     *
     * @throws IllegalArgumentException on a negative n or offset, {@code ldc < n}, {@code ldb < n},
     *                                  or a buffer too small
     */
    public static void spmmCsrLeft(double[] c, int cOff, int ldc, SparseCsr w, double[] b, int bOff, int ldb, int n,
                                   boolean accumulate) {
        Objects.requireNonNull(w, "spmmCsrLeft: w is null");
        checkLeft("spmmCsrLeft", c, cOff, ldc, w.rows(), w.cols(), b, bOff, ldb, n);
        for (int j = 0; j < n; j++) {
            csr(c, cOff + j, ldc, accumulate, w, b, bOff + j, ldb);
        }
    }

    /**
     * {@link #spmmCsrLeft} for a block-sparse weight, summing over every element of the stored
     * blocks that lies inside the matrix (their zeros included).
     *
     * @throws IllegalArgumentException as {@link #spmmCsrLeft}
     */
    public static void spmmBlockLeft(double[] c, int cOff, int ldc, BlockSparse w, double[] b, int bOff, int ldb,
                                     int n, boolean accumulate) {
        Objects.requireNonNull(w, "spmmBlockLeft: w is null");
        checkLeft("spmmBlockLeft", c, cOff, ldc, w.rows(), w.cols(), b, bOff, ldb, n);
        for (int j = 0; j < n; j++) {
            block(c, cOff + j, ldc, accumulate, w, b, bOff + j, ldb);
        }
    }

    /** {@code out[oOff + r*oStep] (=|+=) sum_p values[p] * in[iOff + colIdx[p]*iStep]} for every row r. */
    private static void csr(double[] out, int oOff, int oStep, boolean acc, SparseCsr w, double[] in, int iOff,
                            int iStep) {
        for (int r = 0; r < w.rows(); r++) {
            double s = 0;
            for (int p = w.rowPtr()[r]; p < w.rowPtr()[r + 1]; p++) {
                s += (double) w.values()[p] * in[iOff + w.colIdx()[p] * iStep];
            }
            int o = oOff + r * oStep;
            out[o] = acc ? out[o] + s : s;
        }
    }

    /** {@code out[oOff + r*oStep] (=|+=) sum_q W[r, q] * in[iOff + q*iStep]} over the stored blocks. */
    private static void block(double[] out, int oOff, int oStep, boolean acc, BlockSparse w, double[] in, int iOff,
                              int iStep) {
        int br = w.blockRows();
        int bc = w.blockCols();
        for (int r = 0; r < w.rows(); r++) {
            int row = r / br;
            double s = 0;
            for (int k = w.blockRowPtr()[row]; k < w.blockRowPtr()[row + 1]; k++) {
                int v = k * br * bc + (r - row * br) * bc;
                for (int q = 0, col = w.blockCol()[k] * bc; q < bc && col < w.cols(); q++, col++) {
                    s += (double) w.values()[v + q] * in[iOff + col * iStep];
                }
            }
            int o = oOff + r * oStep;
            out[o] = acc ? out[o] + s : s;
        }
    }

    private static void checkLinear(String name, double[] y, int yOff, int ldy, int rows, int cols, double[] x,
                                    int xOff, int ldx, int batch) {
        Objects.requireNonNull(y, name + ": y is null");
        Objects.requireNonNull(x, name + ": x is null");
        if (batch < 0) {
            throw new IllegalArgumentException(name + ": expected batch >= 0, got " + batch);
        }
        checkOperand(name, "y", y.length, yOff, ldy, batch, rows);
        checkOperand(name, "x", x.length, xOff, ldx, batch, cols);
    }

    private static void checkLeft(String name, double[] c, int cOff, int ldc, int rows, int cols, double[] b, int bOff,
                                  int ldb, int n) {
        Objects.requireNonNull(c, name + ": c is null");
        Objects.requireNonNull(b, name + ": b is null");
        if (n < 0) {
            throw new IllegalArgumentException(name + ": expected n >= 0, got " + n);
        }
        checkOperand(name, "c", c.length, cOff, ldc, rows, n);
        checkOperand(name, "b", b.length, bOff, ldb, cols, n);
    }

    private static void checkOperand(String name, String what, int length, int off, int ld, int rows, int cols) {
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
                    + " doubles from offset " + off + ", has " + length);
        }
    }
}

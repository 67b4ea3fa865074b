package dev.kiln.kernels;

import java.util.Arrays;
import java.util.Objects;

/**
 * A {@code [rows, cols]} float matrix in compressed sparse row (CSR) form: the stored elements of
 * row {@code r} are {@code values[p]} at column {@code colIdx[p]} for
 * {@code rowPtr[r] <= p < rowPtr[r+1]}, columns strictly increasing within a row; every other
 * element is zero. The arrays are taken and handed out as they are (not copied): the kernels in
 * {@code dev.kiln.kernels.cpu.Sparse} read them directly, so do not modify them afterwards.
 * {@link #equals} and {@link #hashCode} compare contents.
 *
 * <pre>{@code
 * SparseCsr w = SparseCsr.fromDense(weight, 0, out, in, 0f);   // drop the exact zeros of a pruned weight
 * Sparse.spmmCsr(y, 0, out, w, x, 0, in, batch, false);      // y[batch,out] = x[batch,in] * w^T
 * }</pre>
 *
 * @param rows   number of rows (>= 0)
 * @param cols   number of columns (>= 0)
 * @param rowPtr {@code rows + 1} non-decreasing offsets into colIdx/values, starting at 0
 * @param colIdx column of each stored element, {@code nnz} entries
 * @param values value of each stored element, {@code nnz} entries
 */
public record SparseCsr(int rows, int cols, int[] rowPtr, int[] colIdx, float[] values) {
    /**
     * Checks the structure once (O(rows + nnz)).
     *
     * @throws IllegalArgumentException on negative dims, a wrong array length, offsets that do not
     *                                  start at 0 or decrease, or columns out of range or not strictly
     *                                  increasing within a row
     */
    public SparseCsr {
        Objects.requireNonNull(rowPtr, "SparseCsr: rowPtr is null");
        Objects.requireNonNull(colIdx, "SparseCsr: colIdx is null");
        Objects.requireNonNull(values, "SparseCsr: values is null");
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("SparseCsr: expected rows, cols >= 0, got " + rows + "x" + cols);
        }
        if (rowPtr.length != rows + 1) {
            throw new IllegalArgumentException("SparseCsr: expected rowPtr of rows + 1 = " + (rows + 1)
                    + " entries, got " + rowPtr.length);
        }
        if (rowPtr[0] != 0) {
            throw new IllegalArgumentException("SparseCsr: expected rowPtr[0] = 0, got " + rowPtr[0]);
        }
        int nnz = rowPtr[rows];
        if (colIdx.length != nnz || values.length != nnz) {
            throw new IllegalArgumentException("SparseCsr: expected colIdx and values of rowPtr[rows] = " + nnz
                    + " entries, got " + colIdx.length + " and " + values.length);
        }
        for (int r = 0; r < rows; r++) {
            if (rowPtr[r + 1] < rowPtr[r]) {
                throw new IllegalArgumentException("SparseCsr: rowPtr decreases at row " + r + ": " + rowPtr[r]
                        + " then " + rowPtr[r + 1]);
            }
        }
        for (int r = 0; r < rows; r++) {
            int prev = -1;
            for (int p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
                int c = colIdx[p];
                if (c <= prev || c >= cols) {
                    throw new IllegalArgumentException("SparseCsr: expected strictly increasing columns in [0, "
                            + cols + ") in row " + r + ", got " + c + " after " + prev);
                }
                prev = c;
            }
        }
    }

    /**
     * The elements of the {@code [rows, cols]} row-major matrix at {@code w[off ...]} whose
     * magnitude is above {@code threshold} ({@code |w| > threshold}, so {@code 0} keeps every
     * nonzero); NaN elements are kept too, so that they are not silently lost. A negative threshold
     * keeps every element, zeros included.
     *
     * @throws IllegalArgumentException on negative dims or offset, a NaN threshold, or {@code w} too small
     */
    public static SparseCsr fromDense(float[] w, int off, int rows, int cols, float threshold) {
        checkDense("SparseCsr.fromDense", w, off, rows, cols, threshold);
        int[] rowPtr = new int[rows + 1];
        int nnz = 0;
        for (int r = 0; r < rows; r++) {
            for (int i = off + r * cols, end = i + cols; i < end; i++) {
                if (!(Math.abs(w[i]) <= threshold)) {
                    nnz++;
                }
            }
            rowPtr[r + 1] = nnz;
        }
        int[] colIdx = new int[nnz];
        float[] values = new float[nnz];
        int p = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0, i = off + r * cols; c < cols; c++, i++) {
                if (!(Math.abs(w[i]) <= threshold)) {
                    colIdx[p] = c;
                    values[p++] = w[i];
                }
            }
        }
        return new SparseCsr(rows, cols, rowPtr, colIdx, values);
    }

    /** Validation shared by the dense-to-sparse conversions. */
    static void checkDense(String name, float[] w, int off, int rows, int cols, float threshold) {
        Objects.requireNonNull(w, name + ": w is null");
        if (rows < 0 || cols < 0 || off < 0) {
            throw new IllegalArgumentException(name + ": expected rows, cols, offset >= 0, got rows=" + rows
                    + ", cols=" + cols + ", offset=" + off);
        }
        if (Float.isNaN(threshold)) {
            throw new IllegalArgumentException(name + ": expected a threshold that is not NaN");
        }
        long need = (long) rows * cols;
        if (need > (long) w.length - off) {
            throw new IllegalArgumentException(name + ": w too small: need " + need + " floats from offset " + off
                    + ", has " + w.length);
        }
    }

    /** Number of stored elements. */
    public int nnz() {
        return rowPtr[rows];
    }

    /** Stored elements over {@code rows * cols} (0 for an empty matrix). */
    public double density() {
        long size = (long) rows * cols;
        return size == 0 ? 0 : (double) nnz() / size;
    }

    /** The matrix as a new row-major {@code float[rows * cols]}. */
    public float[] toDense() {
        float[] d = new float[rows * cols];
        toDense(d, 0);
        return d;
    }

    /**
     * Writes the matrix row-major into {@code d[off ...]} ({@code rows * cols} floats, zeros included).
     *
     * @throws IllegalArgumentException on a negative offset or {@code d} too small
     */
    public void toDense(float[] d, int off) {
        Objects.requireNonNull(d, "SparseCsr.toDense: d is null");
        long need = (long) rows * cols;
        if (off < 0 || need > (long) d.length - off) {
            throw new IllegalArgumentException("SparseCsr.toDense: d too small: need " + need + " floats from offset "
                    + off + ", has " + d.length);
        }
        Arrays.fill(d, off, off + rows * cols, 0f);
        for (int r = 0; r < rows; r++) {
            for (int p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
                d[off + r * cols + colIdx[p]] = values[p];
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SparseCsr s && rows == s.rows && cols == s.cols && Arrays.equals(rowPtr, s.rowPtr)
                && Arrays.equals(colIdx, s.colIdx) && Arrays.equals(values, s.values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(rows, cols, Arrays.hashCode(rowPtr), Arrays.hashCode(colIdx), Arrays.hashCode(values));
    }

    @Override
    public String toString() {
        return "SparseCsr[" + rows + "x" + cols + ", nnz=" + nnz() + ", density=" + density() + "]";
    }
}

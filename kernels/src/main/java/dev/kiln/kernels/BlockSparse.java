package dev.kiln.kernels;

import java.util.Arrays;
import java.util.Objects;

/**
 * A {@code [rows, cols]} float matrix stored as dense {@code blockRows x blockCols} blocks on a
 * fixed grid (block sparse row, BSR): block row {@code br} covers rows
 * {@code [br*blockRows, (br+1)*blockRows)}, and its stored blocks are {@code k} in
 * {@code [blockRowPtr[br], blockRowPtr[br+1])}, block {@code k} covering columns
 * {@code [blockCol[k]*blockCols, (blockCol[k]+1)*blockCols)} with its values row-major at
 * {@code values[k*blockRows*blockCols ...]}. Block columns are strictly increasing within a block
 * row; elements outside stored blocks are zero. Blocks on the bottom and right edges are padded to
 * full size (the padding is never read). The arrays are taken and handed out as they are (not
 * copied). {@link #equals} and {@link #hashCode} compare contents.
 *
 * <p>The kernels ({@code dev.kiln.kernels.cpu.Sparse}) load a row of the dense operand once per
 * block column and use it for four rows of the block, so blocks of 4 (or 8) rows run at the FMA
 * rate, about three times the rate of 1-row blocks or CSR per stored value; {@code blockCols}
 * hardly matters (measured at batch 64: 0.7 ns per stored value for 4x1, 0.75 for 4x16, 2.3 for
 * 1x16). {@code 4 x 1} is the finest grid that gets the full rate.
 *
 * <pre>{@code
 * BlockSparse w = BlockSparse.fromDense(weight, 0, out, in, 4, 1, 0f);
 * Sparse.spmmBlock(y, 0, out, w, x, 0, in, batch, false);   // y[batch,out] = x[batch,in] * w^T
 * }</pre>
 *
 * @param rows        number of rows (>= 0)
 * @param cols        number of columns (>= 0)
 * @param blockRows   rows of a block (>= 1)
 * @param blockCols   columns of a block (>= 1)
 * @param blockRowPtr {@code ceil(rows/blockRows) + 1} non-decreasing offsets into blockCol, from 0
 * @param blockCol    block column of each stored block
 * @param values      {@code blockRows * blockCols} values per stored block, row-major
 */
public record BlockSparse(int rows, int cols, int blockRows, int blockCols, int[] blockRowPtr, int[] blockCol,
                          float[] values) {
    /**
     * Checks the structure once (O(block rows + blocks)).
     *
     * @throws IllegalArgumentException on negative dims, a block size below 1, a wrong array length,
     *                                  offsets that do not start at 0 or decrease, or block columns out
     *                                  of range or not strictly increasing within a block row
     */
    public BlockSparse {
        Objects.requireNonNull(blockRowPtr, "BlockSparse: blockRowPtr is null");
        Objects.requireNonNull(blockCol, "BlockSparse: blockCol is null");
        Objects.requireNonNull(values, "BlockSparse: values is null");
        if (rows < 0 || cols < 0 || blockRows < 1 || blockCols < 1) {
            throw new IllegalArgumentException("BlockSparse: expected rows, cols >= 0 and blocks >= 1x1, got "
                    + rows + "x" + cols + " in blocks of " + blockRows + "x" + blockCols);
        }
        int blockRowCount = ceilDiv(rows, blockRows);
        int blockColCount = ceilDiv(cols, blockCols);
        if (blockRowPtr.length != blockRowCount + 1) {
            throw new IllegalArgumentException("BlockSparse: expected blockRowPtr of ceil(rows/blockRows) + 1 = "
                    + (blockRowCount + 1) + " entries, got " + blockRowPtr.length);
        }
        if (blockRowPtr[0] != 0) {
            throw new IllegalArgumentException("BlockSparse: expected blockRowPtr[0] = 0, got " + blockRowPtr[0]);
        }
        int blocks = blockRowPtr[blockRowCount];
        long need = (long) blocks * blockRows * blockCols;
        if (blockCol.length != blocks || values.length != need) {
            throw new IllegalArgumentException("BlockSparse: expected " + blocks + " block columns and " + need
                    + " values, got " + blockCol.length + " and " + values.length);
        }
        for (int br = 0; br < blockRowCount; br++) {
            if (blockRowPtr[br + 1] < blockRowPtr[br]) {
                throw new IllegalArgumentException("BlockSparse: blockRowPtr decreases at block row " + br + ": "
                        + blockRowPtr[br] + " then " + blockRowPtr[br + 1]);
            }
        }
        for (int br = 0; br < blockRowCount; br++) {
            int prev = -1;
            for (int k = blockRowPtr[br]; k < blockRowPtr[br + 1]; k++) {
                int bc = blockCol[k];
                if (bc <= prev || bc >= blockColCount) {
                    throw new IllegalArgumentException("BlockSparse: expected strictly increasing block columns in [0, "
                            + blockColCount + ") in block row " + br + ", got " + bc + " after " + prev);
                }
                prev = bc;
            }
        }
    }

    /**
     * The {@code blockRows x blockCols} blocks of the {@code [rows, cols]} row-major matrix at
     * {@code w[off ...]} that hold at least one element with {@code |w| > threshold} (or NaN), stored
     * whole (their small elements included). A negative threshold keeps every block.
     *
     * @throws IllegalArgumentException on negative dims or offset, a block size below 1, a NaN
     *                                  threshold, or {@code w} too small
     */
    public static BlockSparse fromDense(float[] w, int off, int rows, int cols, int blockRows, int blockCols,
                                        float threshold) {
        SparseCsr.checkDense("BlockSparse.fromDense", w, off, rows, cols, threshold);
        if (blockRows < 1 || blockCols < 1) {
            throw new IllegalArgumentException("BlockSparse.fromDense: expected blocks >= 1x1, got "
                    + blockRows + "x" + blockCols);
        }
        int blockRowCount = ceilDiv(rows, blockRows);
        int blockColCount = ceilDiv(cols, blockCols);
        int[] ptr = new int[blockRowCount + 1];
        for (int br = 0; br < blockRowCount; br++) {
            int kept = 0;
            for (int bc = 0; bc < blockColCount; bc++) {
                if (anyKept(w, off, rows, cols, br * blockRows, bc * blockCols, blockRows, blockCols, threshold)) {
                    kept++;
                }
            }
            ptr[br + 1] = ptr[br] + kept;
        }
        int size = blockRows * blockCols;
        int[] col = new int[ptr[blockRowCount]];
        float[] values = new float[col.length * size];
        for (int br = 0, k = 0; br < blockRowCount; br++) {
            int r0 = br * blockRows;
            int nr = Math.min(blockRows, rows - r0);
            for (int bc = 0; bc < blockColCount; bc++) {
                int c0 = bc * blockCols;
                if (anyKept(w, off, rows, cols, r0, c0, blockRows, blockCols, threshold)) {
                    int nc = Math.min(blockCols, cols - c0);
                    for (int i = 0; i < nr; i++) {
                        System.arraycopy(w, off + (r0 + i) * cols + c0, values, k * size + i * blockCols, nc);
                    }
                    col[k++] = bc;
                }
            }
        }
        return new BlockSparse(rows, cols, blockRows, blockCols, ptr, col, values);
    }

    private static boolean anyKept(float[] w, int off, int rows, int cols, int r0, int c0, int br, int bc,
                                   float threshold) {
        for (int r = r0, rEnd = Math.min(rows, r0 + br); r < rEnd; r++) {
            for (int i = off + r * cols + c0, end = off + r * cols + Math.min(cols, c0 + bc); i < end; i++) {
                if (!(Math.abs(w[i]) <= threshold)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int ceilDiv(int a, int b) {
        return (int) (((long) a + b - 1) / b);
    }

    /** Number of block rows, {@code ceil(rows / blockRows)}. */
    public int blockRowCount() {
        return blockRowPtr.length - 1;
    }

    /** Number of stored blocks. */
    public int blocks() {
        return blockCol.length;
    }

    /** Elements of the matrix that lie in stored blocks (edge padding not counted). */
    public long storedElements() {
        long n = 0;
        for (int br = 0; br < blockRowCount(); br++) {
            int nr = Math.min(blockRows, rows - br * blockRows);
            for (int k = blockRowPtr[br]; k < blockRowPtr[br + 1]; k++) {
                n += (long) nr * Math.min(blockCols, cols - blockCol[k] * blockCols);
            }
        }
        return n;
    }

    /** {@link #storedElements()} over {@code rows * cols} (0 for an empty matrix). */
    public double density() {
        long size = (long) rows * cols;
        return size == 0 ? 0 : (double) storedElements() / size;
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
        Objects.requireNonNull(d, "BlockSparse.toDense: d is null");
        long need = (long) rows * cols;
        if (off < 0 || need > (long) d.length - off) {
            throw new IllegalArgumentException("BlockSparse.toDense: d too small: need " + need
                    + " floats from offset " + off + ", has " + d.length);
        }
        Arrays.fill(d, off, off + rows * cols, 0f);
        int size = blockRows * blockCols;
        for (int br = 0; br < blockRowCount(); br++) {
            int r0 = br * blockRows;
            int nr = Math.min(blockRows, rows - r0);
            for (int k = blockRowPtr[br]; k < blockRowPtr[br + 1]; k++) {
                int c0 = blockCol[k] * blockCols;
                int nc = Math.min(blockCols, cols - c0);
                for (int i = 0; i < nr; i++) {
                    System.arraycopy(values, k * size + i * blockCols, d, off + (r0 + i) * cols + c0, nc);
                }
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlockSparse s && rows == s.rows && cols == s.cols && blockRows == s.blockRows
                && blockCols == s.blockCols && Arrays.equals(blockRowPtr, s.blockRowPtr)
                && Arrays.equals(blockCol, s.blockCol) && Arrays.equals(values, s.values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(rows, cols, blockRows, blockCols, Arrays.hashCode(blockRowPtr), Arrays.hashCode(blockCol),
                Arrays.hashCode(values));
    }

    @Override
    public String toString() {
        return "BlockSparse[" + rows + "x" + cols + " in " + blockRows + "x" + blockCols + " blocks, blocks="
                + blocks() + ", density=" + density() + "]";
    }
}

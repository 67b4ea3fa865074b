package dev.kiln.kernels.cuda;

import java.util.Arrays;

/**
 * The {@code Strides} struct of the elementwise kernels (kiln.cuh): a shape of up to 8 dims and,
 * for up to 4 operands (the output first), element strides (0 where broadcast) and offsets. Dims
 * of size 1 are dropped and neighbours laid out alike in every operand merged first, so any rank
 * works as long as at most 8 irregular dims remain.
 */
public final class StridedArg {
    static final int MAX_RANK = 8;
    static final int MAX_OPS = 4;

    private StridedArg() {
    }

    /**
     * The struct's int fields for {@code shape} and per-operand {@code strides} (each aligned to
     * shape) and {@code offsets}.
     */
    public static int[] of(int[] shape, int[][] strides, int[] offsets) {
        int ops = strides.length;
        if (ops < 1 || ops > MAX_OPS || offsets.length != ops) {
            throw new IllegalArgumentException("StridedArg: expected 1 to 4 operands with one offset each, got " + ops
                    + " stride arrays and " + offsets.length + " offsets");
        }
        int[] dims = new int[shape.length];
        int[][] st = new int[ops][shape.length];
        int r = 0;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1) {
                continue;
            }
            boolean merge = r > 0;
            for (int k = 0; merge && k < ops; k++) {
                merge = st[k][r - 1] == strides[k][i] * shape[i];
            }
            if (merge) {
                dims[r - 1] *= shape[i];
                for (int k = 0; k < ops; k++) {
                    st[k][r - 1] = strides[k][i];
                }
                continue;
            }
            dims[r] = shape[i];
            for (int k = 0; k < ops; k++) {
                st[k][r] = strides[k][i];
            }
            r++;
        }
        if (r > MAX_RANK) {
            throw new IllegalArgumentException("StridedArg: expected at most " + MAX_RANK + " dims after merging, got " + r
                    + " for shape " + Arrays.toString(shape));
        }
        int[] f = new int[1 + MAX_RANK + MAX_OPS * MAX_RANK + MAX_OPS];
        f[0] = r;
        System.arraycopy(dims, 0, f, 1, r);
        for (int k = 0; k < ops; k++) {
            System.arraycopy(st[k], 0, f, 1 + MAX_RANK + k * MAX_RANK, r);
            f[1 + MAX_RANK + MAX_OPS * MAX_RANK + k] = offsets[k];
        }
        return f;
    }

    /** Contiguous row-major strides of {@code shape}. */
    public static int[] contiguous(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }
}

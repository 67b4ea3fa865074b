package dev.kiln.engine;

import dev.kiln.kernels.Parallel;

/**
 * Iteration over several same-shaped strided operands (the output first), reduced to "rows":
 * adjacent dims that are laid out alike in every operand are merged and size-1 dims dropped, so
 * a contiguous op is one long row and a bias broadcast is rows with a stride-0 or stride-1 inner
 * axis. Rows (and, when there are few, pieces of rows) are spread over the thread pool.
 */
final class Strided {
    /** Receives one segment: per-operand offsets of its first element and its length. */
    @FunctionalInterface
    interface Segment {
        void run(int[] offsets, int length);
    }

    private static final int GRAIN = 1 << 15;

    private final int[] outer;
    private final int[][] outerStrides;
    private final int[] baseOffsets;
    private final int inner;
    private final int[] innerStrides;

    private Strided(int[] outer, int[][] outerStrides, int[] baseOffsets, int inner, int[] innerStrides) {
        this.outer = outer;
        this.outerStrides = outerStrides;
        this.baseOffsets = baseOffsets;
        this.inner = inner;
        this.innerStrides = innerStrides;
    }

    /** Plans iteration of {@code shape} over operands with the given strides (aligned to shape) and offsets. */
    static Strided plan(int[] shape, int[][] strides, int[] offsets) {
        int ops = strides.length;
        int r = shape.length;
        int[] dims = new int[r];
        int[][] st = new int[ops][r];
        int n = 0;
        for (int i = 0; i < r; i++) {
            if (shape[i] == 1) {
                continue;
            }
            if (n > 0 && mergeable(st, n - 1, strides, i, shape[i], ops)) {
                dims[n - 1] *= shape[i];
                for (int k = 0; k < ops; k++) {
                    st[k][n - 1] = strides[k][i];
                }
                continue;
            }
            dims[n] = shape[i];
            for (int k = 0; k < ops; k++) {
                st[k][n] = strides[k][i];
            }
            n++;
        }
        if (n == 0) {
            return new Strided(new int[0], new int[ops][0], offsets.clone(), Shape.numel(shape) == 0 ? 0 : 1, new int[ops]);
        }
        int[] outerDims = java.util.Arrays.copyOf(dims, n - 1);
        int[][] outerSt = new int[ops][];
        int[] innerSt = new int[ops];
        for (int k = 0; k < ops; k++) {
            outerSt[k] = java.util.Arrays.copyOf(st[k], n - 1);
            innerSt[k] = st[k][n - 1];
        }
        return new Strided(outerDims, outerSt, offsets.clone(), dims[n - 1], innerSt);
    }

    private static boolean mergeable(int[][] st, int prev, int[][] strides, int i, int size, int ops) {
        for (int k = 0; k < ops; k++) {
            if (st[k][prev] != strides[k][i] * size) {
                return false;
            }
        }
        return true;
    }

    /** Number of elements in each row. */
    int inner() {
        return inner;
    }

    /** Inner stride of operand {@code k}. */
    int innerStride(int k) {
        return innerStrides[k];
    }

    /** Number of rows. */
    int rows() {
        return Shape.numel(outer);
    }

    /** Calls {@code seg} for every segment, in parallel when the work is large. */
    void forEach(Segment seg) {
        int rows = rows();
        if (inner == 0 || rows == 0) {
            return;
        }
        long total = (long) rows * inner;
        int threads = Parallel.threads();
        int pieces = 1;
        if (total >= GRAIN && rows < threads) {
            pieces = Math.min((threads + rows - 1) / rows, Math.max(1, inner / 4096));
        }
        int p = pieces;
        int items = rows * p;
        int grain = (int) Math.max(1, GRAIN / Math.max(1, (long) inner / p));
        Parallel.forRange(items, total < GRAIN ? items : grain, (lo, hi) -> {
            int ops = baseOffsets.length;
            int[] offs = new int[ops];
            for (int item = lo; item < hi; item++) {
                int row = item / p;
                int piece = item % p;
                int start = (int) ((long) inner * piece / p);
                int end = (int) ((long) inner * (piece + 1) / p);
                rowOffsets(row, offs);
                for (int k = 0; k < ops; k++) {
                    offs[k] += start * innerStrides[k];
                }
                seg.run(offs, end - start);
            }
        });
    }

    private void rowOffsets(int row, int[] offs) {
        int ops = baseOffsets.length;
        System.arraycopy(baseOffsets, 0, offs, 0, ops);
        int rem = row;
        for (int d = outer.length - 1; d >= 0; d--) {
            int idx = rem % outer[d];
            rem /= outer[d];
            for (int k = 0; k < ops; k++) {
                offs[k] += idx * outerStrides[k][d];
            }
        }
    }

    /** Strides of {@code t} aligned (right-justified, 0 for broadcast dims) to {@code shape}. */
    static int[] broadcastStrides(Tensor t, int[] shape) {
        int[] ts = t.shapeRef();
        int[] st = t.stridesRef();
        int[] out = new int[shape.length];
        int lead = shape.length - ts.length;
        for (int i = 0; i < ts.length; i++) {
            out[lead + i] = ts[i] == 1 && shape[lead + i] != 1 ? 0 : st[i];
        }
        return out;
    }
}

package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Parallel;

/**
 * Splits the work of an {@code (outer, n, inner)} reduction over {@link Parallel}: by rows when
 * {@code inner == 1}, by (outer index, column block) items when {@code inner > 1}. Inputs under
 * {@link #PARALLEL_MIN} elements run on the calling thread.
 */
final class SlabSplit {
    /** Inputs with fewer elements than this run serially. */
    static final long PARALLEL_MIN = 32768;
    /** Least elements a parallel chunk should get. */
    private static final long GRAIN = 16384;
    /** Columns per work item when {@code inner > 1}. */
    private static final int COLUMN_BLOCK = 256;

    /** A body over the columns {@code [c0, c1)} of the slab {@code o}. */
    @FunctionalInterface
    interface ColumnBody {
        void run(int o, int c0, int c1);
    }

    private SlabSplit() {
    }

    /** Runs {@code body} over the rows {@code [0, outer)}, each of {@code n} elements. */
    static void rows(int outer, int n, Parallel.RangeBody body) {
        long total = (long) outer * n;
        if (total < PARALLEL_MIN) {
            body.run(0, outer);
        } else {
            Parallel.forRange(outer, (int) Math.max(1, GRAIN / Math.max(1, n)), body);
        }
    }

    /**
     * Runs {@code body} over every slab {@code o < outer} and column block of {@code [0, inner)}
     * (there are at most {@code outer * inner} items, which the output's length bounds).
     */
    static void columns(int outer, int n, int inner, ColumnBody body) {
        int blocks = (inner + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        int items = outer * blocks;
        Parallel.RangeBody range = (lo, hi) -> {
            for (int item = lo; item < hi; item++) {
                int o = item / blocks;
                int c0 = item % blocks * COLUMN_BLOCK;
                body.run(o, c0, Math.min(inner, c0 + COLUMN_BLOCK));
            }
        };
        if ((long) outer * n * inner < PARALLEL_MIN) {
            range.run(0, items);
        } else {
            long perItem = (long) n * Math.min(inner, COLUMN_BLOCK);
            Parallel.forRange(items, (int) Math.max(1, GRAIN / perItem), range);
        }
    }
}

package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Parallel;

/**
 * The batch split of the weight gradients ({@link ConvDirect}, {@link ConvPacked}): the images are
 * cut into {@link #PARTS} parts whatever the thread count, each part summed into its own partial
 * gradient by whichever thread asks next, and the partials added in order, so the bits do not
 * depend on the thread count while every thread lays out and packs only its own images.
 *
 * <p>With the tiles (or tap strips) split over threads instead, each of 2 threads laid out every
 * image: 32 -> 64 at 16x16 ran 1.29x faster on 2 threads than on 1 (its forward and input gradient
 * 1.68-1.70x), and a layer with one strip (3 -> 32 at 32x32) ran on one thread.
 *
 * <p>Callers hand out the parts in their own {@code Parallel.forRange} body with claimed chunks
 * (as {@code ConvPacked.eachImage}: the caller never waits for a worker that has not started), not
 * through a callback:
 * each extra call level between C2's compile root and the Vector API's force-inlined internals
 * counts against {@code MaxInlineLevel} (15), and with two more levels the transposes of the 6 -> 16
 * weight gradient fell back to boxed Java ("inlining too deep"; 1.38-1.91 ms instead of 0.58).
 */
final class ConvParts {
    /** Parts of the batch (at most; one per image for smaller batches). */
    static final int PARTS = 4;
    /** The calling thread's partial gradients, kept across calls. */
    private static final ThreadLocal<float[]> PARTIALS = ThreadLocal.withInitial(() -> new float[0]);

    private ConvParts() {
    }

    /** Parts of a batch of {@code n}. */
    static int parts(int n) {
        return Math.min(PARTS, n);
    }

    /** First image of part {@code part} of {@code parts} over a batch of {@code n} (the end of the previous one). */
    static int start(int part, int parts, int n) {
        return (int) ((long) part * n / parts);
    }

    /**
     * The calling thread's buffer for {@code parts} partials of {@code size} floats (valid until its
     * next call). {@code Conv} also computes an accumulating Winograd input gradient here before
     * adding it.
     */
    static float[] buffer(int parts, int size) {
        float[] buf = PARTIALS.get();
        if (buf.length < parts * size) {
            buf = new float[parts * size];
            PARTIALS.set(buf);
        }
        return buf;
    }

    /** Adds partials {@code 1 .. parts-1} to partial 0 ({@code buf[0, size)}), in order. */
    static void sum(float[] buf, int parts, int size) {
        Parallel.forRange(size, 1 << 14, 0L, (lo, hi) -> {
            for (int part = 1; part < parts; part++) {
                ConvLowering.addInto(buf, lo, buf, part * size + lo, hi - lo);
            }
        });
    }

    /** {@code gb[o] = sum over parts of partial[part*oc + o]}, the parts in order, in double. */
    static void sumBias(float[] gb, double[] partial, int parts, int oc) {
        for (int o = 0; o < oc; o++) {
            double sum = 0;
            for (int part = 0; part < parts; part++) {
                sum += partial[part * oc + o];
            }
            gb[o] = (float) sum;
        }
    }
}

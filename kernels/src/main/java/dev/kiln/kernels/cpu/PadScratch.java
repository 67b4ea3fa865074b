package dev.kiln.kernels.cpu;

/**
 * Per-thread buffers of a conv kernel that reads a padded image and writes rows of results: the
 * padded image ({@link ConvPad}, its padding zeroed once per layout) and a result buffer grown on
 * demand. Each kernel keeps its own {@code ThreadLocal} of these, so layers that alternate between
 * kernels do not re-zero each other's padding.
 *
 * <pre>{@code
 * private static final ThreadLocal<PadScratch> SCRATCH = ThreadLocal.withInitial(PadScratch::new);
 * PadScratch s = PadScratch.of(SCRATCH, size);
 * }</pre>
 */
final class PadScratch {
    final ConvPad pad = new ConvPad();
    float[] out = new float[0];

    /** The calling thread's buffers from {@code local}, with {@code out} holding at least {@code outSize} floats. */
    static PadScratch of(ThreadLocal<PadScratch> local, int outSize) {
        PadScratch s = local.get();
        if (s.out.length < outSize) {
            s.out = new float[outSize];
        }
        return s;
    }
}

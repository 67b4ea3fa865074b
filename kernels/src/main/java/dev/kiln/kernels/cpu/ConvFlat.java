package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Simd;

/**
 * The forward pass of a stride-1 convolution over flattened positions, with nothing packed per
 * image: output position {@code (i, j)} is computed at {@code v = i*wp + j} of the padded image's
 * width {@code wp}, so {@code NR} consecutive {@code v} read {@code NR} consecutive floats of the
 * padded image at every tap ({@link ConvMicro#kernelB}); the columns {@code j >= ow} of each row
 * are computed and dropped. Tiles are 8 output channels (weights packed once per call) by
 * {@code NR} flattened positions. For LeNet-5's 6 -> 16 layer (10x10 outputs on 14-wide rows) 144
 * positions are computed for 100, against 128 in {@link ConvPacked}, which however packs
 * {@code K x 128} floats of every image for only 2 tiles.
 *
 * <p>Every output value is one micro-kernel accumulation in a fixed order; images are split over
 * threads, so the result does not depend on the thread count.
 */
final class ConvFlat {
    private ConvFlat() {
    }

    /** Whether the geometry can take this path: vector lanes, stride 1, at least 8 output channels per group. */
    static boolean suits(ConvGeom g) {
        return !Simd.SCALAR && MR == 8 && g.sh() == 1 && g.sw() == 1 && g.ocPerGroup() >= MR;
    }

    /**
     * Whether {@code Conv} routes the forward pass here (where {@link ConvDirect} does not take it):
     * {@link #suits}, and a reduction of at least {@link #MIN_TAPS} taps ({@code cPerGroup * kh * kw};
     * shallower ones go through im2col). Measured 2026-12-06 on a quiet machine, min of a 0.4 s
     * loop, batch 64, the same bits on every path, flattened vs packed ({@link ConvPacked}) vs
     * im2col, 1 thread / 2 threads: 32 -> 32 at 28x28 5.8 vs 6.9 vs 6.9 / 2.9 vs 3.9 vs 3.3 ms,
     * 32 -> 64 at 14x14 3.1 vs 3.5 vs 3.0 / 1.6 vs 2.3 vs 1.5, 64 -> 64 at 14x14 6.0 vs 7.1 vs 6.3 /
     * 2.9 vs 4.4 vs 3.1, 3 -> 32 at 32x32 0.97 vs 0.88 vs 1.12 / 0.58 vs 1.14 vs 0.61 (the packed
     * pass hardly gains from a second thread), but 1 -> 32 at 28x28 (9 taps) 0.72 vs 0.69 vs 0.34 /
     * 0.39 vs 0.66 vs 0.18. (Until then only layers of at most 16 output channels came here.)
     */
    static boolean routed(ConvGeom g) {
        return suits(g) && g.cPerGroup() * g.kh() * g.kw() >= MIN_TAPS;
    }

    /** The shallowest reduction routed here. */
    static final int MIN_TAPS = 16;

    /**
     * {@code Conv.conv2d} (arguments checked, {@link #suits}). Returns false, doing nothing, when a
     * padded image would not fit one array.
     */
    static boolean conv2d(float[] y, float[] x, float[] w, float[] bias, ConvGeom g) {
        ConvPacked cp = ConvPacked.of(g);
        if (!cp.permutable) {
            return false;
        }
        int ocg = g.ocPerGroup();
        int groups = g.groups();
        int oh = g.oh();
        int ow = g.ow();
        int wp = cp.wp;
        // flattened positions, rounded to whole strips: the reads past the last one stay within
        // the padded image's 2L floats of slack
        int vr = ConvPacked.roundUp((oh - 1) * wp + ow, NR);
        int mr = ConvPacked.roundUp(ocg, MR);
        int asize = cp.packedSize(ocg);
        float[] ap = ConvDirect.packedWeights(groups * asize);
        for (int gi = 0; gi < groups; gi++) {
            cp.packA(ap, gi * asize, w, gi * ocg * cp.k, ocg);
        }
        int xImage = g.c() * g.h() * g.w();
        int yImage = g.oc() * cp.p;
        ConvPacked.eachImage(g.n(), img -> {
            PadScratch s = PadScratch.of(SCRATCH, mr * vr);
            float[] xpad = s.pad.zeroed(cp);
            for (int gi = 0; gi < groups; gi++) {
                ConvPad.pad(xpad, cp, x, img * xImage + gi * cp.cin * g.h() * g.w());
                int ao = gi * asize;
                for (int q0 = 0; q0 < vr; q0 += NR) {
                    for (int pc = 0; pc < cp.k; pc += cp.depth) {
                        int kc = Math.min(cp.depth, cp.k - pc);
                        for (int ir = 0; ir < mr; ir += MR) {
                            ConvMicro.kernelB(kc, ap, ao + pc * mr + ir * kc, xpad, cp.tap, pc, q0, s.out, ir * vr + q0,
                                    vr, pc > 0);
                        }
                    }
                }
                int yOff = img * yImage + gi * ocg * cp.p;
                for (int o = 0; o < ocg; o++) {
                    for (int i = 0; i < oh; i++) {
                        int dst = yOff + o * cp.p + i * ow;
                        if (bias == null) {
                            System.arraycopy(s.out, o * vr + i * wp, y, dst, ow);
                        } else {
                            ConvGemm.addScalar(y, dst, s.out, o * vr + i * wp, bias[gi * ocg + o], ow);
                        }
                    }
                }
            }
        });
        return true;
    }

    /** Per-thread buffers: the padded image and the flattened result rows. */
    private static final ThreadLocal<PadScratch> SCRATCH = ThreadLocal.withInitial(PadScratch::new);
}

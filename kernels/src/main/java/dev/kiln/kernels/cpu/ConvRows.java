package dev.kiln.kernels.cpu;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The input gradient of a layer with few, narrow input planes (LeNet-5's 6 -> 16 at 14x14): a full
 * correlation of the padded output gradient with the flipped weight, vectorized along the input's
 * rows. A tile is {@link #ROWS} input rows (one vector each, from column 0) by {@link #CH} input
 * channels; each step {@code (o, a, b)} of the reduction loads {@link #ROWS} row vectors of the
 * padded gradient and broadcasts {@link #CH} weights. Nothing is packed per image: the im2col path
 * it replaces ran a GEMM with a reduction of only {@code oc/groups} (16) then a col2im.
 *
 * <p>{@code gx[ci, y, x] = sum_{o,a,b} w[o, ci, kh-1-a, kw-1-b] * gypad[o, y + a*dh, x + b*dw]}
 * with {@code gypad} the output gradient padded by {@code dh*(kh-1) - ph} rows above (and
 * likewise in width). Every value is one multiply-add chain in a fixed order; images are split over
 * threads, so the result does not depend on the thread count.
 */
final class ConvRows {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Input rows per tile. */
    static final int ROWS = 4;
    /** Input channels per tile. */
    static final int CH = 6;

    private ConvRows() {
    }

    /**
     * Whether {@code Conv} routes the input gradient here: vector lanes, stride 1, input rows of at
     * most one vector, at most {@code 2 * CH} input channels per group and padding a full
     * correlation can take ({@code ph <= dh*(kh-1)}, likewise in width); rows of at least half a
     * vector, since every row takes a whole one.
     */
    static boolean suits(ConvGeom g) {
        return !Simd.SCALAR && g.sh() == 1 && g.sw() == 1 && g.w() <= L && 2 * g.w() >= L && g.cPerGroup() <= 2 * CH
                && g.ph() <= g.dh() * (g.kh() - 1) && g.pw() <= g.dw() * (g.kw() - 1);
    }

    /**
     * {@code Conv.conv2dBackwardInput} (arguments checked, {@link #suits}), adding to what {@code gx}
     * holds when {@code accumulate}. Returns false, doing nothing, when a padded gradient would not
     * fit one array.
     */
    static boolean conv2dBackwardInput(boolean accumulate, float[] gx, float[] gy, float[] w, ConvGeom g) {
        int ocg = g.ocPerGroup();
        int cg = g.cPerGroup();
        int kh = g.kh();
        int kw = g.kw();
        int h = g.h();
        // the padded gradient as ConvPacked lays it out: taps (o, a, b) over planes wide enough for
        // one vector from every column offset and deep enough for whole tiles of rows
        ConvPacked cp = ConvPacked.input(g, ConvPacked.roundUp(h, ROWS), L);
        if ((long) ocg * cp.hp * cp.wp + 2L * L > Integer.MAX_VALUE - 8) {
            return false;
        }
        int groups = g.groups();
        int kk = kh * kw;
        int tiles = Math.ceilDiv(cg, CH);
        int wg = tiles * cp.k * CH;
        float[] wb = ConvDirect.packedWeights(groups * wg);
        for (int gi = 0; gi < groups; gi++) {
            for (int t = 0; t < cp.k; t++) {
                int o = t / kk;
                int ab = kk - 1 - t % kk;
                for (int c = 0; c < tiles * CH; c++) {
                    wb[gi * wg + (c / CH * cp.k + t) * CH + c % CH] =
                            c < cg ? w[((gi * ocg + o) * cg + c) * kk + ab] : 0f;
                }
            }
        }
        int wd = g.w();
        int plane = h * wd;
        int xImage = g.c() * plane;
        int yImage = g.oc() * g.oh() * g.ow();
        VectorMask<Float> row = F.indexInRange(0, wd);
        ConvPacked.eachImage(g.n(), img -> {
            Scratch s = Scratch.LOCAL.get();
            float[] gpad = s.pad.zeroed(cp);
            for (int gi = 0; gi < groups; gi++) {
                ConvPad.pad(gpad, cp, gy, img * yImage + gi * ocg * g.oh() * g.ow());
                int gxOff = img * xImage + gi * cg * plane;
                for (int c0 = 0; c0 < cg; c0 += CH) {
                    for (int y0 = 0; y0 < h; y0 += ROWS) {
                        kernel(cp.k, gpad, cp.tap, y0 * cp.wp, cp.wp, wb, gi * wg + c0 / CH * cp.k * CH, s.tile);
                        for (int c = c0; c < Math.min(cg, c0 + CH); c++) {
                            for (int r = y0; r < Math.min(h, y0 + ROWS); r++) {
                                int at = gxOff + c * plane + r * wd;
                                FloatVector v = FloatVector.fromArray(F, s.tile, ((c - c0) * ROWS + r - y0) * L);
                                if (accumulate) {
                                    v = FloatVector.fromArray(F, gx, at, row).add(v);
                                }
                                v.intoArray(gx, at, row);
                            }
                        }
                    }
                }
            }
        });
        return true;
    }

    /** Per-thread buffers: the padded gradient and one tile. */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);
        final ConvPad pad = new ConvPad();
        final float[] tile = new float[ROWS * CH * L];
    }

    /**
     * {@code tile[(c*ROWS + r)*L + l] = sum_{s < steps} a[idx[s] + base + r*ld + l] * w[wi + s*CH + c]}
     * for {@code c < CH}, {@code r < ROWS}, {@code l < L} (writes). The 24 accumulators stay in
     * registers, written out in the method body (see {@link GemmMicro}).
     */
    static void kernel(int steps, float[] a, int[] idx, int base, int ld, float[] w, int wi, float[] tile) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
        for (int s = 0; s < steps; s++) {
            int o = idx[s] + base;
            FloatVector v0 = FloatVector.fromArray(F, a, o);
            FloatVector v1 = FloatVector.fromArray(F, a, o + ld);
            FloatVector v2 = FloatVector.fromArray(F, a, o + 2 * ld);
            FloatVector v3 = FloatVector.fromArray(F, a, o + 3 * ld);
            FloatVector b = FloatVector.broadcast(F, w[wi]);
            c00 = v0.fma(b, c00);
            c01 = v1.fma(b, c01);
            c02 = v2.fma(b, c02);
            c03 = v3.fma(b, c03);
            b = FloatVector.broadcast(F, w[wi + 1]);
            c10 = v0.fma(b, c10);
            c11 = v1.fma(b, c11);
            c12 = v2.fma(b, c12);
            c13 = v3.fma(b, c13);
            b = FloatVector.broadcast(F, w[wi + 2]);
            c20 = v0.fma(b, c20);
            c21 = v1.fma(b, c21);
            c22 = v2.fma(b, c22);
            c23 = v3.fma(b, c23);
            b = FloatVector.broadcast(F, w[wi + 3]);
            c30 = v0.fma(b, c30);
            c31 = v1.fma(b, c31);
            c32 = v2.fma(b, c32);
            c33 = v3.fma(b, c33);
            b = FloatVector.broadcast(F, w[wi + 4]);
            c40 = v0.fma(b, c40);
            c41 = v1.fma(b, c41);
            c42 = v2.fma(b, c42);
            c43 = v3.fma(b, c43);
            b = FloatVector.broadcast(F, w[wi + 5]);
            c50 = v0.fma(b, c50);
            c51 = v1.fma(b, c51);
            c52 = v2.fma(b, c52);
            c53 = v3.fma(b, c53);
            wi += CH;
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c02.intoArray(tile, 2 * L);
        c03.intoArray(tile, 3 * L);
        c10.intoArray(tile, 4 * L);
        c11.intoArray(tile, 5 * L);
        c12.intoArray(tile, 6 * L);
        c13.intoArray(tile, 7 * L);
        c20.intoArray(tile, 8 * L);
        c21.intoArray(tile, 9 * L);
        c22.intoArray(tile, 10 * L);
        c23.intoArray(tile, 11 * L);
        c30.intoArray(tile, 12 * L);
        c31.intoArray(tile, 13 * L);
        c32.intoArray(tile, 14 * L);
        c33.intoArray(tile, 15 * L);
        c40.intoArray(tile, 16 * L);
        c41.intoArray(tile, 17 * L);
        c42.intoArray(tile, 18 * L);
        c43.intoArray(tile, 19 * L);
        c50.intoArray(tile, 20 * L);
        c51.intoArray(tile, 21 * L);
        c52.intoArray(tile, 22 * L);
        c53.intoArray(tile, 23 * L);
    }
}

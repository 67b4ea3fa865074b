package dev.kiln.kernels.cpu;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The weight gradient of a stride-1 convolution as dot products along the output positions, with
 * nothing packed or transposed: {@code gw[o, t] = sum_{n, q} gy[n, o, q] * x[n, tap t at q]}.
 *
 * <p>Both operands are read along the padded image's rows. The output gradient of each image is
 * laid out on the padded width ({@code gyp[o, i*wp + j]}, zero for {@code j >= ow} and past the
 * last row, up to a whole number of vectors), so for tap {@code t = (ci*kh + a)*kw + b} the input
 * values it meets are the consecutive floats {@code xpad[tap[t] + i*wp + j]} of the zero-padded
 * image: one plain vector load per 16 positions on each side. The extra columns pair input values
 * with a zero output gradient (so a non-finite input value there turns the sum into NaN, where the
 * exact sum would skip it). A tile of 4 output channels x 4 taps (3 x 3 with 16 vector registers,
 * {@link #NARROW}) keeps 16 (9) vector accumulators
 * (partial sums per lane) for one image, loaded from and stored to a per-part buffer; missing
 * channels read zeros and missing taps repeat the first one, their sums dropped. The lanes
 * are added at the end of each part of the batch ({@link ConvParts}), and the parts in order, so
 * the bits do not depend on the thread count.
 *
 * <p>It replaces {@link ConvPacked}'s weight gradient for narrow layers ({@link #routed}): that is a
 * GEMM over the positions whose packing transposes both operands, and took about 70% of JFR's
 * samples on LeNet-5's 6 -> 16.
 */
final class ConvDot {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Whether the tile is 3 x 3 ({@link #tile3}: 9 accumulators), for 16 vector registers, rather than 4 x 4. */
    static final boolean NARROW = Simd.REGISTERS < 32;
    /** Output channels per tile. */
    static final int MT = NARROW ? 3 : 4;
    /** Taps per tile. */
    static final int TT = NARROW ? 3 : 4;
    /**
     * Vectors of positions a tile should sweep between loading and storing its partial sums:
     * images with fewer go several at a time (LeNet-5's 10x10 outputs on a 14-wide padded image, 9
     * vectors each, in chunks of 8).
     */
    static final int MIN_STEPS = 64;

    /**
     * Whether {@code Conv} routes here at all ({@code -Dkiln.conv.dot=false} turns it off). Until the
     * tile read its 4 output-gradient rows at 4 separate offsets (10 offsets in all, besides the
     * loop counters) its compiled code was fast in some JVM runs and not in others: LeNet-5's
     * 6 -> 16 weight gradient took 0.40-0.43 ms in most runs and 0.73-0.80 in others, so it was off
     * by default. With the rows interleaved vector by vector ({@link #layOut}, one offset for all
     * four) it ran fast in every harness run, but LeNet-5's training ran at 15,000-17,000 images/s
     * instead of 20,000 with it on: perf put 12.6% of the samples in the tile and 3-5% in the Vector
     * API's Java fallback ({@code VectorSupport.ternaryOp}, the fma), so some of its 24
     * accumulators' operations were left uncompiled in that context. The tile now keeps 16 (4
     * channels x 4 taps, as {@link ConvMicro}'s kernels): 4.2% of the samples, 20,000 images/s once
     * warm. Harness (1 thread, min of a 0.6 s loop, with the bias gradient), 4 x 4 tile: 6 -> 16
     * 0.36-0.44 ms, 1 -> 6 at 28x28 0.28-0.30, 3 -> 32 at 32x32 1.64-1.78, 1 -> 32 at 28x28 0.99-1.00;
     * the packed or lowered path it replaces (without the bias gradient): 0.51-0.67, 0.34-0.42,
     * 1.47-2.2, 0.84-1.04. Through the engine (4 x 6 tile), LeNet-5's 6 -> 16 forward and backward
     * took 1.05-1.16 ms against 1.42-1.46 with it off (PyTorch: 1.26).
     */
    static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("kiln.conv.dot", "true"));

    private ConvDot() {
    }

    /** Whether {@link #conv2dBackwardWeight} can take the geometry: vector lanes and stride 1. */
    static boolean suits(ConvGeom g) {
        return !Simd.SCALAR && g.sh() == 1 && g.sw() == 1;
    }

    /**
     * Whether {@code Conv} routes the weight gradient here (where {@link ConvDirect} does not take
     * it): {@link #ENABLED}, {@link #suits}, at most 32 output channels per group and at most 160 taps
     * ({@code cPerGroup * kh * kw}). The tile runs at about half the FMA peak, so it wins only where
     * the packed GEMM's transposes cost more than that. Measured, 1 thread, min of a 1 s loop, batch 64,
     * with the bias gradient, against the path it replaces: 1 -> 6 at 28x28 k5 0.29 vs 0.42-0.45 ms,
     * 6 -> 16 at 14x14 k5 0.41 vs 0.54, 3 -> 32 at 32x32 1.44 vs 1.70, 6 -> 16 at 28x28 k5 4.16 vs
     * 4.59, 3 -> 16 at 64x64 4.02 vs 4.62; but 3 -> 64 at 32x32 5.14 vs 4.00, 12 -> 48 at 16x16 2.92
     * vs 1.85, 24 -> 40 at 16x16 4.80 vs 3.06. With 16 vector registers the 4 x 4 tile's 16
     * accumulators and 8 operands spilled (Zen 1: 6 -> 16 2.37 vs 2.08 ms on the packed path, 3 -> 32
     * 8.47 vs 6.63); a 3 x 3 tile ({@link #NARROW}) runs there, routed for at most
     * {@link #NARROW_MAX_OC} output channels.
     */
    static boolean routed(ConvGeom g) {
        return ENABLED && suits(g) && g.ocPerGroup() <= (NARROW ? NARROW_MAX_OC : 32)
                && g.cPerGroup() * g.kh() * g.kw() <= 160;
    }

    /**
     * The most output channels per group {@link #routed} takes with the 3 x 3 tile (16 registers).
     * Zen 1, batch 64, 1 thread, min of 3 s, with the bias gradient, {@link #tile3} against the path
     * that took it before: 1 -> 6 at 28x28 k5 0.91 vs 1.79-1.88 ms (2 threads 0.50 vs 1.03),
     * 3 -> 6 at 32x32 k5 1.72 vs 4.35, 6 -> 6 at 14x14 k5 0.57 vs 1.37, 1 -> 8 at 28x28 0.87 vs 1.18,
     * 4 -> 8 at 28x28 1.54 vs 2.89, 3 -> 12 at 32x32 2.34 vs 3.57, 3 -> 16 at 32x32 3.51 vs 4.33;
     * but 8 -> 16 at 28x28 4.77 vs 4.37, 16 -> 16 at 14x14 2.54 vs 1.96, 1 -> 32 at 28x28 3.54 vs
     * 3.41, 3 -> 32 at 32x32 6.83 vs 6.94, 16 -> 32 at 14x14 4.75 vs 3.16, 3 -> 64 13.2 vs 12.7 (the
     * packed GEMM's 5-row tiles waste up to 40% on a few channels, this tile 3 x 3 none).
     */
    static final int NARROW_MAX_OC = 12;

    /**
     * {@code Conv.conv2dBackwardWeight} (arguments checked, {@link #suits}), with the bias gradient
     * when {@code gb} is not null (per part in double, then over the parts in order). Returns false,
     * doing nothing, when a padded image or gradient would not fit one array.
     */
    static boolean conv2dBackwardWeight(float[] gw, float[] gb, float[] x, float[] gy, ConvGeom g) {
        ConvPacked cp = ConvPacked.of(g);
        int n = g.n();
        int groups = g.groups();
        int cg = g.cPerGroup();
        int ocg = g.ocPerGroup();
        int oh = g.oh();
        int ow = g.ow();
        int wp = cp.wp;
        int plane = cp.hp * wp;
        long pvLong = ((long) oh * wp + L - 1) / L * L;
        long padLong = (long) cg * plane + (long) (g.kw() - 1) * g.dw() + pvLong;
        int mPad = (ocg + MT - 1) / MT * MT;
        int taps = cp.k;
        int tPad = (taps + TT - 1) / TT * TT;
        if (pvLong * mPad > Integer.MAX_VALUE - 16 || padLong > Integer.MAX_VALUE - 16
                || (long) mPad * tPad * L > Integer.MAX_VALUE - 16) {
            return false;
        }
        int pv = (int) pvLong;
        int padSize = (int) padLong;
        int size = (int) g.wSize();
        int parts = ConvParts.parts(n);
        float[] partial = ConvParts.buffer(parts, size);
        int oc = g.oc();
        double[] gbT = gb == null ? null : new double[parts * oc];
        int gStride = pv * mPad;
        int chunk = Math.clamp(Math.ceilDiv(MIN_STEPS, pv / L), 1, Math.ceilDiv(n, parts));
        if ((long) chunk * padSize > Integer.MAX_VALUE - 16 || (long) chunk * gStride > Integer.MAX_VALUE - 16) {
            return false;
        }
        int[] key = {cg, g.h(), g.w(), cp.hp, wp, cp.ph, cp.pw, ocg, oh, ow, pv, padSize, chunk};
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(Math.min(parts, Parallel.threads()), 1, 0L, (lo, hi) -> {
            Scratch s = Scratch.get(key, chunk * padSize, chunk * gStride, mPad * tPad * L);
            for (int part = next.getAndIncrement(); part < parts; part = next.getAndIncrement()) {
                int start = ConvParts.start(part, parts, n);
                int end = ConvParts.start(part + 1, parts, n);
                for (int gi = 0; gi < groups; gi++) {
                    Arrays.fill(s.acc, 0, mPad * tPad * L, 0f);
                    for (int first = start; first < end; first += chunk) {
                        int count = Math.min(chunk, end - first);
                        for (int b = 0; b < count; b++) {
                            int img = first + b;
                            ConvPad.pad(s.xpad, b * padSize, cp, x, (img * g.c() + gi * cg) * g.h() * g.w());
                            int gyOff = (img * oc + gi * ocg) * oh * ow;
                            layOut(s.gyp, b * gStride, pv, wp, gy, gyOff, ocg, oh, ow);
                            if (gbT != null) {
                                for (int o = 0; o < ocg; o++) {
                                    gbT[part * oc + gi * ocg + o] += rowSum(gy, gyOff + o * oh * ow, oh * ow);
                                }
                            }
                        }
                        tiles(s, ocg, mPad, taps, tPad, cp.tap, pv, gStride, padSize, count);
                    }
                    reduce(partial, part * size + gi * ocg * taps, s.acc, ocg, taps, tPad);
                }
            }
        });
        ConvParts.sum(partial, parts, size);
        System.arraycopy(partial, 0, gw, 0, size);
        if (gb != null) {
            ConvParts.sumBias(gb, gbT, parts, oc);
        }
        return true;
    }

    /**
     * Every tile over {@code images} laid-out images (output gradients {@code gStride} apart, padded
     * images {@code xStride} apart): channel blocks outside, so their rows stay near across the tap blocks.
     */
    private static void tiles(Scratch s, int ocg, int mPad, int taps, int tPad, int[] tap, int pv, int gStride, int xStride,
                              int images) {
        int steps = pv / L;
        for (int m0 = 0; m0 < mPad; m0 += MT) {
            int g0 = m0 * pv;
            for (int t0 = 0; t0 < tPad; t0 += TT) {
                int x0 = tap[t0];
                int x1 = t0 + 1 < taps ? tap[t0 + 1] : x0;
                int x2 = t0 + 2 < taps ? tap[t0 + 2] : x0;
                if (NARROW) {
                    tile3(s.acc, (m0 * tPad + t0 * MT) * L, s.gyp, g0, gStride, s.xpad, x0, x1, x2, xStride, steps,
                            images);
                } else {
                    int x3 = t0 + 3 < taps ? tap[t0 + 3] : x0;
                    tile(s.acc, (m0 * tPad + t0 * MT) * L, s.gyp, g0, gStride, s.xpad, x0, x1, x2, x3,
                            xStride, steps, images);
                }
            }
        }
    }

    /**
     * {@code acc[a + (i*TT + j)*L + lane] += sum_s gyp[gi + s*L + lane] * xpad[xj + s*L + lane]}
     * for the 4 rows at {@code gi} (interleaved) and 4 taps {@code xj}, over {@code steps} vectors, for each of
     * {@code images} images (the rows {@code gStride} further on, the taps {@code xStride}).
     */
    private static void tile(float[] acc, int a, float[] gyp, int g0, int gStride, float[] xp,
                             int x0, int x1, int x2, int x3, int xStride, int steps, int images) {
        FloatVector c00 = FloatVector.fromArray(F, acc, a);
        FloatVector c01 = FloatVector.fromArray(F, acc, a + 1 * L);
        FloatVector c02 = FloatVector.fromArray(F, acc, a + 2 * L);
        FloatVector c03 = FloatVector.fromArray(F, acc, a + 3 * L);
        FloatVector c10 = FloatVector.fromArray(F, acc, a + 4 * L);
        FloatVector c11 = FloatVector.fromArray(F, acc, a + 5 * L);
        FloatVector c12 = FloatVector.fromArray(F, acc, a + 6 * L);
        FloatVector c13 = FloatVector.fromArray(F, acc, a + 7 * L);
        FloatVector c20 = FloatVector.fromArray(F, acc, a + 8 * L);
        FloatVector c21 = FloatVector.fromArray(F, acc, a + 9 * L);
        FloatVector c22 = FloatVector.fromArray(F, acc, a + 10 * L);
        FloatVector c23 = FloatVector.fromArray(F, acc, a + 11 * L);
        FloatVector c30 = FloatVector.fromArray(F, acc, a + 12 * L);
        FloatVector c31 = FloatVector.fromArray(F, acc, a + 13 * L);
        FloatVector c32 = FloatVector.fromArray(F, acc, a + 14 * L);
        FloatVector c33 = FloatVector.fromArray(F, acc, a + 15 * L);
        for (int b = 0; b < images; b++, g0 += gStride, x0 += xStride, x1 += xStride, x2 += xStride, x3 += xStride) {
            for (int s = 0, o = 0, q = g0; s < steps; s++, o += L, q += MT * L) {
                FloatVector y0 = FloatVector.fromArray(F, gyp, q);
                FloatVector y1 = FloatVector.fromArray(F, gyp, q + L);
                FloatVector y2 = FloatVector.fromArray(F, gyp, q + 2 * L);
                FloatVector y3 = FloatVector.fromArray(F, gyp, q + 3 * L);
                FloatVector v = FloatVector.fromArray(F, xp, x0 + o);
                c00 = y0.fma(v, c00);
                c10 = y1.fma(v, c10);
                c20 = y2.fma(v, c20);
                c30 = y3.fma(v, c30);
                v = FloatVector.fromArray(F, xp, x1 + o);
                c01 = y0.fma(v, c01);
                c11 = y1.fma(v, c11);
                c21 = y2.fma(v, c21);
                c31 = y3.fma(v, c31);
                v = FloatVector.fromArray(F, xp, x2 + o);
                c02 = y0.fma(v, c02);
                c12 = y1.fma(v, c12);
                c22 = y2.fma(v, c22);
                c32 = y3.fma(v, c32);
                v = FloatVector.fromArray(F, xp, x3 + o);
                c03 = y0.fma(v, c03);
                c13 = y1.fma(v, c13);
                c23 = y2.fma(v, c23);
                c33 = y3.fma(v, c33);
            }
        }
        c00.intoArray(acc, a);
        c01.intoArray(acc, a + 1 * L);
        c02.intoArray(acc, a + 2 * L);
        c03.intoArray(acc, a + 3 * L);
        c10.intoArray(acc, a + 4 * L);
        c11.intoArray(acc, a + 5 * L);
        c12.intoArray(acc, a + 6 * L);
        c13.intoArray(acc, a + 7 * L);
        c20.intoArray(acc, a + 8 * L);
        c21.intoArray(acc, a + 9 * L);
        c22.intoArray(acc, a + 10 * L);
        c23.intoArray(acc, a + 11 * L);
        c30.intoArray(acc, a + 12 * L);
        c31.intoArray(acc, a + 13 * L);
        c32.intoArray(acc, a + 14 * L);
        c33.intoArray(acc, a + 15 * L);
    }

    /** {@link #tile} for 3 rows and 3 taps ({@link #NARROW}). */
    private static void tile3(float[] acc, int a, float[] gyp, int g0, int gStride, float[] xp,
                              int x0, int x1, int x2, int xStride, int steps, int images) {
        FloatVector c00 = FloatVector.fromArray(F, acc, a);
        FloatVector c01 = FloatVector.fromArray(F, acc, a + 1 * L);
        FloatVector c02 = FloatVector.fromArray(F, acc, a + 2 * L);
        FloatVector c10 = FloatVector.fromArray(F, acc, a + 3 * L);
        FloatVector c11 = FloatVector.fromArray(F, acc, a + 4 * L);
        FloatVector c12 = FloatVector.fromArray(F, acc, a + 5 * L);
        FloatVector c20 = FloatVector.fromArray(F, acc, a + 6 * L);
        FloatVector c21 = FloatVector.fromArray(F, acc, a + 7 * L);
        FloatVector c22 = FloatVector.fromArray(F, acc, a + 8 * L);
        for (int b = 0; b < images; b++, g0 += gStride, x0 += xStride, x1 += xStride, x2 += xStride) {
            for (int s = 0, o = 0, q = g0; s < steps; s++, o += L, q += 3 * L) {
                FloatVector y0 = FloatVector.fromArray(F, gyp, q);
                FloatVector y1 = FloatVector.fromArray(F, gyp, q + L);
                FloatVector y2 = FloatVector.fromArray(F, gyp, q + 2 * L);
                FloatVector v = FloatVector.fromArray(F, xp, x0 + o);
                c00 = y0.fma(v, c00);
                c10 = y1.fma(v, c10);
                c20 = y2.fma(v, c20);
                v = FloatVector.fromArray(F, xp, x1 + o);
                c01 = y0.fma(v, c01);
                c11 = y1.fma(v, c11);
                c21 = y2.fma(v, c21);
                v = FloatVector.fromArray(F, xp, x2 + o);
                c02 = y0.fma(v, c02);
                c12 = y1.fma(v, c12);
                c22 = y2.fma(v, c22);
            }
        }
        c00.intoArray(acc, a);
        c01.intoArray(acc, a + 1 * L);
        c02.intoArray(acc, a + 2 * L);
        c10.intoArray(acc, a + 3 * L);
        c11.intoArray(acc, a + 4 * L);
        c12.intoArray(acc, a + 5 * L);
        c20.intoArray(acc, a + 6 * L);
        c21.intoArray(acc, a + 7 * L);
        c22.intoArray(acc, a + 8 * L);
    }

    /**
     * The output gradient laid out on the padded width, the rows of each block of {@link #MT}
     * channels interleaved vector by vector: position {@code v = i*wp + j} of channel {@code o = m0 + r}
     * ({@code m0} a multiple of {@code MT}) at {@code gyp[gOff + m0*pv + (v/L)*MT*L + r*L + v%L]}
     * {@code = gy[gyOff + (o*oh + i)*ow + j]} for {@code j < ow}, so a tile reads its 4 rows at one
     * offset. The rest (columns {@code ow..wp-1}, positions past {@code oh*wp}, channels past
     * {@code ocg}) stays zero from {@link Scratch#get}.
     */
    private static void layOut(float[] gyp, int gOff, int pv, int wp, float[] gy, int gyOff, int ocg, int oh, int ow) {
        for (int o = 0; o < ocg; o++) {
            int block = gOff + o / MT * MT * pv + o % MT * L;
            for (int i = 0, src = gyOff + o * oh * ow; i < oh; i++, src += ow) {
                // the row's stretches within one vector of positions each
                for (int j = 0, v = i * wp; j < ow; ) {
                    int len = Math.min(ow - j, L - v % L);
                    // inline, not an arraycopy call per stretch (6.2% of LeNet-5's step) nor ConvPad.copyRow
                    // (1->6 at 28x28, 1 thread: 1.05-1.15 ms, 0.91-1.10, and this 0.76-0.86)
                    int d = block + v / L * MT * L + v % L;
                    if (len == L) {
                        FloatVector.fromArray(F, gy, src + j).intoArray(gyp, d);
                    } else {
                        for (int k = 0; k < len; k++) {
                            gyp[d + k] = gy[src + j + k];
                        }
                    }
                    j += len;
                    v += len;
                }
            }
        }
    }

    /** The sum of {@code a[off, off + len)}: vectors by lanes first, then across the lanes, then the tail in order. */
    private static float rowSum(float[] a, int off, int len) {
        FloatVector s = FloatVector.zero(F);
        int i = 0;
        for (int ub = len - len % L; i < ub; i += L) {
            s = s.add(FloatVector.fromArray(F, a, off + i));
        }
        float t = Simd.sumLanes(s);
        for (; i < len; i++) {
            t += a[off + i];
        }
        return t;
    }

    /** {@code dst[dOff + o*taps + t] = sum of acc's lanes for (o, t)}, over the real channels and taps. */
    private static void reduce(float[] dst, int dOff, float[] acc, int ocg, int taps, int tPad) {
        for (int o = 0; o < ocg; o++) {
            int m0 = o / MT * MT;
            for (int t = 0; t < taps; t++) {
                int t0 = t / TT * TT;
                int a = (m0 * tPad + t0 * MT + (o - m0) * TT + (t - t0)) * L;
                dst[dOff + o * taps + t] = Simd.sumLanes(FloatVector.fromArray(F, acc, a));
            }
        }
    }

    /** Per-thread buffers: padded image, laid-out output gradient (zeros past the channels), partial sums; zeroed per layout. */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);
        float[] xpad = new float[0];
        float[] gyp = new float[0];
        float[] acc = new float[0];
        int[] zeroFor;

        static Scratch get(int[] key, int padSize, int gypSize, int accSize) {
            Scratch s = LOCAL.get();
            if (!Arrays.equals(key, s.zeroFor)) {
                s.xpad = s.xpad.length >= padSize ? s.xpad : new float[padSize];
                s.gyp = s.gyp.length >= gypSize ? s.gyp : new float[gypSize];
                Arrays.fill(s.xpad, 0f);
                Arrays.fill(s.gyp, 0f);
                s.zeroFor = key;
            }
            if (s.acc.length < accSize) {
                s.acc = new float[accSize];
            }
            return s;
        }
    }
}

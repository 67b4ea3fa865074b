package dev.kiln.kernels.cpu;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.cpu.x86.FmaConvCode;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Stride-1 convolutions with few output channels (at most {@link #MAX_ROWS}): the input gradient
 * of a layer with few input channels (3 -> 32, 6 -> 16 and 1 -> 6 give 3, 6 and 1 rows), and the
 * forward pass of one with few output channels (1 -> 6), where a GEMM tile of 8 rows would be
 * mostly empty. On AVX2 machines the tiles are generated code ({@link ConvFewJit}: all rows up to
 * 6 in one tile, one call per image), and the forward pass of layers with few taps per position
 * and any number of output channels comes here too ({@link #suitsForward}).
 *
 * <p>The vectors run along the output positions flattened on the padded width
 * ({@code i*wp + j}, the columns {@code j >= ow} computed and dropped), so every tap of every
 * input channel is one plain vector load at a fixed offset from the position ({@link ConvPacked}'s
 * tap offsets): a tile of 3 rows x 6 vectors keeps 18 accumulators, 6 loads and 3 broadcast
 * weights per tap (a single row: 1 x 6). Each output value is one fused multiply-add chain over
 * the taps in order; the tiles of an image go to a per-thread row buffer, whose valid columns are
 * then stored, added to what the output holds, or stored with the bias added. Images are split
 * over threads, each computed the same way by any thread.
 *
 * <p>The input gradient is the forward correlation of the output gradient, zero-padded by
 * {@code dh*(kh-1) - ph} (and likewise in width), with the flipped, transposed weight.
 *
 * <p>Measured (Zen 5, the Vector API tiles), 1 thread, min CPU time of a 1 s loop, batch 64, against the path each replaces:
 * input gradient (adding into the held gradient) 3 -> 32 at 32x32 1.02-1.25 vs 1.30-1.52 ms
 * (im2col), 3 -> 64 at 32x32 2.40-2.48 vs 4.28-4.34, 1 -> 6 at 28x28 k5 0.28-0.29 vs 0.35-0.49;
 * forward 1 -> 6 at 28x28 k5 0.24-0.26 vs 0.30-0.31 (pad 2), 0.18 vs 0.36-0.37 (no padding). LeNet-5's
 * 6 -> 16 input gradient stays on {@link ConvRows} (0.42-0.44 vs 0.52-0.53 here: its 14x14
 * result on a padded width of 18, in tiles of 96, computes 47% more than it keeps).
 */
final class ConvFew {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Output rows (channels) of the widest geometry taken. */
    static final int MAX_ROWS = 6;
    /** Rows per tile. */
    private static final int MB = 3;
    /**
     * Vectors of positions per tile: 6 with 32 vector registers (18 accumulators), 3 with 16
     * (AVX2: 9 accumulators; the 18 spilled to the stack every tap, and LeNet-5's 6 -> 16 input
     * gradient ran at 8 GFLOP/s on Zen 1).
     */
    private static final int VB = Simd.REGISTERS >= 32 ? 6 : 3;
    /**
     * Most taps per position ({@code c/groups * kh * kw}) of a forward pass with more than
     * {@link #MAX_ROWS} channels taken: the measured wins reach 108 (see {@link #suitsForward}), and
     * every block of 6 channels reads all the taps again.
     */
    static final int MAX_JIT_TAPS = 128;
    /** Rows per block of {@link ConvFewJit}'s tiles. */
    private static final int JB = FmaConvCode.MAX_ROWS;

    private ConvFew() {
    }

    /** Whether {@link #backwardInput} can take the geometry: lanes, stride 1, at most {@link #MAX_ROWS} input channels per group. */
    static boolean suitsInput(ConvGeom g) {
        return !Simd.SCALAR && g.sh() == 1 && g.sw() == 1 && g.cPerGroup() <= MAX_ROWS
                && g.ph() <= g.dh() * (g.kh() - 1) && g.pw() <= g.dw() * (g.kw() - 1);
    }

    /**
     * Whether {@code Conv} routes the forward pass here: lanes, stride 1, and at most
     * {@link #MAX_ROWS} output channels per group, or, with {@link ConvFewJit}'s code, at most
     * {@link #MAX_JIT_TAPS} taps per position (before the packed GEMM, not before Winograd or the
     * direct kernels). Zen 1, 1 thread, batch 64, min of 24 x 5 calls, the packed GEMM (with its
     * generated tiles) vs here: 1 -> 32 at 28x28 k3 1.89 vs 1.55 ms, 3 -> 32 at 32x32 k3 4.69 vs 3.84,
     * 3 -> 64 at 32x32 k3 8.97 vs 7.91, 3 -> 16 at 32x32 k5 4.83 vs 3.59, 8 -> 16 at 14x14 k3 1.43 vs
     * 1.06, 12 -> 32 at 16x16 k3 3.44 vs 3.18, 1x1 16 -> 64 at 28x28 5.54 vs 5.04, 1x1 64 -> 32 at
     * 14x14 2.01 vs 1.73, 2 -> 8 at 28x28 k3 1.10 vs 0.57; the same bits in each.
     */
    static boolean suitsForward(ConvGeom g) {
        return !Simd.SCALAR && g.sh() == 1 && g.sw() == 1 && (g.ocPerGroup() <= MAX_ROWS
                || ConvFewJit.use && (long) g.cPerGroup() * g.kh() * g.kw() <= MAX_JIT_TAPS);
    }

    /** {@code Conv.conv2d} (arguments checked, {@link #suitsForward}). Returns false, doing nothing, when a buffer would not fit an array. */
    static boolean forward(float[] y, float[] x, float[] w, float[] bias, ConvGeom g) {
        int cg = g.cPerGroup();
        int ocg = g.ocPerGroup();
        ConvPacked cp = ConvPacked.of(g);
        int k = cp.k;
        int groups = g.groups();
        boolean jit = ConvFewJit.use;
        Weight wt = (gi, m, t) -> w[(gi * ocg + m) * k + t];
        float[] packed = jit ? packJit(groups, ocg, k, wt) : pack(groups, ocg, k, wt);
        return run(false, y, g.oc(), bias, x, g.c(), cg, cp, packed, jit, ocg, groups, g.n());
    }

    /**
     * {@code Conv.conv2dBackwardInput} (arguments checked, {@link #suitsInput}), adding to what
     * {@code gx} holds when {@code accumulate}. Returns false, doing nothing, when a buffer would not fit an array.
     */
    static boolean backwardInput(boolean accumulate, float[] gx, float[] gy, float[] w, ConvGeom g) {
        int cg = g.cPerGroup();
        int ocg = g.ocPerGroup();
        int kh = g.kh();
        int kw = g.kw();
        ConvPacked cp = ConvPacked.input(g, g.h(), g.w());
        int kk = kh * kw;
        int k = cp.k;
        // tap t = (o*kh + a)*kw + b of the output gradient meets w[o, c, kh-1-a, kw-1-b]
        boolean jit = ConvFewJit.use;
        Weight wt = (gi, m, t) -> w[((gi * ocg + t / kk) * cg + m) * kk + kk - 1 - t % kk];
        float[] packed = jit ? packJit(g.groups(), cg, k, wt) : pack(g.groups(), cg, k, wt);
        return run(accumulate, gx, g.c(), null, gy, g.oc(), ocg, cp, packed, jit, cg, g.groups(), g.n());
    }

    private interface Weight {
        float at(int gi, int m, int t);
    }

    /**
     * The weights per group in blocks of {@link #MB} rows: {@code [gi][block][t][MB]}, a missing
     * row's weights zero; in the calling thread's buffer ({@link ConvDirect#packedWeights}).
     */
    private static float[] pack(int groups, int rows, int k, Weight w) {
        int blocks = Math.ceilDiv(rows, MB);
        float[] out = ConvDirect.packedWeights(groups * blocks * k * MB);
        Arrays.fill(out, 0, groups * blocks * k * MB, 0f);
        for (int gi = 0; gi < groups; gi++) {
            for (int m = 0; m < rows; m++) {
                int base = (gi * blocks + m / MB) * k * MB + m % MB;
                for (int t = 0; t < k; t++) {
                    out[base + t * MB] = w.at(gi, m, t);
                }
            }
        }
        return out;
    }

    /**
     * The weights for {@link ConvFewJit}: per group ({@code rows * k} floats) blocks of
     * {@link FmaConvCode#MAX_ROWS} rows and a last one of the rows left, each {@code [t][rows of the block]}.
     */
    private static float[] packJit(int groups, int rows, int k, Weight w) {
        float[] out = ConvDirect.packedWeights(groups * rows * k);
        for (int gi = 0; gi < groups; gi++) {
            for (int m = 0; m < rows; m++) {
                int b0 = m / JB * JB;
                int rb = Math.min(JB, rows - b0);
                int base = gi * rows * k + b0 * k + m - b0;
                for (int t = 0; t < k; t++) {
                    out[base + t * rb] = w.at(gi, m, t);
                }
            }
        }
        return out;
    }

    /**
     * Per image and group: pads {@code rows}' input ({@code inC} channels per image, {@code cin}
     * per group) into a buffer with slack, computes the {@code rows x (oh*wp)} flattened result
     * tile by tile, then writes the valid columns to {@code dst} ({@code outC} channels per image).
     * The weights are {@code packed} in blocks of {@link #MB} rows for the Vector API tiles, or with
     * {@code jit} as {@link #packJit} for one {@link ConvFewJit} call per block of rows, image and group.
     */
    private static boolean run(boolean acc, float[] dst, int outC, float[] bias, float[] src, int inC, int cin,
                               ConvPacked cp, float[] packed, boolean jit, int rows, int groups, int n) {
        int wp = cp.wp;
        int plane = cp.hp * wp;
        int oh = cp.oh;
        int ow = cp.ow;
        long flat = (long) oh * wp;
        // each block's tiles cover the positions span(rows of the block) at a time; the rows hold the longest
        long rowSize = 0;
        for (int b0 = 0; b0 < rows; b0 += jit ? JB : rows) {
            rowSize = Math.max(rowSize, extent(flat, jit ? ConvFewJit.span(Math.min(JB, rows - b0)) : VB * L));
        }
        long padSize = Math.max((long) cin * plane, cp.tap[cp.k - 1] + rowSize) + L;
        int mb = jit ? JB : MB;
        int blocks = Math.ceilDiv(rows, mb);
        if (padSize > Integer.MAX_VALUE - 16 || rowSize * blocks * mb > Integer.MAX_VALUE - 16) {
            return false;
        }
        int k = cp.k;
        int row = (int) rowSize;
        int tiles = (int) (rowSize / (VB * L)); // of the Vector API tiles
        int inImage = inC * cp.h * cp.w;
        int outImage = outC * oh * ow;
        ConvPacked.eachImage(n, img -> {
            PadScratch s = PadScratch.of(SCRATCH, blocks * mb * row);
            float[] xpad = s.pad.zeroed(cp, (int) padSize);
            for (int gi = 0; gi < groups; gi++) {
                ConvPad.pad(xpad, cp, src, img * inImage + gi * cin * cp.h * cp.w);
                if (jit) {
                    for (int b = 0; b < blocks; b++) {
                        int rb = Math.min(JB, rows - b * JB);
                        int sp = ConvFewJit.span(rb);
                        ConvFewJit.tiles(rb, packed, (gi * rows + b * JB) * k, xpad, 0, sp, s.out, b * JB * row, sp, row,
                                cp.tap, k, (int) (extent(flat, sp) / sp));
                    }
                } else {
                    for (int b = 0; b < blocks; b++) {
                        int wo = (gi * blocks + b) * k * MB;
                        int out = b * MB * row;
                        if (rows == 1) {
                            for (int tl = 0; tl < tiles; tl++) {
                                one(s.out, out + tl * VB * L, xpad, cp.tap, k, tl * VB * L, packed, wo);
                            }
                        } else if (VB == 6) {
                            for (int tl = 0; tl < tiles; tl++) {
                                three(s.out, out + tl * VB * L, row, xpad, cp.tap, k, tl * VB * L, packed, wo);
                            }
                        } else {
                            for (int tl = 0; tl < tiles; tl++) {
                                threeNarrow(s.out, out + tl * VB * L, row, xpad, cp.tap, k, tl * VB * L, packed, wo);
                            }
                        }
                    }
                }
                for (int m = 0; m < rows; m++) {
                    int d = img * outImage + (gi * rows + m) * oh * ow;
                    float bv = bias == null ? 0f : bias[gi * rows + m];
                    for (int i = 0; i < oh; i++) {
                        store(dst, d + i * ow, s.out, m * row + i * wp, ow, acc, bias != null, bv);
                    }
                }
            }
        });
        return true;
    }

    /** {@code flat} rounded up to whole {@code span}s. */
    private static long extent(long flat, long span) {
        return (flat + span - 1) / span * span;
    }

    /**
     * {@code out[o + r*ld + v*L + lane] = sum_t w[wo + t*MB + r] * x[tap[t] + q0 + v*L + lane]} for
     * the 3 rows {@code r} and 6 vectors {@code v}, one FMA chain per value over {@code t} in order.
     */
    private static void three(float[] out, int o, int ld, float[] x, int[] tap, int k, int q0, float[] w, int wo) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c04 = z, c05 = z;
        FloatVector c10 = z, c11 = z, c12 = z, c13 = z, c14 = z, c15 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c24 = z, c25 = z;
        for (int t = 0, wi = wo; t < k; t++, wi += MB) {
            int xi = tap[t] + q0;
            FloatVector x0 = FloatVector.fromArray(F, x, xi);
            FloatVector x1 = FloatVector.fromArray(F, x, xi + L);
            FloatVector x2 = FloatVector.fromArray(F, x, xi + 2 * L);
            FloatVector x3 = FloatVector.fromArray(F, x, xi + 3 * L);
            FloatVector x4 = FloatVector.fromArray(F, x, xi + 4 * L);
            FloatVector x5 = FloatVector.fromArray(F, x, xi + 5 * L);
            FloatVector w0 = FloatVector.broadcast(F, w[wi]);
            c00 = x0.fma(w0, c00);
            c01 = x1.fma(w0, c01);
            c02 = x2.fma(w0, c02);
            c03 = x3.fma(w0, c03);
            c04 = x4.fma(w0, c04);
            c05 = x5.fma(w0, c05);
            FloatVector w1 = FloatVector.broadcast(F, w[wi + 1]);
            c10 = x0.fma(w1, c10);
            c11 = x1.fma(w1, c11);
            c12 = x2.fma(w1, c12);
            c13 = x3.fma(w1, c13);
            c14 = x4.fma(w1, c14);
            c15 = x5.fma(w1, c15);
            FloatVector w2 = FloatVector.broadcast(F, w[wi + 2]);
            c20 = x0.fma(w2, c20);
            c21 = x1.fma(w2, c21);
            c22 = x2.fma(w2, c22);
            c23 = x3.fma(w2, c23);
            c24 = x4.fma(w2, c24);
            c25 = x5.fma(w2, c25);
        }
        c00.intoArray(out, o);
        c01.intoArray(out, o + L);
        c02.intoArray(out, o + 2 * L);
        c03.intoArray(out, o + 3 * L);
        c04.intoArray(out, o + 4 * L);
        c05.intoArray(out, o + 5 * L);
        o += ld;
        c10.intoArray(out, o);
        c11.intoArray(out, o + L);
        c12.intoArray(out, o + 2 * L);
        c13.intoArray(out, o + 3 * L);
        c14.intoArray(out, o + 4 * L);
        c15.intoArray(out, o + 5 * L);
        o += ld;
        c20.intoArray(out, o);
        c21.intoArray(out, o + L);
        c22.intoArray(out, o + 2 * L);
        c23.intoArray(out, o + 3 * L);
        c24.intoArray(out, o + 4 * L);
        c25.intoArray(out, o + 5 * L);
    }

    /** As {@link #three} with 3 vectors per row ({@code VB == 3}: machines with 16 vector registers). */
    private static void threeNarrow(float[] out, int o, int ld, float[] x, int[] tap, int k, int q0, float[] w, int wo) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = z, c01 = z, c02 = z;
        FloatVector c10 = z, c11 = z, c12 = z;
        FloatVector c20 = z, c21 = z, c22 = z;
        for (int t = 0, wi = wo; t < k; t++, wi += MB) {
            int xi = tap[t] + q0;
            FloatVector x0 = FloatVector.fromArray(F, x, xi);
            FloatVector x1 = FloatVector.fromArray(F, x, xi + L);
            FloatVector x2 = FloatVector.fromArray(F, x, xi + 2 * L);
            FloatVector w0 = FloatVector.broadcast(F, w[wi]);
            c00 = x0.fma(w0, c00);
            c01 = x1.fma(w0, c01);
            c02 = x2.fma(w0, c02);
            FloatVector w1 = FloatVector.broadcast(F, w[wi + 1]);
            c10 = x0.fma(w1, c10);
            c11 = x1.fma(w1, c11);
            c12 = x2.fma(w1, c12);
            FloatVector w2 = FloatVector.broadcast(F, w[wi + 2]);
            c20 = x0.fma(w2, c20);
            c21 = x1.fma(w2, c21);
            c22 = x2.fma(w2, c22);
        }
        c00.intoArray(out, o);
        c01.intoArray(out, o + L);
        c02.intoArray(out, o + 2 * L);
        o += ld;
        c10.intoArray(out, o);
        c11.intoArray(out, o + L);
        c12.intoArray(out, o + 2 * L);
        o += ld;
        c20.intoArray(out, o);
        c21.intoArray(out, o + L);
        c22.intoArray(out, o + 2 * L);
    }

    /**
     * As {@link #three} for the first row only (a single output channel); with {@code VB == 3} the
     * last three vectors are neither computed nor stored.
     */
    private static void one(float[] out, int o, float[] x, int[] tap, int k, int q0, float[] w, int wo) {
        if (VB == 3) {
            oneNarrow(out, o, x, tap, k, q0, w, wo);
            return;
        }
        FloatVector z = FloatVector.zero(F);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z;
        for (int t = 0, wi = wo; t < k; t++, wi += MB) {
            int xi = tap[t] + q0;
            FloatVector w0 = FloatVector.broadcast(F, w[wi]);
            c0 = FloatVector.fromArray(F, x, xi).fma(w0, c0);
            c1 = FloatVector.fromArray(F, x, xi + L).fma(w0, c1);
            c2 = FloatVector.fromArray(F, x, xi + 2 * L).fma(w0, c2);
            c3 = FloatVector.fromArray(F, x, xi + 3 * L).fma(w0, c3);
            c4 = FloatVector.fromArray(F, x, xi + 4 * L).fma(w0, c4);
            c5 = FloatVector.fromArray(F, x, xi + 5 * L).fma(w0, c5);
        }
        c0.intoArray(out, o);
        c1.intoArray(out, o + L);
        c2.intoArray(out, o + 2 * L);
        c3.intoArray(out, o + 3 * L);
        c4.intoArray(out, o + 4 * L);
        c5.intoArray(out, o + 5 * L);
    }

    /** {@link #one} with 3 vectors. */
    private static void oneNarrow(float[] out, int o, float[] x, int[] tap, int k, int q0, float[] w, int wo) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c0 = z, c1 = z, c2 = z;
        for (int t = 0, wi = wo; t < k; t++, wi += MB) {
            int xi = tap[t] + q0;
            FloatVector w0 = FloatVector.broadcast(F, w[wi]);
            c0 = FloatVector.fromArray(F, x, xi).fma(w0, c0);
            c1 = FloatVector.fromArray(F, x, xi + L).fma(w0, c1);
            c2 = FloatVector.fromArray(F, x, xi + 2 * L).fma(w0, c2);
        }
        c0.intoArray(out, o);
        c1.intoArray(out, o + L);
        c2.intoArray(out, o + 2 * L);
    }

    /**
     * {@code dst[d + j] = src[s + j]}, or {@code dst[d + j] + src[s + j]} when {@code acc} (the
     * input gradient), or {@code src[s + j] + b} when {@code withBias} (the forward pass; never both),
     * for {@code j < n}, through the row loops the other conv paths use.
     */
    private static void store(float[] dst, int d, float[] src, int s, int n, boolean acc, boolean withBias, float b) {
        if (acc) {
            ConvLowering.addInto(dst, d, src, s, n);
        } else if (withBias) {
            ConvGemm.addScalar(dst, d, src, s, b, n);
        } else {
            System.arraycopy(src, s, dst, d, n);
        }
    }

    /** Per-thread buffers: the padded image and the flattened result rows. */
    private static final ThreadLocal<PadScratch> SCRATCH = ThreadLocal.withInitial(PadScratch::new);
}

package dev.kiln.kernels.cpu;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;

/**
 * fp32 2-d convolution over NCHW tensors, as GEMMs.
 *
 * <p>3x3 stride-1 "same" layers with at least 32 channels to reduce over take Winograd's F(2x2,
 * 3x3) forward and for the input gradient (2.25x fewer multiplies, rounded differently from the
 * direct paths; {@code -Dkiln.conv.winograd=false} turns it off): rows of 20 to 30 outputs by
 * rows of tiles ({@link ConvWinograd}), sides in eights (8x8, 16x16, ...) by 8x8 regions
 * ({@link ConvWinogradRegions}); before those, layers whose sides fill 16x16 regions to at least
 * 3/4 (12-16, 32, ...: the 14x14 of a VGG on 28x28 images, the 16x16 of one on 32x32) take
 * F(4x4, 3x3) by 16x16 regions ({@link ConvWinogradF4}: 4x fewer multiplies, 3.06x at 14x14's fill;
 * also their weight gradient). Those need 16-lane vectors; on machines with 16 vector registers
 * (AVX2) 3x3 "same" layers take F(2x2, 3x3) at any size with the tiles flattened into lanes,
 * forward, input and weight gradient ({@link ConvWinogradTiles}: at least 16 channels to reduce
 * over and 8 out; the weight gradient 8 on either side). Many-channel layers go first to {@link ConvDirect}, whose micro-kernel reads the image
 * straight from a padded copy with no packing (forward where {@link ConvDirect#suitsForward},
 * input gradient where {@link ConvDirect#suitsInput}, weight gradient where
 * {@link ConvDirect#suitsWeight}: channels in blocks of the vector tile, rows of 8, 7 or 10 positions).
 * The other stride-1 forward passes with at least 8 output channels and 16 taps take
 * {@link ConvFlat} (positions flattened along the padded width; {@link ConvFlat#routed}); narrow
 * layers take {@link ConvRows} (input gradient along input rows) and {@link ConvDot} (the
 * weight gradient as dot products along the padded width), none packing
 * anything per image;
 * on 16-register machines the input gradient of a layer with at most 6 input channels whose full
 * correlation would mostly multiply padding (LeNet-5's 6 -> 16) takes {@link ConvScatterInput};
 * {@link ConvFew} takes forward passes with at most 6 output channels and input gradients with
 * at most 6 input channels per group that those do not (LeNet-5's 1 -> 6, the 3 -> 32 of a VGG
 * on colour images). Next,
 * where {@link ConvPacked} suits the geometry (vector lanes, at least 8 output channels per
 * group, output positions of a vector's width spanning less than two vectors of the padded input),
 * the forward pass of a strided layer and (see {@link ConvPacked#suitsWeight}) the weight
 * gradient run the GEMM micro-kernel over strips packed straight from a zero-padded copy of each
 * image, with no column matrix; on machines where the 8-row direct kernels do not run (AVX2),
 * {@link ConvPacked} also takes the input gradient of stride-1 layers as the forward pass of the
 * output gradient with the flipped weight ({@link ConvPacked#suitsInput}: 4-15% faster there than
 * GEMM + col2im; on AVX-512 it measured no faster). Images (forward) or fixed parts of the batch (weight
 * gradient, {@link ConvParts}) are split over threads; every value is summed in an order fixed
 * by the geometry, so these do not depend on the thread count.
 *
 * <p>Otherwise it is lowered through im2col ({@code lowered*}): per group {@code gi} (with
 * {@code K = c/groups * kh * kw}, {@code P = oh * ow}): forward
 * {@code y[gi] = W[gi] (ocg x K) * col (K x P)}; backward input
 * {@code gx = col2im(W[gi]^T * gy[gi])}; backward weight {@code gW[gi] += gy[gi] * col^T}. Several
 * images share one GEMM ({@link ConvGemm}): their column matrices side by side give it enough
 * columns to run at its large-shape rate even for small outputs. A 1x1 stride-1 unpadded
 * convolution uses the input itself as {@code col}. The runs of images are split over threads
 * when there are at least as many as threads (scratch per thread); otherwise the GEMM goes
 * parallel. Forward and input gradient do not depend on the thread count; the weight gradient
 * sums per-thread partials in a fixed order, so it is deterministic for a given thread count.
 *
 * <pre>{@code
 * var g = new ConvGeom(64, 32, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1);
 * Conv.conv2d(y, x, w, bias, g);
 * }</pre>
 */
public final class Conv {
    private Conv() {
    }

    /**
     * {@code y[n,o,i,j] = bias[o] + sum_{c,a,b} x[n, gi*cg + c, i*sh - ph + a*dh, j*sw - pw + b*dw] * w[o,c,a,b]}
     * over the group {@code gi = o / (oc/groups)}, positions outside the input reading 0 (writes).
     *
     * @param y    output {@code [n, oc, oh, ow]}
     * @param x    input {@code [n, c, h, w]}
     * @param w    weight {@code [oc, c/groups, kh, kw]}
     * @param bias {@code [oc]}, or null for none
     */
    public static void conv2d(float[] y, float[] x, float[] w, float[] bias, ConvGeom g) {
        ConvArgs.forward(g, y.length, x.length, w.length, bias == null ? -1 : bias.length);
        if (ConvWinograd.ENABLED && ConvWinograd.suitsForward(g)) {
            ConvWinograd.forward(y, x, w, bias, g);
            return;
        }
        if (ConvWinograd.ENABLED && ConvWinogradF4.suitsForward(g)) {
            ConvWinogradF4.forward(y, x, w, bias, g);
            return;
        }
        if (ConvWinograd.ENABLED && ConvWinogradRegions.suitsForward(g)) {
            ConvWinogradRegions.forward(y, x, w, bias, g);
            return;
        }
        if (ConvWinograd.ENABLED && ConvWinogradTiles.ROUTED && ConvWinogradTiles.suitsForward(g)) {
            ConvWinogradTiles.forward(y, x, w, bias, g);
            return;
        }
        if (ConvDirect.suitsForward(g) && ConvDirect.conv2d(y, x, w, bias, g)
                || ConvFlat.routed(g) && ConvFlat.conv2d(y, x, w, bias, g)) {
            return;
        }
        // ConvFew before the packed GEMM tiles (see ConvFew.suitsForward): on AVX2 (5-row tiles) a layer
        // of 5 or 6 channels took the packed path, 2 strips for 6 rows. Zen 1, 1 thread, batch 64, min
        // of 30 x 5 calls, packed vs ConvFew's generated code: 1 -> 6 at 28x28 k5 pad 2 1.20 vs 0.53 ms,
        // 3 -> 6 at 32x32 k5 2.77 vs 1.30, 1 -> 5 at 28x28 k5 0.75 vs 0.45, 6 -> 6 at 28x28 k3 2.15 vs 0.99
        if (ConvFew.suitsForward(g) && ConvFew.forward(y, x, w, bias, g)
                || !ConvFlat.suits(g) && ConvPacked.suits(g) && ConvPacked.conv2d(y, x, w, bias, g)) {
            return;
        }
        loweredForward(y, x, w, bias, g);
    }

    /** Whether {@link #conv2d} takes one of the Winograd kernels for {@code g}. */
    static boolean winogradForward(ConvGeom g) {
        return ConvWinograd.ENABLED
                && (ConvWinograd.suitsForward(g) || ConvWinogradRegions.suitsForward(g) || ConvWinogradF4.suitsForward(g)
                        || ConvWinogradTiles.ROUTED && ConvWinogradTiles.suitsForward(g));
    }

    /** Whether {@link #conv2dBackwardInput} takes one of the Winograd kernels for {@code g}. */
    static boolean winogradInput(ConvGeom g) {
        return ConvWinograd.ENABLED
                && (ConvWinograd.suitsInput(g) || ConvWinogradRegions.suitsInput(g) || ConvWinogradF4.suitsInput(g)
                        || ConvWinogradTiles.ROUTED && ConvWinogradTiles.suitsInput(g));
    }

    /** Whether {@link #conv2dBackwardWeight} takes one of the Winograd kernels for {@code g}. */
    static boolean winogradWeight(ConvGeom g) {
        return ConvWinograd.ENABLED
                && (ConvWinogradF4.suitsWeight(g) || ConvWinogradTiles.ROUTED && ConvWinogradTiles.suitsWeight(g));
    }

    /** {@link #conv2d} through im2col + GEMM ({@link ConvGemm}), arguments checked. */
    static void loweredForward(float[] y, float[] x, float[] w, float[] bias, ConvGeom g) {
        overRuns(g, (lo, hi) -> {
            ConvGemm cg = new ConvGemm(g);
            cg.forRuns(lo, hi, (first, count) -> cg.forward(y, x, w, bias, first, count));
        });
    }

    /**
     * {@code gx = dL/dx} of {@link #conv2d} given {@code gy = dL/dy} (writes).
     *
     * @param gx input gradient {@code [n, c, h, w]}
     * @param gy output gradient {@code [n, oc, oh, ow]}
     * @param w  weight {@code [oc, c/groups, kh, kw]}
     */
    public static void conv2dBackwardInput(float[] gx, float[] gy, float[] w, ConvGeom g) {
        conv2dBackwardInput(false, gx, gy, w, g);
    }

    /**
     * {@code gx (=|+=) dL/dx} of {@link #conv2d}: as {@link #conv2dBackwardInput(float[], float[], float[], ConvGeom)},
     * adding to what {@code gx} holds when {@code accumulate} (a leaf's existing gradient, PyTorch's
     * AccumulateGrad): {@link ConvDirect} adds each block while it is in L1, {@link ConvRows} each
     * row as it stores it; the lowered path computes the gradient apart and adds it. Either way
     * {@code gx + dL/dx} with {@code dL/dx} computed as when writing, so the same bits as writing
     * and then adding.
     */
    public static void conv2dBackwardInput(boolean accumulate, float[] gx, float[] gy, float[] w, ConvGeom g) {
        ConvArgs.backwardInput(g, gx.length, gy.length, w.length);
        if (ConvWinograd.ENABLED && ConvWinograd.suitsInput(g)) {
            ConvWinograd.backwardInput(accumulate, gx, gy, w, g);
            return;
        }
        boolean f4 = ConvWinograd.ENABLED && ConvWinogradF4.suitsInput(g);
        if (f4 || ConvWinograd.ENABLED && ConvWinogradRegions.suitsInput(g)) {
            // accumulating: computed apart, in the thread's partials buffer (free outside a weight gradient;
            // one array per call allocated 2 MB at 32 -> 64, 16x16, batch 64), and added
            float[] out = accumulate ? ConvParts.buffer(1, (int) g.xSize()) : gx;
            if (f4) {
                ConvWinogradF4.backwardInput(out, gy, w, g);
            } else {
                ConvWinogradRegions.backwardInput(out, gy, w, g);
            }
            if (accumulate) {
                addInto(gx, out, (int) g.xSize());
            }
            return;
        }
        if (ConvWinograd.ENABLED && ConvWinogradTiles.ROUTED && ConvWinogradTiles.suitsInput(g)) {
            ConvWinogradTiles.backwardInput(accumulate, gx, gy, w, g);
            return;
        }
        if (ConvDirect.suitsInput(g) && ConvDirect.conv2dBackwardInput(accumulate, gx, gy, w, g)
                || ConvRows.suits(g) && ConvRows.conv2dBackwardInput(accumulate, gx, gy, w, g)) {
            return;
        }
        if (ConvScatterInput.suits(g)) {
            ConvScatterInput.backwardInput(accumulate, gx, gy, w, g);
            return;
        }
        if (ConvFew.suitsInput(g) && ConvFew.backwardInput(accumulate, gx, gy, w, g)) {
            return;
        }
        float[] out = accumulate ? new float[(int) g.xSize()] : gx;
        if (!(ConvPacked.suitsInput(g) && ConvPacked.conv2dBackwardInput(out, gy, w, g))) {
            loweredInput(out, gy, w, g);
        }
        if (accumulate) {
            addInto(gx, out, out.length);
        }
    }

    /** {@code gx[i] += out[i]} for {@code i < n}, in parallel. */
    private static void addInto(float[] gx, float[] out, int n) {
        Parallel.forRange(n, 1 << 14, 0L, (lo, hi) -> ConvLowering.addInto(gx, lo, out, lo, hi - lo));
    }

    /** {@link #conv2dBackwardInput} through GEMM + col2im ({@link ConvGemm}), arguments checked. */
    static void loweredInput(float[] gx, float[] gy, float[] w, ConvGeom g) {
        overRuns(g, (lo, hi) -> {
            ConvGemm cg = new ConvGemm(g);
            cg.forRuns(lo, hi, (first, count) -> cg.backwardInput(gx, gy, w, first, count));
        });
    }

    /**
     * {@code gw = dL/dw} and {@code gb[o] = sum_{n,i,j} gy[n,o,i,j]} of {@link #conv2d} (writes).
     *
     * @param gw weight gradient {@code [oc, c/groups, kh, kw]}
     * @param gb bias gradient {@code [oc]}, or null when not wanted
     * @param x  input {@code [n, c, h, w]}
     * @param gy output gradient {@code [n, oc, oh, ow]}
     */
    public static void conv2dBackwardWeight(float[] gw, float[] gb, float[] x, float[] gy, ConvGeom g) {
        ConvArgs.backwardWeight(g, gw.length, gb == null ? -1 : gb.length, x.length, gy.length);
        if (winogradWeight(g)) {
            if (ConvWinogradF4.suitsWeight(g)) {
                ConvWinogradF4.backwardWeight(gw, x, gy, g);
            } else {
                ConvWinogradTiles.backwardWeight(gw, x, gy, g);
            }
            if (gb != null) {
                biasGradient(gb, gy, g);
            }
            return;
        }
        if (ConvDirect.suitsWeight(g) && ConvDirect.conv2dBackwardWeight(gw, gb, x, gy, g)
                || ConvDot.routed(g) && ConvDot.conv2dBackwardWeight(gw, gb, x, gy, g)) {
            return;
        }
        if (!(ConvPacked.suitsWeight(g) && ConvPacked.conv2dBackwardWeight(gw, x, gy, g))) {
            loweredWeight(gw, x, gy, g);
        }
        if (gb != null) {
            biasGradient(gb, gy, g);
        }
    }

    /** The weight gradient through {@link ConvGemm}: per-thread partial sums over runs of images, added in a fixed order. */
    static void loweredWeight(float[] gw, float[] x, float[] gy, ConvGeom g) {
        int n = g.n();
        int runs = Math.ceilDiv(n, ConvGemm.imagesPerRun(g));
        int parts = runs >= Parallel.threads() ? Parallel.threads() : 1;
        int wSize = (int) g.wSize();
        float[][] partial = new float[parts][];
        partial[0] = gw;
        Parallel.forRange(parts, 1, (lo, hi) -> {
            ConvGemm cg = new ConvGemm(g);
            for (int part = lo; part < hi; part++) {
                float[] dst = part == 0 ? gw : new float[wSize];
                partial[part] = dst;
                int first = (int) ((long) part * runs / parts);
                int end = (int) ((long) (part + 1) * runs / parts);
                int firstImage = (int) ((long) first * n / runs);
                cg.forRuns(first, end, (from, count) -> cg.backwardWeight(from != firstImage, dst, x, gy, from, count));
            }
        });
        if (parts > 1) {
            Parallel.forRange(wSize, 1 << 14, (lo, hi) -> {
                for (int part = 1; part < parts; part++) {
                    ConvLowering.addInto(gw, lo, partial[part], lo, hi - lo);
                }
            });
        }
    }

    /** {@code gb[o] = sum_{n,i,j} gy[n,o,i,j]}, per channel in double. */
    private static void biasGradient(float[] gb, float[] gy, ConvGeom g) {
        int n = g.n();
        int p = g.oh() * g.ow();
        int yImage = g.oc() * p;
        Parallel.forRange(g.oc(), Math.max(1, (1 << 16) / Math.max(1, n * p)), 0L, (lo, hi) -> {
            for (int o = lo; o < hi; o++) {
                double s = 0;
                for (int img = 0; img < n; img++) {
                    s += sum(gy, img * yImage + o * p, p);
                }
                gb[o] = (float) s;
            }
        });
    }

    /**
     * {@code col[(ci*kh + a)*kw + b, i*ow + j] = x[ci, i*sh - ph + a*dh, j*sw - pw + b*dw]}, 0 outside
     * the input (writes). {@code col} is {@code [c*kh*kw, oh*ow]} from {@code colOff}; {@code x} is
     * {@code [c, h, w]} from {@code xOff}.
     */
    public static void im2col(float[] col, int colOff, float[] x, int xOff, int c, int h, int w, int kh, int kw,
                              int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        ConvArgs.columns("im2col", col.length, colOff, x.length, xOff, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw,
                oh, ow);
        new ConvLowering(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow).im2col(col, colOff, oh * ow, x, xOff);
    }

    /**
     * The adjoint of {@link #im2col}:
     * {@code x[ci, i*sh - ph + a*dh, j*sw - pw + b*dw] += col[(ci*kh + a)*kw + b, i*ow + j]}
     * for every position inside the input (accumulates). Layouts as in {@link #im2col}.
     */
    public static void col2im(float[] x, int xOff, float[] col, int colOff, int c, int h, int w, int kh, int kw,
                              int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        ConvArgs.columns("col2im", col.length, colOff, x.length, xOff, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw,
                oh, ow);
        new ConvLowering(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow).col2im(x, xOff, col, colOff, oh * ow, false);
    }

    /** Runs over the runs of images in parallel when there are enough of them, else on the caller (GEMM goes parallel). */
    private static void overRuns(ConvGeom g, Parallel.RangeBody body) {
        int runs = Math.ceilDiv(g.n(), ConvGemm.imagesPerRun(g));
        if (runs >= Parallel.threads()) {
            Parallel.forRange(runs, 1, body);
        } else {
            body.run(0, runs);
        }
    }

    /**
     * {@code sum(a[off : off+len])} in a fixed order: eight running sums ({@code a[off + 8t + j]}
     * into sum {@code j}), added pairwise ({@code ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7))}), then the
     * tail one by one. Scalar code on purpose: this method is called, not inlined, from a lambda C2
     * may compile first, and with Vector API calls here the allocation test's "tiles" case saw runs
     * where they were boxed (366-529 KB a call: in 5 of 12 runs under load with the accumulator
     * passed to {@code Simd.sumLanes}, 1 in 6 with its lanes summed in place). Eight chains keep up
     * with memory: 64 x 32 x 28 x 28 output gradient 0.5-0.6 ms, as the vector loop was.
     */
    private static float sum(float[] a, int off, int len) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            int p = off + i;
            s0 += a[p];
            s1 += a[p + 1];
            s2 += a[p + 2];
            s3 += a[p + 3];
            s4 += a[p + 4];
            s5 += a[p + 5];
            s6 += a[p + 6];
            s7 += a[p + 7];
        }
        float s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        for (; i < len; i++) {
            s += a[off + i];
        }
        return s;
    }
}

package dev.kiln.kernels.cpu;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * fp32 2-d convolution over NCHW tensors, lowered to {@link Gemm#sgemm} through im2col.
 *
 * <p>Per image and group {@code gi} (with {@code K = c/groups * kh * kw}, {@code P = oh * ow}):
 * forward {@code y[gi] = W[gi] (ocg x K) * col (K x P)}; backward input
 * {@code gx = col2im(W[gi]^T * gy[gi])}; backward weight {@code gW[gi] += gy[gi] * col^T}.
 * A 1x1 stride-1 unpadded convolution uses the input itself as {@code col}. Work is split over
 * the batch when it has at least as many images as there are threads (one column buffer per
 * chunk); smaller batches run image by image and leave the parallelism to the GEMM. The weight
 * gradient sums per-chunk partials in a fixed order, so it is deterministic for a given thread count.
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
        Layout l = new Layout(g);
        overBatch(g.n(), (lo, hi) -> {
            float[] col = l.pointwise() ? null : new float[l.colSize()];
            for (int img = lo; img < hi; img++) {
                for (int gi = 0; gi < g.groups(); gi++) {
                    int xOff = img * l.xImage() + gi * l.xGroup();
                    int yOff = img * l.yImage() + gi * l.yGroup();
                    float[] b = x;
                    int bOff = xOff;
                    if (!l.pointwise()) {
                        ConvLowering.im2col(col, 0, x, xOff, l.cg(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(),
                                g.ph(), g.pw(), g.dh(), g.dw(), l.oh(), l.ow());
                        b = col;
                        bOff = 0;
                    }
                    if (bias != null) {
                        for (int o = 0; o < l.ocg(); o++) {
                            int r = yOff + o * l.p();
                            Arrays.fill(y, r, r + l.p(), bias[gi * l.ocg() + o]);
                        }
                    }
                    Gemm.sgemm(bias != null, y, yOff, l.p(), false, w, gi * l.wGroup(), l.k(), false, b, bOff, l.p(),
                            l.ocg(), l.p(), l.k());
                }
            }
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
        ConvArgs.backwardInput(g, gx.length, gy.length, w.length);
        Layout l = new Layout(g);
        overBatch(g.n(), (lo, hi) -> {
            float[] col = l.pointwise() ? null : new float[l.colSize()];
            for (int img = lo; img < hi; img++) {
                for (int gi = 0; gi < g.groups(); gi++) {
                    int xOff = img * l.xImage() + gi * l.xGroup();
                    int yOff = img * l.yImage() + gi * l.yGroup();
                    if (l.pointwise()) {
                        Gemm.sgemm(false, gx, xOff, l.p(), true, w, gi * l.wGroup(), l.k(), false, gy, yOff, l.p(),
                                l.k(), l.p(), l.ocg());
                    } else {
                        Gemm.sgemm(false, col, 0, l.p(), true, w, gi * l.wGroup(), l.k(), false, gy, yOff, l.p(),
                                l.k(), l.p(), l.ocg());
                        Arrays.fill(gx, xOff, xOff + l.xGroup(), 0f);
                        ConvLowering.col2im(gx, xOff, col, 0, l.cg(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(),
                                g.ph(), g.pw(), g.dh(), g.dw(), l.oh(), l.ow());
                    }
                }
            }
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
        Layout l = new Layout(g);
        int n = g.n();
        int parts = n >= Parallel.threads() ? Parallel.threads() : 1;
        int wSize = (int) g.wSize();
        float[][] partial = new float[parts][];
        partial[0] = gw;
        Parallel.forRange(parts, 1, (lo, hi) -> {
            float[] col = l.pointwise() ? null : new float[l.colSize()];
            for (int part = lo; part < hi; part++) {
                float[] dst = part == 0 ? gw : new float[wSize];
                partial[part] = dst;
                int first = (int) ((long) part * n / parts);
                int end = (int) ((long) (part + 1) * n / parts);
                for (int img = first; img < end; img++) {
                    for (int gi = 0; gi < g.groups(); gi++) {
                        int xOff = img * l.xImage() + gi * l.xGroup();
                        int yOff = img * l.yImage() + gi * l.yGroup();
                        float[] b = x;
                        int bOff = xOff;
                        if (!l.pointwise()) {
                            ConvLowering.im2col(col, 0, x, xOff, l.cg(), g.h(), g.w(), g.kh(), g.kw(), g.sh(),
                                    g.sw(), g.ph(), g.pw(), g.dh(), g.dw(), l.oh(), l.ow());
                            b = col;
                            bOff = 0;
                        }
                        Gemm.sgemm(img != first, dst, gi * l.wGroup(), l.k(), false, gy, yOff, l.p(),
                                true, b, bOff, l.p(), l.ocg(), l.k(), l.p());
                    }
                }
            }
        });
        if (parts > 1) {
            Parallel.forRange(wSize, 1 << 14, (lo, hi) -> {
                for (int part = 1; part < parts; part++) {
                    ConvLowering.addInto(gw, lo, partial[part], lo, hi - lo);
                }
            });
        }
        if (gb != null) {
            Parallel.forRange(g.oc(), Math.max(1, (1 << 16) / Math.max(1, n * l.p())), (lo, hi) -> {
                for (int o = lo; o < hi; o++) {
                    double s = 0;
                    for (int img = 0; img < n; img++) {
                        s += sum(gy, img * l.yImage() + o * l.p(), l.p());
                    }
                    gb[o] = (float) s;
                }
            });
        }
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
        ConvLowering.im2col(col, colOff, x, xOff, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
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
        ConvLowering.col2im(x, xOff, col, colOff, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
    }

    /** Runs over the batch in parallel when it has enough images, else on the caller (GEMM goes parallel). */
    private static void overBatch(int n, Parallel.RangeBody body) {
        if (n >= Parallel.threads()) {
            Parallel.forRange(n, 1, body);
        } else {
            body.run(0, n);
        }
    }

    private static float sum(float[] a, int off, int len) {
        int i = 0;
        float s = 0f;
        int bound = Simd.loopBoundF(len);
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(Simd.F);
            for (; i < bound; i += Simd.F.length()) {
                acc = acc.add(FloatVector.fromArray(Simd.F, a, off + i));
            }
            s = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < len; i++) {
            s += a[off + i];
        }
        return s;
    }

    /** Sizes and strides of one call, derived once from the geometry. */
    private record Layout(int cg, int ocg, int oh, int ow, int p, int k, int xImage, int xGroup, int yImage,
                          int yGroup, int wGroup, int colSize, boolean pointwise) {
        Layout(ConvGeom g) {
            this(g.cPerGroup(), g.ocPerGroup(), g.oh(), g.ow(), g.oh() * g.ow(), g.cPerGroup() * g.kh() * g.kw(),
                    g.c() * g.h() * g.w(), g.cPerGroup() * g.h() * g.w(), g.oc() * g.oh() * g.ow(),
                    g.ocPerGroup() * g.oh() * g.ow(), g.ocPerGroup() * g.cPerGroup() * g.kh() * g.kw(),
                    colSize(g), g.isPointwise());
        }

        private static int colSize(ConvGeom g) {
            long size = ConvArgs.product(g.cPerGroup(), g.kh(), g.kw(), g.oh(), g.ow());
            if (size > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("conv2d: im2col buffer of " + size
                        + " floats exceeds the largest Java array; geometry " + g);
            }
            return (int) size;
        }
    }
}

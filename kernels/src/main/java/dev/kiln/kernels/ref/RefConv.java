package dev.kiln.kernels.ref;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.cpu.ConvArgs;
import java.util.Arrays;

/**
 * Reference 2-d convolution over {@code double[]}: direct loops over the definition, no lowering.
 * Same signatures and argument checks as {@link dev.kiln.kernels.cpu.Conv}; the engine's F64 path.
 *
 * <pre>{@code
 * RefConv.conv2d(y, x, w, null, new ConvGeom(1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1));
 * }</pre>
 */
public final class RefConv {
    private RefConv() {
    }

    /**
     * {@code y[n,o,i,j] = bias[o] + sum_{c,a,b} x[n, gi*cg + c, i*sh - ph + a*dh, j*sw - pw + b*dw] * w[o,c,a,b]}
     * over the group {@code gi = o / (oc/groups)}, positions outside the input reading 0 (writes).
     * Shapes: y {@code [n, oc, oh, ow]}, x {@code [n, c, h, w]}, w {@code [oc, c/groups, kh, kw]},
     * bias {@code [oc]} or null.
     */
    public static void conv2d(double[] y, double[] x, double[] w, double[] bias, ConvGeom g) {
        ConvArgs.forward(g, y.length, x.length, w.length, bias == null ? -1 : bias.length);
        int oh = g.oh();
        int ow = g.ow();
        int cg = g.cPerGroup();
        int ocg = g.ocPerGroup();
        for (int n = 0; n < g.n(); n++) {
            for (int o = 0; o < g.oc(); o++) {
                int c0 = o / ocg * cg;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double s = bias == null ? 0 : bias[o];
                        for (int c = 0; c < cg; c++) {
                            for (int a = 0; a < g.kh(); a++) {
                                int iy = i * g.sh() - g.ph() + a * g.dh();
                                for (int b = 0; b < g.kw(); b++) {
                                    int ix = j * g.sw() - g.pw() + b * g.dw();
                                    if (iy >= 0 && iy < g.h() && ix >= 0 && ix < g.w()) {
                                        s += x[xIndex(g, n, c0 + c, iy, ix)] * w[wIndex(g, o, c, a, b)];
                                    }
                                }
                            }
                        }
                        y[((n * g.oc() + o) * oh + i) * ow + j] = s;
                    }
                }
            }
        }
    }

    /**
     * {@code gx[n,c,y,x] = sum over every (o,i,j,a,b) whose window reads (c,y,x) of gy[n,o,i,j] * w[o,c',a,b]},
     * i.e. dL/dx of {@link #conv2d} (writes). Shapes as in {@link #conv2d}.
     */
    public static void conv2dBackwardInput(double[] gx, double[] gy, double[] w, ConvGeom g) {
        ConvArgs.backwardInput(g, gx.length, gy.length, w.length);
        int oh = g.oh();
        int ow = g.ow();
        int cg = g.cPerGroup();
        int ocg = g.ocPerGroup();
        Arrays.fill(gx, 0, (int) g.xSize(), 0.0);
        for (int n = 0; n < g.n(); n++) {
            for (int o = 0; o < g.oc(); o++) {
                int c0 = o / ocg * cg;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double d = gy[((n * g.oc() + o) * oh + i) * ow + j];
                        for (int c = 0; c < cg; c++) {
                            for (int a = 0; a < g.kh(); a++) {
                                int iy = i * g.sh() - g.ph() + a * g.dh();
                                for (int b = 0; b < g.kw(); b++) {
                                    int ix = j * g.sw() - g.pw() + b * g.dw();
                                    if (iy >= 0 && iy < g.h() && ix >= 0 && ix < g.w()) {
                                        gx[xIndex(g, n, c0 + c, iy, ix)] += d * w[wIndex(g, o, c, a, b)];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * {@code gw[o,c,a,b] = sum_{n,i,j} gy[n,o,i,j] * x[n, gi*cg + c, i*sh - ph + a*dh, j*sw - pw + b*dw]} and
     * {@code gb[o] = sum_{n,i,j} gy[n,o,i,j]} (writes; gb may be null). Shapes as in {@link #conv2d}.
     */
    public static void conv2dBackwardWeight(double[] gw, double[] gb, double[] x, double[] gy, ConvGeom g) {
        ConvArgs.backwardWeight(g, gw.length, gb == null ? -1 : gb.length, x.length, gy.length);
        int oh = g.oh();
        int ow = g.ow();
        int cg = g.cPerGroup();
        int ocg = g.ocPerGroup();
        for (int o = 0; o < g.oc(); o++) {
            int c0 = o / ocg * cg;
            for (int c = 0; c < cg; c++) {
                for (int a = 0; a < g.kh(); a++) {
                    for (int b = 0; b < g.kw(); b++) {
                        double s = 0;
                        for (int n = 0; n < g.n(); n++) {
                            for (int i = 0; i < oh; i++) {
                                int iy = i * g.sh() - g.ph() + a * g.dh();
                                for (int j = 0; j < ow; j++) {
                                    int ix = j * g.sw() - g.pw() + b * g.dw();
                                    if (iy >= 0 && iy < g.h() && ix >= 0 && ix < g.w()) {
                                        s += gy[((n * g.oc() + o) * oh + i) * ow + j] * x[xIndex(g, n, c0 + c, iy, ix)];
                                    }
                                }
                            }
                        }
                        gw[wIndex(g, o, c, a, b)] = s;
                    }
                }
            }
            if (gb != null) {
                double s = 0;
                for (int n = 0; n < g.n(); n++) {
                    for (int p = 0; p < oh * ow; p++) {
                        s += gy[(n * g.oc() + o) * oh * ow + p];
                    }
                }
                gb[o] = s;
            }
        }
    }

    /**
     * {@code col[(ci*kh + a)*kw + b, i*ow + j] = x[ci, i*sh - ph + a*dh, j*sw - pw + b*dw]}, 0 outside
     * the input (writes). {@code col} is {@code [c*kh*kw, oh*ow]} from {@code colOff}; {@code x} is
     * {@code [c, h, w]} from {@code xOff}.
     */
    public static void im2col(double[] col, int colOff, double[] x, int xOff, int c, int h, int w, int kh, int kw,
                              int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        ConvArgs.columns("im2col", col.length, colOff, x.length, xOff, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw,
                oh, ow);
        for (int ci = 0; ci < c; ci++) {
            for (int a = 0; a < kh; a++) {
                for (int b = 0; b < kw; b++) {
                    int row = (ci * kh + a) * kw + b;
                    for (int i = 0; i < oh; i++) {
                        int iy = i * sh - ph + a * dh;
                        for (int j = 0; j < ow; j++) {
                            int ix = j * sw - pw + b * dw;
                            boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                            col[colOff + (row * oh + i) * ow + j] = inside ? x[xOff + (ci * h + iy) * w + ix] : 0.0;
                        }
                    }
                }
            }
        }
    }

    /**
     * The adjoint of {@link #im2col}:
     * {@code x[ci, i*sh - ph + a*dh, j*sw - pw + b*dw] += col[(ci*kh + a)*kw + b, i*ow + j]}
     * for every position inside the input (accumulates). Layouts as in {@link #im2col}.
     */
    public static void col2im(double[] x, int xOff, double[] col, int colOff, int c, int h, int w, int kh, int kw,
                              int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        ConvArgs.columns("col2im", col.length, colOff, x.length, xOff, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw,
                oh, ow);
        for (int ci = 0; ci < c; ci++) {
            for (int a = 0; a < kh; a++) {
                for (int b = 0; b < kw; b++) {
                    int row = (ci * kh + a) * kw + b;
                    for (int i = 0; i < oh; i++) {
                        int iy = i * sh - ph + a * dh;
                        for (int j = 0; j < ow; j++) {
                            int ix = j * sw - pw + b * dw;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                x[xOff + (ci * h + iy) * w + ix] += col[colOff + (row * oh + i) * ow + j];
                            }
                        }
                    }
                }
            }
        }
    }

    private static int xIndex(ConvGeom g, int n, int c, int y, int x) {
        return ((n * g.c() + c) * g.h() + y) * g.w() + x;
    }

    private static int wIndex(ConvGeom g, int o, int c, int a, int b) {
        return ((o * g.cPerGroup() + c) * g.kh() + a) * g.kw() + b;
    }
}

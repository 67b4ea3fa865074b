package dev.kiln.kernels.ref;

import dev.kiln.kernels.cpu.PoolArgs;

/**
 * Reference 2-d pooling over {@code double[]}: every window position is tested against the input
 * bounds directly. Same signatures, semantics and argument checks as {@link dev.kiln.kernels.cpu.Pool}.
 *
 * <pre>{@code
 * RefPool.avgPool2d(y, x, planes, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2, true);
 * }</pre>
 */
public final class RefPool {
    private RefPool() {
    }

    /**
     * {@code y[p,i,j] = max} of {@code x[p, i*sh - ph + a*dh, j*sw - pw + b*dw]} over the positions inside
     * the input, the last NaN winning; {@code argmax} (optional) gets the first max's {@code iy*w + ix},
     * or -1 for a window with no input position (then y is {@code -inf}) (writes).
     */
    public static void maxPool2d(double[] y, int[] argmax, double[] x, int planes, int h, int w, int kh, int kw,
                                 int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        PoolArgs.pooled("maxPool2d", false, x.length, y.length, planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
        if (argmax != null) {
            PoolArgs.argmax("maxPool2d", argmax.length, planes, oh, ow);
        }
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double m = Double.NEGATIVE_INFINITY;
                    int idx = -1;
                    for (int a = 0; a < kh; a++) {
                        for (int b = 0; b < kw; b++) {
                            int iy = i * sh - ph + a * dh;
                            int ix = j * sw - pw + b * dw;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                double v = x[(p * h + iy) * w + ix];
                                if (v > m || Double.isNaN(v)) {
                                    m = v;
                                    idx = iy * w + ix;
                                }
                            }
                        }
                    }
                    y[(p * oh + i) * ow + j] = m;
                    if (argmax != null) {
                        argmax[(p * oh + i) * ow + j] = idx;
                    }
                }
            }
        }
    }

    /** {@code gx[p, argmax[p,i,j]] += gy[p,i,j]}, skipping -1 entries (accumulates). */
    public static void maxPool2dBackward(double[] gx, double[] gy, int[] argmax, int planes, int h, int w,
                                         int oh, int ow) {
        PoolArgs.adaptive("maxPool2dBackward", true, gx.length, gy.length, planes, h, w, oh, ow);
        PoolArgs.argmax("maxPool2dBackward", argmax.length, planes, oh, ow);
        for (int p = 0; p < planes; p++) {
            for (int q = 0; q < oh * ow; q++) {
                int idx = argmax[p * oh * ow + q];
                if (idx >= 0) {
                    gx[p * h * w + idx] += gy[p * oh * ow + q];
                }
            }
        }
    }

    /**
     * {@code y[p,i,j] = sum} of {@code x} over the window's input positions divided by the window size
     * clipped to the padded input ({@code countIncludePad}) or by the number of input positions;
     * 0 for a window with no input position (writes).
     */
    public static void avgPool2d(double[] y, double[] x, int planes, int h, int w, int kh, int kw, int sh, int sw,
                                 int ph, int pw, int oh, int ow, boolean countIncludePad) {
        PoolArgs.pooled("avgPool2d", false, x.length, y.length, planes, h, w, kh, kw, sh, sw, ph, pw, 1, 1, oh, ow);
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double s = 0;
                    int count = 0;
                    for (int iy = i * sh - ph; iy < i * sh - ph + kh; iy++) {
                        for (int ix = j * sw - pw; ix < j * sw - pw + kw; ix++) {
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                s += x[(p * h + iy) * w + ix];
                                count++;
                            }
                        }
                    }
                    int div = divisor(count, i, j, h, w, kh, kw, sh, sw, ph, pw, countIncludePad);
                    y[(p * oh + i) * ow + j] = count == 0 ? 0 : s / div;
                }
            }
        }
    }

    /**
     * Adjoint of {@link #avgPool2d}: {@code gy[p,i,j] / divisor} added to each input position of its
     * window (accumulates).
     */
    public static void avgPool2dBackward(double[] gx, double[] gy, int planes, int h, int w, int kh, int kw, int sh,
                                         int sw, int ph, int pw, int oh, int ow, boolean countIncludePad) {
        PoolArgs.pooled("avgPool2dBackward", true, gx.length, gy.length, planes, h, w, kh, kw, sh, sw, ph, pw, 1, 1,
                oh, ow);
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    int count = 0;
                    for (int iy = i * sh - ph; iy < i * sh - ph + kh; iy++) {
                        for (int ix = j * sw - pw; ix < j * sw - pw + kw; ix++) {
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                count++;
                            }
                        }
                    }
                    if (count == 0) {
                        continue;
                    }
                    double d = gy[(p * oh + i) * ow + j] / divisor(count, i, j, h, w, kh, kw, sh, sw, ph, pw,
                            countIncludePad);
                    for (int iy = i * sh - ph; iy < i * sh - ph + kh; iy++) {
                        for (int ix = j * sw - pw; ix < j * sw - pw + kw; ix++) {
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                gx[(p * h + iy) * w + ix] += d;
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * {@code y[p,i,j] = mean of x[p, r0..r1, c0..c1)} with {@code r0 = floor(i*h/oh)},
     * {@code r1 = ceil((i+1)*h/oh)}, likewise columns (writes).
     */
    public static void adaptiveAvgPool2d(double[] y, double[] x, int planes, int h, int w, int oh, int ow) {
        PoolArgs.adaptive("adaptiveAvgPool2d", false, x.length, y.length, planes, h, w, oh, ow);
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double s = 0;
                    for (int iy = binStart(i, h, oh); iy < binEnd(i, h, oh); iy++) {
                        for (int ix = binStart(j, w, ow); ix < binEnd(j, w, ow); ix++) {
                            s += x[(p * h + iy) * w + ix];
                        }
                    }
                    y[(p * oh + i) * ow + j] = s / binArea(i, j, h, w, oh, ow);
                }
            }
        }
    }

    /**
     * Adjoint of {@link #adaptiveAvgPool2d}: {@code gy[p,i,j] / binSize} added to each position of its
     * bin (accumulates).
     */
    public static void adaptiveAvgPool2dBackward(double[] gx, double[] gy, int planes, int h, int w, int oh, int ow) {
        PoolArgs.adaptive("adaptiveAvgPool2dBackward", true, gx.length, gy.length, planes, h, w, oh, ow);
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double d = gy[(p * oh + i) * ow + j] / binArea(i, j, h, w, oh, ow);
                    for (int iy = binStart(i, h, oh); iy < binEnd(i, h, oh); iy++) {
                        for (int ix = binStart(j, w, ow); ix < binEnd(j, w, ow); ix++) {
                            gx[(p * h + iy) * w + ix] += d;
                        }
                    }
                }
            }
        }
    }

    /** The window size clipped to the padded input, or the number of input positions in it. */
    private static int divisor(int count, int i, int j, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                               boolean countIncludePad) {
        if (!countIncludePad) {
            return count;
        }
        int rows = Math.min(i * sh - ph + kh, h + ph) - (i * sh - ph);
        int cols = Math.min(j * sw - pw + kw, w + pw) - (j * sw - pw);
        return rows * cols;
    }

    private static int binStart(int i, int size, int out) {
        return (int) ((long) i * size / out);
    }

    private static int binEnd(int i, int size, int out) {
        return (int) (((long) (i + 1) * size + out - 1) / out);
    }

    private static int binArea(int i, int j, int h, int w, int oh, int ow) {
        return (binEnd(i, h, oh) - binStart(i, h, oh)) * (binEnd(j, w, ow) - binStart(j, w, ow));
    }
}

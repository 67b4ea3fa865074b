package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Simd;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Unchecked im2col / col2im behind {@link Conv}: for each column row {@code (ci, a, b)} the output
 * columns {@code j} whose input column {@code j*sw - pw + b*dw} falls inside {@code [0, w)} form one
 * contiguous range, computed once per row; inside it a unit-stride row is a plain copy (im2col) or
 * a vector add (col2im), and the rest is zero fill or skipped.
 */
final class ConvLowering {
    private ConvLowering() {
    }

    static void im2col(float[] col, int colOff, float[] x, int xOff, int c, int h, int w, int kh, int kw,
                       int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        int row = colOff;
        for (int ci = 0; ci < c; ci++) {
            int plane = xOff + ci * h * w;
            for (int a = 0; a < kh; a++) {
                for (int b = 0; b < kw; b++) {
                    int dx = b * dw - pw;
                    int lo = firstInside(dx, sw, ow);
                    int hi = endInside(dx, sw, w, lo, ow);
                    for (int i = 0; i < oh; i++) {
                        int iy = i * sh - ph + a * dh;
                        int dst = row + i * ow;
                        if (iy < 0 || iy >= h) {
                            Arrays.fill(col, dst, dst + ow, 0f);
                            continue;
                        }
                        Arrays.fill(col, dst, dst + lo, 0f);
                        int src = plane + iy * w + lo * sw + dx;
                        if (sw == 1) {
                            System.arraycopy(x, src, col, dst + lo, hi - lo);
                        } else {
                            for (int j = lo; j < hi; j++, src += sw) {
                                col[dst + j] = x[src];
                            }
                        }
                        Arrays.fill(col, dst + hi, dst + ow, 0f);
                    }
                    row += oh * ow;
                }
            }
        }
    }

    static void col2im(float[] x, int xOff, float[] col, int colOff, int c, int h, int w, int kh, int kw,
                       int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        int row = colOff;
        for (int ci = 0; ci < c; ci++) {
            int plane = xOff + ci * h * w;
            for (int a = 0; a < kh; a++) {
                for (int b = 0; b < kw; b++) {
                    int dx = b * dw - pw;
                    int lo = firstInside(dx, sw, ow);
                    int hi = endInside(dx, sw, w, lo, ow);
                    for (int i = 0; i < oh; i++) {
                        int iy = i * sh - ph + a * dh;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        int src = row + i * ow + lo;
                        int dst = plane + iy * w + lo * sw + dx;
                        if (sw == 1) {
                            addInto(x, dst, col, src, hi - lo);
                        } else {
                            for (int j = lo; j < hi; j++, dst += sw) {
                                x[dst] += col[src++];
                            }
                        }
                    }
                    row += oh * ow;
                }
            }
        }
    }

    /** {@code dst[dOff + i] += src[sOff + i]} for {@code i < len}. */
    static void addInto(float[] dst, int dOff, float[] src, int sOff, int len) {
        int i = 0;
        for (int bound = Simd.loopBoundF(len); i < bound; i += Simd.F.length()) {
            FloatVector.fromArray(Simd.F, dst, dOff + i)
                    .add(FloatVector.fromArray(Simd.F, src, sOff + i))
                    .intoArray(dst, dOff + i);
        }
        for (; i < len; i++) {
            dst[dOff + i] += src[sOff + i];
        }
    }

    /** First output column {@code j} with {@code j*sw + dx >= 0}, clipped to {@code [0, ow]}. */
    private static int firstInside(int dx, int sw, int ow) {
        return Math.clamp(Math.ceilDiv(-dx, sw), 0, ow);
    }

    /** One past the last output column {@code j} with {@code j*sw + dx < w}, clipped to {@code [lo, ow]}. */
    private static int endInside(int dx, int sw, int w, int lo, int ow) {
        return Math.clamp(Math.floorDiv(w - 1 - dx, sw) + 1, lo, ow);
    }
}

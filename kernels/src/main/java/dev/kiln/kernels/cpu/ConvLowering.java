package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Simd;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Unchecked im2col / col2im behind {@link Conv}, for one geometry of a {@code [c, h, w]} input.
 * Row {@code r = (ci*kh + a)*kw + b} of the column matrix starts at {@code col[colOff + r*ld]} and
 * holds {@code oh*ow} values, so that several images can sit side by side in one matrix
 * ({@code ld = images * oh * ow}).
 *
 * <p>For each row the output columns {@code j} whose input column {@code j*sw - pw + b*dw} falls
 * inside {@code [0, w)} form one range {@code [lo, hi)}, and likewise the output rows. When output
 * rows are as long as input rows and the stride is 1 (a "same" convolution), a row of the column
 * matrix is the input plane shifted by a constant: one long copy (im2col) or vector add (col2im)
 * across output rows, plus a fix-up of the few columns per row outside {@code [lo, hi)} (zeroed in
 * the column matrix, which col2im may therefore only do on scratch). When rows fit one vector
 * (stride 1), each output row is one masked load and store (im2col), and col2im loads each input
 * row once, adds the {@code kh * kw} shifted rows that land on it in registers and stores it once.
 * Otherwise it goes row by row, each row a vector copy or add with a masked last vector. (Masked
 * vectors across whole planes measured slower on Zen 5.)
 */
final class ConvLowering {
    private final int c;
    private final int h;
    private final int w;
    private final int kh;
    private final int kw;
    private final int sh;
    private final int sw;
    private final int ph;
    private final int pw;
    private final int dh;
    private final int dw;
    private final int oh;
    private final int ow;
    /** Whether rows move as whole shifted planes. */
    private final boolean flat;
    /**
     * Whether input and output rows fit one vector (stride 1): rows move as single masked vectors,
     * where the plane path is not available (on "same" convolutions the plane path measured faster).
     */
    private final boolean narrow;

    ConvLowering(int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        this.c = c;
        this.h = h;
        this.w = w;
        this.kh = kh;
        this.kw = kw;
        this.sh = sh;
        this.sw = sw;
        this.ph = ph;
        this.pw = pw;
        this.dh = dh;
        this.dw = dw;
        this.oh = oh;
        this.ow = ow;
        flat = sh == 1 && sw == 1 && ow == w;
        narrow = !Simd.SCALAR && sh == 1 && sw == 1 && w <= Simd.F.length() && ow <= Simd.F.length();
    }

    /** Writes the column matrix of the input at {@code x[xOff]} into {@code col[colOff]} with row stride {@code ld}. */
    void im2col(float[] col, int colOff, int ld, float[] x, int xOff) {
        int row = colOff;
        for (int ci = 0; ci < c; ci++) {
            int plane = xOff + ci * h * w;
            for (int a = 0; a < kh; a++) {
                int dy = a * dh - ph;
                int ilo = firstInside(dy, sh, oh);
                int ihi = endInside(dy, sh, h, ilo, oh);
                for (int b = 0; b < kw; b++, row += ld) {
                    int dx = b * dw - pw;
                    int lo = firstInside(dx, sw, ow);
                    int hi = endInside(dx, sw, w, lo, ow);
                    Arrays.fill(col, row, row + ilo * ow, 0f);
                    Arrays.fill(col, row + ihi * ow, row + oh * ow, 0f);
                    if (flat) {
                        int shift = plane + dy * w + dx;
                        int from = Math.max(ilo * ow, plane - shift);
                        int to = Math.min(ihi * ow, plane + h * w - shift);
                        if (from < to) {
                            copy(col, row + from, x, shift + from, to - from);
                        }
                        zeroEdges(col, row, ilo, ihi, lo, hi);
                        continue;
                    }
                    if (narrow) {
                        VectorMask<Float> valid = lanes(lo, hi);
                        VectorMask<Float> outRow = Simd.F.indexInRange(0, ow);
                        for (int i = ilo; i < ihi; i++) {
                            FloatVector.fromArray(Simd.F, x, plane + (i + dy) * w + dx, valid)
                                    .intoArray(col, row + i * ow, outRow);
                        }
                        continue;
                    }
                    for (int i = ilo; i < ihi; i++) {
                        int dst = row + i * ow;
                        int src = plane + (i * sh + dy) * w + lo * sw + dx;
                        Arrays.fill(col, dst, dst + lo, 0f);
                        if (sw == 1) {
                            copy(col, dst + lo, x, src, hi - lo);
                        } else {
                            for (int j = lo; j < hi; j++, src += sw) {
                                col[dst + j] = x[src];
                            }
                        }
                        Arrays.fill(col, dst + hi, dst + ow, 0f);
                    }
                }
            }
        }
    }

    /**
     * The adjoint of {@link #im2col}: adds every column-matrix value whose position lies inside the
     * input into {@code x}. With {@code scratch} the column matrix may be overwritten (values at
     * positions outside the input set to zero), which lets "same" convolutions take the fast path.
     */
    void col2im(float[] x, int xOff, float[] col, int colOff, int ld, boolean scratch) {
        if (narrow && !(flat && scratch)) {
            col2imNarrow(x, xOff, col, colOff, ld);
            return;
        }
        int row = colOff;
        for (int ci = 0; ci < c; ci++) {
            int plane = xOff + ci * h * w;
            for (int a = 0; a < kh; a++) {
                int dy = a * dh - ph;
                int ilo = firstInside(dy, sh, oh);
                int ihi = endInside(dy, sh, h, ilo, oh);
                for (int b = 0; b < kw; b++, row += ld) {
                    int dx = b * dw - pw;
                    int lo = firstInside(dx, sw, ow);
                    int hi = endInside(dx, sw, w, lo, ow);
                    if (flat && scratch) {
                        zeroEdges(col, row, ilo, ihi, lo, hi);
                        int shift = plane + dy * w + dx;
                        int from = Math.max(ilo * ow, plane - shift);
                        int to = Math.min(ihi * ow, plane + h * w - shift);
                        if (from < to) {
                            addInto(x, shift + from, col, row + from, to - from);
                        }
                        continue;
                    }
                    for (int i = ilo; i < ihi; i++) {
                        int src = row + i * ow + lo;
                        int dst = plane + (i * sh + dy) * w + lo * sw + dx;
                        if (sw == 1) {
                            addInto(x, dst, col, src, hi - lo);
                        } else {
                            for (int j = lo; j < hi; j++, dst += sw) {
                                x[dst] += col[src++];
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * {@link #col2im} when rows fit one vector: each input row is loaded once per channel, gets the
     * {@code kh * kw} shifted column-matrix rows that land on it added in registers, and is stored
     * once (instead of one read-modify-write of the row per kernel tap).
     */
    private void col2imNarrow(float[] x, int xOff, float[] col, int colOff, int ld) {
        VectorMask<Float> inRow = Simd.F.indexInRange(0, w);
        for (int ci = 0; ci < c; ci++) {
            int plane = xOff + ci * h * w;
            int rows = colOff + ci * kh * kw * ld;
            for (int r = 0; r < h; r++) {
                FloatVector acc = FloatVector.fromArray(Simd.F, x, plane + r * w, inRow);
                for (int a = 0; a < kh; a++) {
                    int i = r - (a * dh - ph);
                    if (i < 0 || i >= oh) {
                        continue;
                    }
                    for (int b = 0; b < kw; b++) {
                        int dx = b * dw - pw;
                        int lo = firstInside(dx, 1, ow);
                        int hi = endInside(dx, 1, w, lo, ow);
                        acc = acc.add(FloatVector.fromArray(Simd.F, col, rows + (a * kw + b) * ld + i * ow - dx,
                                lanes(lo + dx, hi + dx)));
                    }
                }
                acc.intoArray(x, plane + r * w, inRow);
            }
        }
    }

    /**
     * Lanes {@code [from, to)} with {@code 0 <= from}; built from two prefix masks, since
     * {@code indexInRange} with a negative offset takes a slow, non-intrinsic path in JDK 25.
     */
    private static VectorMask<Float> lanes(int from, int to) {
        return Simd.F.indexInRange(0, to).andNot(Simd.F.indexInRange(0, from));
    }

    /** Zeros columns {@code [0, lo)} and {@code [hi, ow)} of output rows {@code [ilo, ihi)} of one column-matrix row. */
    private void zeroEdges(float[] col, int row, int ilo, int ihi, int lo, int hi) {
        zeroColumns(col, row + ilo * ow, ihi - ilo, 0, lo);
        zeroColumns(col, row + ilo * ow, ihi - ilo, hi, ow - hi);
    }

    /**
     * Zeros {@code count} columns from {@code start} in {@code rows} rows of {@code ow} from {@code col[r]}; one store
     * per row in the usual case of one column (a short inner loop per row costs several times more).
     */
    private void zeroColumns(float[] col, int r, int rows, int start, int count) {
        if (count == 1) {
            for (int i = 0, q = r + start; i < rows; i++, q += ow) {
                col[q] = 0f;
            }
        } else if (count > 1) {
            for (int i = 0, q = r + start; i < rows; i++, q += ow) {
                Arrays.fill(col, q, q + count, 0f);
            }
        }
    }

    /**
     * {@code dst[dOff + i] = src[sOff + i]} for {@code i < len}: vectors with a masked last one,
     * cheaper than an arraycopy call for the short rows and small planes copied here.
     */
    private static void copy(float[] dst, int dOff, float[] src, int sOff, int len) {
        if (Simd.SCALAR) {
            System.arraycopy(src, sOff, dst, dOff, len);
            return;
        }
        int i = 0;
        for (int bound = Simd.F.loopBound(len); i < bound; i += Simd.F.length()) {
            FloatVector.fromArray(Simd.F, src, sOff + i).intoArray(dst, dOff + i);
        }
        if (i < len) {
            VectorMask<Float> m = Simd.F.indexInRange(i, len);
            FloatVector.fromArray(Simd.F, src, sOff + i, m).intoArray(dst, dOff + i, m);
        }
    }

    /** {@code dst[dOff + i] += src[sOff + i]} for {@code i < len}; vectors with a masked last one. */
    static void addInto(float[] dst, int dOff, float[] src, int sOff, int len) {
        if (Simd.SCALAR) {
            for (int i = 0; i < len; i++) {
                dst[dOff + i] += src[sOff + i];
            }
            return;
        }
        int i = 0;
        for (int bound = Simd.F.loopBound(len); i < bound; i += Simd.F.length()) {
            FloatVector.fromArray(Simd.F, dst, dOff + i)
                    .add(FloatVector.fromArray(Simd.F, src, sOff + i))
                    .intoArray(dst, dOff + i);
        }
        if (i < len) {
            VectorMask<Float> m = Simd.F.indexInRange(i, len);
            FloatVector.fromArray(Simd.F, dst, dOff + i, m)
                    .add(FloatVector.fromArray(Simd.F, src, sOff + i, m))
                    .intoArray(dst, dOff + i, m);
        }
    }

    /** First output index {@code j} with {@code j*s + d >= 0}, clipped to {@code [0, o]}. */
    private static int firstInside(int d, int s, int o) {
        return Math.clamp(Math.ceilDiv(-d, s), 0, o);
    }

    /** One past the last output index {@code j} with {@code j*s + d < size}, clipped to {@code [lo, o]}. */
    private static int endInside(int d, int s, int size, int lo, int o) {
        return Math.clamp(Math.floorDiv(size - 1 - d, s) + 1, lo, o);
    }
}

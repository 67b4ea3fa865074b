package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * fp32 2-d pooling over {@code planes} independent planes (N*C of an NCHW tensor), PyTorch
 * semantics. Output row {@code i} covers input rows {@code i*sh - ph + a*dh}, {@code a < kh} (likewise
 * columns); positions outside the input are skipped, so padding never wins a max and windows may
 * run past the far edge (ceil mode). Each window's input range is computed once per output row and
 * column; planes are split over threads when there is enough work.
 *
 * <pre>{@code
 * Pool.maxPool2d(y, argmax, x, n * c, 28, 28, 2, 2, 2, 2, 0, 0, 1, 1, 14, 14);
 * }</pre>
 */
public final class Pool {
    /** Each parallel chunk gets at least this many window reads. */
    private static final int GRAIN_WORK = 1 << 15;
    private static final VectorSpecies<Float> F = Simd.F;
    private static final VectorSpecies<Integer> I = Simd.I;
    private static final int L = F.length();
    /** Even and odd lanes of two consecutive vectors (indices past L select from the second). */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(F, i -> 2 * i);
    private static final VectorShuffle<Float> ODD = VectorShuffle.fromOp(F, i -> 2 * i + 1);
    private static final IntVector TWICE_IOTA = IntVector.zero(I).addIndex(2);

    private Pool() {
    }

    /**
     * {@code y[p,i,j] = max} of {@code x[p, i*sh - ph + a*dh, j*sw - pw + b*dw]} over the positions inside
     * the input; a NaN wins (the last one). {@code argmax[p,i,j]} (optional) gets the flat index
     * {@code iy*w + ix} of the max within its plane, first one on ties; a window with no input
     * position gives {@code -inf} and index -1 (writes).
     *
     * @param y      output {@code [planes, oh, ow]}
     * @param argmax {@code [planes, oh, ow]}, or null
     * @param x      input {@code [planes, h, w]}
     */
    public static void maxPool2d(float[] y, int[] argmax, float[] x, int planes, int h, int w, int kh, int kw,
                                 int sh, int sw, int ph, int pw, int dh, int dw, int oh, int ow) {
        PoolArgs.pooled("maxPool2d", false, x.length, y.length, planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
        if (argmax != null) {
            PoolArgs.argmax("maxPool2d", argmax.length, planes, oh, ow);
        }
        if (!Simd.SCALAR && kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && dh == 1 && dw == 1
                && 2 * oh <= h && 2 * ow <= w) {
            maxPool2x2(y, argmax, x, planes, h, w, oh, ow);
            return;
        }
        Span rows = Span.dilated(oh, sh, ph, kh, dh, h);
        Span cols = Span.dilated(ow, sw, pw, kw, dw, w);
        int[] r0 = rows.lo();
        int[] r1 = rows.hi();
        int[] c0 = cols.lo();
        int[] c1 = cols.hi();
        Parallel.forRange(planes, grain((long) oh * ow * kh * kw), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xp = p * h * w;
                int yp = p * oh * ow;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        float m = Float.NEGATIVE_INFINITY;
                        int idx = -1;
                        for (int iy = r0[i]; iy < r1[i]; iy += dh) {
                            for (int ix = c0[j]; ix < c1[j]; ix += dw) {
                                float v = x[xp + iy * w + ix];
                                if (v > m || v != v) {
                                    m = v;
                                    idx = iy * w + ix;
                                }
                            }
                        }
                        y[yp + i * ow + j] = m;
                        if (argmax != null) {
                            argmax[yp + i * ow + j] = idx;
                        }
                    }
                }
            }
        });
    }

    /**
     * {@link #maxPool2d} for 2x2 windows, stride 2, no padding, no dilation and windows inside the
     * input (LeNet's and VGG's pooling): the scalar loop's compare-and-branch mispredicts on half of
     * random inputs (15 ns per output), which made it a quarter of LeNet-5's training step. Here L
     * outputs at a time:
     * the two input rows are split into even and odd columns by two-vector shuffles and the four
     * candidates go through the scalar loop's exact rule ({@code v > m || v is NaN}, in window order)
     * with masked blends, so values and argmax indices equal the scalar path's.
     */
    private static void maxPool2x2(float[] y, int[] argmax, float[] x, int planes, int h, int w, int oh, int ow) {
        Parallel.forRange(planes, grain((long) oh * ow * 4), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                for (int i = 0; i < oh; i++) {
                    maxRow2x2(y, argmax, x, p * h * w + 2 * i * w, w, (p * oh + i) * ow, 2 * i * w, ow);
                }
            }
        });
    }

    /**
     * One output row of {@link #maxPool2x2}: input rows at {@code x[a ...]} and {@code x[a + w ...]},
     * {@code ow} outputs at {@code y[yo ...]}, argmax positions counted from {@code pa}. L outputs
     * per step, the last step masked (LeNet's rows are 14 and 5 wide: narrower than one vector).
     * Kept out of the caller's lambda so that C2 compiles it as one small unit.
     */
    private static void maxRow2x2(float[] y, int[] argmax, float[] x, int a, int w, int yo, int pa, int ow) {
        int b = a + w;
        int cols = 2 * ow;
        for (int j = 0; j < ow; j += L) {
            int c = 2 * j;
            VectorMask<Float> in0 = F.indexInRange(c, cols);
            VectorMask<Float> in1 = F.indexInRange(c + L, cols);
            VectorMask<Float> out = F.indexInRange(j, ow);
            FloatVector a0 = FloatVector.fromArray(F, x, a + c, in0);
            FloatVector a1 = FloatVector.fromArray(F, x, a + c + L, in1);
            FloatVector b0 = FloatVector.fromArray(F, x, b + c, in0);
            FloatVector b1 = FloatVector.fromArray(F, x, b + c + L, in1);
            IntVector pos = TWICE_IOTA.add(pa + c);
            FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            IntVector idx = IntVector.broadcast(I, -1);
            FloatVector v = a0.rearrange(EVEN, a1);
            VectorMask<Float> take = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
            m = m.blend(v, take);
            idx = idx.blend(pos, take.cast(I));
            v = a0.rearrange(ODD, a1);
            take = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
            m = m.blend(v, take);
            idx = idx.blend(pos.add(1), take.cast(I));
            v = b0.rearrange(EVEN, b1);
            take = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
            m = m.blend(v, take);
            idx = idx.blend(pos.add(w), take.cast(I));
            v = b0.rearrange(ODD, b1);
            take = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
            m = m.blend(v, take);
            idx = idx.blend(pos.add(w + 1), take.cast(I));
            m.intoArray(y, yo + j, out);
            if (argmax != null) {
                idx.intoArray(argmax, yo + j, out.cast(I));
            }
        }
    }

    /**
     * {@code gx[p, argmax[p,i,j]] += gy[p,i,j]}; entries of -1 are skipped (accumulates; the caller
     * zeroes gx). {@code argmax} is what {@link #maxPool2d} produced for the same dims.
     */
    public static void maxPool2dBackward(float[] gx, float[] gy, int[] argmax, int planes, int h, int w,
                                         int oh, int ow) {
        PoolArgs.adaptive("maxPool2dBackward", true, gx.length, gy.length, planes, h, w, oh, ow);
        PoolArgs.argmax("maxPool2dBackward", argmax.length, planes, oh, ow);
        int q = oh * ow;
        Parallel.forRange(planes, grain(q), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xp = p * h * w;
                for (int k = p * q, end = k + q; k < end; k++) {
                    int idx = argmax[k];
                    if (idx >= 0) {
                        gx[xp + idx] += gy[k];
                    }
                }
            }
        });
    }

    /**
     * {@code y[p,i,j] = sum} of {@code x} over the window's positions inside the input, divided by the
     * window size clipped to the padded input ({@code countIncludePad}) or by the number of input
     * positions; a window with no input position gives 0 (writes). Shapes as in {@link #maxPool2d}.
     */
    public static void avgPool2d(float[] y, float[] x, int planes, int h, int w, int kh, int kw, int sh, int sw,
                                 int ph, int pw, int oh, int ow, boolean countIncludePad) {
        PoolArgs.pooled("avgPool2d", false, x.length, y.length, planes, h, w, kh, kw, sh, sw, ph, pw, 1, 1, oh, ow);
        Span rows = Span.padded(oh, sh, ph, kh, h);
        Span cols = Span.padded(ow, sw, pw, kw, w);
        int[] r0 = rows.lo();
        int[] r1 = rows.hi();
        int[] c0 = cols.lo();
        int[] c1 = cols.hi();
        Parallel.forRange(planes, grain((long) oh * ow * kh * kw), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xp = p * h * w;
                int yp = p * oh * ow;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        float s = 0f;
                        for (int iy = r0[i]; iy < r1[i]; iy++) {
                            for (int ix = c0[j]; ix < c1[j]; ix++) {
                                s += x[xp + iy * w + ix];
                            }
                        }
                        int div = divisor(rows, cols, i, j, countIncludePad);
                        y[yp + i * ow + j] = div == 0 ? 0f : s / div;
                    }
                }
            }
        });
    }

    /**
     * Adjoint of {@link #avgPool2d}: each {@code gy[p,i,j] / divisor} is added to its window's input
     * positions (accumulates).
     */
    public static void avgPool2dBackward(float[] gx, float[] gy, int planes, int h, int w, int kh, int kw, int sh,
                                         int sw, int ph, int pw, int oh, int ow, boolean countIncludePad) {
        PoolArgs.pooled("avgPool2dBackward", true, gx.length, gy.length, planes, h, w, kh, kw, sh, sw, ph, pw, 1, 1,
                oh, ow);
        Span rows = Span.padded(oh, sh, ph, kh, h);
        Span cols = Span.padded(ow, sw, pw, kw, w);
        int[] r0 = rows.lo();
        int[] r1 = rows.hi();
        int[] c0 = cols.lo();
        int[] c1 = cols.hi();
        Parallel.forRange(planes, grain((long) oh * ow * kh * kw), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xp = p * h * w;
                int yp = p * oh * ow;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        int div = divisor(rows, cols, i, j, countIncludePad);
                        if (div == 0) {
                            continue;
                        }
                        float d = gy[yp + i * ow + j] / div;
                        for (int iy = r0[i]; iy < r1[i]; iy++) {
                            for (int ix = c0[j]; ix < c1[j]; ix++) {
                                gx[xp + iy * w + ix] += d;
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * {@code y[p,i,j] = mean of x[p, r0..r1, c0..c1)} with {@code r0 = floor(i*h/oh)},
     * {@code r1 = ceil((i+1)*h/oh)}, likewise columns (writes). Shapes as in {@link #maxPool2d}.
     */
    public static void adaptiveAvgPool2d(float[] y, float[] x, int planes, int h, int w, int oh, int ow) {
        PoolArgs.adaptive("adaptiveAvgPool2d", false, x.length, y.length, planes, h, w, oh, ow);
        Span rows = Span.adaptive(oh, h);
        Span cols = Span.adaptive(ow, w);
        int[] r0 = rows.lo();
        int[] r1 = rows.hi();
        int[] c0 = cols.lo();
        int[] c1 = cols.hi();
        Parallel.forRange(planes, grain((long) h * w + (long) oh * ow), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xp = p * h * w;
                int yp = p * oh * ow;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        float s = 0f;
                        for (int iy = r0[i]; iy < r1[i]; iy++) {
                            for (int ix = c0[j]; ix < c1[j]; ix++) {
                                s += x[xp + iy * w + ix];
                            }
                        }
                        y[yp + i * ow + j] = s / ((r1[i] - r0[i]) * (c1[j] - c0[j]));
                    }
                }
            }
        });
    }

    /** Adjoint of {@link #adaptiveAvgPool2d}: each {@code gy[p,i,j] / binSize} is added to its bin (accumulates). */
    public static void adaptiveAvgPool2dBackward(float[] gx, float[] gy, int planes, int h, int w, int oh, int ow) {
        PoolArgs.adaptive("adaptiveAvgPool2dBackward", true, gx.length, gy.length, planes, h, w, oh, ow);
        Span rows = Span.adaptive(oh, h);
        Span cols = Span.adaptive(ow, w);
        int[] r0 = rows.lo();
        int[] r1 = rows.hi();
        int[] c0 = cols.lo();
        int[] c1 = cols.hi();
        Parallel.forRange(planes, grain((long) h * w + (long) oh * ow), (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int xp = p * h * w;
                int yp = p * oh * ow;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        float d = gy[yp + i * ow + j] / ((r1[i] - r0[i]) * (c1[j] - c0[j]));
                        for (int iy = r0[i]; iy < r1[i]; iy++) {
                            for (int ix = c0[j]; ix < c1[j]; ix++) {
                                gx[xp + iy * w + ix] += d;
                            }
                        }
                    }
                }
            }
        });
    }

    private static int grain(long workPerPlane) {
        return (int) Math.max(1, GRAIN_WORK / Math.max(1, workPerPlane));
    }

    private static int divisor(Span rows, Span cols, int i, int j, boolean countIncludePad) {
        int inside = (rows.hi()[i] - rows.lo()[i]) * (cols.hi()[j] - cols.lo()[j]);
        return inside == 0 ? 0 : countIncludePad ? rows.full()[i] * cols.full()[j] : inside;
    }

    /**
     * Per output index along one axis: the input range {@code [lo, hi)} of its window inside the
     * input (for dilated windows {@code lo} is the first position on the dilation grid) and, for
     * average pooling, {@code full}: the window's extent clipped to the padded input.
     */
    private record Span(int[] lo, int[] hi, int[] full) {
        static Span dilated(int out, int stride, int pad, int k, int dil, int size) {
            int[] lo = new int[out];
            int[] hi = new int[out];
            for (int i = 0; i < out; i++) {
                long start = (long) i * stride - pad;
                long first = start < 0 ? start + Math.ceilDiv(-start, dil) * dil : start;
                hi[i] = Math.clamp(start + (long) (k - 1) * dil + 1, 0, size);
                lo[i] = (int) Math.min(first, hi[i]);
            }
            return new Span(lo, hi, null);
        }

        static Span padded(int out, int stride, int pad, int k, int size) {
            int[] lo = new int[out];
            int[] hi = new int[out];
            int[] full = new int[out];
            for (int i = 0; i < out; i++) {
                long start = (long) i * stride - pad;
                long end = Math.min(start + k, (long) size + pad);
                full[i] = (int) Math.max(0, end - start);
                hi[i] = Math.clamp(end, 0, size);
                lo[i] = Math.clamp(start, 0, hi[i]);
            }
            return new Span(lo, hi, full);
        }

        static Span adaptive(int out, int size) {
            int[] lo = new int[out];
            int[] hi = new int[out];
            for (int i = 0; i < out; i++) {
                lo[i] = (int) ((long) i * size / out);
                hi[i] = (int) Math.ceilDiv((long) (i + 1) * size, out);
            }
            return new Span(lo, hi, null);
        }
    }
}

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
    /**
     * A vector's even lanes into its lower half and odd lanes into its upper half; the two halves
     * swapped; the upper half. The even and odd lanes of two consecutive vectors are these
     * one-vector permutes and blends: the two-vector {@code rearrange} they replace ran in Java on
     * AVX2 (JDK 25), some 4 ns per output of a 2x2 pooling on Zen 1.
     */
    private static final VectorShuffle<Float> SPLIT = VectorShuffle.fromOp(F, i -> i < L / 2 ? 2 * i : 2 * (i - L / 2) + 1);
    private static final VectorShuffle<Float> SWAP = VectorShuffle.fromOp(F, i -> (i + L / 2) % L);
    private static final VectorMask<Float> UPPER = VectorMask.fromLong(F, -1L << (L / 2));
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
            float[] mt = new float[L]; // a partial step's lanes, copied out (per chunk of planes)
            int[] it = new int[L];
            int end = hi * oh * ow; // this chunk's outputs end here
            for (int p = lo; p < hi; p++) {
                for (int i = 0; i < oh; i++) {
                    maxRow2x2(y, argmax, x, p * h * w + 2 * i * w, w, (p * oh + i) * ow, 2 * i * w, ow, end, mt, it);
                }
            }
        });
    }

    /**
     * One output row of {@link #maxPool2x2}: input rows at {@code x[a ...]} and {@code x[a + w ...]},
     * {@code ow} outputs at {@code y[yo ...]}, argmax positions counted from {@code pa}. L outputs
     * per step; the last partial step (LeNet's rows are 14 and 5 wide: narrower than one vector) is
     * computed whole, its loads running on into the next rows. Its stores too, when they end before
     * {@code end}, where the caller's chunk of outputs ends (the rows after it overwrite the extra
     * lanes); else into {@code mt} and {@code it}, whose first lanes are then copied out (two
     * {@code arraycopy} calls per row cost more than the step on rows this short); at the end of
     * {@code x}, where the loads would run past it, value by value. Masked loads and stores did
     * these steps before, at 8.7 and 15 ns per output on Zen 1 (384 planes 28x28 and 1024 planes
     * 10x10: LeNet-5's two poolings), the masked int store of the argmax going through the Vector
     * API's per-lane index checks; the copies out, at 5.1 and 9.6 (now 3.8 and 5.9).
     * Kept out of the caller's lambda so that C2 compiles it as one small unit.
     */
    private static void maxRow2x2(float[] y, int[] argmax, float[] x, int a, int w, int yo, int pa, int ow,
                                  int end, float[] mt, int[] it) {
        int b = a + w;
        int j = 0;
        for (; j <= ow - L; j += L) {
            step(y, yo + j, argmax, x, a + 2 * j, b + 2 * j, pa + 2 * j, w);
        }
        if (j == ow) {
            return;
        }
        boolean inside = b + 2 * j + 2 * L <= x.length;
        if (inside && yo + j + L <= end) {
            // stored whole: the lanes past the row land on the next rows' outputs, which this thread
            // writes afterwards (end: where the caller's chunk of outputs ends)
            step(y, yo + j, argmax, x, a + 2 * j, b + 2 * j, pa + 2 * j, w);
            return;
        }
        if (inside) {
            step(mt, 0, argmax == null ? null : it, x, a + 2 * j, b + 2 * j, pa + 2 * j, w);
            System.arraycopy(mt, 0, y, yo + j, ow - j);
            if (argmax != null) {
                System.arraycopy(it, 0, argmax, yo + j, ow - j);
            }
            return;
        }
        for (; j < ow; j++) {
            int c = 2 * j;
            float m = Float.NEGATIVE_INFINITY;
            int idx = -1;
            for (int q = 0; q < 4; q++) {
                float v = x[(q < 2 ? a : b) + c + (q & 1)];
                if (v > m || v != v) {
                    m = v;
                    idx = pa + c + (q < 2 ? 0 : w) + (q & 1);
                }
            }
            y[yo + j] = m;
            if (argmax != null) {
                argmax[yo + j] = idx;
            }
        }
    }

    /**
     * L outputs of {@link #maxRow2x2} from the 2L inputs at {@code x[a ...]} and {@code x[b ...]}
     * (argmax positions from {@code pa}, the lower row {@code w} after): the two rows split into even
     * and odd columns ({@link #SPLIT}), the four candidates through the scalar loop's exact
     * rule ({@code v > m || v is NaN}, in window order) with blends, so values and argmax indices
     * equal the scalar path's; stored at {@code y[yo]} and {@code argmax[yo]} (when not null).
     */
    private static void step(float[] y, int yo, int[] argmax, float[] x, int a, int b, int pa, int w) {
        FloatVector a0 = FloatVector.fromArray(F, x, a);
        FloatVector a1 = FloatVector.fromArray(F, x, a + L);
        FloatVector b0 = FloatVector.fromArray(F, x, b);
        FloatVector b1 = FloatVector.fromArray(F, x, b + L);
        IntVector pos = TWICE_IOTA.add(pa);
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        IntVector idx = IntVector.broadcast(I, -1);
        FloatVector sa0 = a0.rearrange(SPLIT);
        FloatVector sa1 = a1.rearrange(SPLIT);
        FloatVector v = sa0.blend(sa1.rearrange(SWAP), UPPER);
        VectorMask<Float> take = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
        m = m.blend(v, take);
        idx = idx.blend(pos, take.cast(I));
        v = sa0.rearrange(SWAP).blend(sa1, UPPER);
        take = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
        m = m.blend(v, take);
        idx = idx.blend(pos.add(1), take.cast(I));
        FloatVector sb0 = b0.rearrange(SPLIT);
        FloatVector sb1 = b1.rearrange(SPLIT);
        v = sb0.blend(sb1.rearrange(SWAP), UPPER);
        take = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
        m = m.blend(v, take);
        idx = idx.blend(pos.add(w), take.cast(I));
        v = sb0.rearrange(SWAP).blend(sb1, UPPER);
        take = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
        m = m.blend(v, take);
        idx = idx.blend(pos.add(w + 1), take.cast(I));
        m.intoArray(y, yo);
        if (argmax != null) {
            idx.intoArray(argmax, yo);
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

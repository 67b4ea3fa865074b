package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Simd;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Softmax} over the n axis of one slab {@code [n, inner]} (element {@code (j, c)} at
 * {@code base + j*inner + c} in every buffer) for the columns {@code c0 <= c < c1}, {@code n >= 1}:
 * {@code L} adjacent columns per vector walk down the rows, leftover columns run scalar. Sums
 * accumulate in double. Arguments are checked by the caller.
 */
final class SoftmaxCols {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final VectorSpecies<Double> D = Simd.D;
    private static final int L = F.length();

    private SoftmaxCols() {
    }

    private static FloatVector colMax(float[] x, int xb, int n, int inner, int c) {
        FloatVector m = FloatVector.fromArray(F, x, xb + c);
        for (int j = 1, p = xb + inner + c; j < n; j++, p += inner) {
            m = m.max(FloatVector.fromArray(F, x, p));
        }
        return m;
    }

    private static float colMaxScalar(float[] x, int xb, int n, int inner, int c) {
        float m = x[xb + c];
        for (int j = 1, p = xb + inner + c; j < n; j++, p += inner) {
            m = Math.max(m, x[p]);
        }
        return m;
    }

    static void softmax(float[] out, int ob, float[] x, int xb, int n, int inner, int c0, int c1) {
        int c = c0;
        for (int ce = ColLoops.vectorEnd(c0, c1); c < ce; c += L) {
            FloatVector m = colMax(x, xb, n, inner, c);
            DoubleVector s0 = DoubleVector.zero(D);
            DoubleVector s1 = s0;
            for (int j = 0, p = c; j < n; j++, p += inner) {
                FloatVector e = VMath.exp(FloatVector.fromArray(F, x, xb + p).sub(m));
                e.intoArray(out, ob + p);
                s0 = s0.add(RowLoops.lower(e));
                s1 = s1.add(RowLoops.upper(e));
            }
            FloatVector inv = ColLoops.narrow(s0.broadcast(1).div(s0), s1.broadcast(1).div(s1));
            for (int j = 0, p = ob + c; j < n; j++, p += inner) {
                FloatVector.fromArray(F, out, p).mul(inv).intoArray(out, p);
            }
        }
        for (; c < c1; c++) {
            float m = colMaxScalar(x, xb, n, inner, c);
            double s = 0;
            for (int j = 0, p = c; j < n; j++, p += inner) {
                float e = VMath.exp(x[xb + p] - m);
                out[ob + p] = e;
                s += e;
            }
            float inv = (float) (1 / s);
            for (int j = 0, p = ob + c; j < n; j++, p += inner) {
                out[p] *= inv;
            }
        }
    }

    static void logSoftmax(float[] out, int ob, float[] x, int xb, int n, int inner, int c0, int c1) {
        int c = c0;
        for (int ce = ColLoops.vectorEnd(c0, c1); c < ce; c += L) {
            FloatVector m = colMax(x, xb, n, inner, c);
            DoubleVector s0 = DoubleVector.zero(D);
            DoubleVector s1 = s0;
            for (int j = 0, p = xb + c; j < n; j++, p += inner) {
                FloatVector e = VMath.exp(FloatVector.fromArray(F, x, p).sub(m));
                s0 = s0.add(RowLoops.lower(e));
                s1 = s1.add(RowLoops.upper(e));
            }
            FloatVector logSum = ColLoops.narrow(VMathD.log(s0), VMathD.log(s1));
            for (int j = 0, p = c; j < n; j++, p += inner) {
                FloatVector.fromArray(F, x, xb + p).sub(m).sub(logSum).intoArray(out, ob + p);
            }
        }
        for (; c < c1; c++) {
            float m = colMaxScalar(x, xb, n, inner, c);
            double s = 0;
            for (int j = 0, p = xb + c; j < n; j++, p += inner) {
                s += VMath.exp(x[p] - m);
            }
            float logSum = (float) VMathD.log(s);
            for (int j = 0, p = c; j < n; j++, p += inner) {
                out[ob + p] = x[xb + p] - m - logSum;
            }
        }
    }

    static void softmaxBackward(float[] gx, int gb, float[] y, int yb, float[] gy, int gyb, int n, int inner,
                                int c0, int c1) {
        int c = c0;
        for (int ce = ColLoops.vectorEnd(c0, c1); c < ce; c += L) {
            DoubleVector d0 = DoubleVector.zero(D);
            DoubleVector d1 = d0;
            for (int j = 0, p = c; j < n; j++, p += inner) {
                d0 = RowLoops.widen(gy, gyb + p).fma(RowLoops.widen(y, yb + p), d0);
                d1 = RowLoops.widen(gy, gyb + p + L / 2).fma(RowLoops.widen(y, yb + p + L / 2), d1);
            }
            FloatVector dot = ColLoops.narrow(d0, d1);
            for (int j = 0, p = c; j < n; j++, p += inner) {
                FloatVector.fromArray(F, y, yb + p).mul(FloatVector.fromArray(F, gy, gyb + p).sub(dot))
                        .intoArray(gx, gb + p);
            }
        }
        for (; c < c1; c++) {
            double d = 0;
            for (int j = 0, p = c; j < n; j++, p += inner) {
                d += (double) gy[gyb + p] * y[yb + p];
            }
            float dot = (float) d;
            for (int j = 0, p = c; j < n; j++, p += inner) {
                gx[gb + p] = y[yb + p] * (gy[gyb + p] - dot);
            }
        }
    }

    static void logSoftmaxBackward(float[] gx, int gb, float[] y, int yb, float[] gy, int gyb, int n, int inner,
                                   int c0, int c1) {
        int c = c0;
        for (int ce = ColLoops.vectorEnd(c0, c1); c < ce; c += L) {
            DoubleVector s0 = DoubleVector.zero(D);
            DoubleVector s1 = s0;
            for (int j = 0, p = gyb + c; j < n; j++, p += inner) {
                s0 = s0.add(RowLoops.widen(gy, p));
                s1 = s1.add(RowLoops.widen(gy, p + L / 2));
            }
            FloatVector negSum = ColLoops.narrow(s0, s1).neg();
            for (int j = 0, p = c; j < n; j++, p += inner) {
                VMath.exp(FloatVector.fromArray(F, y, yb + p)).fma(negSum, FloatVector.fromArray(F, gy, gyb + p))
                        .intoArray(gx, gb + p);
            }
        }
        for (; c < c1; c++) {
            double s = 0;
            for (int j = 0, p = gyb + c; j < n; j++, p += inner) {
                s += gy[p];
            }
            float negSum = (float) -s;
            for (int j = 0, p = c; j < n; j++, p += inner) {
                gx[gb + p] = Math.fma(VMath.exp(y[yb + p]), negSum, gy[gyb + p]);
            }
        }
    }
}

package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.D2F;
import static jdk.incubator.vector.VectorOperators.F2D;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;

import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The elementwise ends of a Linear layer around its GEMM: the bias and ReLU epilogue for the GEMM
 * paths that do not fuse it into their stores, the ReLU gradient taken from the layer's output, and
 * the bias gradient (column sums).
 */
public final class GemmEpilogue {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final VectorSpecies<Double> D = Simd.D;
    /** Floats as many as {@link #D} has doubles (half the vector width), widened in one conversion. */
    private static final VectorSpecies<Float> FH = Simd.SCALAR ? null
            : FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(Simd.BITS / 2));

    private GemmEpilogue() {
    }

    /**
     * {@code c[i] = act(c[i] + bias[bo + i])} for {@code i < n}; the bias is skipped when null and
     * {@code act} is ReLU ({@code v < 0 ? 0 : v}) when {@code relu}, else the identity.
     */
    static void biasRelu(float[] c, int off, float[] bias, int bo, boolean relu, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, c, off + i);
            if (bias != null) {
                v = v.add(FloatVector.fromArray(F, bias, bo + i));
            }
            if (relu) {
                v = v.blend(0f, v.compare(LT, 0f));
            }
            v.intoArray(c, off + i);
        }
        for (; i < n; i++) {
            float v = bias != null ? c[off + i] + bias[bo + i] : c[off + i];
            c[off + i] = relu && v < 0f ? 0f : v;
        }
    }

    /**
     * {@code gx[i] = y[i] > 0 ? gy[i] : 0} for {@code i < n}: the gradient through a ReLU given its
     * output {@code y} (positive exactly where its input was), as the unfused ReLU's gradient.
     *
     * @throws IllegalArgumentException when an array is too short for {@code n} from its offset
     */
    public static void reluBackward(float[] gx, int gxOff, float[] gy, int gyOff, float[] y, int yOff, int n) {
        if (n < 0 || gxOff < 0 || gyOff < 0 || yOff < 0 || (long) gxOff + n > gx.length || (long) gyOff + n > gy.length
                || (long) yOff + n > y.length) {
            throw new IllegalArgumentException("reluBackward: expected n >= 0 floats from each offset, got n=" + n
                    + " at offsets " + gxOff + ", " + gyOff + ", " + yOff + " of arrays of " + gx.length + ", "
                    + gy.length + ", " + y.length);
        }
        if (Parallel.splitsElements(n)) {
            Parallel.forElements(n, (lo, hi) -> reluBackwardLoop(gx, gxOff + lo, gy, gyOff + lo, y, yOff + lo, hi - lo));
        } else {
            reluBackwardLoop(gx, gxOff, gy, gyOff, y, yOff, n);
        }
    }

    private static void reluBackwardLoop(float[] gx, int gxOff, float[] gy, int gyOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += F.length()) {
            FloatVector g = FloatVector.fromArray(F, gy, gyOff + i);
            FloatVector v = FloatVector.fromArray(F, y, yOff + i);
            g.blend(0f, v.compare(GT, 0f).not()).intoArray(gx, gxOff + i);
        }
        for (; i < n; i++) {
            gx[gxOff + i] = y[yOff + i] > 0f ? gy[gyOff + i] : 0f;
        }
    }

    /**
     * {@code out[outOff + j] = sum_i g[gOff + i*ld + j]} for {@code j < cols}, over {@code rows}
     * rows: each column summed in double, rows in order, then rounded to float (the values of
     * {@code Reduce.sum} over dim 0). A Linear layer's bias gradient. Four groups of double lanes at
     * a time, each widened from half a float vector in one conversion.
     *
     * @throws IllegalArgumentException for negative sizes or arrays too short for them
     */
    public static void columnSums(float[] out, int outOff, float[] g, int gOff, int ld, int rows, int cols) {
        if (rows < 0 || cols < 0 || outOff < 0 || gOff < 0 || ld < cols || (long) outOff + cols > out.length
                || rows > 0 && (long) gOff + (long) (rows - 1) * ld + cols > g.length) {
            throw new IllegalArgumentException("columnSums: expected rows, cols >= 0, ld >= cols and arrays that hold them, got rows="
                    + rows + ", cols=" + cols + ", ld=" + ld + " at offsets " + outOff + ", " + gOff + " of arrays of "
                    + out.length + ", " + g.length);
        }
        int j = 0;
        if (!Simd.SCALAR) {
            int w = D.length();
            for (; j + 4 * w <= cols; j += 4 * w) {
                sums4(out, outOff + j, g, gOff + j, ld, rows);
            }
            for (; j + w <= cols; j += w) {
                DoubleVector s = DoubleVector.zero(D);
                for (int i = 0, p = gOff + j; i < rows; i++, p += ld) {
                    s = s.add(widen(g, p));
                }
                ((FloatVector) s.convertShape(D2F, FH, 0)).intoArray(out, outOff + j);
            }
        }
        for (; j < cols; j++) {
            double s = 0;
            for (int i = 0, p = gOff + j; i < rows; i++, p += ld) {
                s += g[p];
            }
            out[outOff + j] = (float) s;
        }
    }

    private static DoubleVector widen(float[] g, int p) {
        return (DoubleVector) FloatVector.fromArray(FH, g, p).convertShape(F2D, D, 0);
    }

    /** {@link #columnSums} of {@code 4 * D.length()} adjacent columns, four independent sums per row. */
    private static void sums4(float[] out, int o, float[] g, int p0, int ld, int rows) {
        int w = D.length();
        DoubleVector s0 = DoubleVector.zero(D);
        DoubleVector s1 = s0;
        DoubleVector s2 = s0;
        DoubleVector s3 = s0;
        for (int i = 0, p = p0; i < rows; i++, p += ld) {
            s0 = s0.add(widen(g, p));
            s1 = s1.add(widen(g, p + w));
            s2 = s2.add(widen(g, p + 2 * w));
            s3 = s3.add(widen(g, p + 3 * w));
        }
        ((FloatVector) s0.convertShape(D2F, FH, 0)).intoArray(out, o);
        ((FloatVector) s1.convertShape(D2F, FH, 0)).intoArray(out, o + w);
        ((FloatVector) s2.convertShape(D2F, FH, 0)).intoArray(out, o + 2 * w);
        ((FloatVector) s3.convertShape(D2F, FH, 0)).intoArray(out, o + 3 * w);
    }
}

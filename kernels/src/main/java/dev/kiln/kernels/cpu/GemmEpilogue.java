package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;

import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The elementwise ends of a Linear layer around its GEMM: the bias and ReLU epilogue for the GEMM
 * paths that do not fuse it into their stores, and the ReLU gradient taken from the layer's output.
 */
public final class GemmEpilogue {
    private static final VectorSpecies<Float> F = Simd.F;

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
}

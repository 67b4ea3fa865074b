package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;

import dev.kiln.kernels.Simd;
import dev.kiln.kernels.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One loop per unary function for {@link Elementwise#unary} and {@link Elementwise#powScalar}:
 * {@code out[oo + i] = f(x[xo + i])} for {@code i < n}, vector main loop then scalar tail.
 * Transcendental functions come from {@link VMath} and {@link VMathD}, whose vector and scalar forms
 * give the same bits, interpreted or compiled. Arguments are checked by the caller.
 */
final class UnaryLoops {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    private UnaryLoops() {
    }

    static void apply(UnaryOp op, float[] out, int oo, float[] x, int xo, int n) {
        switch (op) {
            case NEG -> neg(out, oo, x, xo, n);
            case EXP -> exp(out, oo, x, xo, n);
            case LOG -> log(out, oo, x, xo, n);
            case SQRT -> sqrt(out, oo, x, xo, n);
            case TANH -> tanh(out, oo, x, xo, n);
            case SIGMOID -> sigmoid(out, oo, x, xo, n);
            case RELU -> relu(out, oo, x, xo, n);
            case GELU -> gelu(out, oo, x, xo, n);
            case GELU_GRAD -> geluGrad(out, oo, x, xo, n);
            case ABS -> abs(out, oo, x, xo, n);
            case SQUARE -> square(out, oo, x, xo, n);
            case RECIPROCAL -> reciprocal(out, oo, x, xo, n);
            case SIGN -> sign(out, oo, x, xo, n);
        }
    }

    private static FloatVector load(float[] x, int i) {
        return FloatVector.fromArray(F, x, i);
    }

    private static void neg(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(x, xo + i).neg().intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = -x[xo + i];
        }
    }

    private static void exp(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            VMath.exp(load(x, xo + i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = VMath.exp(x[xo + i]);
        }
    }

    private static void log(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            VMath.log(load(x, xo + i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = VMath.log(x[xo + i]);
        }
    }

    private static void sqrt(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(x, xo + i).sqrt().intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = (float) Math.sqrt(x[xo + i]);
        }
    }

    private static void tanh(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            VMath.tanh(load(x, xo + i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = VMath.tanh(x[xo + i]);
        }
    }

    private static void sigmoid(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            VMath.sigmoid(load(x, xo + i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = VMath.sigmoid(x[xo + i]);
        }
    }

    /** x < 0 ? 0 : x, so NaN stays NaN. */
    private static void relu(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector v = load(x, xo + i);
            v.blend(0f, v.compare(LT, 0f)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            float v = x[xo + i];
            out[oo + i] = v < 0f ? 0f : v;
        }
    }

    private static void gelu(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            Gauss.gelu(load(x, xo + i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = Gauss.gelu(x[xo + i]);
        }
    }

    private static void geluGrad(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            Gauss.geluGrad(load(x, xo + i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = Gauss.geluGrad(x[xo + i]);
        }
    }

    private static void abs(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(x, xo + i).abs().intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = Math.abs(x[xo + i]);
        }
    }

    private static void square(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector v = load(x, xo + i);
            v.mul(v).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            float v = x[xo + i];
            out[oo + i] = v * v;
        }
    }

    private static void reciprocal(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector v = load(x, xo + i);
            v.broadcast(1f).div(v).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = 1f / x[xo + i];
        }
    }

    /** Math.signum: -1, 1, or x itself for +-0 and NaN. */
    private static void sign(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector v = load(x, xo + i);
            v.blend(1f, v.compare(GT, 0f)).blend(-1f, v.compare(LT, 0f)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = Math.signum(x[xo + i]);
        }
    }

    /** out = x^p for a p with no fast path ({@link Math#pow} semantics, negative bases included). */
    static void pow(float[] out, int oo, float[] x, int xo, float p, int n) {
        VMathD.pow(out, oo, x, xo, 1, new float[] {p}, 0, 0, n);
    }

    /** out = x^3. */
    static void cube(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector v = load(x, xo + i);
            v.mul(v).mul(v).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            float v = x[xo + i];
            out[oo + i] = v * v * v;
        }
    }

    /** out = 1 / sqrt(x). */
    static void rsqrt(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector v = load(x, xo + i);
            v.broadcast(1f).div(v.sqrt()).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = 1f / (float) Math.sqrt(x[xo + i]);
        }
    }

    /** out = 1 / x^2. */
    static void invSquare(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector v = load(x, xo + i);
            v.broadcast(1f).div(v.mul(v)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            float v = x[xo + i];
            out[oo + i] = 1f / (v * v);
        }
    }
}

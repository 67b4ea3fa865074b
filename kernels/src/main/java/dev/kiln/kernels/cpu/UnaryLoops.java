package dev.kiln.kernels.cpu;

import static jdk.incubator.vector.VectorOperators.EXP;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LOG;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.POW;
import static jdk.incubator.vector.VectorOperators.TANH;

import dev.kiln.kernels.Simd;
import dev.kiln.kernels.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One loop per unary function for {@link Elementwise#unary} and {@link Elementwise#powScalar}:
 * {@code out[oo + i] = f(x[xo + i])} for {@code i < n}, vector main loop then scalar tail.
 * Arguments are checked by the caller.
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
            load(x, xo + i).lanewise(EXP).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = (float) Math.exp(x[xo + i]);
        }
    }

    private static void log(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(x, xo + i).lanewise(LOG).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = (float) Math.log(x[xo + i]);
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
            load(x, xo + i).lanewise(TANH).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = (float) Math.tanh(x[xo + i]);
        }
    }

    /** 1 / (1 + e^-x): e^-x may overflow to +inf for x below about -88, which gives the right 0. */
    private static void sigmoid(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector e = load(x, xo + i).neg().lanewise(EXP).add(1f);
            e.broadcast(1f).div(e).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = 1f / (1f + (float) Math.exp(-x[xo + i]));
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
            FloatVector v = load(x, xo + i);
            v.mul(Gauss.cdf(v)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            float v = x[xo + i];
            out[oo + i] = v * Gauss.cdf(v);
        }
    }

    private static void geluGrad(float[] out, int oo, float[] x, int xo, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector v = load(x, xo + i);
            v.fma(Gauss.pdf(v), Gauss.cdf(v)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            float v = x[xo + i];
            out[oo + i] = Math.fma(v, Gauss.pdf(v), Gauss.cdf(v));
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

    /** out = x^p for a p with no fast path: lanewise POW (Math.pow semantics, negative bases included). */
    static void pow(float[] out, int oo, float[] x, int xo, float p, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            load(x, xo + i).lanewise(POW, p).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = (float) Math.pow(x[xo + i], p);
        }
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

package dev.kiln.kernels.cpu;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.CompareOp;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.UnaryOp;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise fp32 kernels over array slices: {@code n} elements from an offset. Every kernel
 * writes ({@code =}) its output except {@link #axpy}, which accumulates ({@code +=}). Binary
 * kernels read each input with stride 1 (n consecutive values) or 0 (one value broadcast); any
 * other stride is an {@link IllegalArgumentException}. The output may be the same slice as an input,
 * and a broadcast value may lie inside the output (it is read before anything is written).
 *
 * <pre>{@code
 * Elementwise.binary(BinaryOp.ADD, y, 0, x, 0, 1, bias, j, 0, n);   // y = x + bias[j]
 * Elementwise.unary(UnaryOp.GELU, y, 0, y, 0, n);                    // in place
 * }</pre>
 */
public final class Elementwise {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    private Elementwise() {
    }

    /**
     * {@code out[outOff + i] = f(x[xOff + i])} for {@code i < n}. GELU is the exact form
     * {@code x * Phi(x)}, GELU_GRAD its derivative {@code Phi(x) + x * phi(x)}; SIGMOID is
     * {@code e^x / (1 + e^x)} below 0, so it never overflows and tends to 0 with a small relative error;
     * SIGN follows {@link Math#signum} (0 stays 0, NaN stays NaN); RELU keeps NaN. EXP, LOG, TANH,
     * SIGMOID and the GELUs are within 1-2 ulp of the exact values and give the same bits on every call,
     * interpreted or JIT-compiled.
     */
    public static void unary(UnaryOp op, float[] out, int outOff, float[] x, int xOff, int n) {
        SliceArgs.count("unary", "n", n);
        SliceArgs.slice("unary", "out", out.length, outOff, n);
        SliceArgs.slice("unary", "x", x.length, xOff, n);
        if (Parallel.splitsElements(n)) {
            Parallel.forElements(n, (lo, hi) -> UnaryLoops.apply(op, out, outOff + lo, x, xOff + lo, hi - lo));
        } else {
            UnaryLoops.apply(op, out, outOff, x, xOff, n);
        }
    }

    /**
     * {@code out[outOff + i] = x[xOff + i] ^ p} for {@code i < n}, with {@link Math#pow} semantics
     * (negative bases give a result for integer p and NaN otherwise), except that, as in PyTorch,
     * {@code p = 0.5} is {@code sqrt(x)} and {@code p = -0.5} is {@code 1 / sqrt(x)} (they differ from
     * Math.pow only at -0 and -inf). p = 0, 1, 2, 3, -1, -2 take fast paths too; other exponents go
     * through log and exp in double, rounded to float once (within half an ulp but for near-ties).
     */
    public static void powScalar(float[] out, int outOff, float[] x, int xOff, float p, int n) {
        SliceArgs.count("powScalar", "n", n);
        SliceArgs.slice("powScalar", "out", out.length, outOff, n);
        SliceArgs.slice("powScalar", "x", x.length, xOff, n);
        if (p == 0f) {
            Arrays.fill(out, outOff, outOff + n, 1f);
        } else if (p == 1f) {
            System.arraycopy(x, xOff, out, outOff, n);
        } else if (p == 2f) {
            UnaryLoops.apply(UnaryOp.SQUARE, out, outOff, x, xOff, n);
        } else if (p == 3f) {
            UnaryLoops.cube(out, outOff, x, xOff, n);
        } else if (p == 0.5f) {
            UnaryLoops.apply(UnaryOp.SQRT, out, outOff, x, xOff, n);
        } else if (p == -0.5f) {
            UnaryLoops.rsqrt(out, outOff, x, xOff, n);
        } else if (p == -1f) {
            UnaryLoops.apply(UnaryOp.RECIPROCAL, out, outOff, x, xOff, n);
        } else if (p == -2f) {
            UnaryLoops.invSquare(out, outOff, x, xOff, n);
        } else {
            UnaryLoops.pow(out, outOff, x, xOff, p, n);
        }
    }

    /**
     * {@code out[outOff + i] = a[aOff + i*aStride] op b[bOff + i*bStride]} for {@code i < n}; each
     * stride is 0 or 1. MAX and MIN follow {@link Math#max} / {@link Math#min} (NaN wins, +0 &gt; -0),
     * POW follows {@link Math#pow}, computed as in {@link #powScalar}.
     */
    public static void binary(BinaryOp op, float[] out, int outOff, float[] a, int aOff, int aStride,
                              float[] b, int bOff, int bStride, int n) {
        SliceArgs.count("binary", "n", n);
        SliceArgs.slice("binary", "out", out.length, outOff, n);
        SliceArgs.strided("binary", "a", a.length, aOff, aStride, n);
        SliceArgs.strided("binary", "b", b.length, bOff, bStride, n);
        if (n == 0) {
            return;
        }
        if (Parallel.splitsElements(n)) {
            Parallel.forElements(n, (lo, hi) -> binaryRange(op, out, outOff + lo, a, aOff + lo * aStride, aStride, b,
                    bOff + lo * bStride, bStride, hi - lo));
        } else {
            binaryRange(op, out, outOff, a, aOff, aStride, b, bOff, bStride, n);
        }
    }

    private static void binaryRange(BinaryOp op, float[] out, int outOff, float[] a, int aOff, int aStride,
                                    float[] b, int bOff, int bStride, int n) {
        if (aStride == 1 && bStride == 1) {
            BinaryLoops.vv(op, out, outOff, a, aOff, b, bOff, n);
        } else if (aStride == 1) {
            BinaryLoops.vs(op, out, outOff, a, aOff, b[bOff], n);
        } else if (bStride == 1) {
            BinaryLoops.sv(op, out, outOff, a[aOff], b, bOff, n);
        } else {
            Arrays.fill(out, outOff, outOff + n, BinaryLoops.scalar(op, a[aOff], b[bOff]));
        }
    }

    /**
     * {@code out[outOff + i] = (a[aOff + i*aStride] op b[bOff + i*bStride]) ? 1 : 0} for
     * {@code i < n}; each stride is 0 or 1. Comparisons with NaN are false except NE, which is true.
     */
    public static void compare(CompareOp op, byte[] out, int outOff, float[] a, int aOff, int aStride,
                               float[] b, int bOff, int bStride, int n) {
        SliceArgs.count("compare", "n", n);
        SliceArgs.slice("compare", "out", out.length, outOff, n);
        SliceArgs.strided("compare", "a", a.length, aOff, aStride, n);
        SliceArgs.strided("compare", "b", b.length, bOff, bStride, n);
        MaskLoops.compare(op, out, outOff, a, aOff, aStride, b, bOff, bStride, n);
    }

    /**
     * {@code out[outOff + i] = cond[cOff + i*cStride] != 0 ? a[aOff + i*aStride] : b[bOff + i*bStride]}
     * for {@code i < n}; each stride is 0 or 1.
     */
    public static void where(float[] out, int outOff, byte[] cond, int cOff, int cStride, float[] a, int aOff,
                             int aStride, float[] b, int bOff, int bStride, int n) {
        SliceArgs.count("where", "n", n);
        SliceArgs.slice("where", "out", out.length, outOff, n);
        SliceArgs.strided("where", "cond", cond.length, cOff, cStride, n);
        SliceArgs.strided("where", "a", a.length, aOff, aStride, n);
        SliceArgs.strided("where", "b", b.length, bOff, bStride, n);
        if (n == 0) {
            return;
        }
        if (cStride == 1) {
            MaskLoops.where(out, outOff, cond, cOff, a, aOff, aStride, b, bOff, bStride, n);
            return;
        }
        boolean takeA = cond[cOff] != 0;
        float[] src = takeA ? a : b;
        int srcOff = takeA ? aOff : bOff;
        if ((takeA ? aStride : bStride) == 0) {
            Arrays.fill(out, outOff, outOff + n, src[srcOff]);
        } else {
            System.arraycopy(src, srcOff, out, outOff, n);
        }
    }

    /** {@code out[outOff + i] = value} for {@code i < n}. */
    public static void fill(float[] out, int outOff, float value, int n) {
        SliceArgs.count("fill", "n", n);
        SliceArgs.slice("fill", "out", out.length, outOff, n);
        if (Parallel.splitsElements(n)) {
            Parallel.forElements(n, (lo, hi) -> Arrays.fill(out, outOff + lo, outOff + hi, value));
        } else {
            Arrays.fill(out, outOff, outOff + n, value);
        }
    }

    /** {@code y[yOff + i] += alpha * x[xOff + i]} for {@code i < n} (one fused multiply-add each). */
    public static void axpy(float[] y, int yOff, float alpha, float[] x, int xOff, int n) {
        SliceArgs.count("axpy", "n", n);
        SliceArgs.slice("axpy", "y", y.length, yOff, n);
        SliceArgs.slice("axpy", "x", x.length, xOff, n);
        if (Parallel.splitsElements(n)) {
            Parallel.forElements(n, (lo, hi) -> axpyLoop(y, yOff + lo, alpha, x, xOff + lo, hi - lo));
        } else {
            axpyLoop(y, yOff, alpha, x, xOff, n);
        }
    }

    private static void axpyLoop(float[] y, int yOff, float alpha, float[] x, int xOff, int n) {
        FloatVector av = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xOff + i).fma(av, FloatVector.fromArray(F, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
        }
    }

    /** {@code out[outOff + i] = alpha * x[xOff + i] + beta} for {@code i < n} (one fused multiply-add each). */
    public static void scale(float[] out, int outOff, float[] x, int xOff, float alpha, float beta, int n) {
        SliceArgs.count("scale", "n", n);
        SliceArgs.slice("scale", "out", out.length, outOff, n);
        SliceArgs.slice("scale", "x", x.length, xOff, n);
        if (Parallel.splitsElements(n)) {
            Parallel.forElements(n, (lo, hi) -> scaleLoop(out, outOff + lo, x, xOff + lo, alpha, beta, hi - lo));
        } else {
            scaleLoop(out, outOff, x, xOff, alpha, beta, n);
        }
    }

    private static void scaleLoop(float[] out, int outOff, float[] x, int xOff, float alpha, float beta, int n) {
        int i = 0;
        for (int ub = Simd.loopBoundF(n); i < ub; i += L) {
            FloatVector.fromArray(F, x, xOff + i).fma(alpha, beta).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = Math.fma(alpha, x[xOff + i], beta);
        }
    }
}

package dev.kiln.kernels.ref;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.CompareOp;
import dev.kiln.kernels.UnaryOp;
import dev.kiln.kernels.cpu.SliceArgs;

/**
 * Double references of {@link dev.kiln.kernels.cpu.Elementwise}: same signatures over
 * {@code double[]}, same semantics (strides 0 or 1, broadcast values read before anything is
 * written, {@code =} except {@link #axpy}), one plain loop each.
 *
 * <pre>{@code
 * RefElementwise.unary(UnaryOp.GELU, y, 0, x, 0, n);
 * }</pre>
 */
public final class RefElementwise {
    private RefElementwise() {
    }

    /** {@code out[outOff + i] = f(x[xOff + i])} for {@code i < n}; see {@code Elementwise.unary}. */
    public static void unary(UnaryOp op, double[] out, int outOff, double[] x, int xOff, int n) {
        SliceArgs.count("unary", "n", n);
        SliceArgs.slice("unary", "out", out.length, outOff, n);
        SliceArgs.slice("unary", "x", x.length, xOff, n);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = unary(op, x[xOff + i]);
        }
    }

    /** One value of {@code op(v)}. */
    static double unary(UnaryOp op, double v) {
        return switch (op) {
            case NEG -> -v;
            case EXP -> Math.exp(v);
            case LOG -> Math.log(v);
            case SQRT -> Math.sqrt(v);
            case TANH -> Math.tanh(v);
            case SIGMOID -> v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
            case RELU -> v < 0 ? 0 : v;
            case GELU -> v * Erf.cdf(v);
            case GELU_GRAD -> Erf.cdf(v) + v * Erf.pdf(v);
            case ABS -> Math.abs(v);
            case SQUARE -> v * v;
            case RECIPROCAL -> 1 / v;
            case SIGN -> Math.signum(v);
        };
    }

    /**
     * {@code out[outOff + i] = x[xOff + i] ^ p} for {@code i < n}: {@link Math#pow}, except
     * {@code p = 0.5} is {@code sqrt(x)} and {@code p = -0.5} is {@code 1 / sqrt(x)}, as in the fp32 kernel.
     */
    public static void powScalar(double[] out, int outOff, double[] x, int xOff, double p, int n) {
        SliceArgs.count("powScalar", "n", n);
        SliceArgs.slice("powScalar", "out", out.length, outOff, n);
        SliceArgs.slice("powScalar", "x", x.length, xOff, n);
        for (int i = 0; i < n; i++) {
            double v = x[xOff + i];
            out[outOff + i] = p == 0.5 ? Math.sqrt(v) : p == -0.5 ? 1 / Math.sqrt(v) : Math.pow(v, p);
        }
    }

    /** {@code out[outOff + i] = a[aOff + i*aStride] op b[bOff + i*bStride]}; strides 0 or 1. */
    public static void binary(BinaryOp op, double[] out, int outOff, double[] a, int aOff, int aStride,
                              double[] b, int bOff, int bStride, int n) {
        SliceArgs.count("binary", "n", n);
        SliceArgs.slice("binary", "out", out.length, outOff, n);
        SliceArgs.strided("binary", "a", a.length, aOff, aStride, n);
        SliceArgs.strided("binary", "b", b.length, bOff, bStride, n);
        if (n == 0) {
            return;
        }
        double a0 = a[aOff];
        double b0 = b[bOff];
        for (int i = 0; i < n; i++) {
            double u = aStride == 0 ? a0 : a[aOff + i];
            double v = bStride == 0 ? b0 : b[bOff + i];
            out[outOff + i] = switch (op) {
                case ADD -> u + v;
                case SUB -> u - v;
                case MUL -> u * v;
                case DIV -> u / v;
                case MAX -> Math.max(u, v);
                case MIN -> Math.min(u, v);
                case POW -> Math.pow(u, v);
            };
        }
    }

    /** {@code out[outOff + i] = (a[aOff + i*aStride] op b[bOff + i*bStride]) ? 1 : 0}; strides 0 or 1. */
    public static void compare(CompareOp op, byte[] out, int outOff, double[] a, int aOff, int aStride,
                               double[] b, int bOff, int bStride, int n) {
        SliceArgs.count("compare", "n", n);
        SliceArgs.slice("compare", "out", out.length, outOff, n);
        SliceArgs.strided("compare", "a", a.length, aOff, aStride, n);
        SliceArgs.strided("compare", "b", b.length, bOff, bStride, n);
        for (int i = 0; i < n; i++) {
            double u = a[aOff + i * aStride];
            double v = b[bOff + i * bStride];
            boolean r = switch (op) {
                case EQ -> u == v;
                case NE -> u != v;
                case LT -> u < v;
                case LE -> u <= v;
                case GT -> u > v;
                case GE -> u >= v;
            };
            out[outOff + i] = r ? (byte) 1 : (byte) 0;
        }
    }

    /** {@code out[outOff + i] = cond[cOff + i*cStride] != 0 ? a[aOff + i*aStride] : b[bOff + i*bStride]}. */
    public static void where(double[] out, int outOff, byte[] cond, int cOff, int cStride, double[] a, int aOff,
                             int aStride, double[] b, int bOff, int bStride, int n) {
        SliceArgs.count("where", "n", n);
        SliceArgs.slice("where", "out", out.length, outOff, n);
        SliceArgs.strided("where", "cond", cond.length, cOff, cStride, n);
        SliceArgs.strided("where", "a", a.length, aOff, aStride, n);
        SliceArgs.strided("where", "b", b.length, bOff, bStride, n);
        if (n == 0) {
            return;
        }
        double a0 = a[aOff];
        double b0 = b[bOff];
        for (int i = 0; i < n; i++) {
            boolean c = cond[cOff + i * cStride] != 0;
            out[outOff + i] = c ? (aStride == 0 ? a0 : a[aOff + i]) : (bStride == 0 ? b0 : b[bOff + i]);
        }
    }

    /** {@code out[outOff + i] = value} for {@code i < n}. */
    public static void fill(double[] out, int outOff, double value, int n) {
        SliceArgs.count("fill", "n", n);
        SliceArgs.slice("fill", "out", out.length, outOff, n);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = value;
        }
    }

    /** {@code y[yOff + i] += alpha * x[xOff + i]} for {@code i < n}. */
    public static void axpy(double[] y, int yOff, double alpha, double[] x, int xOff, int n) {
        SliceArgs.count("axpy", "n", n);
        SliceArgs.slice("axpy", "y", y.length, yOff, n);
        SliceArgs.slice("axpy", "x", x.length, xOff, n);
        for (int i = 0; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    /** {@code out[outOff + i] = alpha * x[xOff + i] + beta} for {@code i < n}. */
    public static void scale(double[] out, int outOff, double[] x, int xOff, double alpha, double beta, int n) {
        SliceArgs.count("scale", "n", n);
        SliceArgs.slice("scale", "out", out.length, outOff, n);
        SliceArgs.slice("scale", "x", x.length, xOff, n);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = alpha * x[xOff + i] + beta;
        }
    }
}

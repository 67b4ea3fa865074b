package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.kernels.BinaryOp;
import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.UnaryOp;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Same inputs, same bits, on every call: each kernel runs hundreds of times in this JVM, first
 * interpreted (nothing warms it up before its first result is kept), then compiled by C1 and C2 as
 * its loops get hot, and every result must equal the first bit for bit (issue 3: a loss curve that
 * changed once the JIT replaced the Vector API's Java fallback with intrinsics). Elementwise results
 * must also equal the scalar twins of {@link VMath} / {@link VMathD} / {@link Gauss} lane by lane.
 */
class DeterminismTest {
    /**
     * Calls of a kernel whose loop covers the 4101 elements once: about 130 thousand vector
     * iterations, past the C2 (tier 4) thresholds (the kernels of the first commit changed their
     * bits within 400 calls); kernels with other loops scale it.
     */
    private static final int CALLS = 500;
    /** 4096 vector lanes and a tail. */
    private static final int N = 4096 + 5;

    private static float[] uniform(long seed, int n, double lo, double hi) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(lo, hi);
        }
        return a;
    }

    private static void assertStable(String what, int calls, Supplier<float[]> kernel) {
        float[] first = kernel.get();
        for (int call = 1; call < calls; call++) {
            float[] now = kernel.get();
            if (!Arrays.equals(first, now)) {
                int i = Arrays.mismatch(first, now);
                fail(what + ": call " + call + " changed element " + i + " from " + first[i] + " ("
                        + Integer.toHexString(Float.floatToIntBits(first[i])) + ") to " + now[i] + " ("
                        + Integer.toHexString(Float.floatToIntBits(now[i])) + ")");
            }
        }
    }

    private static float twin(UnaryOp op, float x) {
        return switch (op) {
            case EXP -> VMath.exp(x);
            case LOG -> VMath.log(x);
            case TANH -> VMath.tanh(x);
            case SIGMOID -> VMath.sigmoid(x);
            case GELU -> Gauss.gelu(x);
            case GELU_GRAD -> Gauss.geluGrad(x);
            default -> Float.NaN;
        };
    }

    @ParameterizedTest
    @EnumSource(value = UnaryOp.class, names = {"EXP", "LOG", "TANH", "SIGMOID", "GELU", "GELU_GRAD"})
    void unaryKeepsItsBitsAndEqualsTheScalarTwin(UnaryOp op) {
        float[] x = uniform(op.ordinal(), N, op == UnaryOp.LOG ? 1e-3 : -12, 12);
        x[7] = op == UnaryOp.LOG ? 0f : -120f;
        float[] out = new float[N];
        assertStable(op.name(), CALLS, () -> {
            Elementwise.unary(op, out, 0, x, 0, N);
            return out.clone();
        });
        for (int i = 0; i < N; i++) {
            int k = i;
            assertEquals(Float.floatToIntBits(twin(op, x[i])), Float.floatToIntBits(out[i]),
                    () -> op + "(" + x[k] + ")");
        }
    }

    @Test
    void powKeepsItsBits() {
        float[] x = uniform(20, N, 0.01, 4);
        float[] p = uniform(21, N, -3, 3);
        float[] out = new float[N];
        assertStable("pow", CALLS / 2, () -> {
            Elementwise.binary(BinaryOp.POW, out, 0, x, 0, 1, p, 0, 1, N);
            return out.clone();
        });
        float[] pw = out.clone();
        assertStable("powScalar", CALLS / 10, () -> {
            Elementwise.powScalar(out, 0, x, 0, 1.7f, N);
            return out.clone();
        });
        for (int i = 0; i < N; i++) {
            int k = i;
            assertEquals(Float.floatToIntBits(VMathD.pow(x[i], p[i])), Float.floatToIntBits(pw[i]),
                    () -> "pow(" + x[k] + ", " + p[k] + ")");
        }
    }

    @Test
    void softmaxOverRowsKeepsItsBits() {
        int rows = 16;
        int n = N / rows;
        float[] x = uniform(30, rows * n, -20, 20);
        float[] gy = uniform(31, rows * n, -1, 1);
        float[] out = new float[rows * n];
        float[] y = new float[rows * n];
        Softmax.softmax(y, 0, x, 0, rows, n, 1);
        assertStable("softmax rows", 2 * CALLS / 3, () -> {
            Softmax.softmax(out, 0, x, 0, rows, n, 1);
            return out.clone();
        });
        assertStable("logSoftmax rows", 2 * CALLS / 3, () -> {
            Softmax.logSoftmax(out, 0, x, 0, rows, n, 1);
            return out.clone();
        });
        assertStable("softmaxBackward rows", 2 * CALLS / 3, () -> {
            Softmax.softmaxBackward(out, 0, y, 0, gy, 0, rows, n, 1);
            return out.clone();
        });
        assertStable("logSoftmaxBackward rows", 2 * CALLS / 3, () -> {
            Softmax.logSoftmaxBackward(out, 0, x, 0, gy, 0, rows, n, 1);
            return out.clone();
        });
    }

    @Test
    void softmaxOverColumnsKeepsItsBits() {
        int n = 10;
        int inner = N / n;
        float[] x = uniform(40, n * inner, -20, 20);
        float[] gy = uniform(41, n * inner, -1, 1);
        float[] out = new float[n * inner];
        assertStable("softmax columns", CALLS / 3, () -> {
            Softmax.softmax(out, 0, x, 0, 1, n, inner);
            return out.clone();
        });
        assertStable("logSoftmax columns", CALLS / 3, () -> {
            Softmax.logSoftmax(out, 0, x, 0, 1, n, inner);
            return out.clone();
        });
        assertStable("logSoftmaxBackward columns", CALLS / 3, () -> {
            Softmax.logSoftmaxBackward(out, 0, x, 0, gy, 0, 1, n, inner);
            return out.clone();
        });
    }

    @Test
    void reductionsKeepTheirBits() {
        int rows = 8;
        int n = N / rows;
        float[] x = uniform(50, rows * n, -3, 3);
        float[] out = new float[rows];
        float[] all = new float[1];
        long[] at = new long[rows];
        assertStable("sum rows", 2 * CALLS / 3, () -> {
            Reduce.sum(out, 0, x, 0, rows, n, 1);
            return out.clone();
        });
        assertStable("sum all", 2 * CALLS / 3, () -> {
            Reduce.sum(all, 0, x, 0, 1, x.length, 1);
            double s = Reduce.sumAll(x, 0, x.length);
            return new float[] {all[0], (float) s, (float) (s - (float) s)};
        });
        assertStable("max and argmax rows", 2 * CALLS / 3, () -> {
            Reduce.max(out, 0, x, 0, rows, n, 1);
            Reduce.argmin(at, 0, x, 0, rows, n, 1);
            float[] r = Arrays.copyOf(out, 2 * rows);
            for (int i = 0; i < rows; i++) {
                r[rows + i] = at[i];
            }
            return r;
        });
    }

    @Test
    void smallGemmWithTransposedOperandKeepsItsBits() {
        // m <= 8 with B transposed takes the dot-product path (GemmDot), whose lane sums once used
        // reduceLanes: 5 x 13 x 1027 has full 4 x 4 blocks, 1 x 4 edges and a k tail.
        int m = 5;
        int n = 13;
        int k = 1027;
        float[] a = uniform(60, m * k, -1, 1);
        float[] b = uniform(61, n * k, -1, 1);
        float[] c = new float[m * n];
        assertStable("sgemm NT 5x13x1027", CALLS, () -> {
            Gemm.sgemm(false, c, 0, n, false, a, 0, k, true, b, 0, k, m, n, k);
            return c.clone();
        });
        float[] at = uniform(62, k * m, -1, 1);
        assertStable("sgemm TT 5x13x1027", CALLS, () -> {
            Gemm.sgemm(false, c, 0, n, true, at, 0, m, true, b, 0, k, m, n, k);
            return c.clone();
        });
    }

    @Test
    void convBiasGradientKeepsItsBits() {
        ConvGeom g = new ConvGeom(4, 3, 12, 12, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        float[] x = uniform(70, 4 * 3 * 12 * 12, -1, 1);
        float[] gy = uniform(71, 4 * 5 * 12 * 12, -1, 1);
        float[] gw = new float[5 * 3 * 3 * 3];
        float[] gb = new float[5];
        assertStable("conv2d weight and bias gradients", CALLS, () -> {
            Conv.conv2dBackwardWeight(gw, gb, x, gy, g);
            float[] r = Arrays.copyOf(gw, gw.length + gb.length);
            System.arraycopy(gb, 0, r, gw.length, gb.length);
            return r;
        });
    }

    @Test
    void linearEpiloguesKeepTheirBits() {
        // The packed path with bias and ReLU in the store (an edge strip of 12 columns through the
        // scalar copy), the ReLU gradient and the bias gradient's column sums.
        int m = 16;
        int n = 44;
        int k = 37;
        float[] x = uniform(80, m * k, -1, 1);
        float[] w = uniform(81, n * k, -1, 1);
        float[] bias = uniform(82, n, -1, 1);
        float[] y = new float[m * n];
        float[] gy = uniform(83, m * n, -1, 1);
        float[] gz = new float[m * n];
        float[] gb = new float[n];
        assertStable("sgemmBias + reluBackward + columnSums 16x44x37", 4 * CALLS, () -> {
            Gemm.sgemmBias(true, y, 0, n, false, x, 0, k, true, w, 0, k, bias, 0, m, n, k);
            GemmEpilogue.reluBackward(gz, 0, gy, 0, y, 0, m * n);
            GemmEpilogue.columnSums(gb, 0, gz, 0, n, m, n);
            float[] r = Arrays.copyOf(y, 2 * m * n + n);
            System.arraycopy(gz, 0, r, m * n, m * n);
            System.arraycopy(gb, 0, r, 2 * m * n, n);
            return r;
        });
    }
}

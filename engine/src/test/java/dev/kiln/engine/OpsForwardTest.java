package dev.kiln.engine;

import static dev.kiln.engine.EngineAsserts.F32_TOL;
import static dev.kiln.engine.EngineAsserts.assertClose;
import static dev.kiln.engine.EngineAsserts.assertThrowsWith;
import static dev.kiln.engine.EngineAsserts.assertValues;
import static dev.kiln.engine.EngineAsserts.d;
import static dev.kiln.engine.EngineAsserts.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Forward values of the op set on small hand-computed cases, and the errors ops raise. */
class OpsForwardTest {

    private static Tensor f32(int[] shape, double... v) {
        float[] a = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            a[i] = (float) v[i];
        }
        return Tensors.of(a, shape);
    }

    private static Tensor f64(int[] shape, double... v) {
        return Tensors.of(v, shape);
    }

    private static Tensor i64(int[] shape, long... v) {
        return Tensors.of(v, shape);
    }

    private static void assertBool(String what, Tensor t, int[] shape, long... expected) {
        assertEquals(DType.BOOL, t.dtype(), what + ": dtype");
        assertArrayEquals(shape, t.shape(), what + ": shape");
        assertArrayEquals(expected, t.toLongArray(), what);
    }

    /** Reference batched matmul over [B, m, k] x [B, k, n] double arrays. */
    private static double[] refBmm(double[] a, double[] b, int batch, int m, int k, int n) {
        double[] c = new double[batch * m * n];
        for (int t = 0; t < batch; t++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        acc += a[(t * m + i) * k + p] * b[(t * k + p) * n + j];
                    }
                    c[(t * m + i) * n + j] = acc;
                }
            }
        }
        return c;
    }

    // ------------------------------------------------------------------ elementwise

    @Test
    void binaryOpsWithBroadcasting() {
        Tensor a = f32(s(2, 3), 1, 2, 3, 4, 5, 6);
        Tensor b = f32(s(3), 10, 20, 30);
        assertValues("[2,3] + [3]", a.add(b), s(2, 3), d(11, 22, 33, 14, 25, 36), 0);
        assertValues("[3] - [2,3]", b.sub(a), s(2, 3), d(9, 18, 27, 6, 15, 24), 0);
        assertValues("[2,3] / [3]", a.div(b), s(2, 3), d(0.1, 0.1, 0.1, 0.4, 0.25, 0.2), F32_TOL);
        Tensor col = f32(s(2, 1), 1, 2);
        Tensor row = f32(s(1, 3), 3, 4, 5);
        assertValues("[2,1] * [1,3]", col.mul(row), s(2, 3), d(3, 4, 5, 6, 8, 10), 0);
        assertValues("maximum", a.maximum(f32(s(2, 1), 2.5, 5.5)), s(2, 3), d(2.5, 2.5, 3, 5.5, 5.5, 6), 0);
        assertValues("minimum", a.minimum(b.div(10)), s(2, 3), d(1, 2, 3, 1, 2, 3), 0);
        assertValues("pow(tensor)", f64(s(3), 2, 3, 4).pow(f64(s(3), 3, 2, 0.5)), s(3), d(8, 9, 2), 1e-12);
        assertValues("[4,1,3] + [2,1]", Tensors.zeros(4, 1, 3).add(col), s(4, 2, 3), new double[] {
            1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2}, 0);
    }

    @Test
    void scalarOps() {
        Tensor a = f32(s(3), 1, 2, 4);
        assertValues("add(0.5)", a.add(0.5), s(3), d(1.5, 2.5, 4.5), 0);
        assertValues("sub(1)", a.sub(1), s(3), d(0, 1, 3), 0);
        assertValues("mul(-2)", a.mul(-2), s(3), d(-2, -4, -8), 0);
        assertValues("div(4)", a.div(4), s(3), d(0.25, 0.5, 1), 0);
        assertValues("0-d + [3]", Tensors.scalar(1).add(a), s(3), d(2, 3, 5), 0);
        assertValues("0-d * 0-d", Tensors.scalar(3).mul(Tensors.scalar(2)), new int[0], d(6), 0);
    }

    @Test
    void unaryOps() {
        Tensor x = f64(s(4), -1, 0, 1, 2);
        double e = Math.E;
        assertValues("neg", x.neg(), s(4), d(1, -0.0, -1, -2), 0);
        assertValues("exp", x.exp(), s(4), d(1 / e, 1, e, e * e), 1e-12);
        assertValues("log", f64(s(3), 1, e, 0.5).log(), s(3), d(0, 1, Math.log(0.5)), 1e-12);
        assertValues("sqrt", f64(s(3), 0, 4, 2.25).sqrt(), s(3), d(0, 2, 1.5), 1e-12);
        assertValues("tanh", x.tanh(), s(4), d(-0.7615941559557649, 0, 0.7615941559557649, 0.9640275800758169), 1e-12);
        assertValues("sigmoid", x.sigmoid(), s(4), d(0.2689414213699951, 0.5, 0.7310585786300049, 0.8807970779778823), 1e-12);
        assertValues("relu", x.relu(), s(4), d(0, 0, 1, 2), 0);
        assertValues("gelu (erf form)", x.gelu(), s(4), d(-0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416), 1e-9);
        assertValues("abs", x.abs(), s(4), d(1, 0, 1, 2), 0);
        assertValues("square", x.square(), s(4), d(1, 0, 1, 4), 0);
        assertValues("reciprocal", f64(s(3), -2, 0.5, 4).reciprocal(), s(3), d(-0.5, 2, 0.25), 1e-12);
        assertValues("sign", f64(s(3), -3, 0, 0.1).sign(), s(3), d(-1, 0, 1), 0);
        assertValues("pow(3)", x.pow(3), s(4), d(-1, 0, 1, 8), 1e-12);
        assertValues("pow(0.5)", f64(s(2), 4, 9).pow(0.5), s(2), d(2, 3), 1e-12);
        assertValues("pow(-1.5)", f64(s(1), 4).pow(-1.5), s(1), d(0.125), 1e-12);
    }

    @Test
    void f32UnaryOpsAgreeWithF64() {
        Tensor x64 = Tensors.uniform(new Generator(2), DType.F64, -3, 3, 37);
        Tensor x32 = x64.to(DType.F32);
        String[] names = {"neg", "exp", "tanh", "sigmoid", "relu", "gelu", "abs", "square"};
        java.util.List<java.util.function.UnaryOperator<Tensor>> ops = java.util.List.of(
                Tensor::neg, Tensor::exp, Tensor::tanh, Tensor::sigmoid, Tensor::relu, Tensor::gelu, Tensor::abs, Tensor::square);
        for (int i = 0; i < names.length; i++) {
            // fp32 kernels (vectorized approximations) against the double reference: 1e-5 relative plus a small absolute term
            assertClose(names[i] + " F32 vs F64 on 37 values", ops.get(i).apply(x32).toDoubleArray(),
                    ops.get(i).apply(x64).toDoubleArray(), 2e-5, 2e-5);
        }
    }

    @Test
    void opsOnStridedViews() {
        Tensor m = f32(s(2, 3), 1, 2, 3, 4, 5, 6);
        assertValues("t() + [2]", m.t().add(f32(s(2), 10, 20)), s(3, 2), d(11, 24, 12, 25, 13, 26), 0);
        assertValues("log of a narrow view", m.narrow(1, 1, 1).log(), s(2, 1), d(Math.log(2), Math.log(5)), F32_TOL);
        assertValues("t() * t()", m.t().mul(m.t()), s(3, 2), d(1, 16, 4, 25, 9, 36), 0);
    }

    @Test
    void comparisonsGiveBool() {
        Tensor a = f32(s(3), 1, 2, 3);
        Tensor b = f32(s(3), 3, 2, 1);
        assertBool("lt", a.lt(b), s(3), 1, 0, 0);
        assertBool("le", a.le(b), s(3), 1, 1, 0);
        assertBool("gt", a.gt(b), s(3), 0, 0, 1);
        assertBool("ge", a.ge(b), s(3), 0, 1, 1);
        assertBool("eq", a.eq(b), s(3), 0, 1, 0);
        assertBool("ne", a.ne(b), s(3), 1, 0, 1);
        assertBool("gt(2) scalar", a.gt(2), s(3), 0, 0, 1);
        assertBool("[2,1] < [3]", f32(s(2, 1), 1.5, 2.5).lt(a), s(2, 3), 0, 1, 1, 0, 0, 1);
        assertBool("I64 eq", i64(s(3), 1, 5, 7).eq(i64(s(3), 1, 4, 7)), s(3), 1, 0, 1);
    }

    @Test
    void whereAndClamp() {
        Tensor mask = Tensors.ofBool(new boolean[] {true, false, true}, 3);
        Tensor a = f32(s(3), 1, 2, 3);
        Tensor b = f32(s(3), 10, 20, 30);
        assertValues("where", mask.where(a, b), s(3), d(1, 20, 3), 0);
        Tensor m2 = Tensors.ofBool(new boolean[] {true, false}, 2, 1);
        assertValues("where broadcast [2,1] ? [3] : []", m2.where(a, Tensors.scalar(-1)), s(2, 3), d(1, 2, 3, -1, -1, -1), 0);
        assertThrowsWith(IllegalArgumentException.class, () -> a.where(a, b), "where", "BOOL", "F32");
        assertValues("clamp", f32(s(4), -2, 0.5, 3, 1).clamp(0, 1), s(4), d(0, 0.5, 1, 1), 0);
        assertThrowsWith(IllegalArgumentException.class, () -> a.clamp(1, 0), "clamp", "lo <= hi");
    }

    // ------------------------------------------------------------------ reductions

    @Test
    void sumAndMeanOverDims() {
        Tensor x = f32(s(2, 3), 1, 5, 3, 4, 2, 6);
        assertValues("sum()", x.sum(), new int[0], d(21), 0);
        assertValues("sum(0)", x.sum(0, false), s(3), d(5, 7, 9), 0);
        assertValues("sum(1)", x.sum(1, false), s(2), d(9, 12), 0);
        assertValues("sum(1, keepdim)", x.sum(1, true), s(2, 1), d(9, 12), 0);
        assertValues("sum(-1)", x.sum(-1, false), s(2), d(9, 12), 0);
        assertValues("sum({0,1}, keepdim)", x.sum(s(0, 1), true), s(1, 1), d(21), 0);
        assertValues("mean()", x.mean(), new int[0], d(3.5), 0);
        assertValues("mean(0)", x.mean(0, false), s(3), d(2.5, 3.5, 4.5), 0);
        assertValues("mean(1, keepdim)", x.mean(1, true), s(2, 1), d(3, 4), 0);
        Tensor y = Tensors.arange(DType.F64, 0, 24, 1).reshape(2, 3, 4);
        assertValues("sum({0,2})", y.sum(s(0, 2), false), s(3), d(60, 92, 124), 0);
        assertValues("sum({2,0}, keepdim)", y.sum(s(2, 0), true), s(1, 3, 1), d(60, 92, 124), 0);
        assertValues("mean over dims of a transposed view", y.transpose(0, 2).mean(s(1, 2), false), s(4), d(10, 11, 12, 13), 1e-12);
        assertThrowsWith(IllegalArgumentException.class, () -> x.sum(s(1, -1), false), "sum", "twice");
        assertThrowsWith(IllegalArgumentException.class, () -> x.sum(2, false), "sum", "dim out of range", "2");
    }

    @Test
    void maxMinArgmaxArgmin() {
        Tensor x = f32(s(2, 3), 1, 5, 3, 4, 2, 6);
        assertValues("max()", x.max(), new int[0], d(6), 0);
        assertValues("min()", x.min(), new int[0], d(1), 0);
        assertValues("max(1)", x.max(1, false), s(2), d(5, 6), 0);
        assertValues("max(0, keepdim)", x.max(0, true), s(1, 3), d(4, 5, 6), 0);
        assertValues("min(1)", x.min(1, false), s(2), d(1, 2), 0);
        assertValues("min(0)", x.min(0, false), s(3), d(1, 2, 3), 0);
        Tensor am = x.argmax(1, false);
        assertEquals(DType.I64, am.dtype());
        assertArrayEquals(new long[] {1, 2}, am.toLongArray());
        assertArrayEquals(new long[] {1, 0, 1}, x.argmax(0, false).toLongArray());
        assertArrayEquals(new long[] {0, 1}, x.argmin(1, false).toLongArray());
        assertArrayEquals(new long[] {0, 1, 0}, x.argmin(0, false).toLongArray());
        assertArrayEquals(s(2, 1), x.argmax(-1, true).shape());
        assertArrayEquals(new long[] {2, 0}, i64(s(2, 3), 1, 2, 9, 7, 3, 3).argmax(1, false).toLongArray(), "argmax of I64");
        assertArrayEquals(new long[] {1}, f32(s(3), 1, 7, 7).argmax(0, false).toLongArray(), "argmax takes the first of ties");
    }

    @Test
    void varianceBiasedAndUnbiased() {
        Tensor x = f64(s(2, 3), 1, 5, 3, 4, 2, 6);
        assertValues("var() unbiased", x.var(), new int[0], d(3.5), 1e-12);
        assertValues("var(all, biased)", x.var(null, false, false), new int[0], d(17.5 / 6), 1e-12);
        assertValues("var(1, unbiased)", x.var(s(1), true, false), s(2), d(4, 4), 1e-12);
        assertValues("var(1, biased, keepdim)", x.var(s(1), false, true), s(2, 1), d(8.0 / 3, 8.0 / 3), 1e-12);
        assertValues("var(0, unbiased)", x.var(s(0), true, false), s(3), d(4.5, 4.5, 4.5), 1e-12);
        assertThrowsWith(IllegalArgumentException.class, () -> f64(s(2, 1), 1, 2).var(s(1), true, false), "var", "at least 2");
    }

    // ------------------------------------------------------------------ matmul

    @Test
    void matmulOneAndTwoDims() {
        Tensor a = f32(s(2, 3), 1, 2, 3, 4, 5, 6);
        Tensor b = f32(s(3, 2), 7, 8, 9, 10, 11, 12);
        assertValues("[2,3] x [3,2]", a.matmul(b), s(2, 2), d(58, 64, 139, 154), 0);
        assertValues("[3] . [3]", f32(s(3), 1, 2, 3).matmul(f32(s(3), 4, 5, 6)), new int[0], d(32), 0);
        assertValues("[2] x [2,3]", f32(s(2), 1, 2).matmul(a), s(3), d(9, 12, 15), 0);
        assertValues("[2,3] x [3]", a.matmul(f32(s(3), 1, 0, -1)), s(2), d(-2, -2), 0);
        assertValues("F64 [2,3] x [3,2]", a.to(DType.F64).matmul(b.to(DType.F64)), s(2, 2), d(58, 64, 139, 154), 0);
    }

    @Test
    void matmulTransposedViewOperands() {
        Tensor a = f32(s(2, 3), 1, 2, 3, 4, 5, 6);
        Tensor b = f32(s(3, 2), 7, 8, 9, 10, 11, 12);
        // a^T a: [3,3]
        assertValues("a.t() x a", a.t().matmul(a), s(3, 3), d(17, 22, 27, 22, 29, 36, 27, 36, 45), 0);
        // a b^T^T == a b, with both operands as views
        assertValues("a x b.t().t()", a.matmul(b.t().t()), s(2, 2), d(58, 64, 139, 154), 0);
        // b^T a^T = (a b)^T
        assertValues("b.t() x a.t()", b.t().matmul(a.t()), s(2, 2), d(58, 139, 64, 154), 0);
        assertValues("F64 b.t() x a.t()", b.to(DType.F64).t().matmul(a.to(DType.F64).t()), s(2, 2), d(58, 139, 64, 154), 0);
        // a narrow view with a leading dim larger than its row length
        Tensor wide = f32(s(2, 4), 1, 2, 3, 99, 4, 5, 6, 99);
        assertValues("narrow(1,0,3) x b", wide.narrow(1, 0, 3).matmul(b), s(2, 2), d(58, 64, 139, 154), 0);
        assertValues("b.t() x narrow(1,0,3).t()", b.t().matmul(wide.narrow(1, 0, 3).t()), s(2, 2), d(58, 139, 64, 154), 0);
        Tensor cols = f32(s(3, 2), 1, 9, 0, 9, -1, 9);
        assertValues("a x a strided 1-D column", a.matmul(cols.select(1, 0)), s(2), d(-2, -2), 0);
        assertValues("strided 1-D row x b", cols.select(1, 1).matmul(b), s(2), d(243, 270), 0);
    }

    @Test
    void matmulBatchedAndBroadcast() {
        Generator g = new Generator(3);
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            // fp32 GEMM sums of 3-5 products of values in [-1, 1): error well under 1e-5
            double tol = dt == DType.F32 ? 1e-5 : 1e-12;
            Tensor x = Tensors.uniform(g, dt, -1, 1, 2, 3, 4);
            Tensor y = Tensors.uniform(g, dt, -1, 1, 2, 4, 5);
            assertValues(dt + " batched [2,3,4] x [2,4,5]", x.matmul(y), s(2, 3, 5),
                    refBmm(x.toDoubleArray(), y.toDoubleArray(), 2, 3, 4, 5), tol);
            Tensor xt = Tensors.uniform(g, dt, -1, 1, 2, 4, 3);
            assertValues(dt + " batched transposed view [2,4,3]^T x [2,4,5]", xt.transpose(1, 2).matmul(y), s(2, 3, 5),
                    refBmm(xt.transpose(1, 2).contiguous().toDoubleArray(), y.toDoubleArray(), 2, 3, 4, 5), tol);
            Tensor xp = Tensors.uniform(g, dt, -1, 1, 3, 2, 4).permute(1, 0, 2);
            assertValues(dt + " batched operand with permuted batch dim", xp.matmul(y), s(2, 3, 5),
                    refBmm(xp.contiguous().toDoubleArray(), y.toDoubleArray(), 2, 3, 4, 5), tol);
            Tensor w = Tensors.uniform(g, dt, -1, 1, 4, 5);
            double[] wd = w.toDoubleArray();
            double[] w2 = new double[40];
            System.arraycopy(wd, 0, w2, 0, 20);
            System.arraycopy(wd, 0, w2, 20, 20);
            assertValues(dt + " [2,3,4] x [4,5]", x.matmul(w), s(2, 3, 5), refBmm(x.toDoubleArray(), w2, 2, 3, 4, 5), tol);
            Tensor v = Tensors.uniform(g, dt, -1, 1, 3, 4);
            double[] vd = v.toDoubleArray();
            double[] v2 = new double[24];
            System.arraycopy(vd, 0, v2, 0, 12);
            System.arraycopy(vd, 0, v2, 12, 12);
            assertValues(dt + " [3,4] x [2,4,5]", v.matmul(y), s(2, 3, 5), refBmm(v2, y.toDoubleArray(), 2, 3, 4, 5), tol);
            // [2,1,3,4] x [3,4,2] -> [2,3,3,2]: batch dims broadcast
            Tensor p = Tensors.uniform(g, dt, -1, 1, 2, 1, 3, 4);
            Tensor q = Tensors.uniform(g, dt, -1, 1, 3, 4, 2);
            Tensor pq = p.matmul(q);
            assertArrayEquals(s(2, 3, 3, 2), pq.shape());
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    assertValues(dt + " broadcast batch [" + i + "," + j + "]", pq.select(0, i).select(0, j), s(3, 2),
                            refBmm(p.select(0, i).select(0, 0).contiguous().toDoubleArray(),
                                    q.select(0, j).contiguous().toDoubleArray(), 1, 3, 4, 2), tol);
                }
            }
        }
    }

    @Test
    void matmulErrors() {
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.zeros(32, 784).matmul(Tensors.zeros(300, 784)),
                "matmul: inner dims differ: [32, 784] x [300, 784]");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.zeros(2, 3).matmul(Tensors.zeros(DType.F64, 3, 2)),
                "matmul", "F32", "F64");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.zeros(2, 2, 3).matmul(Tensors.zeros(3, 3, 4)),
                "matmul", "[2]", "[3]");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.scalar(1).matmul(Tensors.zeros(2)), "matmul", "at least one dim");
    }

    // ------------------------------------------------------------------ softmax

    @Test
    void softmaxAndLogSoftmaxRows() {
        Tensor x = f32(s(2, 3), 1, 2, 3, 1, 1, 1);
        double[] row = {0.09003057317038046, 0.24472847105479764, 0.6652409557748219};
        double third = 1.0 / 3;
        assertValues("softmax(1)", x.softmax(1), s(2, 3), d(row[0], row[1], row[2], third, third, third), F32_TOL);
        assertValues("softmax(-1)", x.softmax(-1), s(2, 3), d(row[0], row[1], row[2], third, third, third), F32_TOL);
        double l3 = Math.log(third);
        assertValues("logSoftmax(1)", x.logSoftmax(1), s(2, 3),
                d(-2.4076059644443806, -1.4076059644443806, -0.4076059644443806, l3, l3, l3), F32_TOL);
        double s1 = 1 / (1 + Math.exp(-1));
        double s2 = 1 / (1 + Math.exp(-2));
        assertValues("softmax(0)", x.softmax(0), s(2, 3), d(0.5, s1, s2, 0.5, 1 - s1, 1 - s2), F32_TOL);
        assertValues("softmax of large values is stable", f32(s(2), 1000, 1000).softmax(0), s(2), d(0.5, 0.5), 0);
        assertValues("logSoftmax of large gaps is finite", f64(s(2), 0, 1000).logSoftmax(0), s(2), d(-1000, 0), 1e-12);
        assertValues("softmax of a transposed view", x.t().softmax(0), s(3, 2), d(row[0], third, row[1], third, row[2], third), F32_TOL);
    }

    // ------------------------------------------------------------------ conv and pooling

    @Test
    void conv2dHandComputed() {
        Tensor x = Tensors.arange(DType.F32, 1, 10, 1).reshape(1, 1, 3, 3);
        Tensor w = f32(s(1, 1, 2, 2), 1, 2, 3, 4);
        assertValues("conv2d 3x3 * 2x2 + bias", Functional.conv2d(x, w, f32(s(1), 1), 1, 0), s(1, 1, 2, 2), d(38, 48, 68, 78), 0);
        assertValues("conv2d stride 2 padding 1", Functional.conv2d(x, w, null, 2, 1), s(1, 1, 2, 2), d(4, 18, 36, 77), 0);
        Tensor x64 = x.to(DType.F64);
        assertValues("F64 conv2d stride 2 padding 1", Functional.conv2d(x64, w.to(DType.F64), null, 2, 1), s(1, 1, 2, 2),
                d(4, 18, 36, 77), 0);
        // two input channels, 1x1 kernel [1, -1]: x0 - x1
        Tensor x2 = Functional.cat(1, x, Tensors.ones(1, 1, 3, 3));
        Tensor w2 = f32(s(1, 2, 1, 1), 1, -1);
        assertValues("conv2d 1x1 over 2 channels", Functional.conv2d(x2, w2, null, 1, 0), s(1, 1, 3, 3), d(0, 1, 2, 3, 4, 5, 6, 7, 8), 0);
        // a CHW input gives a CHW output
        assertValues("conv2d of [C,H,W]", Functional.conv2d(x.squeeze(0), w, null, 1, 0), s(1, 2, 2), d(37, 47, 67, 77), 0);
        // dilation 2 of a 2x2 kernel over 3x3 touches the corners only: 1*1 + 2*3 + 3*7 + 4*9
        assertValues("conv2d dilation 2", Functional.conv2d(x, w, null, s(1), s(0), s(2), 1), s(1, 1, 1, 1), d(64), 0);
        // groups 2: each output channel sees its own input channel
        Tensor wg = f32(s(2, 1, 1, 1), 2, 3);
        assertValues("conv2d groups 2", Functional.conv2d(x2, wg, null, s(1), s(0), s(1), 2).sum(s(2, 3), false), s(1, 2),
                d(2 * 45, 3 * 9), 0);
    }

    @Test
    void conv2dF32AgreesWithF64() {
        Generator g = new Generator(9);
        Tensor x = Tensors.uniform(g, DType.F64, -1, 1, 2, 4, 7, 6);
        Tensor w = Tensors.uniform(g, DType.F64, -1, 1, 6, 2, 3, 3);
        Tensor b = Tensors.uniform(g, DType.F64, -1, 1, 6);
        int[] st = s(2, 1);
        int[] pd = s(1, 2);
        int[] dl = s(1, 2);
        Tensor y64 = Functional.conv2d(x, w, b, st, pd, dl, 2);
        Tensor y32 = Functional.conv2d(x.to(DType.F32), w.to(DType.F32), b.to(DType.F32), st, pd, dl, 2);
        // sums of 18 products of values in [-1, 1) in fp32
        assertValues("conv2d F32 vs F64", y32, y64.shape(), y64.toDoubleArray(), 1e-5);
    }

    @Test
    void maxAndAvgPooling() {
        Tensor x = Tensors.arange(DType.F32, 1, 17, 1).reshape(1, 1, 4, 4);
        assertValues("maxPool2d(2)", Functional.maxPool2d(x, 2), s(1, 1, 2, 2), d(6, 8, 14, 16), 0);
        assertValues("avgPool2d(2)", Functional.avgPool2d(x, 2), s(1, 1, 2, 2), d(3.5, 5.5, 11.5, 13.5), 0);
        assertValues("maxPool2d k3 s2 p1", Functional.maxPool2d(x, s(3), s(2), s(1), s(1), false), s(1, 1, 2, 2), d(6, 8, 14, 16), 0);
        Tensor incl = Functional.avgPool2d(x, s(2), s(2), s(1), false, true);
        assertValues("avgPool2d k2 s2 p1 countIncludePad", incl, s(1, 1, 3, 3), d(0.25, 1.25, 1, 3.5, 8.5, 5, 3.25, 7.25, 4), 0);
        Tensor excl = Functional.avgPool2d(x, s(2), s(2), s(1), false, false);
        assertValues("avgPool2d k2 s2 p1 excluding pad", excl, s(1, 1, 3, 3), d(1, 2.5, 4, 7, 8.5, 10, 13, 14.5, 16), 0);
        Tensor x5 = Tensors.arange(DType.F64, 1, 26, 1).reshape(1, 5, 5);
        assertValues("avgPool2d ceilMode on 5x5", Functional.avgPool2d(x5, s(2), null, s(0), true, true), s(1, 3, 3),
                d(4, 6, 7.5, 14, 16, 17.5, 21.5, 23.5, 25), 1e-12);
        assertValues("maxPool2d ceilMode on 5x5", Functional.maxPool2d(x5, s(2), null, s(0), s(1), true), s(1, 3, 3),
                d(7, 9, 10, 17, 19, 20, 22, 24, 25), 0);
        assertValues("avgPool2d floor mode on 5x5", Functional.avgPool2d(x5, 2), s(1, 2, 2), d(4, 6, 14, 16), 0);
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.maxPool2d(x, s(2), null, s(2), s(1), false),
                "maxPool2d", "padding", "half");
    }

    @Test
    void adaptiveAvgPooling() {
        Tensor x = Tensors.arange(DType.F32, 1, 10, 1).reshape(1, 1, 3, 3);
        assertValues("adaptiveAvgPool2d 3x3 -> 2x2", Functional.adaptiveAvgPool2d(x, 2, 2), s(1, 1, 2, 2), d(3, 4, 6, 7), F32_TOL);
        assertValues("adaptiveAvgPool2d 3x3 -> 1x1", Functional.adaptiveAvgPool2d(x, 1, 1), s(1, 1, 1, 1), d(5), F32_TOL);
        assertValues("adaptiveAvgPool2d 3x3 -> 3x1", Functional.adaptiveAvgPool2d(x, 3, 1), s(1, 1, 3, 1), d(2, 5, 8), F32_TOL);
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.adaptiveAvgPool2d(x, 0, 1), "adaptiveAvgPool2d", "0x1");
    }

    // ------------------------------------------------------------------ dropout

    @Test
    void dropoutIdentityCases() {
        Tensor x = Tensors.randn(new Generator(0), 10);
        assertSame(x, Functional.dropout(x, 0, true, new Generator(1)), "p = 0 is the identity");
        assertSame(x, Functional.dropout(x, 0.5, false, new Generator(1)), "eval mode is the identity");
        assertValues("p = 1 zeroes everything", Functional.dropout(x, 1, true, new Generator(1)), s(10), new double[10], 0);
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.dropout(x, 1.5, true, new Generator(1)), "dropout", "1.5");
    }

    @Test
    void dropoutTrainingScalesKeptValuesAndDropsAboutP() {
        int n = 10_000;
        double p = 0.3;
        Tensor x = Tensors.full(2, n);
        float[] y = Functional.dropout(x, p, true, new Generator(5)).toFloatArray();
        int zeros = 0;
        for (float v : y) {
            if (v == 0) {
                zeros++;
            } else {
                assertEquals(2 / (1 - p), v, 1e-5, "kept values are scaled by 1/(1-p)");
            }
        }
        // binomial(10k, 0.3): std 0.0046 of the fraction; 0.02 is over 4 sigma
        assertEquals(p, zeros / (double) n, 0.02, "fraction of dropped elements");
        float[] again = Functional.dropout(x, p, true, new Generator(5)).toFloatArray();
        assertArrayEquals(y, again, "same seed, same mask");
        float[] other = Functional.dropout(x, p, true, new Generator(6)).toFloatArray();
        assertFalse(java.util.Arrays.equals(y, other), "a different seed gives a different mask");
    }

    // ------------------------------------------------------------------ normalization

    @Test
    void batchNormTrainingNormalizesPerChannelAndUpdatesRunningStats() {
        // x[n][c][l]: channel 0 holds 1..4, channel 1 holds 10..40
        Tensor x = f64(s(2, 2, 2), 1, 2, 10, 20, 3, 4, 30, 40);
        Tensor rm = Tensors.zeros(DType.F64, 2);
        Tensor rv = Tensors.ones(DType.F64, 2);
        Tensor y = Functional.batchNorm(x, rm, rv, null, null, true, 0.1, 0);
        double a = 1 / Math.sqrt(1.25);
        assertValues("batchNorm training output", y, s(2, 2, 2), d(-1.5 * a, -0.5 * a, -1.5 * a, -0.5 * a, 0.5 * a, 1.5 * a, 0.5 * a, 1.5 * a), 1e-12);
        // channel 0: mean 2.5, biased var 1.25, unbiased 5/3; channel 1: mean 25, unbiased 500/3
        assertValues("running mean", rm, s(2), d(0.25, 2.5), 1e-12);
        assertValues("running var (unbiased)", rv, s(2), d(0.9 + 0.1 * 5 / 3, 0.9 + 0.1 * 500 / 3), 1e-12);

        Tensor w = f64(s(2), 2, 1);
        Tensor b = f64(s(2), 0, 1);
        Tensor ev = Functional.batchNorm(x, rm, rv, w, b, false, 0.1, 1e-5);
        double[] xs = x.toDoubleArray();
        double[] expected = new double[8];
        double[] rms = rm.toDoubleArray();
        double[] rvs = rv.toDoubleArray();
        for (int i = 0; i < 8; i++) {
            int c = (i / 2) % 2;
            expected[i] = (xs[i] - rms[c]) / Math.sqrt(rvs[c] + 1e-5) * w.getDouble(c) + b.getDouble(c);
        }
        assertValues("batchNorm eval uses the running stats", ev, s(2, 2, 2), expected, 1e-12);
        assertValues("eval leaves running mean alone", rm, s(2), d(0.25, 2.5), 1e-12);
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.batchNorm(x, null, null, null, null, false, 0.1, 1e-5),
                "batchNorm", "running");
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.batchNorm(x, Tensors.zeros(DType.F64, 3), rv, null, null,
                true, 0.1, 1e-5), "batchNorm", "[2]", "[3]");
    }

    @Test
    void batchNormF32OnFourDims() {
        Tensor x = Tensors.normal(new Generator(4), DType.F32, 3, 2, 4, 3, 5, 5);
        Tensor rm = Tensors.zeros(3);
        Tensor rv = Tensors.ones(3);
        Tensor y = Functional.batchNorm(x, rm, rv, null, null, true, 0.1, 1e-5);
        Tensor mean = y.mean(s(0, 2, 3), false);
        Tensor var = y.var(s(0, 2, 3), false, false);
        // fp32 sums over 100 values per channel
        assertValues("per-channel mean after batchNorm", mean, s(3), new double[3], 1e-5);
        assertValues("per-channel biased var after batchNorm", var, s(3), d(1, 1, 1), 1e-3);
    }

    @Test
    void layerNorm() {
        Tensor x = f64(s(2, 3), 1, 2, 3, 2, 4, 6);
        double a = 1 / Math.sqrt(2.0 / 3);
        assertValues("layerNorm, no affine", Functional.layerNorm(x, s(3), null, null, 0), s(2, 3), d(-a, 0, a, -a, 0, a), 1e-12);
        Tensor y = Functional.layerNorm(x, s(3), f64(s(3), 1, 2, 3), f64(s(3), 0, 0, 1), 0);
        assertValues("layerNorm with weight and bias", y, s(2, 3), d(-a, 0, 1 + 3 * a, -a, 0, 1 + 3 * a), 1e-12);
        Tensor all = Functional.layerNorm(x, s(2, 3), null, null, 0);
        assertEquals(0, all.mean().item(), 1e-12);
        assertEquals(1, all.var(null, false, false).item(), 1e-12);
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.layerNorm(x, s(2), null, null, 1e-5), "layerNorm", "[2]", "[2, 3]");
    }

    // ------------------------------------------------------------------ index ops

    @Test
    void embeddingGatherIndexSelect() {
        Tensor w = f32(s(4, 2), 0, 1, 2, 3, 4, 5, 6, 7);
        assertValues("embedding", Functional.embedding(w, i64(s(2, 2), 1, 3, 0, 1)), s(2, 2, 2), d(2, 3, 6, 7, 0, 1, 2, 3), 0);
        assertValues("embedding with I32 indices", Functional.embedding(w, Tensors.of(new int[] {2}, 1)), s(1, 2), d(4, 5), 0);
        Tensor x = f32(s(2, 3), 1, 2, 3, 4, 5, 6);
        assertValues("gather dim 1", Functional.gather(x, 1, i64(s(2, 2), 2, 0, 1, 1)), s(2, 2), d(3, 1, 5, 5), 0);
        assertValues("gather dim 0", Functional.gather(x, 0, i64(s(1, 3), 1, 0, 1)), s(1, 3), d(4, 2, 6), 0);
        Tensor y = f32(s(3, 2), 1, 2, 3, 4, 5, 6);
        assertValues("indexSelect dim 0", Functional.indexSelect(y, 0, i64(s(3), 2, 0, 2)), s(3, 2), d(5, 6, 1, 2, 5, 6), 0);
        assertValues("indexSelect dim 1", Functional.indexSelect(y, 1, i64(s(1), 1)), s(3, 1), d(2, 4, 6), 0);
        assertValues("indexSelect of a transposed view", Functional.indexSelect(y.t(), 1, i64(s(2), 2, 0)), s(2, 2), d(5, 1, 6, 2), 0);
    }

    @Test
    void indexErrors() {
        Tensor x = f32(s(2, 3), 1, 2, 3, 4, 5, 6);
        assertThrowsWith(IndexOutOfBoundsException.class, () -> Functional.gather(x, 1, i64(s(2, 1), 0, 5)), "gather", "5", "[0, 3)");
        assertThrowsWith(IndexOutOfBoundsException.class, () -> Functional.indexSelect(x, 0, i64(s(1), -1)), "indexSelect", "-1",
                "[0, 2)");
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.gather(x, 1, i64(s(3, 1), 0, 0, 0)), "gather", "[3, 1]");
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.gather(x, 1, f32(s(2, 1), 0, 0)), "gather", "I64", "F32");
        assertThrowsWith(IndexOutOfBoundsException.class, () -> Functional.embedding(x, i64(s(1), 2)), "indexSelect", "2");
    }

    // ------------------------------------------------------------------ errors

    @Test
    void dtypeAndBroadcastErrors() {
        Tensor a = Tensors.zeros(2, 3);
        assertThrowsWith(IllegalArgumentException.class, () -> a.add(Tensors.zeros(DType.F64, 2, 3)),
                "add", "dtypes differ", "F32 [2, 3]", "F64 [2, 3]");
        assertThrowsWith(IllegalArgumentException.class, () -> a.mul(Tensors.zeros(4)), "mul", "[2, 3]", "[4]");
        assertThrowsWith(IllegalArgumentException.class, () -> a.lt(Tensors.zeros(2, 2)), "lt", "[2, 3]", "[2, 2]");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.arange(3).exp(), "exp", "floating", "I64");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.arange(3).sum(), "sum", "I64");
    }

    @Test
    void convErrors() {
        Tensor x = Tensors.zeros(1, 3, 5, 5);
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.conv2d(x, Tensors.zeros(8, 2, 3, 3), null, 1, 0),
                "conv2d", "3 channels", "[8, 2, 3, 3]");
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.conv2d(x, Tensors.zeros(8, 3, 3, 3), Tensors.zeros(4), 1, 0),
                "conv2d", "bias", "[8]", "[4]");
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.conv2d(Tensors.zeros(3, 5), Tensors.zeros(8, 3, 3, 3), null, 1, 0),
                "conv2d", "[N, C, H, W]", "[3, 5]");
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.conv2d(x, Tensors.zeros(8, 3, 7, 7), null, 1, 0),
                "7");
    }

    @Test
    void f32AgreesWithF64OnLargerShapes() {
        Generator g = new Generator(31);
        // shapes past the vector length and the parallel grain (2^15 elements), with broadcast and strided operands
        Tensor x64 = Tensors.uniform(g, DType.F64, -1, 1, 3, 40_001);
        Tensor b64 = Tensors.uniform(g, DType.F64, -1, 1, 40_001);
        Tensor x32 = x64.to(DType.F32);
        Tensor b32 = b64.to(DType.F32);
        // products and sums of two fp32-rounded values in [-1, 1): a few ulps
        assertClose("[3,40001] * [40001] F32 vs F64", x32.mul(b32).toDoubleArray(), x64.mul(b64).toDoubleArray(), 1e-6, 1e-6);
        assertClose("t() + col F32 vs F64", x32.t().add(b32.reshape(-1, 1)).toDoubleArray(),
                x64.t().add(b64.reshape(-1, 1)).toDoubleArray(), 1e-6, 1e-6);
        assertClose("x * 0.5 + x F32 vs F64 (one long row split over threads)", x32.mul(0.5).add(x32).toDoubleArray(),
                x64.mul(0.5).add(x64).toDoubleArray(), 1e-6, 1e-6);
        assertClose("sum(1) F32 vs F64", x32.sum(1, false).toDoubleArray(), x64.sum(1, false).toDoubleArray(), 2e-3, 1e-5);
        assertClose("max(0) F32 vs F64", x32.max(0, false).toDoubleArray(), x64.max(0, false).toDoubleArray(), 1e-7, 0);
        assertClose("sum over dim 0 of a transposed view", x32.t().sum(0, false).toDoubleArray(),
                x64.t().sum(0, false).toDoubleArray(), 2e-3, 1e-5);
        assertArrayEquals(x64.argmax(1, false).toLongArray(), x32.argmax(1, false).toLongArray(), "argmax F32 vs F64");

        Tensor s64 = Tensors.uniform(g, DType.F64, -3, 3, 5, 37, 3);
        Tensor s32 = s64.to(DType.F32);
        for (int dim = 0; dim < 3; dim++) {
            assertClose("softmax(" + dim + ") F32 vs F64 [5,37,3]", s32.softmax(dim).toDoubleArray(), s64.softmax(dim).toDoubleArray(),
                    1e-6, 1e-5);
            assertClose("logSoftmax(" + dim + ") F32 vs F64 [5,37,3]", s32.logSoftmax(dim).toDoubleArray(),
                    s64.logSoftmax(dim).toDoubleArray(), 1e-5, 1e-5);
        }

        // 70x90 x 90x67: large enough for the packed GEMM path; operands as transposed views
        Tensor a64 = Tensors.uniform(g, DType.F64, -1, 1, 90, 70);
        Tensor c64 = Tensors.uniform(g, DType.F64, -1, 1, 67, 90);
        Tensor ref = a64.t().matmul(c64.t());
        // fp32 dot products of length 90 of values in [-1, 1): |error| ~ 90 * 6e-8
        assertClose("matmul a.t() x c.t() F32 vs F64 [70,90]x[90,67]", a64.to(DType.F32).t().matmul(c64.to(DType.F32).t()).toDoubleArray(),
                ref.toDoubleArray(), 2e-5, 1e-5);
        assertClose("matmul a.t() x c.t() contiguous F32", a64.t().contiguous().to(DType.F32).matmul(c64.t().contiguous().to(DType.F32))
                .toDoubleArray(), ref.toDoubleArray(), 2e-5, 1e-5);
        Tensor bb64 = Tensors.uniform(g, DType.F64, -1, 1, 4, 33, 20);
        Tensor bw64 = Tensors.uniform(g, DType.F64, -1, 1, 4, 20, 17);
        assertClose("batched matmul F32 vs F64 [4,33,20]x[4,20,17]", bb64.to(DType.F32).matmul(bw64.to(DType.F32)).toDoubleArray(),
                bb64.matmul(bw64).toDoubleArray(), 1e-5, 1e-5);

        Tensor p64 = Tensors.uniform(g, DType.F64, -1, 1, 2, 3, 9, 11);
        Tensor p32 = p64.to(DType.F32);
        assertClose("maxPool2d k3 s2 p1 F32 vs F64", Functional.maxPool2d(p32, s(3), s(2), s(1), s(1), true).toDoubleArray(),
                Functional.maxPool2d(p64, s(3), s(2), s(1), s(1), true).toDoubleArray(), 1e-7, 0);
        for (boolean include : new boolean[] {true, false}) {
            assertClose("avgPool2d k3 s2 p1 ceil countIncludePad=" + include + " F32 vs F64",
                    Functional.avgPool2d(p32, s(3), s(2), s(1), true, include).toDoubleArray(),
                    Functional.avgPool2d(p64, s(3), s(2), s(1), true, include).toDoubleArray(), 1e-6, 1e-6);
        }
        assertClose("adaptiveAvgPool2d 9x11 -> 4x3 F32 vs F64", Functional.adaptiveAvgPool2d(p32, 4, 3).toDoubleArray(),
                Functional.adaptiveAvgPool2d(p64, 4, 3).toDoubleArray(), 1e-6, 1e-6);
    }

    @Test
    void reductionResultIsNotAliasedWithInput() {
        Tensor x = f32(s(1, 3), 1, 2, 3);
        Tensor s0 = x.sum(0, false);
        assertTrue(s0.isContiguous());
        x.fill(0);
        assertValues("sum over a size-1 dim keeps its values after the input changes", s0, s(3), d(1, 2, 3), 0);
    }

    /** The fused per-row cross-entropy equals -logSoftmax gathered at the target, values and gradients, in F32. */
    @Test
    void crossEntropyRowsMatchesTheComposition() {
        Generator g = new Generator(41);
        Tensor x = Tensors.uniform(g, DType.F32, -8, 8, 37, 19);
        long[] t = new long[37];
        for (int i = 0; i < t.length; i++) {
            t[i] = g.nextInt(19);
        }
        Tensor index = Tensors.of(t, 37);
        Tensor a = x.detach().requiresGrad(true);
        Tensor b = x.detach().requiresGrad(true);
        Tensor fused = Functional.crossEntropyRows(a, index);
        Tensor composed = Functional.gather(b.logSoftmax(1), 1, index.unsqueeze(1)).reshape(-1).neg();
        assertClose("loss", fused.toDoubleArray(), composed.toDoubleArray(), 1e-5, 1e-5);
        Tensor w = Tensors.uniform(g, DType.F32, -1, 1, 37);
        fused.mul(w).sum().backward();
        composed.mul(w).sum().backward();
        assertClose("gradient", a.grad().toDoubleArray(), b.grad().toDoubleArray(), 1e-6, 1e-5);
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.crossEntropyRows(x, Tensors.of(new long[] {1, 2}, 2)),
                "crossEntropyRows: expected logits [M, C] and indices [M], got [37, 19] and [2]");
        long[] bad = t.clone();
        bad[5] = 19;
        assertThrowsWith(IllegalArgumentException.class, () -> Functional.crossEntropyRows(x, Tensors.of(bad, 37)),
                "expected target indices in [0, 19), got 19 in row 5");
    }

    @Test
    void reducingAnEmptyDimSumsToZeroAndOtherwiseSaysWhy() {
        Tensor e = Tensors.zeros(3, 0);
        assertValues("sum over an empty dim", e.sum(1, false), new int[] {3}, new double[] {0, 0, 0}, 0);
        assertThrowsWith(IllegalArgumentException.class, () -> e.max(1, false), "max", "empty", "[3, 0]");
    }
}

package dev.kiln.engine;

import static dev.kiln.engine.EngineAsserts.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Every differentiable op through {@link GradCheck} (central differences in F64, default
 * tolerances atol 1e-5 + rtol 1e-3 with eps 1e-6: the truncation error of central differences on
 * these smooth functions of values of order 1 is ~eps^2 and the rounding error ~1e-16/eps = 1e-10,
 * both far below the tolerance). Inputs avoid the points where an op is not differentiable (0 for
 * relu/abs, ties for max/min/maxPool, the bounds of clamp) by construction or by a fixed seed.
 */
class GradCheckTest {

    /** Runs the check; the name in a failure carries the op and every input shape. */
    private static void check(String op, Function<Tensor[], Tensor> f, Tensor... inputs) {
        StringBuilder name = new StringBuilder(op);
        for (Tensor t : inputs) {
            name.append(' ').append(Shape.str(t.shapeRef()));
        }
        GradCheck.check(name.toString(), f, inputs);
    }

    /** Uniform F64 values in [lo, hi) that require grad. */
    private static Tensor rand(Generator g, double lo, double hi, int... shape) {
        return Tensors.uniform(g, DType.F64, lo, hi, shape).requiresGrad(true);
    }

    /** Values with 0.2 <= |x| < 1.2 and random signs: away from the kinks of relu, abs, sign. */
    private static Tensor awayFromZero(Generator g, int... shape) {
        Tensor t = Tensors.uniform(g, DType.F64, 0.2, 1.2, shape);
        double[] a = ((HeapStorage) t.storage()).f64();
        for (int i = 0; i < a.length; i++) {
            if (g.nextDouble() < 0.5) {
                a[i] = -a[i];
            }
        }
        return t.requiresGrad(true);
    }

    private static Tensor idx(int[] shape, long... v) {
        return Tensors.of(v, shape);
    }

    // ------------------------------------------------------------------ unary

    @Test
    void unaryOps() {
        Generator g = new Generator(1);
        check("neg", in -> in[0].neg(), rand(g, -1, 1, 2, 3));
        check("exp", in -> in[0].exp(), rand(g, -1, 1, 2, 3));
        check("log", in -> in[0].log(), rand(g, 0.5, 2, 2, 3));
        check("sqrt", in -> in[0].sqrt(), rand(g, 0.5, 2, 2, 3));
        check("tanh", in -> in[0].tanh(), rand(g, -2, 2, 2, 3));
        check("sigmoid", in -> in[0].sigmoid(), rand(g, -3, 3, 2, 3));
        check("relu", in -> in[0].relu(), awayFromZero(g, 2, 3));
        check("gelu", in -> in[0].gelu(), rand(g, -3, 3, 2, 3));
        check("abs", in -> in[0].abs(), awayFromZero(g, 2, 3));
        check("square", in -> in[0].square(), rand(g, -2, 2, 2, 3));
        check("reciprocal", in -> in[0].reciprocal(), awayFromZero(g, 2, 3));
        check("sign", in -> in[0].sign(), awayFromZero(g, 4));
    }

    @Test
    void unaryOpsOnAStridedView() {
        Generator g = new Generator(2);
        check("exp of t()", in -> in[0].t().exp(), rand(g, -1, 1, 3, 2));
        check("tanh of narrow", in -> in[0].narrow(1, 1, 2).tanh(), rand(g, -1, 1, 3, 4));
    }

    @Test
    void powWithAScalarExponent() {
        Generator g = new Generator(3);
        for (double p : new double[] {2.5, -1.5, 3, 0.5, 2, 1, 0, -1}) {
            check("pow(" + p + ")", in -> in[0].pow(p), rand(g, 0.5, 2, 2, 3));
        }
        check("pow(3) of negative values", in -> in[0].pow(3), rand(g, -2, -0.5, 4));
    }

    @Test
    void powWithATensorExponent() {
        Generator g = new Generator(4);
        check("pow(tensor)", in -> in[0].pow(in[1]), rand(g, 0.5, 2, 2, 3), rand(g, -1, 2, 2, 3));
        check("pow(tensor) broadcast", in -> in[0].pow(in[1]), rand(g, 0.5, 2, 2, 3), rand(g, -1, 2, 3));
        check("pow(tensor) broadcast base", in -> in[0].pow(in[1]), rand(g, 0.5, 2, 2, 1), rand(g, -1, 2, 2, 3));
    }

    // ------------------------------------------------------------------ binary

    @Test
    void binaryOpsWithBroadcasting() {
        Generator g = new Generator(5);
        check("add", in -> in[0].add(in[1]), rand(g, -1, 1, 2, 3), rand(g, -1, 1, 2, 3));
        check("add [2,3] + [3]", in -> in[0].add(in[1]), rand(g, -1, 1, 2, 3), rand(g, -1, 1, 3));
        check("sub [2,1] - [1,3]", in -> in[0].sub(in[1]), rand(g, -1, 1, 2, 1), rand(g, -1, 1, 1, 3));
        check("sub [3] - [2,3]", in -> in[0].sub(in[1]), rand(g, -1, 1, 3), rand(g, -1, 1, 2, 3));
        check("mul [2,3] * [2,1]", in -> in[0].mul(in[1]), rand(g, -1, 1, 2, 3), rand(g, -1, 1, 2, 1));
        check("mul [4,1,3] * [2,1]", in -> in[0].mul(in[1]), rand(g, -1, 1, 4, 1, 3), rand(g, -1, 1, 2, 1));
        check("mul by a 0-d tensor", in -> in[0].mul(in[1]), rand(g, -1, 1, 2, 3), rand(g, -1, 1));
        check("div [3] / [2,3]", in -> in[0].div(in[1]), rand(g, -1, 1, 3), awayFromZero(g, 2, 3));
        check("div [2,3] / [2,1]", in -> in[0].div(in[1]), rand(g, -1, 1, 2, 3), awayFromZero(g, 2, 1));
        check("x * x", in -> in[0].mul(in[0]), rand(g, -1, 1, 3));
        check("scalar ops", in -> in[0].add(1.5).sub(0.5).mul(3).div(2), rand(g, -1, 1, 2, 2));
    }

    @Test
    void maximumAndMinimumWithoutTies() {
        Generator g = new Generator(6);
        // independent uniforms: the smallest gap between compared values is far above eps = 1e-6 for this seed
        check("maximum", in -> in[0].maximum(in[1]), rand(g, -1, 1, 2, 3), rand(g, -1, 1, 2, 3));
        check("maximum [2,3] vs [3]", in -> in[0].maximum(in[1]), rand(g, -1, 1, 2, 3), rand(g, -1, 1, 3));
        check("minimum", in -> in[0].minimum(in[1]), rand(g, -1, 1, 2, 3), rand(g, -1, 1, 2, 3));
        check("minimum [2,1] vs [1,3]", in -> in[0].minimum(in[1]), rand(g, -1, 1, 2, 1), rand(g, -1, 1, 1, 3));
    }

    @Test
    void whereAndClamp() {
        Generator g = new Generator(7);
        Tensor cond = Tensors.ofBool(new boolean[] {true, false, false, true, true, false}, 2, 3);
        check("where", in -> cond.where(in[0], in[1]), rand(g, -1, 1, 2, 3), rand(g, -1, 1, 2, 3));
        check("where broadcast [2,3] ? [3] : [2,1]", in -> cond.where(in[0], in[1]), rand(g, -1, 1, 3), rand(g, -1, 1, 2, 1));
        Tensor x = Tensors.of(new double[] {-2, -1.6, -0.5, 0.1, 0.7, 1.5, 1.9, -0.2}, 2, 4).requiresGrad(true);
        check("clamp(-1, 1)", in -> in[0].clamp(-1, 1), x);
    }

    // ------------------------------------------------------------------ reductions

    @Test
    void sumAndMean() {
        Generator g = new Generator(8);
        check("sum()", in -> in[0].sum(), rand(g, -1, 1, 2, 3, 4));
        check("sum(1)", in -> in[0].sum(1, false), rand(g, -1, 1, 2, 3, 4));
        check("sum({0,2}, keepdim)", in -> in[0].sum(s(0, 2), true), rand(g, -1, 1, 2, 3, 4));
        check("sum(-1) of a transposed view", in -> in[0].transpose(0, 2).sum(-1, false), rand(g, -1, 1, 2, 3, 4));
        check("mean()", in -> in[0].mean(), rand(g, -1, 1, 2, 3, 4));
        check("mean(-1, keepdim)", in -> in[0].mean(-1, true), rand(g, -1, 1, 2, 3, 4));
        check("mean({0,1})", in -> in[0].mean(s(0, 1), false), rand(g, -1, 1, 2, 3, 4));
    }

    @Test
    void maxAndMinWithoutTies() {
        Generator g = new Generator(9);
        check("max()", in -> in[0].max(), rand(g, -1, 1, 2, 3, 4));
        check("max(1)", in -> in[0].max(1, false), rand(g, -1, 1, 2, 3, 4));
        check("max(0, keepdim)", in -> in[0].max(0, true), rand(g, -1, 1, 2, 3, 4));
        check("max({0,2})", in -> ReduceOps.max(in[0], s(0, 2), false), rand(g, -1, 1, 2, 3, 4));
        check("min()", in -> in[0].min(), rand(g, -1, 1, 2, 3, 4));
        check("min(-1, keepdim)", in -> in[0].min(-1, true), rand(g, -1, 1, 2, 3, 4));
        check("min({1,2})", in -> ReduceOps.min(in[0], s(1, 2), false), rand(g, -1, 1, 2, 3, 4));
    }

    @Test
    void variance() {
        Generator g = new Generator(10);
        check("var()", in -> in[0].var(), rand(g, -1, 1, 3, 4));
        check("var(1, unbiased)", in -> in[0].var(s(1), true, false), rand(g, -1, 1, 3, 4));
        check("var({0,2}, biased, keepdim)", in -> in[0].var(s(0, 2), false, true), rand(g, -1, 1, 2, 3, 4));
    }

    // ------------------------------------------------------------------ matmul

    @Test
    void matmulAllForms() {
        Generator g = new Generator(11);
        check("matmul 2-D", in -> in[0].matmul(in[1]), rand(g, -1, 1, 3, 4), rand(g, -1, 1, 4, 2));
        check("matmul batched", in -> in[0].matmul(in[1]), rand(g, -1, 1, 2, 3, 4), rand(g, -1, 1, 2, 4, 2));
        check("matmul broadcast batch", in -> in[0].matmul(in[1]), rand(g, -1, 1, 2, 1, 3, 4), rand(g, -1, 1, 3, 4, 2));
        check("matmul batched x 2-D", in -> in[0].matmul(in[1]), rand(g, -1, 1, 2, 3, 4), rand(g, -1, 1, 4, 2));
        check("matmul 2-D x batched", in -> in[0].matmul(in[1]), rand(g, -1, 1, 3, 4), rand(g, -1, 1, 2, 4, 2));
        check("matmul 1-D x 1-D", in -> in[0].matmul(in[1]), rand(g, -1, 1, 4), rand(g, -1, 1, 4));
        check("matmul 1-D x 2-D", in -> in[0].matmul(in[1]), rand(g, -1, 1, 4), rand(g, -1, 1, 4, 2));
        check("matmul 2-D x 1-D", in -> in[0].matmul(in[1]), rand(g, -1, 1, 3, 4), rand(g, -1, 1, 4));
        check("matmul 1-D x batched", in -> in[0].matmul(in[1]), rand(g, -1, 1, 4), rand(g, -1, 1, 2, 4, 2));
        check("matmul of transposed views", in -> in[0].t().matmul(in[1].t()), rand(g, -1, 1, 4, 3), rand(g, -1, 1, 2, 4));
        check("matmul batched transposed view", in -> in[0].transpose(1, 2).matmul(in[1]), rand(g, -1, 1, 2, 4, 3),
                rand(g, -1, 1, 2, 4, 2));
        check("matmul x with itself", in -> in[0].matmul(in[0].t()), rand(g, -1, 1, 3, 4));
    }

    // ------------------------------------------------------------------ views

    @Test
    void viewOps() {
        Generator g = new Generator(12);
        check("reshape", in -> in[0].reshape(3, -1), rand(g, -1, 1, 2, 3, 2));
        check("reshape of a transposed view", in -> in[0].t().reshape(-1), rand(g, -1, 1, 2, 3));
        check("permute", in -> in[0].permute(2, 0, 1), rand(g, -1, 1, 2, 3, 4));
        check("transpose", in -> in[0].transpose(0, -1), rand(g, -1, 1, 2, 3, 4));
        check("t", in -> in[0].t(), rand(g, -1, 1, 2, 3));
        check("narrow", in -> in[0].narrow(1, 1, 2), rand(g, -1, 1, 2, 4));
        check("select", in -> in[0].select(0, -1), rand(g, -1, 1, 3, 2));
        check("select of a column", in -> in[0].select(1, 2), rand(g, -1, 1, 3, 4));
        check("expand", in -> in[0].expand(2, 3, 4), rand(g, -1, 1, 3, 1));
        check("squeeze()", in -> in[0].squeeze(), rand(g, -1, 1, 1, 3, 1));
        check("squeeze(0)", in -> in[0].squeeze(0), rand(g, -1, 1, 1, 3, 1));
        check("unsqueeze(1)", in -> in[0].unsqueeze(1), rand(g, -1, 1, 2, 3));
        check("unsqueeze of a transposed view", in -> in[0].t().unsqueeze(0), rand(g, -1, 1, 2, 3));
        check("flatten(1, -1)", in -> in[0].flatten(1, -1), rand(g, -1, 1, 2, 3, 4));
        check("flatten of a permuted view", in -> in[0].permute(1, 0, 2).flatten(0, 1), rand(g, -1, 1, 2, 3, 4));
        check("contiguous", in -> in[0].t().contiguous(), rand(g, -1, 1, 2, 3));
        check("copy", in -> in[0].copy(), rand(g, -1, 1, 2, 3));
        check("copy of a view", in -> in[0].narrow(0, 1, 1).copy(), rand(g, -1, 1, 2, 3));
        check("view then ops", in -> in[0].view(6).mul(in[0].reshape(6)), rand(g, -1, 1, 2, 3));
    }

    @Test
    void catAndStack() {
        Generator g = new Generator(13);
        check("cat dim 1", in -> Functional.cat(1, in[0], in[1], in[2]), rand(g, -1, 1, 2, 3), rand(g, -1, 1, 2, 1),
                rand(g, -1, 1, 2, 2));
        check("cat dim 0", in -> Functional.cat(0, in[0], in[1]), rand(g, -1, 1, 1, 3), rand(g, -1, 1, 2, 3));
        check("cat of one input twice", in -> Functional.cat(0, in[0], in[0].mul(2)), rand(g, -1, 1, 2, 2));
        for (int dim : new int[] {0, 1, -1}) {
            check("stack dim " + dim, in -> Functional.stack(dim, in[0], in[1]), rand(g, -1, 1, 2, 3), rand(g, -1, 1, 2, 3));
        }
    }

    @Test
    void castPaths() {
        Generator g = new Generator(14);
        check("cast F64 -> F64", in -> MathOps.cast(in[0], DType.F64).mul(in[0]), rand(g, -1, 1, 2, 3));
        check("to(F64) on F64", in -> in[0].to(DType.F64).square(), rand(g, -1, 1, 3));
    }

    // ------------------------------------------------------------------ softmax

    @Test
    void softmaxAndLogSoftmax() {
        Generator g = new Generator(15);
        for (int dim : new int[] {0, 1, -1}) {
            check("softmax dim " + dim, in -> in[0].softmax(dim), rand(g, -2, 2, 3, 4));
            check("logSoftmax dim " + dim, in -> in[0].logSoftmax(dim), rand(g, -2, 2, 3, 4));
        }
        check("softmax dim 1 of 3-D", in -> in[0].softmax(1), rand(g, -2, 2, 2, 3, 4));
        check("logSoftmax of a transposed view", in -> in[0].t().logSoftmax(1), rand(g, -2, 2, 3, 4));
        Tensor labels = idx(s(3), 2, 0, 3);
        check("crossEntropyRows", in -> Functional.crossEntropyRows(in[0], labels), rand(g, -3, 3, 3, 4));
        check("crossEntropyRows of a transposed view, weighted", in -> Functional.crossEntropyRows(in[0].t(), labels)
                .mul(Tensors.of(new double[] {0.5, -1, 2}, 3)), rand(g, -3, 3, 4, 3));
    }

    // ------------------------------------------------------------------ conv and pooling

    @Test
    void conv2dPlain() {
        Generator g = new Generator(16);
        check("conv2d stride 1 padding 0 with bias", in -> Functional.conv2d(in[0], in[1], in[2], 1, 0),
                rand(g, -1, 1, 1, 2, 5, 5), rand(g, -1, 1, 3, 2, 3, 3), rand(g, -1, 1, 3));
        check("conv2d of [C,H,W], stride (2,1), padding (0,1)",
                in -> Functional.conv2d(in[0], in[1], null, s(2, 1), s(0, 1), s(1), 1),
                rand(g, -1, 1, 2, 4, 4), rand(g, -1, 1, 2, 2, 2, 2));
    }

    @Test
    void conv2dStridePaddingDilationGroups() {
        Generator g = new Generator(17);
        Function<Tensor[], Tensor> withBias = in -> Functional.conv2d(in[0], in[1], in[2], s(2), s(1), s(2), 2);
        check("conv2d stride 2 padding 1 dilation 2 groups 2 with bias", withBias,
                rand(g, -1, 1, 2, 4, 6, 5), rand(g, -1, 1, 4, 2, 3, 3), rand(g, -1, 1, 4));
        Function<Tensor[], Tensor> noBias = in -> Functional.conv2d(in[0], in[1], null, s(2), s(1), s(2), 2);
        check("conv2d stride 2 padding 1 dilation 2 groups 2 without bias", noBias,
                rand(g, -1, 1, 2, 4, 6, 5), rand(g, -1, 1, 4, 2, 3, 3));
        Tensor x = rand(g, -1, 1, 1, 2, 4, 4);
        Tensor w = Tensors.uniform(g, DType.F64, -1, 1, 2, 2, 3, 3);
        check("conv2d gradient to the input only", in -> Functional.conv2d(in[0], w, null, 1, 1), x);
        Tensor xc = Tensors.uniform(g, DType.F64, -1, 1, 1, 2, 4, 4);
        check("conv2d gradient to the weight only", in -> Functional.conv2d(xc, in[0], null, 1, 1), rand(g, -1, 1, 2, 2, 3, 3));
    }

    @Test
    void maxPoolWithoutTies() {
        Generator g = new Generator(18);
        check("maxPool2d(2)", in -> Functional.maxPool2d(in[0], 2), rand(g, -1, 1, 2, 2, 4, 4));
        check("maxPool2d k3 s2 p1", in -> Functional.maxPool2d(in[0], s(3), s(2), s(1), s(1), false), rand(g, -1, 1, 1, 2, 5, 5));
        check("maxPool2d k2 s2 ceilMode", in -> Functional.maxPool2d(in[0], s(2), null, s(0), s(1), true), rand(g, -1, 1, 1, 2, 5, 5));
        check("maxPool2d k2 s1 dilation 2", in -> Functional.maxPool2d(in[0], s(2), s(1), s(0), s(2), false), rand(g, -1, 1, 1, 1, 5, 5));
        check("maxPool2d of [C,H,W] with overlapping windows", in -> Functional.maxPool2d(in[0], s(3, 2), s(1), s(1, 0), s(1), false),
                rand(g, -1, 1, 2, 4, 5));
    }

    @Test
    void avgPool() {
        Generator g = new Generator(19);
        for (boolean includePad : new boolean[] {true, false}) {
            check("avgPool2d k3 s2 p1 countIncludePad=" + includePad,
                    in -> Functional.avgPool2d(in[0], s(3), s(2), s(1), false, includePad), rand(g, -1, 1, 1, 2, 5, 5));
            check("avgPool2d k2 s2 ceilMode countIncludePad=" + includePad,
                    in -> Functional.avgPool2d(in[0], s(2), null, s(0), true, includePad), rand(g, -1, 1, 1, 2, 5, 5));
            check("avgPool2d k3 s2 p1 ceilMode countIncludePad=" + includePad,
                    in -> Functional.avgPool2d(in[0], s(3), s(2), s(1), true, includePad), rand(g, -1, 1, 1, 1, 6, 6));
        }
        check("avgPool2d(2)", in -> Functional.avgPool2d(in[0], 2), rand(g, -1, 1, 2, 1, 4, 6));
    }

    @Test
    void adaptiveAvgPool() {
        Generator g = new Generator(20);
        check("adaptiveAvgPool2d 5x7 -> 3x4", in -> Functional.adaptiveAvgPool2d(in[0], 3, 4), rand(g, -1, 1, 1, 2, 5, 7));
        check("adaptiveAvgPool2d 5x7 -> 2x3", in -> Functional.adaptiveAvgPool2d(in[0], 2, 3), rand(g, -1, 1, 2, 1, 5, 7));
        check("adaptiveAvgPool2d to 1x1", in -> Functional.adaptiveAvgPool2d(in[0], 1, 1), rand(g, -1, 1, 2, 3, 3));
    }

    // ------------------------------------------------------------------ normalization and dropout

    @Test
    void batchNormTraining() {
        Generator g = new Generator(21);
        check("batchNorm training [N,C,L] with weight and bias",
                in -> Functional.batchNorm(in[0], null, null, in[1], in[2], true, 0.1, 1e-5),
                rand(g, -1, 1, 3, 2, 2), rand(g, 0.5, 1.5, 2), rand(g, -1, 1, 2));
        check("batchNorm training [N,C,L] fused (L >= CpuNorm.MIN_SPATIAL)",
                in -> Functional.batchNorm(in[0], null, null, in[1], in[2], true, 0.1, 1e-5),
                rand(g, -1, 1, 3, 2, 8), rand(g, 0.5, 1.5, 2), rand(g, -1, 1, 2));
        Tensor rm = Tensors.zeros(DType.F64, 3);
        Tensor rv = Tensors.ones(DType.F64, 3);
        check("batchNorm training [N,C] updating running stats",
                in -> Functional.batchNorm(in[0], rm, rv, null, null, true, 0.1, 1e-5), rand(g, -1, 1, 4, 3));
        check("batchNorm training [N,C,H,W]",
                in -> Functional.batchNorm(in[0], null, null, in[1], null, true, 0.1, 1e-5),
                rand(g, -1, 1, 2, 2, 2, 3), rand(g, 0.5, 1.5, 2));
        check("batchNorm training [N,C,H,W] fused",
                in -> Functional.batchNorm(in[0], null, null, in[1], null, true, 0.1, 1e-5),
                rand(g, -1, 1, 2, 2, 3, 3), rand(g, 0.5, 1.5, 2));
    }

    @Test
    void batchNormEval() {
        Generator g = new Generator(22);
        Tensor rm = Tensors.uniform(g, DType.F64, -1, 1, 2);
        Tensor rv = Tensors.uniform(g, DType.F64, 0.5, 2, 2);
        check("batchNorm eval", in -> Functional.batchNorm(in[0], rm, rv, in[1], in[2], false, 0.1, 1e-5),
                rand(g, -1, 1, 3, 2, 2), rand(g, 0.5, 1.5, 2), rand(g, -1, 1, 2));
        check("batchNorm eval fused", in -> Functional.batchNorm(in[0], rm, rv, in[1], in[2], false, 0.1, 1e-5),
                rand(g, -1, 1, 3, 2, 8), rand(g, 0.5, 1.5, 2), rand(g, -1, 1, 2));
    }

    @Test
    void layerNorm() {
        Generator g = new Generator(23);
        check("layerNorm over [4] with weight and bias", in -> Functional.layerNorm(in[0], s(4), in[1], in[2], 1e-5),
                rand(g, -1, 1, 2, 3, 4), rand(g, 0.5, 1.5, 4), rand(g, -1, 1, 4));
        check("layerNorm over [3, 4]", in -> Functional.layerNorm(in[0], s(3, 4), null, null, 1e-5), rand(g, -1, 1, 2, 3, 4));
    }

    @Test
    void dropoutWithAFixedMask() {
        Generator g = new Generator(24);
        // a new generator with the same seed on every call gives the same mask, so the function is fixed
        check("dropout p=0.4 training", in -> Functional.dropout(in[0], 0.4, true, new Generator(77)), rand(g, -1, 1, 3, 5));
        check("dropout eval", in -> Functional.dropout(in[0], 0.4, false, new Generator(77)).mul(in[0]), rand(g, -1, 1, 4));
    }

    // ------------------------------------------------------------------ index ops

    @Test
    void embeddingGatherIndexSelect() {
        Generator g = new Generator(25);
        Tensor ids = idx(s(2, 3), 0, 2, 2, 4, 0, 1);
        check("embedding with repeated ids", in -> Functional.embedding(in[0], ids), rand(g, -1, 1, 5, 3));
        check("gather dim 1", in -> Functional.gather(in[0], 1, idx(s(3, 2), 0, 3, 1, 1, 2, 0)), rand(g, -1, 1, 3, 4));
        check("gather dim 0", in -> Functional.gather(in[0], 0, idx(s(2, 4), 2, 0, 1, 2, 2, 2, 0, 1)), rand(g, -1, 1, 3, 4));
        check("indexSelect dim 0", in -> Functional.indexSelect(in[0], 0, idx(s(3), 3, 0, 3)), rand(g, -1, 1, 4, 3));
        check("indexSelect dim 1", in -> Functional.indexSelect(in[0], 1, idx(s(4), 2, 2, 1, 0)), rand(g, -1, 1, 4, 3));
    }

    // ------------------------------------------------------------------ compositions

    @Test
    void aSmallNetwork() {
        Generator g = new Generator(26);
        Tensor x = Tensors.uniform(g, DType.F64, -1, 1, 4, 3);
        check("mlp: logSoftmax(tanh(x w1 + b1) w2)",
                in -> x.matmul(in[0]).add(in[1]).tanh().matmul(in[2]).logSoftmax(1).mean().neg(),
                rand(g, -1, 1, 3, 5), rand(g, -1, 1, 5), rand(g, -1, 1, 5, 2));
        Tensor img = Tensors.uniform(g, DType.F64, -1, 1, 2, 1, 6, 6);
        check("cnn: conv -> relu -> maxPool -> flatten -> matmul",
                in -> Functional.maxPool2d(Functional.conv2d(img, in[0], in[1], 1, 1).relu(), 2).flatten(1, -1).matmul(in[2]),
                rand(g, -1, 1, 2, 1, 3, 3), rand(g, -1, 1, 2), rand(g, -1, 1, 18, 3));
    }

    // ------------------------------------------------------------------ the checker itself

    @Test
    void aWrongGradientIsCaught() {
        Generator g = new Generator(27);
        Tensor x = rand(g, -1, 1, 2, 3);
        // identity forward whose backward claims d/dx = 2
        Function<Tensor[], Tensor> wrong = in -> Autograd.record("wrongIdentity", in[0].detach().copy(), gy -> new Tensor[] {gy.mul(2)}, in[0]);
        GradCheck.Report r = GradCheck.run(wrong, GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL, x);
        assertFalse(r.passed(), "GradCheck passed a backward that doubles the gradient: " + r);
        assertEquals(0, r.input());
        assertEquals(2 * r.numeric(), r.analytic(), 1e-6, "the analytic gradient is twice the numeric one");
        AssertionError e = assertThrows(AssertionError.class, () -> GradCheck.check("wrongIdentity", wrong, x));
        assertTrue(e.getMessage().contains("wrongIdentity") && e.getMessage().contains("mismatch"), e.getMessage());

        Function<Tensor[], Tensor> right = in -> Autograd.record("identity", in[0].detach().copy(), gy -> new Tensor[] {gy}, in[0]);
        assertTrue(GradCheck.run(right, GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL, x).passed(), "a correct identity passes");
    }

    @Test
    void aMissingGradientIsCaught() {
        Generator g = new Generator(28);
        Tensor a = rand(g, -1, 1, 3);
        Tensor b = rand(g, -1, 1, 3);
        // forward a*b, backward only to a: b's analytic gradient is 0 but its numeric one is a
        Function<Tensor[], Tensor> partial = in -> Autograd.record("halfMul", in[0].detach().mul(in[1].detach()),
                gy -> new Tensor[] {gy.mul(in[1].detach()), null}, in[0], in[1]);
        GradCheck.Report r = GradCheck.run(partial, GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL, a, b);
        assertFalse(r.passed(), "GradCheck passed a backward that drops one input's gradient: " + r);
        assertEquals(1, r.input());
    }

    @Test
    void checkerRejectsBadInputs() {
        Tensor f32 = Tensors.zeros(3).requiresGrad(true);
        EngineAsserts.assertThrowsWith(IllegalArgumentException.class, () -> GradCheck.check("x", in -> in[0], f32), "F64", "F32");
        Tensor view = Tensors.zeros(DType.F64, 2, 3).t();
        EngineAsserts.assertThrowsWith(IllegalArgumentException.class, () -> GradCheck.check("x", in -> in[0].exp(), view), "contiguous");
    }
}

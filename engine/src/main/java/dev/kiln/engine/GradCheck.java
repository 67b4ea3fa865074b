package dev.kiln.engine;

import java.util.function.Function;

/**
 * Checks analytic gradients against central differences in F64, as {@code torch.autograd.gradcheck}.
 *
 * <p>The function's output is reduced to a scalar with fixed random weights (a vector-Jacobian
 * product with a random vector), whose gradient with respect to every element of every input is
 * then compared with {@code (L(x+eps) - L(x-eps)) / 2eps}.
 *
 * <pre>{@code
 * Tensor a = Tensors.randn(new Generator(1), DType.F64, 3, 4).requiresGrad(true);
 * GradCheck.check("tanh", in -> in[0].tanh(), a);   // throws AssertionError on a mismatch
 * }</pre>
 */
public final class GradCheck {
    /** Default perturbation. */
    public static final double EPS = 1e-6;
    /** Default absolute tolerance. */
    public static final double ATOL = 1e-5;
    /** Default relative tolerance. */
    public static final double RTOL = 1e-3;

    private GradCheck() {
    }

    /**
     * The worst element found.
     *
     * @param input    index of the input tensor
     * @param element  flat index within that input
     * @param analytic gradient from backward()
     * @param numeric  gradient from central differences
     * @param excess   |analytic - numeric| - (atol + rtol*|numeric|); <= 0 means within tolerance
     */
    public record Report(int input, int element, double analytic, double numeric, double excess) {
        public boolean passed() {
            return excess <= 0;
        }
    }

    /** Runs the check with default tolerances; throws AssertionError naming the worst element on failure. */
    public static void check(String name, Function<Tensor[], Tensor> f, Tensor... inputs) {
        Report r = run(f, EPS, ATOL, RTOL, inputs);
        if (!r.passed()) {
            throw new AssertionError(name + ": gradient mismatch at input " + r.input() + " element " + r.element()
                    + ": analytic " + r.analytic() + ", numeric " + r.numeric() + " (tolerance " + ATOL + " + " + RTOL + "*|numeric|)");
        }
    }

    /** Compares analytic and numeric gradients of every input that requires grad; returns the worst element. */
    public static Report run(Function<Tensor[], Tensor> f, double eps, double atol, double rtol, Tensor... inputs) {
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            if (t.dtype() != DType.F64) {
                throw new IllegalArgumentException("GradCheck: expected F64 inputs, input " + i + " is " + t.dtype());
            }
            if (!t.isLeaf() || !t.isContiguous()) {
                throw new IllegalArgumentException("GradCheck: expected contiguous leaf inputs, input " + i + " is "
                        + (t.isLeaf() ? "a strided view" : "the result of '" + t.gradFn().op() + "'"));
            }
        }
        Tensor out0;
        try (var ng = Grad.disabled()) {
            out0 = f.apply(inputs);
        }
        Tensor weights = Tensors.uniform(new Generator(0x5EED), DType.F64, 0.5, 1.5, out0.shapeRef());
        for (Tensor t : inputs) {
            t.setGrad(null);
        }
        Tensor loss = f.apply(inputs).mul(weights).sum();
        loss.backward();
        Report worst = new Report(-1, -1, 0, 0, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            if (!t.requiresGrad()) {
                continue;
            }
            double[] analytic = t.grad() == null ? new double[t.numel()] : t.grad().toDoubleArray();
            double[] data = ((HeapStorage) t.storage()).f64();
            for (int e = 0; e < t.numel(); e++) {
                int at = t.offset() + e;
                double saved = data[at];
                data[at] = saved + eps;
                double plus = scalar(f, inputs, weights);
                data[at] = saved - eps;
                double minus = scalar(f, inputs, weights);
                data[at] = saved;
                double numeric = (plus - minus) / (2 * eps);
                double excess = Math.abs(analytic[e] - numeric) - (atol + rtol * Math.abs(numeric));
                if (Double.isNaN(analytic[e]) != Double.isNaN(numeric)) {
                    excess = Double.POSITIVE_INFINITY;
                }
                if (excess > worst.excess()) {
                    worst = new Report(i, e, analytic[e], numeric, excess);
                }
            }
        }
        return worst;
    }

    private static double scalar(Function<Tensor[], Tensor> f, Tensor[] inputs, Tensor weights) {
        try (var ng = Grad.disabled()) {
            return f.apply(inputs).mul(weights).sum().item();
        }
    }
}

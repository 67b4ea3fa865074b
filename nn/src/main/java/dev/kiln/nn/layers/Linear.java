package dev.kiln.nn.layers;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import java.util.Arrays;

/**
 * Fully connected layer {@code y = x W^T + b}, as {@code torch.nn.Linear}: weight {@code [out, in]},
 * bias {@code [out]}, input {@code [..., in]}, output {@code [..., out]}. Initialised as PyTorch does:
 * weight and bias uniform in {@code ±1/sqrt(in)}.
 */
public final class Linear extends Module {
    private final int in;
    private final int out;
    private final Parameter weight;
    private final Parameter bias;

    /** A layer with a bias. */
    public Linear(int in, int out, Generator g) {
        this(in, out, true, g);
    }

    public Linear(int in, int out, boolean bias, Generator g) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("Linear: expected in >= 1 and out >= 1 features, got " + in + " -> " + out);
        }
        this.in = in;
        this.out = out;
        this.weight = parameter("weight", Tensors.zeros(out, in));
        this.bias = bias ? parameter("bias", Tensors.zeros(out)) : null;
        Init.kaimingUniform(weight.get(), Math.sqrt(5), Init.Mode.FAN_IN, Init.Nonlinearity.LEAKY_RELU, g);
        if (bias) {
            double bound = 1 / Math.sqrt(in);
            Init.uniform(this.bias.get(), -bound, bound, g);
        }
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    /** The weight parameter {@code [out, in]}. */
    public Parameter weight() {
        return weight;
    }

    /** The bias parameter {@code [out]}, or null for a layer without bias. */
    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        check(x);
        return Functional.linear(x, weight.get(), bias == null ? null : bias.get());
    }

    /**
     * {@code relu(forward(x))} in one fused op (what a {@link Sequential} runs for a Linear followed
     * by a {@link ReLU}); the same values and gradients.
     */
    public Tensor forwardRelu(Tensor x) {
        check(x);
        return Functional.linearRelu(x, weight.get(), bias == null ? null : bias.get());
    }

    private void check(Tensor x) {
        if (x.rank() < 1 || x.size(-1) != in) {
            throw new IllegalArgumentException(describe() + ": expected input [..., " + in + "], got " + Arrays.toString(x.shape()));
        }
    }

    @Override
    protected String describe() {
        return "Linear(" + in + " -> " + out + (bias == null ? ", bias=false" : "") + ")";
    }
}

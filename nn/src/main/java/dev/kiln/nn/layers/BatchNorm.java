package dev.kiln.nn.layers;

import dev.kiln.engine.DType;
import dev.kiln.engine.Device;
import dev.kiln.engine.Functional;
import dev.kiln.engine.Grad;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import java.util.Arrays;

/**
 * Batch normalization over dim 1 (the channels), as PyTorch's {@code _BatchNorm}: parameters {@code weight}
 * (ones) and {@code bias} (zeros), buffers {@code running_mean}, {@code running_var} and
 * {@code num_batches_tracked}. Training normalizes with the batch statistics, updates the running ones
 * (by {@code momentum}) and counts the batch; eval uses the running ones. The subclasses fix which input
 * ranks they take.
 */
public abstract sealed class BatchNorm extends Module permits BatchNorm1d, BatchNorm2d {
    /** PyTorch's defaults. */
    public static final double EPS = 1e-5;
    public static final double MOMENTUM = 0.1;

    private final String name;
    private final int c;
    private final double eps;
    private final double momentum;
    private final Parameter weight;
    private final Parameter bias;

    BatchNorm(String name, int c, double eps, double momentum) {
        if (c < 1 || !(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(name + ": expected channels >= 1, eps > 0 and momentum in [0, 1], got channels=" + c
                    + " eps=" + eps + " momentum=" + momentum);
        }
        this.name = name;
        this.c = c;
        this.eps = eps;
        this.momentum = momentum;
        this.weight = parameter("weight", Tensors.ones(c));
        this.bias = parameter("bias", Tensors.zeros(c));
        buffer("running_mean", Tensors.zeros(c));
        buffer("running_var", Tensors.ones(c));
        buffer("num_batches_tracked", Tensors.zeros(DType.I64));
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    /** The number of channels. */
    public int numFeatures() {
        return c;
    }

    /** Whether an input of this rank is normalized by this layer. */
    abstract boolean acceptsRank(int rank);

    /** The accepted input shapes for error messages, given the channel count, e.g. {@code [N, 16, H, W]}. */
    abstract String expectedShapes(int channels);

    @Override
    public Tensor forward(Tensor x) {
        return run(x, false);
    }

    /**
     * {@code relu(forward(x))} in one fused op where the backend has it (what a {@link Sequential}
     * runs for a batch norm followed by a {@link ReLU}), with the same values and gradients.
     */
    public Tensor forwardRelu(Tensor x) {
        return run(x, true);
    }

    private Tensor run(Tensor x, boolean relu) {
        if (!acceptsRank(x.rank()) || x.size(1) != c) {
            throw new IllegalArgumentException(describe() + ": expected input " + expectedShapes(c) + ", got "
                    + Arrays.toString(x.shape()));
        }
        boolean training = isTraining();
        if (training && x.numel() / c < 2) {
            throw new IllegalArgumentException(describe() + ": expected more than one value per channel in training, got input "
                    + Arrays.toString(x.shape()));
        }
        Tensor y = relu
                ? Functional.batchNormRelu(x, buffer("running_mean"), buffer("running_var"), weight.get(), bias.get(), training,
                        momentum, eps)
                : Functional.batchNorm(x, buffer("running_mean"), buffer("running_var"), weight.get(), bias.get(), training,
                        momentum, eps);
        if (training) {
            Tensor count = buffer("num_batches_tracked");
            try (var ng = Grad.disabled()) {
                count.fill(count.to(Device.CPU).item() + 1);
            }
        }
        return y;
    }

    @Override
    protected String describe() {
        StringBuilder sb = new StringBuilder(name).append('(').append(c);
        if (eps != EPS) {
            sb.append(", eps=").append(eps);
        }
        if (momentum != MOMENTUM) {
            sb.append(", momentum=").append(momentum);
        }
        return sb.append(')').toString();
    }
}

package dev.kiln.nn.layers;

import dev.kiln.engine.DType;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import java.util.Arrays;

/**
 * Batch normalization over the channels of {@code [N, C, H, W]}, as {@code torch.nn.BatchNorm2d}:
 * parameters {@code weight} (ones) and {@code bias} (zeros), buffers {@code running_mean},
 * {@code running_var} and {@code num_batches_tracked}. Training normalizes with the batch
 * statistics and updates the running ones; eval uses the running ones.
 */
public final class BatchNorm2d extends Module {
    private final int c;
    private final double eps;
    private final double momentum;
    private final Parameter weight;
    private final Parameter bias;

    /** eps 1e-5, momentum 0.1, as PyTorch. */
    public BatchNorm2d(int c) {
        this(c, BatchNorms.EPS, BatchNorms.MOMENTUM);
    }

    public BatchNorm2d(int c, double eps, double momentum) {
        BatchNorms.checkArguments("BatchNorm2d", c, eps, momentum);
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

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.size(1) != c) {
            throw new IllegalArgumentException(describe() + ": expected input [N, " + c + ", H, W], got " + Arrays.toString(x.shape()));
        }
        return BatchNorms.forward(describe(), isTraining(), x, weight, bias, buffer("running_mean"), buffer("running_var"),
                buffer("num_batches_tracked"), momentum, eps);
    }

    @Override
    protected String describe() {
        return BatchNorms.describe("BatchNorm2d", c, eps, momentum);
    }
}

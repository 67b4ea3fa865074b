package dev.kiln.nn.layers;

import dev.kiln.engine.DType;
import dev.kiln.engine.Device;
import dev.kiln.engine.Functional;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import java.util.Arrays;

/**
 * A lookup table, as {@code torch.nn.Embedding}: weight {@code [num, dim]} initialised N(0, 1);
 * integer indices of any shape give {@code [..., dim]}.
 */
public final class Embedding extends Module {
    private final int num;
    private final int dim;
    private final Parameter weight;

    public Embedding(int num, int dim, Generator g) {
        if (num < 1 || dim < 1) {
            throw new IllegalArgumentException("Embedding: expected num >= 1 and dim >= 1, got " + num + ", " + dim);
        }
        this.num = num;
        this.dim = dim;
        this.weight = parameter("weight", Tensors.zeros(num, dim));
        Init.normal(weight.get(), 0, 1, g);
    }

    public Parameter weight() {
        return weight;
    }

    @Override
    public Tensor forward(Tensor indices) {
        if (indices.dtype() != DType.I64 && indices.dtype() != DType.I32) {
            throw new IllegalArgumentException(describe() + ": expected I64 or I32 indices, got " + indices.dtype() + " "
                    + Arrays.toString(indices.shape()));
        }
        long[] idx = indices.to(Device.CPU).toLongArray();
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= num) {
                throw new IllegalArgumentException(describe() + ": index " + idx[i] + " at position " + i + " is out of range [0, " + num + ")");
            }
        }
        return Functional.embedding(weight.get(), indices);
    }

    @Override
    protected String describe() {
        return "Embedding(" + num + ", " + dim + ")";
    }
}

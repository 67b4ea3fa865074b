package dev.kiln.nn.layers;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import java.util.Arrays;

/**
 * Layer normalization over the last dims, as {@code torch.nn.LayerNorm}: parameters {@code weight}
 * (ones) and {@code bias} (zeros) of {@code normalizedShape}, eps 1e-5. Same in training and eval.
 */
public final class LayerNorm extends Module {
    private final int[] normalizedShape;
    private final double eps;
    private final Parameter weight;
    private final Parameter bias;

    public LayerNorm(int... normalizedShape) {
        this(normalizedShape, 1e-5);
    }

    public LayerNorm(int[] normalizedShape, double eps) {
        boolean ok = normalizedShape.length > 0 && eps > 0;
        for (int d : normalizedShape) {
            ok &= d >= 1;
        }
        if (!ok) {
            throw new IllegalArgumentException("LayerNorm: expected a non-empty shape of positive sizes and eps > 0, got "
                    + Arrays.toString(normalizedShape) + " eps=" + eps);
        }
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.weight = parameter("weight", Tensors.ones(normalizedShape));
        this.bias = parameter("bias", Tensors.zeros(normalizedShape));
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        int k = normalizedShape.length;
        int[] xs = x.shape();
        boolean ok = xs.length >= k && Arrays.equals(Arrays.copyOfRange(xs, xs.length - k, xs.length), normalizedShape);
        if (!ok) {
            String dims = Arrays.toString(normalizedShape);
            throw new IllegalArgumentException(describe() + ": expected input [..., " + dims.substring(1, dims.length() - 1) + "], got "
                    + Arrays.toString(xs));
        }
        return Functional.layerNorm(x, normalizedShape, weight.get(), bias.get(), eps);
    }

    @Override
    protected String describe() {
        return "LayerNorm(" + Arrays.toString(normalizedShape) + (eps != 1e-5 ? ", eps=" + eps : "") + ")";
    }
}

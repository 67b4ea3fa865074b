package dev.kiln.nn.layers;

import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;
import java.util.ArrayList;
import java.util.List;

/**
 * Modules applied one after another, as {@code torch.nn.Sequential}: children are named
 * {@code "0"}, {@code "1"}, ... so parameters get PyTorch's keys ({@code 1.weight}).
 */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... modules) {
        for (Module m : modules) {
            add(m);
        }
    }

    /** Appends {@code m} under the next index; returns this. */
    public Sequential add(Module m) {
        if (m == null) {
            throw new IllegalArgumentException("Sequential.add: expected a module, got null at index " + layers.size());
        }
        layers.add(register(Integer.toString(layers.size()), m));
        return this;
    }

    /** The module at {@code index}. */
    public Module get(int index) {
        if (index < 0 || index >= layers.size()) {
            throw new IndexOutOfBoundsException("Sequential.get: expected an index in [0, " + layers.size() + "), got " + index);
        }
        return layers.get(index);
    }

    /** Number of modules. */
    public int size() {
        return layers.size();
    }

    /**
     * Applies the modules in order; a {@link Linear}, a {@link Conv2d} or a {@link BatchNorm} directly
     * followed by a {@link ReLU} runs as one fused op ({@link Linear#forwardRelu},
     * {@link Conv2d#forwardRelu}, {@link BatchNorm#forwardRelu}), with the same values and gradients.
     */
    @Override
    public Tensor forward(Tensor x) {
        Tensor y = x;
        for (int i = 0; i < layers.size(); i++) {
            Module m = layers.get(i);
            if (m instanceof Linear l && i + 1 < layers.size() && layers.get(i + 1) instanceof ReLU) {
                y = l.forwardRelu(y);
                i++;
            } else if (m instanceof Conv2d c && i + 1 < layers.size() && layers.get(i + 1) instanceof ReLU) {
                y = c.forwardRelu(y);
                i++;
            } else if (m instanceof BatchNorm b && i + 1 < layers.size() && layers.get(i + 1) instanceof ReLU) {
                y = b.forwardRelu(y);
                i++;
            } else {
                y = m.forward(y);
            }
        }
        return y;
    }

    @Override
    protected String describe() {
        return "Sequential";
    }
}

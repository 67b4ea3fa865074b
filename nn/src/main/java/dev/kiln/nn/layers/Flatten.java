package dev.kiln.nn.layers;

import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;
import java.util.Arrays;

/** Flattens dims {@code start..end} into one, as {@code torch.nn.Flatten} (default: dim 1 to the last, keeping the batch dim). */
public final class Flatten extends Module {
    private final int start;
    private final int end;

    public Flatten() {
        this(1, -1);
    }

    public Flatten(int start, int end) {
        this.start = start;
        this.end = end;
    }

    @Override
    public Tensor forward(Tensor x) {
        int r = x.rank();
        int s = start < 0 ? start + r : start;
        int e = end < 0 ? end + r : end;
        if (s < 0 || e >= r || s > e) {
            throw new IllegalArgumentException(describe() + ": expected an input with dims " + start + " to " + end + ", got "
                    + Arrays.toString(x.shape()));
        }
        return x.flatten(start, end);
    }

    @Override
    protected String describe() {
        return start == 1 && end == -1 ? "Flatten" : "Flatten(" + start + ", " + end + ")";
    }
}

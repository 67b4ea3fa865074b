package dev.kiln.nn.optim;

import dev.kiln.engine.Device;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Checks of the per-parameter state handed to {@link Optimizer#loadStateDict}. */
final class StateChecks {
    private StateChecks() {
    }

    /** The names of {@code state} must include every {@code required} one and nothing outside required and optional. */
    static void names(String owner, Map<String, Tensor> state, List<String> required, List<String> optional) {
        List<String> missing = new ArrayList<>();
        for (String r : required) {
            if (!state.containsKey(r)) {
                missing.add(r);
            }
        }
        List<String> unknown = new ArrayList<>();
        for (String k : state.keySet()) {
            if (!required.contains(k) && !optional.contains(k)) {
                unknown.add(k);
            }
        }
        if (!missing.isEmpty() || !unknown.isEmpty()) {
            List<String> allowed = new ArrayList<>(required);
            allowed.addAll(optional);
            throw new IllegalArgumentException(owner + ".loadStateDict: a parameter's state expected the entries " + required
                    + (optional.isEmpty() ? "" : " (optionally " + optional + ")") + ", got " + state.keySet()
                    + (missing.isEmpty() ? "" : "; missing " + missing) + (unknown.isEmpty() ? "" : "; unknown " + unknown));
        }
    }

    /** {@code t} must be a floating tensor with the shape of {@code p}. */
    static void likeParameter(String owner, String name, Parameter p, Tensor t) {
        if (!t.dtype().isFloating() || !Arrays.equals(t.shape(), p.get().shape())) {
            throw new IllegalArgumentException(owner + ".loadStateDict: state '" + name + "' of " + p + " expected a floating tensor "
                    + "of shape " + Arrays.toString(p.get().shape()) + ", got " + t.dtype() + " " + Arrays.toString(t.shape()));
        }
    }

    /** {@code t} must be a one-element tensor holding a whole number >= 0; returns it. */
    static long count(String owner, String name, Parameter p, Tensor t) {
        double v = t.numel() == 1 ? t.to(Device.CPU).item() : Double.NaN;
        if (!(v >= 0) || v != Math.rint(v)) {
            throw new IllegalArgumentException(owner + ".loadStateDict: state '" + name + "' of " + p + " expected a one-element "
                    + "tensor holding a whole number >= 0, got " + t.dtype() + " " + Arrays.toString(t.shape())
                    + (t.numel() == 1 ? " = " + v : ""));
        }
        return (long) v;
    }
}

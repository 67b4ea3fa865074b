package dev.kiln.nn.optim;

import dev.kiln.engine.DType;
import dev.kiln.engine.Device;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.optim.ParamGroup.Option;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The flat state dict of an {@link Optimizer}: key layout, saving, and checked loading. */
final class OptimizerState {
    private static final String STATE = "state.";
    private static final String GROUPS = "param_groups.";
    private static final String PARAMS = "params";

    private OptimizerState() {
    }

    static Map<String, Tensor> save(Optimizer opt) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        List<Parameter> params = opt.orderedParams();
        for (int i = 0; i < params.size(); i++) {
            for (Map.Entry<String, Tensor> e : opt.exportState(params.get(i)).entrySet()) {
                out.put(STATE + i + "." + e.getKey(), e.getValue());
            }
        }
        int first = 0;
        for (int g = 0; g < opt.groups().size(); g++) {
            ParamGroup group = opt.groups().get(g);
            out.put(GROUPS + g + "." + PARAMS, Tensors.of(indices(first, group.params().size()), group.params().size()));
            first += group.params().size();
            for (Option o : Option.values()) {
                if (group.has(o)) {
                    out.put(GROUPS + g + "." + o.key, Tensors.scalar(DType.F64, group.raw(o)));
                }
            }
        }
        return out;
    }

    static void load(Optimizer opt, Map<String, Tensor> source) {
        String who = opt.name() + ".loadStateDict";
        List<Parameter> params = opt.orderedParams();
        List<ParamGroup> groups = opt.groups();
        Map<Integer, Map<String, Tensor>> states = new TreeMap<>();
        List<Map<Option, Double>> options = new ArrayList<>();
        groups.forEach(g -> options.add(new EnumMap<>(Option.class)));
        boolean[] layoutSeen = new boolean[groups.size()];

        for (Map.Entry<String, Tensor> e : source.entrySet()) {
            String key = e.getKey();
            Tensor t = e.getValue();
            if (key.startsWith(STATE)) {
                String[] parts = key.substring(STATE.length()).split("\\.", 2);
                int i = index(who, key, parts[0], params.size(), "parameters");
                if (parts.length < 2 || parts[1].isEmpty()) {
                    throw new IllegalArgumentException(who + ": expected 'state.<index>.<name>', got '" + key + "'");
                }
                states.computeIfAbsent(i, k -> new LinkedHashMap<>()).put(parts[1], t);
            } else if (key.startsWith(GROUPS)) {
                String[] parts = key.substring(GROUPS.length()).split("\\.", 2);
                int g = index(who, key, parts[0], groups.size(), "parameter groups");
                String name = parts.length < 2 ? "" : parts[1];
                if (name.equals(PARAMS)) {
                    checkLayout(who, key, t, firstIndex(groups, g), groups.get(g).params().size());
                    layoutSeen[g] = true;
                } else {
                    options.get(g).put(option(who, key, name, groups.get(g)), scalar(who, key, t));
                }
            } else {
                throw new IllegalArgumentException(who + ": unexpected key '" + key
                        + "' (expected 'state.<index>.<name>' or 'param_groups.<index>.<option>')");
            }
        }
        for (int g = 0; g < groups.size(); g++) {
            if (!layoutSeen[g]) {
                throw new IllegalArgumentException(who + ": missing key '" + GROUPS + g + "." + PARAMS
                        + "' (the layout of parameter group " + g + ")");
            }
            ParamGroup scratch = ParamGroup.defaults(who + " (param_groups." + g + ")");
            options.get(g).forEach(scratch::setRaw);
        }
        for (Map.Entry<Integer, Map<String, Tensor>> e : states.entrySet()) {
            opt.checkState(params.get(e.getKey()), e.getValue());
        }

        opt.clearState();
        states.forEach((i, s) -> opt.importState(params.get(i), s));
        for (int g = 0; g < groups.size(); g++) {
            ParamGroup group = groups.get(g);
            options.get(g).forEach(group::setRaw);
        }
    }

    private static long[] indices(int first, int n) {
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = first + i;
        }
        return ids;
    }

    private static int firstIndex(List<ParamGroup> groups, int g) {
        int first = 0;
        for (int k = 0; k < g; k++) {
            first += groups.get(k).params().size();
        }
        return first;
    }

    private static int index(String who, String key, String text, int count, String what) {
        int i;
        try {
            i = Integer.parseInt(text);
        } catch (NumberFormatException ex) {
            throw new IllegalArgumentException(who + ": expected an index after the prefix of '" + key + "', got '" + text + "'");
        }
        if (i < 0 || i >= count) {
            throw new IllegalArgumentException(who + ": key '" + key + "' has index " + i + ", but this optimizer has " + count
                    + " " + what);
        }
        return i;
    }

    private static void checkLayout(String who, String key, Tensor t, int first, int n) {
        long[] expected = indices(first, n);
        long[] got = t.dtype().isFloating() || t.rank() != 1 ? null : t.toLongArray();
        if (!Arrays.equals(expected, got)) {
            throw new IllegalArgumentException(who + ": '" + key + "' expected the parameter indices " + Arrays.toString(expected)
                    + " (a 1-D integer tensor), got " + (got != null ? Arrays.toString(got)
                    : t.dtype() + " " + Arrays.toString(t.shape())) + "; the saved optimizer had a different group layout");
        }
    }

    private static Option option(String who, String key, String name, ParamGroup group) {
        for (Option o : Option.values()) {
            if (o.key.equals(name)) {
                if (!group.has(o)) {
                    throw new IllegalArgumentException(who + ": '" + key + "' sets option '" + name + "', which "
                            + "this optimizer's groups do not have");
                }
                return o;
            }
        }
        throw new IllegalArgumentException(who + ": unexpected key '" + key + "' (unknown group option '" + name + "')");
    }

    private static double scalar(String who, String key, Tensor t) {
        if (t.numel() != 1) {
            throw new IllegalArgumentException(who + ": '" + key + "' expected a one-element tensor, got shape "
                    + Arrays.toString(t.shape()));
        }
        return t.to(Device.CPU).item();
    }
}

package dev.kiln.nn.optim;

import static dev.kiln.nn.optim.OptimTesting.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.io.Safetensors;
import dev.kiln.nn.io.SafetensorsFile;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptimizerStateTest {
    /** Two parameters [3,4] and [4] in two groups, values from seed 7. */
    private static List<Parameter> params() {
        Generator g = new Generator(7);
        return List.of(new Parameter(Tensors.randn(g, 3, 4)), new Parameter(Tensors.randn(g, 4)));
    }

    private static List<ParamGroup> groups(List<Parameter> ps) {
        return List.of(ParamGroup.of(List.of(ps.get(0))).lr(0.03), ParamGroup.of(List.of(ps.get(1))));
    }

    /** Sets the gradients of step {@code t} (the same for every run). */
    private static void grads(List<Parameter> ps, int t) {
        Generator g = new Generator(100 + t);
        ps.forEach(p -> p.get().setGrad(Tensors.randn(g, p.get().shape())));
    }

    private static List<Function<List<Parameter>, Optimizer>> makers() {
        return List.of(
                ps -> SGD.withGroups(groups(ps), 0.1, 0.9, 0.01, true),
                ps -> Adam.withGroups(groups(ps), 0.01, 0.9, 0.99, 1e-8, 0.1, true),
                ps -> AdamW.withGroups(groups(ps), 0.01, 0.8, 0.99, 1e-8, 0.1, false));
    }

    @Test
    void aRestoredOptimizerContinuesExactlyAsTheOriginal(@TempDir Path dir) {
        for (var make : makers()) {
            List<Parameter> ref = params();
            Optimizer original = make.apply(ref);
            for (int t = 0; t < 3; t++) {
                grads(ref, t);
                original.step();
            }
            original.groups().get(1).lr(0.004);
            Path file = dir.resolve(original.name() + ".safetensors");
            Safetensors.write(file, original.stateDict(), Map.of());

            List<Parameter> copy = params();
            for (int i = 0; i < copy.size(); i++) {
                copy.get(i).set(ref.get(i).get().copy());
            }
            Optimizer restored = make.apply(copy);
            try (SafetensorsFile f = Safetensors.read(file)) {
                restored.loadStateDict(f.tensors());
            }
            assertEquals(0.004, restored.groups().get(1).lr(), original.name() + ": group lr restored");
            for (int t = 3; t < 5; t++) {
                grads(ref, t);
                grads(copy, t);
                original.step();
                restored.step();
            }
            for (int i = 0; i < ref.size(); i++) {
                assertClose(original.name() + " param " + i, ref.get(i).get().toDoubleArray(), copy.get(i).get(), 0);
            }
        }
    }

    @Test
    void keysFollowPyTorchsLayout() {
        List<Parameter> ps = params();
        Optimizer adam = makers().get(1).apply(ps);
        grads(ps, 0);
        adam.step();
        Map<String, Tensor> sd = adam.stateDict();
        assertEquals(List.of("state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq",
                "state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq",
                "param_groups.0.params", "param_groups.0.lr", "param_groups.0.weight_decay", "param_groups.0.beta1",
                "param_groups.0.beta2", "param_groups.0.eps", "param_groups.0.amsgrad",
                "param_groups.1.params", "param_groups.1.lr", "param_groups.1.weight_decay", "param_groups.1.beta1",
                "param_groups.1.beta2", "param_groups.1.eps", "param_groups.1.amsgrad"), List.copyOf(sd.keySet()));
        assertEquals(1L, sd.get("state.1.step").toLongArray()[0]);
        assertEquals(1L, sd.get("param_groups.1.params").toLongArray()[0]);
        assertEquals(0.03, sd.get("param_groups.0.lr").item());
    }

    @Test
    void aBadStateDictIsRejectedAndChangesNothing() {
        List<Parameter> ps = params();
        SGD sgd = SGD.withGroups(groups(ps), 0.1, 0.9, 0, false);
        grads(ps, 0);
        sgd.step();
        Map<String, Tensor> good = sgd.stateDict();
        double[] buffer = good.get("state.0.momentum_buffer").toDoubleArray();

        assertRejected(sgd, with(good, "state.0.exp_avg", Tensors.zeros(3, 4)), "unknown [exp_avg]");
        assertRejected(sgd, with(good, "state.5.momentum_buffer", Tensors.zeros(3, 4)), "has index 5, but this optimizer has 2");
        assertRejected(sgd, with(good, "state.1.momentum_buffer", Tensors.zeros(3, 4)), "expected a floating tensor of shape [4]");
        assertRejected(sgd, with(good, "param_groups.0.params", Tensors.of(new long[] {0, 1}, 2)), "different group layout");
        assertRejected(sgd, with(good, "param_groups.0.beta1", Tensors.scalar(DType.F64, 0.5)), "do not have");
        assertRejected(sgd, with(good, "param_groups.1.lr", Tensors.scalar(DType.F64, -1)), "expected lr >= 0");
        assertRejected(sgd, with(good, "momentum", Tensors.scalar(DType.F64, 0.5)), "unexpected key 'momentum'");
        Map<String, Tensor> noLayout = new LinkedHashMap<>(good);
        noLayout.remove("param_groups.1.params");
        assertRejected(sgd, noLayout, "missing key 'param_groups.1.params'");

        assertEquals(0.03, sgd.groups().get(0).lr());
        assertClose("buffer kept", buffer, sgd.stateDict().get("state.0.momentum_buffer"), 0);
    }

    @Test
    void parametersWithoutSavedStateStartFresh() {
        List<Parameter> ps = params();
        SGD sgd = SGD.withGroups(groups(ps), 0.1, 0.9, 0, false);
        grads(ps, 0);
        sgd.step();
        Map<String, Tensor> sd = new LinkedHashMap<>(sgd.stateDict());
        sd.remove("state.1.momentum_buffer");
        sgd.loadStateDict(sd);
        assertTrue(sgd.stateDict().containsKey("state.0.momentum_buffer"));
        assertTrue(!sgd.stateDict().containsKey("state.1.momentum_buffer"));
    }

    private static Map<String, Tensor> with(Map<String, Tensor> base, String key, Tensor value) {
        Map<String, Tensor> out = new LinkedHashMap<>(base);
        out.put(key, value);
        return out;
    }

    private static void assertRejected(Optimizer opt, Map<String, Tensor> sd, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> opt.loadStateDict(sd));
        assertTrue(e.getMessage().startsWith(opt.name() + ".loadStateDict") && e.getMessage().contains(part), e.getMessage());
    }
}

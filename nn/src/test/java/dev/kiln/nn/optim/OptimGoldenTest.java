package dev.kiln.nn.optim;

import static dev.kiln.nn.optim.OptimTesting.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.io.Safetensors;
import dev.kiln.nn.io.SafetensorsFile;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kiln's optimizers and schedules against PyTorch 1.13 (fixture made by
 * {@code tools/golden_optim.py}, whose configurations this class mirrors one to one).
 */
class OptimGoldenTest {
    private static final double TOL = 1e-12;
    private static final int STEPS = 6;
    private static Map<String, Tensor> golden;

    @BeforeAll
    static void load() throws URISyntaxException {
        Path path = Path.of(OptimGoldenTest.class.getResource("/golden/optim.safetensors").toURI());
        try (SafetensorsFile f = Safetensors.read(path)) {
            golden = f.tensors();
            assertEquals(String.valueOf(STEPS), f.metadata().get("steps"));
        }
    }

    private static Map<String, Function<List<Parameter>, Optimizer>> optimizers() {
        Map<String, Function<List<Parameter>, Optimizer>> m = new LinkedHashMap<>();
        m.put("sgd", ps -> new SGD(ps, 0.01));
        m.put("sgd_momentum", ps -> new SGD(ps, 0.01, 0.9, 0, false));
        m.put("sgd_dampening", ps -> SGD.withGroups(List.of(ParamGroup.of(ps).dampening(0.3)), 0.01, 0.9, 0, false));
        m.put("sgd_nesterov", ps -> new SGD(ps, 0.01, 0.9, 0, true));
        m.put("sgd_wd", ps -> new SGD(ps, 0.01, 0.9, 0.1, false));
        m.put("sgd_groups", ps -> SGD.withGroups(List.of(ParamGroup.of(List.of(ps.get(0))).lr(0.005).weightDecay(0.2),
                ParamGroup.of(List.of(ps.get(1))).momentum(0.5)), 0.01, 0.9, 0, false));
        m.put("adam", ps -> new Adam(ps, 0.05, 0.9, 0.999, 1e-8, 0));
        m.put("adam_wd", ps -> new Adam(ps, 0.05, 0.9, 0.999, 1e-8, 0.1));
        m.put("adam_amsgrad", ps -> new Adam(ps, 0.05, 0.8, 0.9, 1e-8, 0, true));
        m.put("adamw", ps -> new AdamW(ps, 0.05, 0.9, 0.999, 1e-8, 1e-2));
        m.put("adamw_wd_amsgrad", ps -> new AdamW(ps, 0.05, 0.85, 0.95, 1e-6, 0.3, true));
        m.put("adam_groups", ps -> Adam.withGroups(List.of(ParamGroup.of(List.of(ps.get(0))).lr(0.02).betas(0.5, 0.9),
                ParamGroup.of(List.of(ps.get(1))).weightDecay(0.1)), 0.05, 0.9, 0.999, 1e-8, 0, false));
        return m;
    }

    @Test
    void optimizerTrajectoriesMatchPyTorch() {
        Tensor x = golden.get("x");
        Tensor t = golden.get("t");
        for (var config : optimizers().entrySet()) {
            String name = config.getKey();
            Parameter w = new Parameter(golden.get("w0").copy());
            Parameter b = new Parameter(golden.get("b0").copy());
            Optimizer opt = config.getValue().apply(List.of(w, b));
            double[] ws = golden.get(name + ".w").toDoubleArray();
            double[] bs = golden.get(name + ".b").toDoubleArray();
            for (int step = 0; step < STEPS; step++) {
                opt.zeroGrad();
                x.matmul(w.get()).add(b.get()).sub(t).square().sum().backward();
                opt.step();
                assertClose(name + " w after step " + (step + 1), slice(ws, step, 12), w.get(), TOL);
                assertClose(name + " b after step " + (step + 1), slice(bs, step, 4), b.get(), TOL);
            }
        }
    }

    private static Map<String, Function<Optimizer, ClosedFormScheduler>> schedules() {
        Map<String, Function<Optimizer, ClosedFormScheduler>> m = new LinkedHashMap<>();
        m.put("step", o -> new StepLR(o, 7, 0.5));
        m.put("multistep", o -> new MultiStepLR(o, new int[] {5, 12, 12, 20}, 0.3));
        m.put("cosine", o -> new CosineAnnealingLR(o, 12, 0.001));
        m.put("warmup_cosine", o -> new LinearWarmup(5, 0.1, new CosineAnnealingLR(o, 25, 0.0005)));
        m.put("warmup_constant", o -> new LinearWarmup(o, 8, 0.25));
        m.put("warmup_step", o -> new LinearWarmup(4, 0.5, new StepLR(o, 6, 0.5)));
        m.put("onecycle", o -> OneCycleLR.builder(o, 0, 30).maxLrs(0.5, 0.1).build());
        m.put("onecycle_linear3", o -> OneCycleLR.builder(o, 0.3, 30).pctStart(0.25).anneal(OneCycleLR.Anneal.LINEAR)
                .threePhase(true).divFactor(10).finalDivFactor(100).momentum(0.8, 0.9).build());
        return m;
    }

    @Test
    void scheduleSequencesMatchPyTorch() {
        for (var config : schedules().entrySet()) {
            String name = config.getKey();
            boolean adam = name.equals("onecycle_linear3");
            Parameter a = new Parameter(Tensors.zeros(2));
            Parameter c = new Parameter(Tensors.zeros(3));
            List<ParamGroup> groups = List.of(ParamGroup.of(List.of(a)).lr(0.1), ParamGroup.of(List.of(c)).lr(0.02));
            Optimizer opt = adam ? Adam.withGroups(groups, 1e-3, 0.9, 0.999, 1e-8, 0, false)
                    : SGD.withGroups(groups, 0.1, 0.9, 0, false);
            ClosedFormScheduler s = config.getValue().apply(opt);
            double[] lrs = golden.get(name + ".lr").toDoubleArray();
            Tensor moms = golden.get(name + ".momentum");
            assertArrayEquals(new int[] {31, 2}, golden.get(name + ".lr").shape());
            for (int step = 0; step <= 30; step++) {
                if (step > 0) {
                    s.step();
                }
                double[] expected = slice(lrs, step, 2);
                if (name.equals("onecycle_linear3")) {
                    // PyTorch extrapolates the linear last phase to a negative lr at step totalSteps; Kiln stops at 0
                    expected[0] = Math.max(0, expected[0]);
                    expected[1] = Math.max(0, expected[1]);
                }
                double[] got = {opt.groups().get(0).lr(), opt.groups().get(1).lr()};
                assertClose(name + " lr at step " + step, expected, got, TOL);
                if (moms != null) {
                    double[] gotM = adam ? new double[] {opt.groups().get(0).beta1(), opt.groups().get(1).beta1()}
                            : new double[] {opt.groups().get(0).momentum(), opt.groups().get(1).momentum()};
                    assertClose(name + " momentum at step " + step, slice(moms.toDoubleArray(), step, 2), gotM, TOL);
                }
            }
        }
    }

    private static double[] slice(double[] all, int row, int width) {
        double[] out = new double[width];
        System.arraycopy(all, row * width, out, 0, width);
        return out;
    }
}

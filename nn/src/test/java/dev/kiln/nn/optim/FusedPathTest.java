package dev.kiln.nn.optim;

import static dev.kiln.nn.optim.OptimTesting.assertClose;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.optim.OptimTesting.Layout;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The fused F32 loop against the engine-op path: the same run in F64 (engine ops), contiguous
 * F32 (fused) and strided F32 (engine ops) must agree to float rounding.
 */
class FusedPathTest {
    private static final int ROWS = 17;
    private static final int COLS = 33;

    private static final Map<String, Function<List<Parameter>, Optimizer>> CONFIGS = Map.of(
            "sgd", ps -> new SGD(ps, 0.05),
            "sgd nesterov wd", ps -> new SGD(ps, 0.05, 0.9, 0.01, true),
            "sgd dampening", ps -> SGD.withGroups(List.of(ParamGroup.of(ps).dampening(0.2)), 0.05, 0.8, 0.1, false),
            "adam L2", ps -> new Adam(ps, 0.01, 0.9, 0.99, 1e-8, 0.1),
            "adam amsgrad", ps -> new Adam(ps, 0.01, 0.5, 0.6, 1e-6, 0, true),
            "adamw", ps -> new AdamW(ps, 0.01, 0.9, 0.999, 1e-8, 0.2, true));

    @Test
    void fusedAndEngineOpPathsAgree() {
        double[] w0 = Tensors.randn(new Generator(3), ROWS, COLS).toDoubleArray();
        for (var config : CONFIGS.entrySet()) {
            double[] reference = run(config.getValue(), Layout.F64, w0);
            for (Layout l : List.of(Layout.F32, Layout.F32_STRIDED)) {
                assertClose(config.getKey() + " " + l + " vs F64", reference, run(config.getValue(), l, w0), 2e-5);
            }
        }
    }

    private static double[] run(Function<List<Parameter>, Optimizer> make, Layout layout, double[] w0) {
        Parameter p = layout.param(w0, ROWS, COLS);
        Optimizer opt = make.apply(List.of(p));
        for (int t = 0; t < 5; t++) {
            DType dt = p.get().dtype();
            p.get().setGrad(Tensors.randn(new Generator(50 + t), ROWS, COLS).to(DType.F64).to(dt));
            opt.step();
        }
        return p.get().toDoubleArray();
    }
}

package dev.kiln.nn.optim;

import static dev.kiln.nn.optim.OptimTesting.assertClose;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.Parallel;
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

    /**
     * A parameter large enough for the fused loop to split over the threads: 1 and 3 threads give
     * the same bits (every element is updated on its own), for each optimizer.
     */
    @Test
    void splitOverThreadsGivesTheSameBits() {
        int before = Parallel.threads();
        int rows = 2 * Parallel.ELEMENT_GRAIN / 64 + 3;
        int cols = 64;
        double[] w0 = Tensors.randn(new Generator(4), rows, cols).toDoubleArray();
        try {
            for (var config : CONFIGS.entrySet()) {
                Parallel.setThreads(1);
                double[] one = runSized(config.getValue(), w0, rows, cols);
                Parallel.setThreads(3);
                double[] three = runSized(config.getValue(), w0, rows, cols);
                org.junit.jupiter.api.Assertions.assertArrayEquals(one, three, config.getKey());
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    private static double[] runSized(Function<List<Parameter>, Optimizer> make, double[] w0, int rows, int cols) {
        Parameter p = Layout.F32.param(w0, rows, cols);
        Optimizer opt = make.apply(List.of(p));
        for (int t = 0; t < 3; t++) {
            p.get().setGrad(Tensors.randn(new Generator(60 + t), rows, cols));
            opt.step();
        }
        return p.get().toDoubleArray();
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

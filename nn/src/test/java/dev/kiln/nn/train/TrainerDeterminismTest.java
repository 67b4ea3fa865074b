package dev.kiln.nn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.engine.Generator;
import dev.kiln.nn.Module;
import dev.kiln.nn.data.InMemoryDataset;
import dev.kiln.nn.layers.Linear;
import dev.kiln.nn.layers.ReLU;
import dev.kiln.nn.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Same seed, same threads, same loss curve, also while the JIT compiles the vectorised kernels
 * between (or during) fits: the first fit runs them partly interpreted, the later ones compiled.
 */
class TrainerDeterminismTest {
    /** 64-dimensional blobs and a 64-wide hidden layer: big enough to run the vectorised kernels. */
    private static List<Double> wideBatchLosses() {
        Generator g = new Generator(3);
        int n = 256;
        int d = 64;
        float[] x = new float[n * d];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 4;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) ((j % 4 == y[i] ? 1.5 : 0) + g.nextGaussian());
            }
        }
        Generator init = new Generator(9);
        Module m = new Sequential(new Linear(d, 64, init), new ReLU(), new Linear(64, 4, init));
        List<Double> losses = new ArrayList<>();
        TrainerTest.sgd(0.05).epochs(3).onBatch((e, b, l) -> losses.add(l)).build()
                .fit(m, TrainerTest.loader(new InMemoryDataset(x, new int[] {d}, y), true, 5), null);
        return losses;
    }

    @Test
    void sameSeedsGiveTheSameLossCurveWhileTheJitCompilesTheKernels() {
        List<Double> first = wideBatchLosses();
        for (int run = 1; run < 4; run++) {
            assertEquals(first, wideBatchLosses(), "run " + run + " of the same fit in the same JVM");
        }
    }
}

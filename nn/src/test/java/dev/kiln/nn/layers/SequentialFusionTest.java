package dev.kiln.nn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A Sequential runs a Linear, a Conv2d or a BatchNorm followed by a ReLU as one fused op: the output and every
 * parameter gradient have the same bits as running the modules one by one.
 */
class SequentialFusionTest {

    private static float[][] outputAndGrads(Module model, List<Module> steps, Tensor x, boolean fused) {
        model.parameters().forEach(Parameter::zeroGrad);
        Tensor y = x;
        if (fused) {
            y = model.forward(x);
        } else {
            for (Module m : steps) {
                y = m.forward(y);
            }
        }
        y.mul(y).sum().backward();
        List<Parameter> ps = model.parameters();
        float[][] out = new float[ps.size() + 1][];
        out[0] = y.toFloatArray();
        for (int i = 0; i < ps.size(); i++) {
            out[i + 1] = ps.get(i).get().grad().toFloatArray();
        }
        return out;
    }

    @Test
    void batchNormReluPairsGiveTheUnfusedBits() {
        Generator g = new Generator(4);
        List<Module> steps = List.of(new Conv2d(3, 8, 3, 1, 1, g), new BatchNorm2d(8), new ReLU(),
                new Conv2d(8, 8, 3, 1, 1, g), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2));
        Sequential model = new Sequential(steps.toArray(new Module[0]));
        for (boolean training : new boolean[] {true, false}) {
            model.train(training);
            for (int batch : new int[] {1, 4}) {
                Tensor x = Tensors.randn(g, batch, 3, 12, 12);
                float[][] fused = outputAndGrads(model, steps, x, true);
                float[][] plain = outputAndGrads(model, steps, x, false);
                for (int i = 0; i < fused.length; i++) {
                    assertArrayEquals(plain[i], fused[i], (training ? "training" : "eval") + " batch " + batch
                            + (i == 0 ? " output" : " gradient " + (i - 1)));
                }
            }
        }
    }

    @Test
    void linearReluPairsGiveTheUnfusedBits() {
        Generator g = new Generator(3);
        Linear a = new Linear(784, 300, g);
        Linear b = new Linear(300, 100, g);
        Linear c = new Linear(100, 10, g);
        List<Module> steps = List.of(a, new ReLU(), b, new ReLU(), c);
        Sequential model = new Sequential(steps.toArray(new Module[0]));
        for (int batch : new int[] {1, 5, 64}) {
            Tensor x = Tensors.randn(g, batch, 784);
            float[][] fused = outputAndGrads(model, steps, x, true);
            float[][] plain = outputAndGrads(model, steps, x, false);
            for (int i = 0; i < fused.length; i++) {
                assertArrayEquals(plain[i], fused[i], "batch " + batch + (i == 0 ? " output" : " gradient " + (i - 1)));
            }
        }
    }

    /** LeNet-5's feature extractor: each Conv2d + ReLU runs as {@code Conv2d.forwardRelu}. */
    @Test
    void convReluPairsGiveTheUnfusedBits() {
        Generator g = new Generator(5);
        List<Module> steps = List.of(new Conv2d(1, 6, 5, 1, 2, g), new ReLU(), new MaxPool2d(2),
                new Conv2d(6, 16, 5, 1, 0, g), new ReLU(), new MaxPool2d(2));
        Sequential model = new Sequential(steps.toArray(new Module[0]));
        for (int batch : new int[] {1, 3, 64}) {
            Tensor x = Tensors.randn(g, batch, 1, 28, 28);
            float[][] fused = outputAndGrads(model, steps, x, true);
            float[][] plain = outputAndGrads(model, steps, x, false);
            for (int i = 0; i < fused.length; i++) {
                assertArrayEquals(plain[i], fused[i], "batch " + batch + (i == 0 ? " output" : " gradient " + (i - 1)));
            }
        }
    }
}

package dev.kiln.nn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Grad;
import dev.kiln.engine.GradCheck;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Module;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Gradients of the layers (input and every parameter) against central differences, with the
 * layers converted to F64 by {@link Module#to(DType)}.
 */
class LayerGradCheckTest {
    private final Generator gen = new Generator(2024);

    private Tensor input(int... shape) {
        return Tensors.normal(gen, DType.F64, 0, 1, shape).requiresGrad(true);
    }

    private static void check(String name, Module m, Tensor x) {
        m.to(DType.F64);
        List<Tensor> inputs = new ArrayList<>();
        inputs.add(x);
        m.parameters().forEach(p -> inputs.add(p.get()));
        GradCheck.check(name, in -> m.forward(in[0]), inputs.toArray(Tensor[]::new));
    }

    @Test
    void linear() {
        check("Linear", new Linear(3, 2, gen), input(4, 3));
        check("Linear 3-D", new Linear(3, 2, false, gen), input(2, 2, 3));
    }

    @Test
    void conv2dWithStrideGroupsAndDilation() {
        check("Conv2d groups", new Conv2d(4, 4, 3, 2, new int[] {2, 1}, new int[] {1, 0}, new int[] {1}, 2, true, gen), input(2, 4, 5, 4));
        check("Conv2d dilation", new Conv2d(2, 3, 2, 2, new int[] {1}, new int[] {1}, new int[] {2}, 1, false, gen), input(1, 2, 4, 4));
    }

    @Test
    void batchNormInTrainingAndEval() {
        check("BatchNorm1d [N, C]", new BatchNorm1d(3), input(5, 3));
        check("BatchNorm1d [N, C, L]", new BatchNorm1d(2), input(3, 2, 2));
        check("BatchNorm2d", new BatchNorm2d(2), input(3, 2, 2, 2));
        BatchNorm2d eval = new BatchNorm2d(2);
        eval.to(DType.F64);
        eval.forward(Tensors.normal(gen, DType.F64, 1, 2, 4, 2, 3, 3));
        eval.eval();
        check("BatchNorm2d eval", eval, input(2, 2, 2, 2));
    }

    @Test
    void layerNorm() {
        check("LayerNorm", new LayerNorm(2, 3), input(2, 2, 3));
    }

    @Test
    void activations() {
        Tensor x = input(3, 4);
        try (var ng = Grad.disabled()) {
            x.copyFrom(x.abs().add(0.05).mul(x.sign()));
        }
        check("LeakyReLU", new LeakyReLU(0.1), x);
        check("GELU", new GELU(), input(3, 4));
        check("GELU tanh", new GELU("tanh"), input(3, 4));
        check("Tanh", new Tanh(), input(3, 4));
        check("Sigmoid", new Sigmoid(), input(3, 4));
    }

    @Test
    void pooling() {
        check("MaxPool2d", new MaxPool2d(3, 2, 1), input(1, 2, 5, 5));
        check("AvgPool2d", new AvgPool2d(2), input(1, 2, 4, 6));
        check("AdaptiveAvgPool2d", new AdaptiveAvgPool2d(2, 3), input(1, 2, 5, 7));
    }

    @Test
    void embeddingAccumulatesRepeatedRows() {
        Embedding emb = new Embedding(5, 3, gen);
        emb.to(DType.F64);
        Tensor idx = Tensors.of(new long[] {2, 2, 4, 0}, 4);
        GradCheck.check("Embedding", in -> emb.forward(idx), emb.weight().get());
        emb.zeroGrad();
        emb.forward(idx).sum().backward();
        assertArrayEquals(new double[] {1, 1, 1, 0, 0, 0, 2, 2, 2, 0, 0, 0, 1, 1, 1}, emb.weight().grad().toDoubleArray());
    }

    @Test
    void residualBlocks() {
        check("ResidualBlock identity", new ResidualBlock(2, 2, 1, gen), input(2, 2, 3, 3));
        check("ResidualBlock downsample", new ResidualBlock(2, 3, 2, gen), input(2, 2, 4, 4));
    }

    @Test
    void dropoutPassesGradientThroughKeptElementsOnly() {
        Dropout d = new Dropout(0.5, new Generator(1));
        Tensor x = input(200);
        Tensor y = d.forward(x);
        y.sum().backward();
        double[] yv = y.toDoubleArray();
        double[] g = x.grad().toDoubleArray();
        for (int i = 0; i < yv.length; i++) {
            assertEquals(yv[i] == 0 ? 0 : 2, g[i], "element " + i);
        }
    }
}

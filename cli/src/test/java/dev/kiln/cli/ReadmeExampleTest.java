package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.Functional;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Grad;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.LoadReport;
import dev.kiln.nn.Module;
import dev.kiln.nn.data.Batch;
import dev.kiln.nn.data.DataLoader;
import dev.kiln.nn.data.FashionMnist;
import dev.kiln.nn.data.Split;
import dev.kiln.nn.data.Transforms;
import dev.kiln.nn.io.Checkpoint;
import dev.kiln.nn.layers.Flatten;
import dev.kiln.nn.layers.Linear;
import dev.kiln.nn.layers.ReLU;
import dev.kiln.nn.layers.Sequential;
import dev.kiln.nn.loss.Losses;
import dev.kiln.nn.optim.Optimizer;
import dev.kiln.nn.optim.SGD;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Java snippets of README.md, kept compiling and running (a few batches instead of an epoch). */
class ReadmeExampleTest {
    @Test
    void engineSnippet() {
        Generator gen = new Generator(42);
        Tensor x = Tensors.randn(gen, 64, 784);
        Tensor y = Tensors.of(new long[64], 64);
        Tensor w = Tensors.randn(gen, 784, 10).mul(0.01).requiresGrad(true);
        Tensor b = Tensors.zeros(10).requiresGrad(true);

        Tensor logp = Functional.logSoftmax(x.matmul(w).add(b), 1);
        Tensor loss = Functional.gather(logp, 1, y.unsqueeze(1)).mean().neg();
        loss.backward();

        Tensor dw = w.grad();
        assertEquals(784, dw.size(0));
        try (var ng = Grad.disabled()) {
            w.addInPlace(dw, -0.1);
            b.addInPlace(b.grad(), -0.1);
        }
    }

    @Test
    void nnSnippet(@TempDir Path dir) {
        Generator gen = new Generator(0);
        Module model = new Sequential(new Flatten(), new Linear(784, 300, gen), new ReLU(), new Linear(300, 10, gen));
        assertTrue(model.toString().contains("Linear"));

        Split data = FashionMnist.embedded();
        DataLoader train = DataLoader.builder(data.train()).batchSize(64).shuffle(true).seed(0)
                .transforms(Transforms.normalize(0.2860, 0.3530)).prefetch(2).build();
        Optimizer opt = new SGD(model.parameters(), 0.05, 0.9, 0.0, false);

        int steps = 0;
        double first = Double.NaN;
        double last = Double.NaN;
        for (Batch b : train) {
            Tensor loss = Losses.crossEntropy(model.forward(b.x()), b.y());
            opt.zeroGrad();
            loss.backward();
            opt.step();
            if (steps == 0) {
                first = loss.item();
            }
            last = loss.item();
            if (++steps == 30) {
                break;
            }
        }
        assertTrue(last < first, "loss should fall over 30 steps: " + first + " -> " + last);
        Path file = dir.resolve("mlp.safetensors");
        Checkpoint.save(model, file, Map.of());
        LoadReport r = Checkpoint.load(model, file, true);
        assertTrue(r.isComplete(), r.toString());
    }
}

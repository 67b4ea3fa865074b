package dev.kiln.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.Generator;
import dev.kiln.engine.Grad;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.LoadReport;
import dev.kiln.nn.layers.LeNet5;
import dev.kiln.nn.layers.Models;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A LeNet-5 state dict saved from PyTorch (tools/golden_nn_lenet.py) gives PyTorch's logits in Kiln. */
class PyTorchCompatTest {
    @TempDir
    Path dir;

    @Test
    void pytorchLeNet5LoadsStrictlyAndReproducesItsLogits() {
        LeNet5 model = Models.lenet5(new Generator(123));
        LoadReport report = Checkpoint.load(model, PythonLayoutTest.golden("lenet5.safetensors"), true);
        assertTrue(report.isComplete(), report.toString());
        assertEquals(10, report.loaded().size());
        model.eval();
        try (SafetensorsFile io = Safetensors.read(PythonLayoutTest.golden("lenet5_io.safetensors"));
             var ng = Grad.disabled()) {
            Tensor x = io.tensor("input");
            assertArrayEquals(new int[] {4, 1, 28, 28}, x.shape());
            float[] expected = io.tensor("output").toFloatArray();
            float[] actual = model.forward(x).toFloatArray();
            assertEquals(40, actual.length);
            double maxDiff = 0;
            for (int i = 0; i < expected.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
            }
            assertTrue(maxDiff <= 1e-5, "max |kiln - pytorch| = " + maxDiff);

            Path saved = dir.resolve("kiln_lenet5.safetensors");
            Checkpoint.save(model, saved, null);
            LeNet5 again = Models.lenet5(new Generator(7));
            assertTrue(Checkpoint.load(again, saved, true).isComplete());
            again.eval();
            assertArrayEquals(actual, again.forward(x).toFloatArray(), "a Kiln round trip changes nothing");
        }
    }
}

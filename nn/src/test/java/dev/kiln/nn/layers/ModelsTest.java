package dev.kiln.nn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.Module;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelsTest {
    private final Generator gen = new Generator(42);

    @Test
    void mlpHasPyTorchKeysAndCount() {
        Module m = Models.mlp(gen);
        assertEquals(List.of("1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"), List.copyOf(m.stateDict().keySet()));
        assertEquals(266_610, m.parameterCount(false));
        assertArrayEquals(new int[] {300, 784}, m.stateDict().get("1.weight").shape());
        assertArrayEquals(new int[] {3, 10}, m.forward(Tensors.randn(gen, 3, 1, 28, 28)).shape());
    }

    @Test
    void lenet5HasPyTorchKeysAndCount() {
        LeNet5 m = Models.lenet5(gen);
        assertEquals(List.of("features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
                "classifier.0.weight", "classifier.0.bias", "classifier.2.weight", "classifier.2.bias",
                "classifier.4.weight", "classifier.4.bias"), List.copyOf(m.stateDict().keySet()));
        assertEquals(61_706, m.parameterCount(false));
        assertArrayEquals(new int[] {16, 6, 5, 5}, m.stateDict().get("features.3.weight").shape());
        assertArrayEquals(new int[] {120, 400}, m.stateDict().get("classifier.0.weight").shape());
        assertArrayEquals(new int[] {2, 10}, m.forward(Tensors.randn(gen, 2, 1, 28, 28)).shape());
    }

    @Test
    void smallVggHasPyTorchKeysBuffersAndCount() {
        SmallVgg m = Models.smallVgg(gen);
        List<String> expected = new ArrayList<>();
        for (int conv : new int[] {0, 3, 7, 10}) {
            expected.addAll(List.of("features." + conv + ".weight", "features." + conv + ".bias"));
            String bn = "features." + (conv + 1) + ".";
            expected.addAll(List.of(bn + "weight", bn + "bias", bn + "running_mean", bn + "running_var", bn + "num_batches_tracked"));
        }
        expected.addAll(List.of("classifier.1.weight", "classifier.1.bias", "classifier.4.weight", "classifier.4.bias"));
        assertEquals(expected, List.copyOf(m.stateDict().keySet()));
        // the same count as torch for the same architecture (871,018 with 32 and 64 channels)
        assertEquals(871_018, m.parameterCount(false));
        assertArrayEquals(new int[] {256, 64 * 7 * 7}, m.stateDict().get("classifier.1.weight").shape());
        Module small = Models.smallVgg(4, 8, gen);
        assertEquals(4 * 9 + 4 + 8 + 4 * 4 * 9 + 4 + 8 + 8 * 4 * 9 + 8 + 16 + 8 * 8 * 9 + 8 + 16 + 392 * 256 + 256 + 2570,
                small.parameterCount(false));
        assertArrayEquals(new int[] {2, 10}, small.forward(Tensors.randn(gen, 2, 1, 28, 28)).shape());
    }

    @Test
    void byNameKnowsTheThreeModels() {
        assertEquals(266_610, Models.byName("mlp", gen).parameterCount(true));
        assertTrue(Models.byName("lenet5", gen) instanceof LeNet5);
        assertTrue(Models.byName("cnn", gen) instanceof SmallVgg);
        var e = assertThrows(IllegalArgumentException.class, () -> Models.byName("resnet", gen));
        assertEquals("Models.byName: expected one of [mlp, lenet5, cnn], got 'resnet'", e.getMessage());
    }

    @Test
    void sameSeedSameWeights() {
        Tensor a = Models.lenet5(new Generator(9)).stateDict().get("classifier.2.weight");
        Tensor b = Models.lenet5(new Generator(9)).stateDict().get("classifier.2.weight");
        assertArrayEquals(a.toDoubleArray(), b.toDoubleArray());
    }

    @Test
    void summaryListsLayersShapesAndCounts() {
        String s = Models.lenet5(gen).toString();
        List<String> lines = s.lines().toList();
        assertEquals("LeNet5", lines.get(0));
        assertEquals("  (features) Sequential", lines.get(1));
        assertEquals("    (0) Conv2d(1 -> 6, k=5, s=1, p=2)  weight[6, 1, 5, 5] bias[6]  156 params", lines.get(2));
        assertEquals("    (1) ReLU", lines.get(3));
        assertEquals("    (2) MaxPool2d(k=2, s=2)", lines.get(4));
        assertEquals("    (3) Conv2d(6 -> 16, k=5, s=1, p=0)  weight[16, 6, 5, 5] bias[16]  2,416 params", lines.get(5));
        assertEquals("    (0) Linear(400 -> 120)  weight[120, 400] bias[120]  48,120 params", lines.get(9));
        assertEquals("parameters: 61,706 (trainable 61,706)", lines.get(lines.size() - 1));
        assertTrue(Models.smallVgg(gen).toString().contains("(1) BatchNorm2d(32)  weight[32] bias[32]  64 params"), "batch norm line");
    }
}

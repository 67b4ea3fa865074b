package dev.kiln.nn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayersTest {
    private final Generator gen = new Generator(7);

    private static void assertClose(double[] expected, double[] actual, double tol) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, "element " + i);
        }
    }

    @Test
    void linearComputesXWTransposedPlusBiasOverLeadingDims() {
        Linear fc = new Linear(4, 3, gen);
        assertArrayEquals(new int[] {3, 4}, fc.weight().get().shape());
        assertArrayEquals(new int[] {3}, fc.bias().get().shape());
        Tensor x = Tensors.randn(gen, 2, 5, 4);
        Tensor y = fc.forward(x);
        assertArrayEquals(new int[] {2, 5, 3}, y.shape());
        double[] w = fc.weight().get().toDoubleArray();
        double[] b = fc.bias().get().toDoubleArray();
        double[] xs = x.toDoubleArray();
        double[] expected = new double[2 * 5 * 3];
        for (int r = 0; r < 10; r++) {
            for (int o = 0; o < 3; o++) {
                double s = b[o];
                for (int i = 0; i < 4; i++) {
                    s += xs[r * 4 + i] * w[o * 4 + i];
                }
                expected[r * 3 + o] = s;
            }
        }
        assertClose(expected, y.toDoubleArray(), 1e-5);
        assertArrayEquals(new int[] {3}, fc.forward(Tensors.randn(gen, 4)).shape());
    }

    @Test
    void linearWithoutBiasHasOnlyAWeight() {
        Linear fc = new Linear(4, 3, false, gen);
        assertNull(fc.bias());
        assertEquals(List.of("weight"), List.copyOf(fc.namedParameters().keySet()));
        assertEquals("Linear(4 -> 3, bias=false)", fc.describe());
        Tensor x = Tensors.zeros(2, 4);
        assertClose(new double[6], fc.forward(x).toDoubleArray(), 0);
    }

    @Test
    void linearRejectsAWrongInputNamingLayerAndShapes() {
        Linear fc = new Linear(784, 300, gen);
        var e = assertThrows(IllegalArgumentException.class, () -> fc.forward(Tensors.zeros(32, 100)));
        assertEquals("Linear(784 -> 300): expected input [..., 784], got [32, 100]", e.getMessage());
    }

    @Test
    void conv2dShapesDescriptionAndErrors() {
        Conv2d c = new Conv2d(1, 6, 5, 1, 2, gen);
        assertEquals("Conv2d(1 -> 6, k=5, s=1, p=2)", c.describe());
        assertArrayEquals(new int[] {6, 1, 5, 5}, c.weight().get().shape());
        assertArrayEquals(new int[] {3, 6, 28, 28}, c.forward(Tensors.randn(gen, 3, 1, 28, 28)).shape());
        assertArrayEquals(new int[] {6, 28, 28}, c.forward(Tensors.randn(gen, 1, 28, 28)).shape());
        var e = assertThrows(IllegalArgumentException.class, () -> c.forward(Tensors.zeros(2, 3, 28, 28)));
        assertEquals("Conv2d(1 -> 6, k=5, s=1, p=2): expected input [N, 1, H, W] or [1, H, W], got [2, 3, 28, 28]", e.getMessage());

        Conv2d g = new Conv2d(4, 6, 3, 1, new int[] {2, 1}, new int[] {1, 0}, new int[] {1}, 2, false, gen);
        assertEquals("Conv2d(4 -> 6, k=3x1, s=2x1, p=1x0, groups=2, bias=false)", g.describe());
        assertArrayEquals(new int[] {6, 2, 3, 1}, g.weight().get().shape());
        assertNull(g.bias());
        assertArrayEquals(new int[] {1, 6, 4, 5}, g.forward(Tensors.randn(gen, 1, 4, 7, 5)).shape());
        assertThrows(IllegalArgumentException.class, () -> new Conv2d(3, 6, 3, 3, new int[] {1}, new int[] {0}, new int[] {1}, 2, true, gen));
    }

    @Test
    void conv2dMatchesADirectSum() {
        Conv2d c = new Conv2d(2, 3, 3, 3, new int[] {2}, new int[] {1}, new int[] {1}, 1, true, gen);
        Tensor x = Tensors.randn(gen, 1, 2, 5, 5);
        Tensor y = c.forward(x);
        assertArrayEquals(new int[] {1, 3, 3, 3}, y.shape());
        Tensor w = c.weight().get();
        for (int o = 0; o < 3; o++) {
            for (int oy = 0; oy < 3; oy++) {
                for (int ox = 0; ox < 3; ox++) {
                    double s = c.bias().get().getDouble(o);
                    for (int ci = 0; ci < 2; ci++) {
                        for (int ky = 0; ky < 3; ky++) {
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = oy * 2 - 1 + ky;
                                int ix = ox * 2 - 1 + kx;
                                if (iy >= 0 && iy < 5 && ix >= 0 && ix < 5) {
                                    s += x.getDouble(0, ci, iy, ix) * w.getDouble(o, ci, ky, kx);
                                }
                            }
                        }
                    }
                    assertEquals(s, y.getDouble(0, o, oy, ox), 1e-5, "output " + o + "," + oy + "," + ox);
                }
            }
        }
    }

    @Test
    void activationsMatchTheirFormulas() {
        Tensor x = Tensors.of(new double[] {-2, -0.5, 0, 0.5, 3}, 5);
        double[] xs = x.toDoubleArray();
        double[] relu = new double[5];
        double[] leaky = new double[5];
        double[] tanh = new double[5];
        double[] sig = new double[5];
        double[] geluTanh = new double[5];
        for (int i = 0; i < 5; i++) {
            double v = xs[i];
            relu[i] = Math.max(v, 0);
            leaky[i] = v > 0 ? v : 0.2 * v;
            tanh[i] = Math.tanh(v);
            sig[i] = 1 / (1 + Math.exp(-v));
            geluTanh[i] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
        }
        assertClose(relu, new ReLU().forward(x).toDoubleArray(), 1e-15);
        assertClose(leaky, new LeakyReLU(0.2).forward(x).toDoubleArray(), 1e-15);
        assertClose(tanh, new Tanh().forward(x).toDoubleArray(), 1e-15);
        assertClose(sig, new Sigmoid().forward(x).toDoubleArray(), 1e-15);
        assertClose(geluTanh, new GELU("tanh").forward(x).toDoubleArray(), 1e-15);
        // exact gelu: x * Phi(x); Phi(0.5) = 0.6914624612740131, Phi(3) = 0.9986501019683699
        Tensor g = new GELU().forward(x);
        assertEquals(0.5 * 0.6914624612740131, g.getDouble(3), 1e-12);
        assertEquals(3 * 0.9986501019683699, g.getDouble(4), 1e-12);
        assertEquals("LeakyReLU(0.2)", new LeakyReLU(0.2).describe());
        assertEquals(0.01, new LeakyReLU().slope());
        assertThrows(IllegalArgumentException.class, () -> new GELU("erf"));
    }

    @Test
    void poolingShapesAndValues() {
        Tensor x = Tensors.arange(DType.F32, 0, 16, 1).reshape(1, 1, 4, 4);
        assertArrayEquals(new double[] {5, 7, 13, 15}, new MaxPool2d(2).forward(x).toDoubleArray());
        assertArrayEquals(new double[] {2.5, 4.5, 10.5, 12.5}, new AvgPool2d(2).forward(x).toDoubleArray());
        assertArrayEquals(new double[] {7.5}, new AdaptiveAvgPool2d(1, 1).forward(x).toDoubleArray());
        assertArrayEquals(new int[] {1, 1, 2, 2}, new MaxPool2d(3, 2, 1).forward(x).shape());
        assertArrayEquals(new int[] {2, 5, 3, 2}, new AdaptiveAvgPool2d(3, 2).forward(Tensors.randn(gen, 2, 5, 7, 9)).shape());
        assertEquals("MaxPool2d(k=3, s=2, p=1)", new MaxPool2d(3, 2, 1).describe());
        assertEquals("AvgPool2d(k=2, s=2)", new AvgPool2d(2).describe());
        assertEquals("AdaptiveAvgPool2d(3x2)", new AdaptiveAvgPool2d(3, 2).describe());
        var e = assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(2).forward(Tensors.zeros(4, 4)));
        assertEquals("MaxPool2d(k=2, s=2): expected input [N, C, H, W] or [C, H, W] with H >= 2 and W >= 2, got [4, 4]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(2, 2, 2));
    }

    @Test
    void flattenKeepsTheBatchDim() {
        assertArrayEquals(new int[] {3, 60}, new Flatten().forward(Tensors.zeros(3, 4, 5, 3)).shape());
        assertArrayEquals(new int[] {3, 4, 15}, new Flatten(2, 3).forward(Tensors.zeros(3, 4, 5, 3)).shape());
        assertEquals("Flatten", new Flatten().describe());
        var e = assertThrows(IllegalArgumentException.class, () -> new Flatten().forward(Tensors.zeros(3)));
        assertEquals("Flatten: expected an input with dims 1 to -1, got [3]", e.getMessage());
    }

    @Test
    void embeddingLooksUpRows() {
        Embedding emb = new Embedding(10, 3, gen);
        Tensor idx = Tensors.of(new long[] {2, 9, 2, 0}, 2, 2);
        Tensor y = emb.forward(idx);
        assertArrayEquals(new int[] {2, 2, 3}, y.shape());
        Tensor w = emb.weight().get();
        for (int k = 0; k < 3; k++) {
            assertEquals(w.getDouble(9, k), y.getDouble(0, 1, k));
            assertEquals(w.getDouble(2, k), y.getDouble(1, 0, k));
        }
        var e = assertThrows(IllegalArgumentException.class, () -> emb.forward(Tensors.of(new long[] {1, 10}, 2)));
        assertEquals("Embedding(10, 3): index 10 at position 1 is out of range [0, 10)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> emb.forward(Tensors.zeros(2)));
    }

    @Test
    void sequentialNamesChildrenByIndexAndChains() {
        Linear a = new Linear(4, 8, gen);
        Sequential s = new Sequential(a, new ReLU());
        s.add(new Linear(8, 2, gen));
        assertEquals(3, s.size());
        assertSame(a, s.get(0));
        assertEquals(List.of("0", "1", "2"), List.copyOf(s.children().keySet()));
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), List.copyOf(s.namedParameters().keySet()));
        Tensor x = Tensors.randn(gen, 5, 4);
        Tensor expected = s.get(2).forward(a.forward(x).relu());
        assertArrayEquals(expected.toDoubleArray(), s.forward(x).toDoubleArray());
        assertSame(x, new Sequential().forward(x));
        assertThrows(IndexOutOfBoundsException.class, () -> s.get(3));
    }

    @Test
    void residualBlockKeysAndShapes() {
        ResidualBlock same = new ResidualBlock(4, 4, 1, gen);
        assertEquals(List.of("conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias"),
                List.copyOf(same.namedParameters().keySet()));
        Tensor x = Tensors.randn(gen, 2, 4, 6, 6);
        Tensor y = same.forward(x);
        assertArrayEquals(new int[] {2, 4, 6, 6}, y.shape());
        for (double v : y.toDoubleArray()) {
            assertTrue(v >= 0, "relu output");
        }
        ResidualBlock down = new ResidualBlock(4, 8, 2, gen);
        assertTrue(down.namedParameters().containsKey("shortcut.0.weight"));
        assertTrue(down.namedBuffers().containsKey("shortcut.1.running_mean"));
        assertArrayEquals(new int[] {8, 4, 1, 1}, down.namedParameters().get("shortcut.0.weight").get().shape());
        assertArrayEquals(new int[] {2, 8, 3, 3}, down.forward(x).shape());
        assertEquals("ResidualBlock(4 -> 8, s=2)", down.describe());
    }

    @Test
    void identityResidualBlockWithAZeroedSecondBranchPassesReluOfItsInput() {
        ResidualBlock block = new ResidualBlock(3, 3, 1, gen);
        block.eval();
        Init.zeros(block.namedParameters().get("bn2.weight").get());
        Tensor x = Tensors.randn(gen, 1, 3, 4, 4);
        assertArrayEquals(x.relu().toDoubleArray(), block.forward(x).toDoubleArray(), 1e-6);
    }
}

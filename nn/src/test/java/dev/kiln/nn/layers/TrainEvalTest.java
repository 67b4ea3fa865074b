package dev.kiln.nn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Behaviour that depends on training versus evaluation mode: dropout, batch norm; and layer norm. */
class TrainEvalTest {
    private final Generator gen = new Generator(11);

    @Test
    void dropoutZeroesAboutPAndScalesTheRestInTrainingOnly() {
        Dropout d = new Dropout(0.25, new Generator(3));
        Tensor x = Tensors.ones(100_000);
        double[] y = d.forward(x).toDoubleArray();
        int zeros = 0;
        for (double v : y) {
            if (v == 0) {
                zeros++;
            } else {
                assertEquals(1 / 0.75, v, 1e-6);
            }
        }
        // binomial(100000, 0.25): sd ~ 137, so 5 sd is ~700
        assertEquals(25_000, zeros, 700);
        d.eval();
        assertSame(x, d.forward(x));
        assertEquals("Dropout(p=0.25)", d.describe());
    }

    @Test
    void dropoutMasksFollowTheGenerator() {
        Tensor x = Tensors.ones(64);
        double[] a = new Dropout(0.5, new Generator(5)).forward(x).toDoubleArray();
        double[] b = new Dropout(0.5, new Generator(5)).forward(x).toDoubleArray();
        double[] c = new Dropout(0.5, new Generator(6)).forward(x).toDoubleArray();
        assertArrayEquals(a, b);
        assertNotEquals(Arrays.toString(a), Arrays.toString(c));
    }

    @Test
    void batchNorm2dNormalizesWithBatchStatsAndUpdatesRunningStats() {
        BatchNorm2d bn = new BatchNorm2d(3);
        assertEquals(List.of("running_mean", "running_var", "num_batches_tracked"), List.copyOf(bn.namedBuffers().keySet()));
        Map<String, Tensor> buffers = bn.namedBuffers();
        assertEquals(DType.I64, buffers.get("num_batches_tracked").dtype());
        assertArrayEquals(new int[0], buffers.get("num_batches_tracked").shape());
        Tensor x = Tensors.randn(gen, 4, 3, 5, 5).mul(2).add(1);
        Tensor y = bn.forward(x);
        double[][] stats = channelStats(x, 3);
        double[][] ystats = channelStats(y, 3);
        for (int c = 0; c < 3; c++) {
            assertEquals(0, ystats[0][c], 1e-5, "normalized mean");
            assertEquals(1, ystats[1][c], 1e-3, "normalized biased variance");
            double n = 4 * 25;
            assertEquals(0.1 * stats[0][c], bn.namedBuffers().get("running_mean").getDouble(c), 1e-5);
            assertEquals(0.9 + 0.1 * stats[1][c] * n / (n - 1), bn.namedBuffers().get("running_var").getDouble(c), 1e-4);
        }
        bn.forward(x);
        assertEquals(2, bn.namedBuffers().get("num_batches_tracked").getLong());

        bn.eval();
        Tensor e = bn.forward(x);
        double rm = bn.namedBuffers().get("running_mean").getDouble(1);
        double rv = bn.namedBuffers().get("running_var").getDouble(1);
        assertEquals((x.getDouble(2, 1, 3, 4) - rm) / Math.sqrt(rv + 1e-5), e.getDouble(2, 1, 3, 4), 1e-5);
        assertEquals(2, bn.namedBuffers().get("num_batches_tracked").getLong(), "eval does not count batches");
        assertEquals(rm, bn.namedBuffers().get("running_mean").getDouble(1), "eval does not update statistics");
    }

    /** Per-channel mean and biased variance of x [N, C, ...]. */
    private static double[][] channelStats(Tensor x, int channels) {
        double[] v = x.toDoubleArray();
        int per = x.numel() / x.size(0) / channels;
        double[] sum = new double[channels];
        double[] sq = new double[channels];
        for (int i = 0; i < v.length; i++) {
            int c = (i / per) % channels;
            sum[c] += v[i];
            sq[c] += v[i] * v[i];
        }
        double n = (double) v.length / channels;
        double[][] out = new double[2][channels];
        for (int c = 0; c < channels; c++) {
            out[0][c] = sum[c] / n;
            out[1][c] = sq[c] / n - out[0][c] * out[0][c];
        }
        return out;
    }

    @Test
    void batchNorm1dAcceptsTwoAndThreeDimsAndChecksShapes() {
        BatchNorm1d bn = new BatchNorm1d(4);
        Tensor x2 = Tensors.randn(gen, 8, 4);
        Tensor x3 = Tensors.randn(gen, 8, 4, 6);
        double[][] s2 = channelStats(bn.forward(x2), 4);
        double[][] s3 = channelStats(bn.forward(x3), 4);
        for (int c = 0; c < 4; c++) {
            assertEquals(0, s2[0][c], 1e-5);
            assertEquals(0, s3[0][c], 1e-5);
        }
        assertEquals(2, bn.namedBuffers().get("num_batches_tracked").getLong());
        var e = assertThrows(IllegalArgumentException.class, () -> bn.forward(Tensors.zeros(8, 5)));
        assertEquals("BatchNorm1d(4): expected input [N, 4] or [N, 4, L], got [8, 5]", e.getMessage());
        var one = assertThrows(IllegalArgumentException.class, () -> bn.forward(Tensors.zeros(1, 4)));
        assertEquals("BatchNorm1d(4): expected more than one value per channel in training, got input [1, 4]", one.getMessage());
        bn.eval();
        assertArrayEquals(new int[] {1, 4}, bn.forward(Tensors.zeros(1, 4)).shape());
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(4).forward(Tensors.zeros(2, 4, 3)));
    }

    @Test
    void batchNormConvertedToF64KeepsItsCounterI64() {
        BatchNorm2d bn = new BatchNorm2d(2);
        bn.to(DType.F64);
        assertEquals(DType.F64, bn.weight().get().dtype());
        assertEquals(DType.F64, bn.namedBuffers().get("running_var").dtype());
        assertEquals(DType.I64, bn.namedBuffers().get("num_batches_tracked").dtype());
        Tensor y = bn.forward(Tensors.normal(gen, DType.F64, 0, 1, 3, 2, 2, 2));
        assertEquals(DType.F64, y.dtype());
        assertEquals(1, bn.namedBuffers().get("num_batches_tracked").getLong());
    }

    @Test
    void batchNormInitAndDescription() {
        BatchNorm2d bn = new BatchNorm2d(2, 1e-3, 0.2);
        assertArrayEquals(new double[] {1, 1}, bn.weight().get().toDoubleArray());
        assertArrayEquals(new double[] {0, 0}, bn.bias().get().toDoubleArray());
        assertArrayEquals(new double[] {1, 1}, bn.namedBuffers().get("running_var").toDoubleArray());
        assertEquals("BatchNorm2d(2, eps=0.001, momentum=0.2)", bn.describe());
        assertEquals("BatchNorm1d(8)", new BatchNorm1d(8).describe());
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(2, 0, 0.1));
    }

    @Test
    void layerNormNormalizesTheLastDimsInBothModes() {
        LayerNorm ln = new LayerNorm(3, 4);
        assertArrayEquals(new int[] {3, 4}, ln.weight().get().shape());
        Tensor x = Tensors.randn(gen, 2, 3, 4).mul(3).add(2);
        for (boolean training : new boolean[] {true, false}) {
            ln.train(training);
            double[] y = ln.forward(x).toDoubleArray();
            for (int s = 0; s < 2; s++) {
                double m = 0;
                double q = 0;
                for (int i = 0; i < 12; i++) {
                    m += y[s * 12 + i] / 12;
                    q += y[s * 12 + i] * y[s * 12 + i] / 12;
                }
                assertEquals(0, m, 1e-5);
                assertEquals(1, q, 1e-3);
            }
        }
        assertEquals("LayerNorm([3, 4])", ln.describe());
        var e = assertThrows(IllegalArgumentException.class, () -> ln.forward(Tensors.zeros(2, 4, 3)));
        assertEquals("LayerNorm([3, 4]): expected input [..., 3, 4], got [2, 4, 3]", e.getMessage());
    }

    @Test
    void trainAndEvalReachEveryLayerOfAModel() {
        SmallVgg m = Models.smallVgg(4, 8, gen);
        m.eval();
        m.namedModules().values().forEach(mod -> assertFalse(mod.isTraining(), mod.getClass().getSimpleName()));
        Tensor x = Tensors.randn(gen, 2, 1, 28, 28);
        assertArrayEquals(m.forward(x).toDoubleArray(), m.forward(x).toDoubleArray(), "eval is deterministic");
        m.train(true);
        m.namedModules().values().forEach(mod -> assertTrue(mod.isTraining(), mod.getClass().getSimpleName()));
    }
}

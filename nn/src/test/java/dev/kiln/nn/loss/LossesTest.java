package dev.kiln.nn.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import org.junit.jupiter.api.Test;

/** Hand-computed values and argument checks; PyTorch agreement is in {@link GoldenLossesTest}. */
class LossesTest {
    private static Tensor f64(double[] v, int... shape) {
        return Tensors.of(v, shape);
    }

    private static Tensor labels(long... v) {
        return Tensors.of(v, v.length);
    }

    @Test
    void crossEntropyOfUniformLogitsIsLogC() {
        Tensor logits = Tensors.zeros(DType.F64, 4, 10);
        assertEquals(Math.log(10), Losses.crossEntropy(logits, labels(0, 3, 9, 5)).item(), 1e-12);
    }

    @Test
    void crossEntropyByHandWithWeightsIgnoreAndSmoothing() {
        Tensor logits = f64(new double[] {1, 2, 3, 0, 0, 0, 2, 0, -1}, 3, 3);
        Tensor target = labels(2, -100, 0);
        Tensor w = f64(new double[] {0.5, 1, 2}, 3);
        double[][] lp = new double[3][3];
        for (int r = 0; r < 3; r++) {
            double m = 0;
            for (int c = 0; c < 3; c++) {
                m += Math.exp(logits.getDouble(r, c));
            }
            for (int c = 0; c < 3; c++) {
                lp[r][c] = logits.getDouble(r, c) - Math.log(m);
            }
        }
        double nll = -(2 * lp[0][2] + 0.5 * lp[2][0]);
        assertEquals(nll / 2.5, Losses.crossEntropy(logits, target, w, 0, -100, Reduction.MEAN).item(), 1e-12);
        assertEquals(nll, Losses.crossEntropy(logits, target, w, 0, -100, Reduction.SUM).item(), 1e-12);
        assertArrayEquals(new double[] {-2 * lp[0][2], 0, -0.5 * lp[2][0]},
                Losses.crossEntropy(logits, target, w, 0, -100, Reduction.NONE).toDoubleArray(), 1e-12);
        double smooth = 0;
        for (int r : new int[] {0, 2}) {
            for (int c = 0; c < 3; c++) {
                smooth -= w.getDouble(c) * lp[r][c];
            }
        }
        double expected = (0.8 * nll + 0.2 / 3 * smooth) / 2.5;
        assertEquals(expected, Losses.crossEntropy(logits, target, w, 0.2, -100, Reduction.MEAN).item(), 1e-12);
        double unweighted = (0.8 * -(lp[0][2] + lp[2][0]) + 0.2 / 3 * -(lp[0][0] + lp[0][1] + lp[0][2] + lp[2][0] + lp[2][1] + lp[2][2])) / 2;
        assertEquals(unweighted, Losses.crossEntropy(logits, target, null, 0.2, -100, Reduction.MEAN).item(), 1e-12);
    }

    @Test
    void crossEntropyOnSpatialLogitsMatchesTheFlattenedRows() {
        Tensor logits = Tensors.normal(new Generator(3), DType.F64, 0, 1, 2, 4, 3);
        Tensor target = Tensors.of(new long[] {0, 3, 1, 2, 2, 1}, 2, 3);
        Tensor rows = logits.permute(0, 2, 1).reshape(6, 4);
        assertEquals(Losses.crossEntropy(rows, target.reshape(6)).item(), Losses.crossEntropy(logits, target).item(), 1e-14);
        assertArrayEquals(new int[] {2, 3}, Losses.crossEntropy(logits, target, null, 0, -100, Reduction.NONE).shape());
        Tensor single = Losses.crossEntropy(f64(new double[] {0, 0}, 2), Tensors.of(new long[] {1}), null, 0, -100, Reduction.NONE);
        assertArrayEquals(new int[0], single.shape());
        assertEquals(Math.log(2), single.item(), 1e-15);
    }

    @Test
    void nllPicksTheTargetLogProbability() {
        Tensor logp = f64(new double[] {-0.1, -2.5, -3, -0.2}, 2, 2);
        assertEquals((2.5 + 3) / 2, Losses.nll(logp, labels(1, 0)).item(), 1e-15);
        assertEquals(2.5, Losses.nll(logp, labels(1, 0), null, 0, Reduction.SUM).item(), 1e-15);
        assertEquals(2.5, Losses.nll(logp, labels(1, 0), null, 0, Reduction.MEAN).item(), 1e-15);
        assertTrue(Double.isNaN(Losses.nll(logp, labels(-100, -100)).item()), "all ignored: 0/0 as PyTorch");
    }

    @Test
    void classificationErrorsSayWhatWasExpected() {
        Tensor logits = Tensors.zeros(5, 10);
        var range = assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(logits, labels(1, 2, 3, 12, 4)));
        assertEquals("crossEntropy: target 12 at position 3 is out of range [0, 10)", range.getMessage());
        var neg = assertThrows(IllegalArgumentException.class, () -> Losses.nll(logits, labels(1, 2, -1, 3, 4)));
        assertEquals("nll: target -1 at position 2 is out of range [0, 10)", neg.getMessage());
        var shape = assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(logits, labels(1, 2, 3)));
        assertEquals("crossEntropy: expected target [5] for scores [5, 10], got [3]", shape.getMessage());
        var dtype = assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(logits, Tensors.zeros(5)));
        assertEquals("crossEntropy: expected an I64 (or I32) class-index target, got F32 [5]", dtype.getMessage());
        var weights = assertThrows(IllegalArgumentException.class,
                () -> Losses.crossEntropy(logits, labels(0, 0, 0, 0, 0), Tensors.ones(9), 0, -100, Reduction.MEAN));
        assertEquals("crossEntropy: expected class weights [10] F32, got [9] F32", weights.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Losses.crossEntropy(logits, labels(0, 0, 0, 0, 0), null, 1.5, -100, Reduction.MEAN));
        var bm = assertThrows(IllegalArgumentException.class,
                () -> Losses.crossEntropy(logits, labels(0, 0, 0, 0, 0), null, 0, -100, Reduction.BATCHMEAN));
        assertEquals("crossEntropy: expected reduction NONE, MEAN or SUM (BATCHMEAN is only for klDiv), got BATCHMEAN", bm.getMessage());
        assertEquals(Math.log(10), Losses.crossEntropy(logits, Tensors.of(new int[] {1, 2, 3, 4, 5}, 5)).item(), 1e-6, "I32 targets");
    }

    @Test
    void regressionLossesByHand() {
        Tensor x = f64(new double[] {1, -2, 0.5, 3}, 2, 2);
        Tensor y = f64(new double[] {0, 0, 0, 0}, 2, 2);
        assertEquals((1 + 4 + 0.25 + 9) / 4, Losses.mse(x, y).item(), 1e-15);
        assertEquals(6.5, Losses.l1(x, y, Reduction.SUM).item(), 1e-15);
        assertArrayEquals(new double[] {0.5, 1.5, 0.125, 2.5}, Losses.smoothL1(x, y, 1, Reduction.NONE).toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {1 / 3.0, 1.25, 0.25 / 3, 2.25},
                Losses.smoothL1(x, y, 1.5, Reduction.NONE).toDoubleArray(), 1e-15);
        assertEquals(Losses.l1(x, y).item(), Losses.smoothL1(x, y, 0).item(), 0);
        var e = assertThrows(IllegalArgumentException.class, () -> Losses.mse(x, Tensors.zeros(DType.F64, 4)));
        assertEquals("mse: expected a floating input and a target of the same shape and dtype, got input [2, 2] F64 and target [4] F64",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Losses.smoothL1(x, y, -1));
        assertThrows(IllegalArgumentException.class, () -> Losses.l1(x, y, Reduction.BATCHMEAN));
    }

    @Test
    void bceWithLogitsIsStableForLargeLogits() {
        Tensor x = f64(new double[] {100, -100, 0, 1000}, 4);
        Tensor t = f64(new double[] {1, 0, 1, 0}, 4);
        double[] l = Losses.bceWithLogits(x, t, null, null, Reduction.NONE).toDoubleArray();
        assertEquals(0, l[0], 1e-40);
        assertEquals(0, l[1], 1e-40);
        assertEquals(Math.log(2), l[2], 1e-15);
        assertEquals(1000, l[3], 1e-12);
        Tensor pw = f64(new double[] {3}, 1);
        double[] lp = Losses.bceWithLogits(x, t, null, pw, Reduction.NONE).toDoubleArray();
        assertEquals(3 * Math.log(2), lp[2], 1e-15);
        assertEquals(1000, lp[3], 1e-12, "pos weight only scales positives");
        var e = assertThrows(IllegalArgumentException.class, () -> Losses.bceWithLogits(x, t, Tensors.ones(DType.F64, 3), null, Reduction.MEAN));
        assertEquals("bceWithLogits: expected weight that broadcasts to the input [4] F64, got [3] F64", e.getMessage());
    }

    @Test
    void klDivOfEqualDistributionsIsZeroAndBatchmeanDividesByN() {
        Tensor p = f64(new double[] {0.2, 0.8, 0.5, 0.5, 1, 0}, 3, 2);
        Tensor logp = f64(new double[] {Math.log(0.2), Math.log(0.8), Math.log(0.5), Math.log(0.5), 0, -50}, 3, 2);
        assertEquals(0, Losses.klDiv(logp, p, Reduction.SUM).item(), 1e-15);
        Tensor q = f64(new double[] {Math.log(0.5), Math.log(0.5), Math.log(0.5), Math.log(0.5), Math.log(0.5), Math.log(0.5)}, 3, 2);
        double kl0 = 0.2 * Math.log(0.2 / 0.5) + 0.8 * Math.log(0.8 / 0.5);
        double kl2 = Math.log(2);
        assertEquals((kl0 + kl2) / 3, Losses.klDiv(q, p, Reduction.BATCHMEAN).item(), 1e-15);
        assertEquals((kl0 + kl2) / 6, Losses.klDiv(q, p, Reduction.MEAN).item(), 1e-15);
        assertEquals((kl0 + kl2) / 3, Losses.klDiv(q, logp, Reduction.BATCHMEAN, true).item(), 1e-15);
    }
}

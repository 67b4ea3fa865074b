package dev.kiln.nn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import org.junit.jupiter.api.Test;

class InitTest {
    private final Generator gen = new Generator(123);

    /** min, max, mean and (population) standard deviation. */
    private static double[] stats(Tensor t) {
        double[] v = t.toDoubleArray();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double s = 0;
        double q = 0;
        for (double x : v) {
            min = Math.min(min, x);
            max = Math.max(max, x);
            s += x;
            q += x * x;
        }
        double mean = s / v.length;
        return new double[] {min, max, mean, Math.sqrt(q / v.length - mean * mean)};
    }

    @Test
    void fansFollowPyTorch() {
        assertEquals(new Init.Fans(784, 300), Init.fans(new int[] {300, 784}));
        assertEquals(new Init.Fans(6 * 25, 16 * 25), Init.fans(new int[] {16, 6, 5, 5}));
        assertEquals(new Init.Fans(2 * 3, 4 * 3), Init.fans(new int[] {4, 2, 3}));
        var e = assertThrows(IllegalArgumentException.class, () -> Init.fans(new int[] {5}));
        assertEquals("Init.fans: expected a tensor with at least 2 dims, got [5]", e.getMessage());
    }

    @Test
    void gainsFollowPyTorch() {
        assertEquals(1, Init.gain(Init.Nonlinearity.LINEAR, 0));
        assertEquals(1, Init.gain(Init.Nonlinearity.SIGMOID, 0));
        assertEquals(5.0 / 3, Init.gain(Init.Nonlinearity.TANH, 0));
        assertEquals(Math.sqrt(2), Init.gain(Init.Nonlinearity.RELU, 0));
        assertEquals(Math.sqrt(2 / 1.0001), Init.gain(Init.Nonlinearity.LEAKY_RELU, 0.01), 1e-15);
        assertEquals(Math.sqrt(1.0 / 3), Init.gain(Init.Nonlinearity.LEAKY_RELU, Math.sqrt(5)), 1e-15);
    }

    @Test
    void linearAndConvDefaultsAreUniformWithinOneOverSqrtFanIn() {
        Linear fc = new Linear(400, 500, gen);
        double bound = 1 / Math.sqrt(400) * (1 + 1e-6); // values are F32: one rounding allowed
        double[] w = stats(fc.weight().get());
        assertTrue(w[0] >= -bound && w[1] <= bound, "weight within bound");
        assertTrue(w[0] < -0.99 * bound && w[1] > 0.99 * bound, "weight fills the range");
        assertEquals(0, w[2], 0.01 * bound);
        assertEquals(bound / Math.sqrt(3), w[3], 0.01 * bound);
        double[] b = stats(fc.bias().get());
        assertTrue(b[0] >= -bound && b[1] <= bound, "bias within bound");
        assertTrue(b[0] < -0.9 * bound && b[1] > 0.9 * bound, "bias fills the range");

        Conv2d conv = new Conv2d(8, 64, 3, 1, 1, gen);
        double cb = 1 / Math.sqrt(8 * 9) * (1 + 1e-6);
        double[] cw = stats(conv.weight().get());
        assertTrue(cw[0] >= -cb && cw[1] <= cb && cw[0] < -0.99 * cb && cw[1] > 0.99 * cb, "conv weight range");
        assertEquals(cb / Math.sqrt(3), cw[3], 0.03 * cb);
        double[] cbias = stats(conv.bias().get());
        assertTrue(cbias[0] >= -cb && cbias[1] <= cb, "conv bias within bound");
    }

    @Test
    void kaimingAndXavierHaveTheirStandardDeviations() {
        Tensor t = Tensors.zeros(DType.F64, 256, 128, 3, 3);
        int fanIn = 128 * 9;
        int fanOut = 256 * 9;
        double[] s = stats(Init.kaimingUniform(t, 0, Init.Mode.FAN_IN, Init.Nonlinearity.RELU, gen));
        double bound = Math.sqrt(2) * Math.sqrt(3.0 / fanIn);
        assertTrue(s[0] >= -bound && s[1] <= bound && s[1] > 0.999 * bound, "kaiming uniform bound");
        assertEquals(Math.sqrt(2.0 / fanIn), s[3], 0.01 * s[3]);

        s = stats(Init.kaimingNormal(t, 0, Init.Mode.FAN_OUT, Init.Nonlinearity.RELU, gen));
        assertEquals(0, s[2], 0.01 * s[3]);
        assertEquals(Math.sqrt(2.0 / fanOut), s[3], 0.01 * s[3]);

        s = stats(Init.kaimingNormal(t, 0.2, Init.Mode.FAN_IN, Init.Nonlinearity.LEAKY_RELU, gen));
        assertEquals(Math.sqrt(2 / 1.04) / Math.sqrt(fanIn), s[3], 0.01 * s[3]);

        s = stats(Init.xavierUniform(t, 1, gen));
        double xb = Math.sqrt(6.0 / (fanIn + fanOut));
        assertTrue(s[0] >= -xb && s[1] <= xb && s[1] > 0.999 * xb, "xavier uniform bound");
        assertEquals(Math.sqrt(2.0 / (fanIn + fanOut)), s[3], 0.01 * s[3]);

        s = stats(Init.xavierNormal(t, 5.0 / 3, gen));
        assertEquals(5.0 / 3 * Math.sqrt(2.0 / (fanIn + fanOut)), s[3], 0.01 * s[3]);
    }

    @Test
    void plainFillsAndEmbeddingDefault() {
        Tensor t = Tensors.zeros(200, 300);
        double[] s = stats(Init.uniform(t, 2, 5, gen));
        assertTrue(s[0] >= 2 && s[1] < 5, "uniform range");
        assertEquals(3.5, s[2], 0.01);
        s = stats(Init.normal(t, -1, 0.5, gen));
        assertEquals(-1, s[2], 0.005);
        assertEquals(0.5, s[3], 0.005);
        assertArrayEquals(new double[] {1, 1}, Init.ones(Tensors.zeros(2)).toDoubleArray());
        assertArrayEquals(new double[] {0, 0}, Init.zeros(Tensors.ones(2)).toDoubleArray());
        assertArrayEquals(new double[] {7, 7}, Init.constant(Tensors.ones(2), 7).toDoubleArray());
        double[] e = stats(new Embedding(300, 200, gen).weight().get());
        assertEquals(0, e[2], 0.01);
        assertEquals(1, e[3], 0.01);
    }

    @Test
    void initWorksOnParametersThatRequireGrad() {
        Linear fc = new Linear(3, 2, gen);
        Init.kaimingNormal(fc.weight().get(), 0, Init.Mode.FAN_IN, Init.Nonlinearity.RELU, gen);
        Init.zeros(fc.bias().get());
        assertTrue(fc.weight().get().requiresGrad());
        assertArrayEquals(new double[] {0, 0}, fc.bias().get().toDoubleArray());
    }
}

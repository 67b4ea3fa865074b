package dev.kiln.engine;

import static dev.kiln.engine.EngineAsserts.assertClose;
import static dev.kiln.engine.EngineAsserts.assertThrowsWith;
import static dev.kiln.engine.EngineAsserts.assertValues;
import static dev.kiln.engine.EngineAsserts.d;
import static dev.kiln.engine.EngineAsserts.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Creating tensors: constants, ranges, arrays, seeded random numbers; metadata, element access, casts. */
class TensorCreationTest {

    @Test
    void zerosOnesFull() {
        Tensor z = Tensors.zeros(2, 3);
        assertEquals(DType.F32, z.dtype());
        assertEquals(Device.CPU, z.device());
        assertValues("zeros", z, s(2, 3), new double[6], 0);
        assertValues("ones", Tensors.ones(3), s(3), d(1, 1, 1), 0);
        Tensor f = Tensors.full(DType.F64, 2.5, 2, 2);
        assertEquals(DType.F64, f.dtype());
        assertValues("full", f, s(2, 2), d(2.5, 2.5, 2.5, 2.5), 0);
        Tensor fi = Tensors.full(DType.I64, 7, 2);
        assertArrayEquals(new long[] {7, 7}, fi.toLongArray());
        assertEquals(DType.I32, Tensors.ones(DType.I32, 4).dtype());
        assertValues("zeros with a zero dim", Tensors.zeros(0, 3), s(0, 3), new double[0], 0);
    }

    @Test
    void zerosLikeAndOnesLike() {
        Tensor t = Tensors.full(DType.F64, 3, 2, 4);
        Tensor z = Tensors.zerosLike(t);
        Tensor o = Tensors.onesLike(t);
        assertEquals(DType.F64, z.dtype());
        assertArrayEquals(s(2, 4), o.shape());
        assertEquals(0, z.sum().item());
        assertEquals(8, o.sum().item());
    }

    @Test
    void arange() {
        Tensor a = Tensors.arange(5);
        assertEquals(DType.I64, a.dtype());
        assertArrayEquals(new long[] {0, 1, 2, 3, 4}, a.toLongArray());
        assertArrayEquals(s(0), Tensors.arange(0).shape());
        Tensor r = Tensors.arange(DType.F64, 1, 2, 0.25);
        assertValues("arange(1, 2, 0.25)", r, s(4), d(1, 1.25, 1.5, 1.75), 0);
        Tensor down = Tensors.arange(DType.F32, 3, 0, -1);
        assertValues("arange(3, 0, -1)", down, s(3), d(3, 2, 1), 0);
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.arange(DType.F32, 0, 1, 0), "arange", "non-zero step", "0.0");
    }

    @Test
    void ofArraysOfEveryType() {
        Tensor f = Tensors.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertEquals(DType.F32, f.dtype());
        assertArrayEquals(s(2, 3), f.shape());
        assertArrayEquals(s(3, 1), f.strides());
        assertEquals(6, f.numel());
        assertEquals(2, f.rank());
        assertEquals(3, f.size(-1));
        assertEquals(0, f.offset());
        assertTrue(f.isContiguous());
        assertEquals(6.0, f.getDouble(1, 2));
        assertEquals(2.0f, f.getFloat(0, 1));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, f.toFloatArray());

        Tensor dd = Tensors.of(new double[] {0.1, 0.2}, 2);
        assertEquals(DType.F64, dd.dtype());
        assertArrayEquals(new double[] {0.1, 0.2}, dd.toDoubleArray());

        Tensor l = Tensors.of(new long[] {3, -1, 1L << 40}, 3);
        assertEquals(DType.I64, l.dtype());
        assertEquals(1L << 40, l.getLong(2));
        assertArrayEquals(new long[] {3, -1, 1L << 40}, l.toLongArray());

        Tensor i = Tensors.of(new int[] {5, 6}, 2, 1);
        assertEquals(DType.I32, i.dtype());
        assertEquals(6, i.getLong(1, 0));

        Tensor b = Tensors.of(new byte[] {-128, 127}, 2);
        assertEquals(DType.I8, b.dtype());
        assertArrayEquals(new long[] {-128, 127}, b.toLongArray());

        Tensor m = Tensors.ofBool(new boolean[] {true, false, true}, 3);
        assertEquals(DType.BOOL, m.dtype());
        assertArrayEquals(new long[] {1, 0, 1}, m.toLongArray());
    }

    @Test
    void ofCopiesTheArray() {
        float[] data = {1, 2};
        Tensor t = Tensors.of(data, 2);
        data[0] = 100;
        assertEquals(1.0, t.getDouble(0), "Tensors.of must copy its input array");
    }

    @Test
    void scalarAndVector() {
        Tensor sc = Tensors.scalar(3.5);
        assertEquals(0, sc.rank());
        assertArrayEquals(new int[0], sc.shape());
        assertEquals(1, sc.numel());
        assertEquals(3.5, sc.item());
        assertEquals(3.5, sc.getDouble());
        assertEquals(DType.F64, Tensors.scalar(DType.F64, 1).dtype());

        Tensor v = Tensors.vector(1, 2, 3);
        assertArrayEquals(s(3), v.shape());
        assertEquals(DType.F32, v.dtype());
        assertEquals(2.0, Tensors.of(new float[] {2}, 1, 1).item(), "item of a one-element 2-D tensor");
    }

    @Test
    void itemOfSeveralElementsFails() {
        assertThrowsWith(IllegalStateException.class, () -> Tensors.zeros(2).item(), "item", "[2]");
    }

    @Test
    void getDoubleChecksIndices() {
        Tensor t = Tensors.zeros(2, 3);
        assertThrowsWith(IndexOutOfBoundsException.class, () -> t.getDouble(2, 0), "[2, 0]", "[2, 3]");
        assertThrowsWith(IllegalArgumentException.class, () -> t.getDouble(1), "2 indices", "got 1");
    }

    @Test
    void wrongDataLengthNamesBothCounts() {
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.of(new float[] {1, 2, 3}, 2, 2), "[2, 2]", "4", "3");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.of(new long[5], 2), "[2]", "2", "5");
    }

    @Test
    void negativeSizesAreRejected() {
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.zeros(2, -1), "non-negative", "[2, -1]");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.of(new float[2], -2, -1), "non-negative");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.randn(new Generator(0), -3), "non-negative");
    }

    @Test
    void sameSeedSameValuesDifferentSeedDifferent() {
        float[] a = Tensors.rand(new Generator(42), 100).toFloatArray();
        float[] b = Tensors.rand(new Generator(42), 100).toFloatArray();
        float[] c = Tensors.rand(new Generator(43), 100).toFloatArray();
        assertArrayEquals(a, b);
        assertFalse(java.util.Arrays.equals(a, c), "seeds 42 and 43 gave the same 100 uniforms");

        float[] n1 = Tensors.randn(new Generator(7), 3, 5).toFloatArray();
        float[] n2 = Tensors.randn(new Generator(7), 3, 5).toFloatArray();
        float[] n3 = Tensors.randn(new Generator(8), 3, 5).toFloatArray();
        assertArrayEquals(n1, n2);
        assertFalse(java.util.Arrays.equals(n1, n3), "seeds 7 and 8 gave the same normals");

        double[] u1 = Tensors.uniform(new Generator(1), DType.F64, -2, 3, 50).toDoubleArray();
        double[] u2 = Tensors.uniform(new Generator(1), DType.F64, -2, 3, 50).toDoubleArray();
        assertArrayEquals(u1, u2);
    }

    @Test
    void aGeneratorMovesOn() {
        Generator g = new Generator(5);
        float[] a = Tensors.rand(g, 10).toFloatArray();
        float[] b = Tensors.rand(g, 10).toFloatArray();
        assertFalse(java.util.Arrays.equals(a, b), "two draws from one generator gave the same values");
    }

    @Test
    void uniformStaysInRange() {
        double[] u = Tensors.uniform(new Generator(3), DType.F64, -2, 3, 10_000).toDoubleArray();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        for (double v : u) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
        }
        assertTrue(min >= -2 && max < 3, "uniform(-2, 3) gave values in [" + min + ", " + max + "]");
        // mean of 10k uniforms on [-2, 3): 0.5 with std 5/sqrt(12)/100 = 0.0144; 0.06 is over 4 sigma
        assertEquals(0.5, sum / u.length, 0.06);
        float[] r = Tensors.rand(new Generator(4), 1000).toFloatArray();
        for (float v : r) {
            assertTrue(v >= 0 && v < 1, "rand gave " + v);
        }
    }

    @Test
    void normalMomentsOf100kSamples() {
        int n = 100_000;
        double[] x = Tensors.normal(new Generator(11), DType.F64, 2, 3, n).toDoubleArray();
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= n;
        double var = 0;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        double std = Math.sqrt(var / (n - 1));
        // standard error of the mean: 3/sqrt(1e5) = 0.0095, of the std: 3/sqrt(2e5) = 0.0067; 5 sigma bounds
        assertEquals(2, mean, 0.05, "mean of 100k normal(2, 3) samples");
        assertEquals(3, std, 0.035, "std of 100k normal(2, 3) samples");

        float[] z = Tensors.randn(new Generator(12), n).toFloatArray();
        double m = 0;
        double sq = 0;
        for (float v : z) {
            m += v;
            sq += (double) v * v;
        }
        assertEquals(0, m / n, 0.02, "mean of 100k standard normals");
        assertEquals(1, Math.sqrt(sq / n), 0.012, "rms of 100k standard normals");
    }

    @Test
    void randomOfIntegerDtypeOrBadParametersFails() {
        Generator g = new Generator(0);
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.uniform(g, DType.I64, 0, 1, 3), "uniform", "I64");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.normal(g, DType.F32, 0, -1, 3), "std", "-1");
        assertThrowsWith(IllegalArgumentException.class, () -> Tensors.uniform(g, DType.F32, 2, 1, 3), "lo <= hi");
    }

    @Test
    void toStringNamesShapeAndDtype() {
        Tensor t = Tensors.of(new float[] {1, 2.5f, -3, 4}, 2, 2);
        String str = t.toString();
        assertTrue(str.contains("[2, 2]"), str);
        assertTrue(str.contains("F32"), str);
        assertTrue(str.contains("2.5"), str);
        String big = Tensors.zeros(DType.I64, 100, 100).toString();
        assertTrue(big.contains("[100, 100]") && big.contains("I64") && big.contains("..."), "large tensors are summarized");
        assertTrue(big.length() < 2000, "summary of a 100x100 tensor is " + big.length() + " characters");
        assertTrue(Tensors.scalar(1).toString().contains("[]"));
        String rg = Tensors.zeros(DType.F64, 2).requiresGrad(true).toString();
        assertTrue(rg.contains("requires_grad"), rg);
    }

    @Test
    void castsBetweenDtypes() {
        Tensor f = Tensors.of(new float[] {1.75f, -2.5f, 0}, 3);
        assertSame(f, f.to(DType.F32), "a cast to the same dtype is the tensor itself");
        Tensor dd = f.to(DType.F64);
        assertEquals(DType.F64, dd.dtype());
        assertArrayEquals(new double[] {1.75, -2.5, 0}, dd.toDoubleArray());
        Tensor l = f.to(DType.I64);
        assertEquals(DType.I64, l.dtype());
        assertArrayEquals(new long[] {1, -2, 0}, l.toLongArray(), "float to int truncates toward zero");
        Tensor b = f.to(DType.BOOL);
        assertArrayEquals(new long[] {1, 1, 0}, b.toLongArray(), "non-zero is true");
        Tensor back = Tensors.of(new long[] {3, -4}, 2).to(DType.F32);
        assertArrayEquals(new float[] {3, -4}, back.toFloatArray());
        assertArrayEquals(new long[] {1, 0, 1}, Tensors.ofBool(new boolean[] {true, false, true}, 3).to(DType.I32).toLongArray());
    }

    @Test
    void toArraysOfAStridedView() {
        Tensor t = Tensors.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).t();
        assertFalse(t.isContiguous());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, t.toFloatArray());
        assertClose("toDoubleArray of a transposed view", t.toDoubleArray(), d(1, 4, 2, 5, 3, 6), 0, 0);
        assertArrayEquals(new long[] {1, 4, 2, 5, 3, 6}, t.toLongArray());
        Tensor n = Tensors.of(new float[] {1, 2, 3, 4, 5, 6}, 6).narrow(0, 2, 3);
        assertArrayEquals(new float[] {3, 4, 5}, n.toFloatArray(), "toFloatArray of a view with an offset");
    }

    @Test
    void deviceParsing() {
        assertEquals(Device.CPU, Device.parse("cpu"));
        assertEquals(Device.cuda(1), Device.parse("cuda:1"));
        assertEquals("cuda:0", Device.parse("CUDA").toString());
        assertThrowsWith(IllegalArgumentException.class, () -> Device.parse("tpu"), "tpu");
    }
}

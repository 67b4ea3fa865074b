package dev.kiln.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    /** The raw bits of every element, so NaN payloads and -0.0 are compared exactly. */
    static long[] bits(Tensor t) {
        return switch (t.dtype()) {
            case F32 -> {
                float[] f = t.toFloatArray();
                long[] out = new long[f.length];
                for (int i = 0; i < f.length; i++) {
                    out[i] = Float.floatToRawIntBits(f[i]);
                }
                yield out;
            }
            case F64 -> Arrays.stream(t.toDoubleArray()).mapToLong(Double::doubleToRawLongBits).toArray();
            default -> t.toLongArray();
        };
    }

    static void assertSameTensor(String name, Tensor expected, Tensor actual) {
        assertEquals(expected.dtype(), actual.dtype(), name + " dtype");
        assertArrayEquals(expected.shape(), actual.shape(), name + " shape");
        assertArrayEquals(bits(expected), bits(actual), name + " values");
    }

    private static Map<String, Tensor> everyDType() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        float nanWithPayload = Float.intBitsToFloat(0x7fc0_1234);
        m.put("f32", Tensors.of(new float[] {1.5f, -0f, nanWithPayload, Float.POSITIVE_INFINITY, Float.MIN_VALUE, -3e38f}, 2, 3));
        m.put("f64", Tensors.of(new double[] {Math.PI, -Double.MIN_VALUE, Double.NEGATIVE_INFINITY, 1e300}, 4));
        m.put("i32", Tensors.of(new int[] {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE}, 2, 2));
        m.put("i64", Tensors.of(new long[] {Long.MIN_VALUE, 42, Long.MAX_VALUE}, 3, 1));
        m.put("i8", Tensors.of(new byte[] {-128, 0, 127}, 3));
        m.put("bool", Tensors.ofBool(new boolean[] {true, false, true, true}, 2, 2));
        m.put("scalar.f32", Tensors.scalar(2.5));
        m.put("scalar.i64", Tensors.scalar(DType.I64, -7));
        m.put("scalar.bool", Tensors.scalar(DType.BOOL, 1));
        m.put("empty.f32", Tensors.zeros(0, 3));
        m.put("empty.bool", Tensors.zeros(DType.BOOL, 2, 0));
        m.put("empty.i64", Tensors.zeros(DType.I64, 0));
        return m;
    }

    @Test
    void everyWritableDTypeRoundTripsBitExactIncludingScalarsAndEmptyTensors() {
        Map<String, Tensor> in = everyDType();
        Path p = dir.resolve("all.safetensors");
        Safetensors.write(p, in, Map.of("epoch", "3", "note", "ünïcode ✓"));
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(Map.of("epoch", "3", "note", "ünïcode ✓"), f.metadata());
            assertEquals(in.keySet(), Set.copyOf(f.names()));
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                assertSameTensor(e.getKey(), e.getValue(), f.tensor(e.getKey()));
                assertEquals(SafetensorsDType.of(e.getValue().dtype()), f.dtype(e.getKey()));
                assertArrayEquals(e.getValue().shape(), f.shape(e.getKey()));
            }
        }
    }

    @Test
    void viewsAreWrittenAsTheirLogicalValues() {
        Tensor base = Tensors.arange(DType.F32, 0, 12, 1).reshape(3, 4);
        Tensor transposed = base.t();
        Tensor narrowed = base.narrow(0, 1, 2).narrow(1, 1, 2);
        Tensor trained = Tensors.randn(new Generator(3), 2, 2).requiresGrad(true);
        assertFalse(transposed.isContiguous());
        Path p = dir.resolve("views.safetensors");
        Safetensors.write(p, Map.of("t", transposed, "n", narrowed, "g", trained));
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, f.tensor("t").toFloatArray());
            assertArrayEquals(new int[] {4, 3}, f.shape("t"));
            assertArrayEquals(new float[] {5, 6, 9, 10}, f.tensor("n").toFloatArray());
            assertArrayEquals(trained.toFloatArray(), f.tensor("g").toFloatArray());
            assertFalse(f.tensor("g").requiresGrad());
        }
    }

    @Test
    void tensorsLargerThanOneWriteChunkRoundTrip() {
        Tensor big = Tensors.randn(new Generator(11), 700, 1000);
        Tensor longs = Tensors.arange(300_001);
        Path p = dir.resolve("big.safetensors");
        Safetensors.write(p, Map.of("big", big, "longs", longs));
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertSameTensor("big", big, f.tensor("big"));
            assertSameTensor("longs", longs, f.tensor("longs"));
        }
    }

    @Test
    void headerIsReadableWithoutLoadingAndTensorsOutliveTheFile() {
        Path p = dir.resolve("h.safetensors");
        Safetensors.write(p, Map.of("w", Tensors.ones(2, 3), "step", Tensors.scalar(DType.I64, 9)), null);
        Map<String, Tensor> all;
        SafetensorsFile f = Safetensors.read(p);
        try (f) {
            assertEquals(List.of("step", "w"), f.names(), "I64 before F32, as the reference lays them out");
            assertEquals(new TensorInfo("step", SafetensorsDType.I64, new int[0], 0, 8), f.info("step"));
            assertEquals(new TensorInfo("w", SafetensorsDType.F32, new int[] {2, 3}, 8, 32), f.info("w"));
            assertEquals(Map.of(), f.metadata());
            assertTrue(f.contains("w"));
            assertFalse(f.contains("x"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.tensor("x"));
            assertTrue(e.getMessage().contains("h.safetensors: expected a tensor named \"x\", got only [step, w]"), e.getMessage());
            all = f.tensors();
            assertEquals(List.copyOf(all.keySet()), f.names());
        }
        assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, all.get("w").toFloatArray());
        assertEquals(9, all.get("step").item());
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> f.tensor("w"));
        assertTrue(closed.getMessage().contains("expected an open file, got one already closed"), closed.getMessage());
        assertArrayEquals(new int[] {2, 3}, f.shape("w"), "the header stays readable after close");
        f.close();
    }

    @Test
    void writeReplacesAnExistingFileCompletely() {
        Path p = dir.resolve("r.safetensors");
        Safetensors.write(p, Map.of("a", Tensors.zeros(1000), "b", Tensors.ones(3)), Map.of("v", "1"));
        Safetensors.write(p, Map.of("b", Tensors.full(2, 2)), Map.of("v", "2"));
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(List.of("b"), f.names());
            assertEquals(Map.of("v", "2"), f.metadata());
            assertArrayEquals(new float[] {2, 2}, f.tensor("b").toFloatArray());
        }
    }
}

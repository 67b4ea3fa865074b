package dev.kiln.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.nn.LoadReport;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir
    Path dir;

    /** weight [out, 2], bias [out], an I64 scalar buffer and a child with an F32 parameter, a BOOL and an F64 buffer. */
    static final class Tiny extends Module {
        private final Parameter weight;
        private final Parameter bias;
        private final Inner inner;

        Tiny(int out, Generator g) {
            weight = parameter("weight", Tensors.randn(g, out, 2));
            bias = parameter("bias", Tensors.randn(g, out));
            buffer("steps", Tensors.scalar(DType.I64, g.nextInt(1000)));
            inner = register("inner", new Inner(out, g));
        }

        @Override
        public Tensor forward(Tensor x) {
            return inner.forward(x.matmul(weight.get().t()).add(bias.get()));
        }
    }

    static final class Inner extends Module {
        private final Parameter scale;

        Inner(int n, Generator g) {
            scale = parameter("scale", Tensors.randn(g, n));
            boolean[] mask = new boolean[n];
            mask[g.nextInt(n)] = true;
            buffer("mask", Tensors.ofBool(mask, n));
            buffer("running", Tensors.randn(g, n).to(DType.F64));
        }

        @Override
        public Tensor forward(Tensor x) {
            return x.mul(scale.get());
        }
    }

    private static Map<String, long[]> snapshot(Module m) {
        Map<String, long[]> out = new LinkedHashMap<>();
        m.stateDict().forEach((k, v) -> out.put(k, SafetensorsRoundTripTest.bits(v)));
        return out;
    }

    private static void assertSameState(Map<String, long[]> expected, Module m) {
        Map<String, long[]> actual = snapshot(m);
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, v) -> assertArrayEquals(v, actual.get(k), k));
    }

    @Test
    void aStateDictRoundTripsExactlyWithItsBuffersAndMetadata() {
        Tiny a = new Tiny(3, new Generator(1));
        Tiny b = new Tiny(3, new Generator(2));
        Path p = dir.resolve("tiny.safetensors");
        Checkpoint.save(a, p, Map.of("epoch", "4"));
        LoadReport r = Checkpoint.load(b, p, true);
        assertTrue(r.isComplete(), r.toString());
        assertEquals(List.of("weight", "bias", "steps", "inner.scale", "inner.mask", "inner.running"), r.loaded());
        assertSameState(snapshot(a), b);
        Tensor x = Tensors.randn(new Generator(5), 4, 2);
        assertArrayEquals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray());
        assertTrue(b.namedParameters().get("weight").trainable(), "loading keeps parameters trainable");
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(Map.of("epoch", "4"), f.metadata());
            assertEquals(SafetensorsDType.I64, f.dtype("steps"));
            assertArrayEquals(new int[0], f.shape("steps"));
        }
    }

    private Path fileLike(Tiny source, String name, String drop, String key, Tensor replacement) {
        Map<String, Tensor> state = new LinkedHashMap<>(source.stateDict());
        if (drop != null) {
            state.remove(drop);
        }
        if (key != null) {
            state.put(key, replacement);
        }
        Path p = dir.resolve(name + ".safetensors");
        Safetensors.write(p, state);
        return p;
    }

    @Test
    void aFailedStrictLoadLeavesTheModelUnchanged() {
        Tiny a = new Tiny(3, new Generator(1));
        Tiny b = new Tiny(3, new Generator(2));
        Map<String, long[]> before = snapshot(b);
        Map<Path, String> cases = new LinkedHashMap<>();
        cases.put(fileLike(a, "shape", null, "weight", Tensors.zeros(4, 2)), "mismatch: [weight: expected [3, 2] F32, got [4, 2] F32]");
        cases.put(fileLike(a, "missing", "inner.mask", null, null), "missing in source: [inner.mask]");
        cases.put(fileLike(a, "extra", null, "head.weight", Tensors.zeros(2)), "unexpected in source: [head.weight]");
        cases.put(fileLike(a, "dtype", null, "steps", Tensors.scalar(DType.I32, 3)), "[steps: expected [] I64, got [] I32]");
        for (Map.Entry<Path, String> c : cases.entrySet()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(b, c.getKey(), true));
            assertTrue(e.getMessage().contains(c.getValue()) && e.getMessage().contains("(nothing was loaded)")
                    && e.getMessage().contains(c.getKey().toString()), e.getMessage());
            assertSameState(before, b);
        }
    }

    @Test
    void storedHalfPrecisionIsReportedNotConverted() throws Exception {
        Tiny b = new Tiny(1, new Generator(2));
        Map<String, long[]> before = snapshot(b);
        String json = "{\"bias\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}";
        Path p = RawFiles.write(dir, "half.safetensors", json, RawFiles.u16(0x3C00));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(b, p, true));
        assertTrue(e.getMessage().contains("[bias: expected [1] F32, got [1] F16]"), e.getMessage());
        LoadReport r = Checkpoint.load(b, p, false);
        assertEquals(List.of(), r.loaded());
        assertEquals(List.of("bias: expected [1] F32, got [1] F16"), r.mismatched());
        assertSameState(before, b);
    }

    @Test
    void aNonStrictLoadCopiesTheMatchingKeysAndReportsTheRest() {
        Tiny a = new Tiny(3, new Generator(1));
        Tiny b = new Tiny(3, new Generator(2));
        Map<String, Tensor> state = new LinkedHashMap<>(a.stateDict());
        state.remove("inner.mask");
        state.put("weight", Tensors.zeros(4, 2));
        state.put("head.bias", Tensors.zeros(2));
        Path p = dir.resolve("partial.safetensors");
        Safetensors.write(p, state);
        Map<String, long[]> bBefore = snapshot(b);
        Map<String, long[]> aState = snapshot(a);

        LoadReport r = Checkpoint.load(b, p, false);
        assertEquals(List.of("bias", "steps", "inner.scale", "inner.running"), r.loaded());
        assertEquals(List.of("inner.mask"), r.missing());
        assertEquals(List.of("head.bias"), r.unexpected());
        assertEquals(List.of("weight: expected [3, 2] F32, got [4, 2] F32"), r.mismatched());
        Map<String, long[]> after = snapshot(b);
        for (String k : r.loaded()) {
            assertArrayEquals(aState.get(k), after.get(k), k);
        }
        assertArrayEquals(bBefore.get("weight"), after.get("weight"));
        assertArrayEquals(bBefore.get("inner.mask"), after.get("inner.mask"));
    }
}

package dev.kiln.engine.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFixtureTest {

    private static final String RESOURCE = "golden/engine_chain.safetensors";

    private static final Map<String, int[]> SHAPES = Map.ofEntries(
            Map.entry("x", new int[] {2, 3, 8, 8}),
            Map.entry("w1", new int[] {4, 3, 3, 3}),
            Map.entry("b1", new int[] {4}),
            Map.entry("w2", new int[] {6, 2, 3, 3}),
            Map.entry("b2", new int[] {6}),
            Map.entry("w3", new int[] {24, 5}),
            Map.entry("b3", new int[] {5}),
            Map.entry("target", new int[] {2}),
            Map.entry("h1", new int[] {2, 4, 8, 8}),
            Map.entry("p1", new int[] {2, 4, 4, 4}),
            Map.entry("h2", new int[] {2, 6, 4, 4}),
            Map.entry("p2", new int[] {2, 6, 2, 2}),
            Map.entry("logits", new int[] {2, 5}),
            Map.entry("logp", new int[] {2, 5}),
            Map.entry("loss", new int[] {}));

    @Test
    void committedFixtureHasEveryTensorWithItsShape() {
        var golden = SafetensorsFixture.loadResource(RESOURCE);
        List<String> expected = List.of("x", "w1", "b1", "w2", "b2", "w3", "b3", "target",
                "h1", "p1", "h2", "p2", "logits", "logp", "loss",
                "grad.x", "grad.w1", "grad.b1", "grad.w2", "grad.b2", "grad.w3", "grad.b3");
        assertEquals(expected, List.copyOf(golden.names()));
        SHAPES.forEach((name, shape) -> assertArrayEquals(shape, golden.shape(name), name));
        for (String p : List.of("x", "w1", "b1", "w2", "b2", "w3", "b3")) {
            assertArrayEquals(golden.shape(p), golden.shape("grad." + p), "grad." + p);
            assertEquals("F64", golden.dtype("grad." + p));
        }
        assertEquals("I64", golden.dtype("target"));
        assertArrayEquals(new long[] {1, 3}, golden.i64("target"));
        assertEquals(2 * 3 * 8 * 8, golden.f64("x").length);
        assertEquals("tools/golden_engine.py", golden.metadata().get("generator"));
        assertTrue(golden.metadata().containsKey("torch"), golden.metadata().toString());
    }

    /** The head of the chain recomputed here: proves the bytes decode to the numbers PyTorch wrote. */
    @Test
    void decodedValuesAreConsistentWithEachOther() {
        var golden = SafetensorsFixture.loadResource(RESOURCE);
        double[] logits = golden.f64("logits");
        double[] logp = golden.f64("logp");
        double[] gradB3 = golden.f64("grad.b3");
        long[] target = golden.i64("target");
        double[] expectGradB3 = new double[5];
        double loss = 0;
        for (int r = 0; r < 2; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < 5; c++) {
                max = Math.max(max, logits[5 * r + c]);
            }
            double sum = 0;
            for (int c = 0; c < 5; c++) {
                sum += Math.exp(logits[5 * r + c] - max);
            }
            double lse = max + Math.log(sum);
            for (int c = 0; c < 5; c++) {
                assertEquals(logits[5 * r + c] - lse, logp[5 * r + c], 1e-12, "logp[" + r + "," + c + "]");
                double onehot = c == target[r] ? 1 : 0;
                expectGradB3[c] += (Math.exp(logp[5 * r + c]) - onehot) / 2;
            }
            loss -= logp[5 * r + (int) target[r]] / 2;
        }
        double[] stored = golden.f64("loss");
        assertEquals(1, stored.length);
        assertEquals(loss, stored[0], 1e-12);
        assertArrayEquals(expectGradB3, gradB3, 1e-12);
    }

    @Test
    void rejectsATruncatedCopyWithAClearError(@TempDir Path dir) throws IOException {
        byte[] whole = resourceBytes();
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(whole, whole.length - 100));
        var e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFixture.load(cut));
        assertTrue(e.getMessage().contains("data_offsets") && e.getMessage().contains("truncated"),
                e.getMessage());

        Path headerOnly = dir.resolve("header.safetensors");
        Files.write(headerOnly, Arrays.copyOf(whole, 100));
        e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFixture.load(headerOnly));
        assertTrue(e.getMessage().contains("header length"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsFixture.parse(Arrays.copyOf(whole, 5), "five"));
        assertEquals("five: expected at least 8 bytes (the header length), got 5", e.getMessage());
    }

    @Test
    void rejectsMalformedHeadersSayingWhatWasExpected() {
        var e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFixture.parse(
                file("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]", 8), "m"));
        assertEquals("m: header JSON at offset 52: expected ',' or '}', got end of header", e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFixture.parse(
                file("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "m"));
        assertTrue(e.getMessage().contains("expected 16 bytes for shape [2] of F64"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFixture.parse(
                file("{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8), "m"));
        assertTrue(e.getMessage().contains("got Q7"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFixture.parse(
                file("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 16), "m"));
        assertEquals("m: expected a data buffer of 8 bytes (the end of the last tensor), got 16", e.getMessage());
    }

    @Test
    void readsASmallHandWrittenFileAndNamesMissingTensors() {
        var f = SafetensorsFixture.parse(file("{\"__metadata__\":{\"k\":\"v\"},"
                + "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[4,12]}}   ", 12), "h");
        assertEquals(Map.of("k", "v"), f.metadata());
        assertArrayEquals(new int[0], f.shape("s"));
        assertArrayEquals(new double[] {0.0}, f.f64("s"));
        assertArrayEquals(new long[] {0}, f.i64("n"));
        var e = assertThrows(IllegalArgumentException.class, () -> f.f64("n"));
        assertEquals("h: f64(\"n\"): expected dtype F64 or F32, got I64", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> f.shape("q"));
        assertEquals("h: expected a tensor named \"q\", got only [s, n]", e.getMessage());
    }

    /** A file with the given header and {@code dataBytes} zero bytes of data. */
    private static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    private static byte[] resourceBytes() throws IOException {
        try (InputStream in = SafetensorsFixtureTest.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            return in.readAllBytes();
        }
    }
}

package dev.kiln.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exact bytes {@link Safetensors#write} produces, against the reference implementation's layout. */
class SafetensorsLayoutTest {
    @TempDir
    Path dir;

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private byte[] written(Map<String, Tensor> tensors, Map<String, String> metadata) throws Exception {
        Path p = dir.resolve("t.safetensors");
        Safetensors.write(p, tensors, metadata);
        return Files.readAllBytes(p);
    }

    @Test
    void oneF32TensorMatchesTheReferenceSerializationByteForByte() throws Exception {
        // The reference crate's own serialization test: "attn.0", F32, shape [1, 2, 3], values 0..5.
        byte[] expected = concat(
                new byte[] {64, 0, 0, 0, 0, 0, 0, 0},
                ascii("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}"),
                new byte[] {0, 0, 0, 0, 0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, (byte) 0x80, 0x40,
                    0, 0, (byte) 0xa0, 0x40});
        byte[] actual = written(Map.of("attn.0", Tensors.of(new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3)), null);
        assertArrayEquals(expected, actual);
    }

    @Test
    void headerIsPaddedWithSpacesToAMultipleOfEight() throws Exception {
        // 65 bytes of JSON, padded with 7 spaces to 72 (the reference's "forced alignment" case).
        byte[] expected = concat(
                new byte[] {72, 0, 0, 0, 0, 0, 0, 0},
                ascii("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       "),
                RawFiles.f32(0, 1, 2, 3, 4, 5));
        assertArrayEquals(expected, written(Map.of("attn0", Tensors.of(new float[] {0, 1, 2, 3, 4, 5}, 1, 1, 2, 3)), Map.of()));
    }

    @Test
    void emptyFilesAndMetadataOnlyFilesMatchTheReference() throws Exception {
        assertArrayEquals(new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '}, written(Map.of(), null));
        byte[] expected = concat(new byte[] {40, 0, 0, 0, 0, 0, 0, 0}, ascii("{\"__metadata__\":{\"framework\":\"pt\"}}     "));
        assertArrayEquals(expected, written(Map.of(), Map.of("framework", "pt")));
        try (SafetensorsFile f = Safetensors.read(dir.resolve("t.safetensors"))) {
            assertEquals(List.of(), f.names());
            assertEquals(Map.of("framework", "pt"), f.metadata());
            assertEquals(Map.of(), f.tensors());
        }
    }

    @Test
    void tensorsGoByDescendingDTypeThenNameBytesAndMetadataKeysAreSorted() throws Exception {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("mask", Tensors.ofBool(new boolean[] {true, false, true}, 3));
        in.put("b", Tensors.vector(2));
        in.put("é", Tensors.vector(3));
        in.put("B", Tensors.vector(1));
        in.put("q", Tensors.of(new byte[] {-1}, 1));
        in.put("n", Tensors.scalar(DType.I64, 5));
        in.put("d", Tensors.of(new double[] {0.5}, 1));
        in.put("i", Tensors.of(new int[] {7}, 1));
        Map<String, String> meta = new HashMap<>();
        meta.put("zeta", "1");
        meta.put("alpha", "2");
        String json = "{\"__metadata__\":{\"alpha\":\"2\",\"zeta\":\"1\"},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]},"
                + "\"B\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[20,24]},"
                + "\"é\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[24,28]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[28,32]},"
                + "\"q\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[32,33]},"
                + "\"mask\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[33,36]}}";
        byte[] header = ascii(json);
        int padded = (header.length + 7) / 8 * 8;
        byte[] expected = concat(
                new byte[] {(byte) padded, (byte) (padded >> 8), 0, 0, 0, 0, 0, 0},
                header, " ".repeat(padded - header.length).getBytes(StandardCharsets.US_ASCII),
                new byte[] {5, 0, 0, 0, 0, 0, 0, 0},
                new byte[] {0, 0, 0, 0, 0, 0, (byte) 0xe0, 0x3f},
                RawFiles.f32(1, 2, 3),
                new byte[] {7, 0, 0, 0, (byte) 0xff, 1, 0, 1});
        assertArrayEquals(expected, written(in, meta));
        try (SafetensorsFile f = Safetensors.read(dir.resolve("t.safetensors"))) {
            assertEquals(List.of("n", "d", "B", "b", "é", "i", "q", "mask"), f.names());
            for (TensorInfo t : f.infos()) {
                assertEquals(0, (8 + padded + t.begin()) % Math.max(1, t.dtype().bits() / 8), t + " is aligned in the file");
            }
        }
    }

    @Test
    void namesAreEscapedAsJsonAndReadBackUnchanged() throws Exception {
        String name = "q\"uote\\back\nnl\u0001ctl/slash ✓";
        byte[] bytes = written(Map.of(name, Tensors.vector(1)), Map.of("tab\t", "\u001f"));
        String header = new String(bytes, 8, bytes[0] & 0xFF, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"tab\\t\":\"\\u001f\"},\"q\\\"uote\\\\back\\nnl\\u0001ctl/slash ✓\":"),
                header);
        try (SafetensorsFile f = Safetensors.read(dir.resolve("t.safetensors"))) {
            assertEquals(List.of(name), f.names());
            assertEquals(Map.of("tab\t", "\u001f"), f.metadata());
        }
    }

    @Test
    void namesThatJsonOrUtf8CannotCarryAreRefusedBeforeAnythingIsWritten() {
        Path p = dir.resolve("bad.safetensors");
        IllegalArgumentException surrogate = assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(p, Map.of("half\ud800", Tensors.vector(1))));
        assertTrue(surrogate.getMessage().contains("tensor name: expected text that UTF-8 can encode"), surrogate.getMessage());
        IllegalArgumentException reserved = assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(p, Map.of("__metadata__", Tensors.vector(1))));
        assertTrue(reserved.getMessage().contains("expected tensor names other than null and \"__metadata__\""),
                reserved.getMessage());
        Map<String, Tensor> withNull = new HashMap<>();
        withNull.put("w", null);
        IllegalArgumentException nul = assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, withNull));
        assertTrue(nul.getMessage().contains("tensor \"w\": expected a tensor, got null"), nul.getMessage());
        assertTrue(Files.notExists(p));
    }
}

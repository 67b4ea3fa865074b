package dev.kiln.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Headers that lie or are broken: each is rejected with the file, the tensor, what was expected and what was given. */
class SafetensorsMalformedTest {
    @TempDir
    Path dir;

    private static Arguments header(String name, String json, int dataBytes, String expected) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return Arguments.of(name, RawFiles.bytes(h.length, json, RawFiles.zeros(dataBytes)), expected);
    }

    private static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("short", new byte[] {1, 2, 3, 4, 5}, "expected at least 8 bytes (the header length), got a 5-byte file"),
                Arguments.of("top-bit", RawFiles.bytes(-1L, "{}", new byte[0]),
                        "expected a header length of at most 100000000 bytes, got 18446744073709551615"),
                Arguments.of("beyond-file", RawFiles.bytes(1000, "{}      ", new byte[24]),
                        "expected a header length of at most 32 bytes (what follows the length field), got 1000 (is the file truncated?)"),
                Arguments.of("zero-length", RawFiles.bytes(0, "", new byte[0]),
                        "expected a header length of at least 2 bytes ('{}'), got 0"),
                Arguments.of("utf8", concat(RawFiles.bytes(3, "", new byte[0]), new byte[] {'{', (byte) 0xff, '}'}),
                        "expected the 3-byte header to be UTF-8, got ff at header byte 1"),
                header("json", "{\"a\":", 0, "header JSON at character 5: expected a JSON value, got the end of the header"),
                header("garbage", "{}x", 0, "header JSON at character 2: expected the end of the header (only whitespace may follow"),
                header("array", "[]", 0, "expected the header to be a JSON object, got the array []"),
                header("dtype", "{" + entry("w", "\"F31\"", "[1]", "[0,4]") + "}", 4,
                        "tensor \"w\": expected a dtype among BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, "
                                + "F8_E4M3FNUZ, F8_E5M2FNUZ, I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64, got the string \"F31\""),
                header("no-dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                        "tensor \"w\": expected a dtype among BOOL, F4, F6_E2M3"),
                header("not-object", "{\"w\":3}", 0, "tensor \"w\": expected an object with dtype, shape and data_offsets, got 3"),
                header("negative-dim", "{" + entry("w", "\"F32\"", "[2,-1]", "[0,4]") + "}", 4,
                        "tensor \"w\": expected dimensions in 0..2147483647, got shape [2, -1]"),
                header("fraction-dim", "{" + entry("w", "\"F32\"", "[2.5]", "[0,4]") + "}", 4,
                        "tensor \"w\": shape: expected integers in 0..9223372036854775807, got the array [2.5]"),
                header("huge-dim", "{" + entry("w", "\"F32\"", "[4294967296]", "[0,4]") + "}", 4,
                        "tensor \"w\": expected dimensions in 0..2147483647, got shape [4294967296]"),
                header("overflow", "{" + entry("w", "\"F64\"", "[2147483647,2147483647,2147483647]", "[0,8]") + "}", 8,
                        "tensor \"w\": expected a shape whose size fits in 2^63 bits, got [2147483647, 2147483647, 2147483647] of F64"),
                header("sub-byte", "{" + entry("w", "\"F4\"", "[3]", "[0,2]") + "}", 2,
                        "tensor \"w\": expected a whole number of bytes, got 12 bits for shape [3] of F4"),
                header("beyond-data", "{" + entry("w", "\"F32\"", "[1000000000]", "[0,4000000000]") + "}", 16,
                        "tensor \"w\": expected data_offsets [begin, end] with 0 <= begin <= end <= 16 (the data buffer's size), "
                                + "got [0, 4000000000] (is the file truncated?)"),
                header("offset-range", "{" + entry("w", "\"F32\"", "[1]", "[0,36893488130239234048]") + "}", 4,
                        "tensor \"w\": data_offsets: expected integers in 0..9223372036854775807, got the array "
                                + "[0, 36893488130239234048]"),
                header("reversed", "{" + entry("w", "\"F32\"", "[1]", "[4,0]") + "}", 4,
                        "tensor \"w\": expected data_offsets [begin, end] with 0 <= begin <= end <= 4"),
                header("arity", "{" + entry("w", "\"F32\"", "[1]", "[0]") + "}", 4,
                        "tensor \"w\": data_offsets: expected an array of 2 integers, got the array [0]"),
                header("size", "{" + entry("w", "\"F32\"", "[2,2]", "[0,12]") + "}", 12,
                        "tensor \"w\": expected 16 bytes for shape [2, 2] of F32, got data_offsets [0, 12] (12 bytes)"),
                header("overlap", "{" + entry("a", "\"F32\"", "[2]", "[0,8]") + "," + entry("b", "\"F32\"", "[2]", "[4,12]") + "}", 12,
                        "tensor \"b\": expected data_offsets that start at 8 or later, got [4, 12), which overlaps tensor \"a\" at [0, 8)"),
                header("hole", "{" + entry("a", "\"F32\"", "[1]", "[0,4]") + "," + entry("b", "\"F32\"", "[1]", "[8,12]") + "}", 12,
                        "tensor \"b\": expected data_offsets that start at 4 (the buffer must be covered without holes), got 8: "
                                + "bytes [4, 8) belong to no tensor"),
                header("trailing", "{" + entry("a", "\"F32\"", "[1]", "[0,4]") + "}", 8,
                        "expected the data buffer to end with the last tensor at byte 4, got 8 bytes (4 trailing bytes belong to no tensor)"),
                header("duplicate", "{" + entry("w", "\"F32\"", "[1]", "[0,4]") + "," + entry("w", "\"F32\"", "[1]", "[4,8]") + "}", 8,
                        "expected a key not seen before in this object (\"w\" is repeated)"),
                header("metadata", "{\"__metadata__\":{\"epoch\":3}}", 0, "expected __metadata__.\"epoch\" to be a string, got 3"));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void rejectedWithTheFileAndWhatWasExpected(String name, byte[] bytes, String expected) throws Exception {
        Path p = Files.write(dir.resolve(name + ".safetensors"), bytes);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Safetensors.read(p).close());
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected the message to contain\n  " + expected + "\ngot\n  " + e.getMessage());
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private long allocatedWhileRejecting(Path p) {
        assertThrows(IllegalArgumentException.class, () -> Safetensors.read(p).close());
        long before = allocatedBytes();
        assertThrows(IllegalArgumentException.class, () -> Safetensors.read(p).close());
        return allocatedBytes() - before;
    }

    @Test
    void absurdLengthsFailFastWithoutAllocatingThem() throws Exception {
        Path length = Files.write(dir.resolve("len.safetensors"), RawFiles.bytes(1L << 62, "{}", new byte[6]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Safetensors.read(length));
        assertTrue(e.getMessage().contains("expected a header length of at most 100000000 bytes, got 4611686018427387904"),
                e.getMessage());
        assertTrue(allocatedWhileRejecting(length) < 1 << 20, "header length 2^62 must not be allocated");

        String json = "{\"w\":{\"dtype\":\"F64\",\"shape\":[2147483647,1000],\"data_offsets\":[0,17179869176000]}}";
        Path shape = RawFiles.write(dir, "shape.safetensors", json, new byte[16]);
        e = assertThrows(IllegalArgumentException.class, () -> Safetensors.read(shape));
        assertTrue(e.getMessage().contains("tensor \"w\": expected data_offsets [begin, end] with 0 <= begin <= end <= 16"),
                e.getMessage());
        assertTrue(allocatedWhileRejecting(shape) < 1 << 20, "a 17 TB tensor must not be allocated");
    }

    @Test
    void validDTypesKilnDoesNotReadOpenButRefuseToMaterialize() throws Exception {
        String json = "{\"s\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8],\"extra\":\"ignored\"}}\n\t ";
        byte[] data = concat(RawFiles.u16(1, 2), RawFiles.f32(0.25f));
        Path p = RawFiles.write(dir, "i16.safetensors", json, data);
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(List.of("s", "w"), f.names());
            assertEquals(SafetensorsDType.I16, f.dtype("s"));
            assertArrayEquals(new int[] {2}, f.shape("s"));
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> f.tensor("s"));
            assertEquals(p + ": tensor \"s\": expected a dtype Kiln reads (BOOL, U8, I8, F16, BF16, I32, F32, F64, I64), got I16",
                    e.getMessage());
            assertArrayEquals(new float[] {0.25f}, f.tensor("w").toFloatArray());
        }
    }

    @Test
    void aMissingFileIsAnIoErrorNamingIt() {
        Path p = dir.resolve("nope.safetensors");
        var e = assertThrows(java.io.UncheckedIOException.class, () -> Safetensors.read(p));
        assertTrue(e.getMessage().startsWith(p + ": cannot read safetensors file"), e.getMessage());
    }
}

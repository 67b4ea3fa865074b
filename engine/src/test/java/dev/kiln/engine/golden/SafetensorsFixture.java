package dev.kiln.engine.golden;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A read-only safetensors file held in memory, for golden tests: the tensors PyTorch computed
 * (see {@code tools/golden_engine.py}), read with nothing but the JDK.
 *
 * <p>Layout: an 8-byte little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON
 * ({@code {"name": {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {...}}}), then the little-endian data buffer the offsets point into. Loading
 * checks the header fully (dtypes, shapes, offsets that match the shape and together cover the
 * buffer exactly, without holes or overlaps) and rejects anything else with an
 * {@link IllegalArgumentException} saying what was expected and what was given.
 *
 * <pre>{@code
 * var golden = SafetensorsFixture.loadResource("golden/engine_chain.safetensors");
 * int[] shape = golden.shape("x");        // [2, 3, 8, 8]
 * double[] x = golden.f64("x");           // row-major
 * long[] target = golden.i64("target");
 * }</pre>
 */
public final class SafetensorsFixture {

    private record Entry(String dtype, int[] shape, int begin, int end) {}

    private final String source;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final ByteBuffer data;

    private SafetensorsFixture(String source, Map<String, Entry> entries,
                               Map<String, String> metadata, ByteBuffer data) {
        this.source = source;
        this.entries = entries;
        this.metadata = metadata;
        this.data = data;
    }

    /** Loads a safetensors file from disk. */
    public static SafetensorsFixture load(Path path) {
        try {
            return parse(Files.readAllBytes(path), path.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("safetensors: cannot read " + path, e);
        }
    }

    /** Loads a safetensors file from the class path, e.g. {@code "golden/engine_chain.safetensors"}. */
    public static SafetensorsFixture loadResource(String name) {
        ClassLoader loader = SafetensorsFixture.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalArgumentException(
                        "safetensors: expected a class-path resource named " + name + ", found none");
            }
            return parse(in.readAllBytes(), name);
        } catch (IOException e) {
            throw new UncheckedIOException("safetensors: cannot read resource " + name, e);
        }
    }

    /** Parses the bytes of a safetensors file; {@code source} names it in error messages. */
    public static SafetensorsFixture parse(byte[] bytes, String source) {
        if (bytes.length < 8) {
            throw new IllegalArgumentException(source + ": expected at least 8 bytes (the header length), got "
                    + bytes.length);
        }
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 2 || n > bytes.length - 8) {
            throw new IllegalArgumentException(source + ": expected a header length between 2 and the "
                    + (bytes.length - 8) + " bytes after the length field, got " + Long.toUnsignedString(n));
        }
        String header = decodeUtf8(bytes, (int) n, source);
        Object root = HeaderJson.parse(header, source);
        if (!(root instanceof Map<?, ?> top)) {
            throw new IllegalArgumentException(source + ": expected the header to be a JSON object, got "
                    + describe(root));
        }
        int dataStart = 8 + (int) n;
        int dataLength = bytes.length - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                metadata = metadata(e.getValue(), source);
            } else {
                entries.put(name, entry(name, e.getValue(), dataLength, source));
            }
        }
        checkCoverage(entries, dataLength, source);
        ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, dataLength).slice().order(ByteOrder.LITTLE_ENDIAN);
        return new SafetensorsFixture(source, Collections.unmodifiableMap(entries), metadata, data);
    }

    /** The tensor names, in header order (without {@code __metadata__}). */
    public Set<String> names() {
        return entries.keySet();
    }

    /** The string-to-string {@code __metadata__} map; empty when the file has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The dtype as written in the header, e.g. {@code "F64"}. */
    public String dtype(String name) {
        return entry(name).dtype();
    }

    /** The shape of a tensor (a fresh copy; a scalar has shape {@code []}). */
    public int[] shape(String name) {
        return entry(name).shape().clone();
    }

    /** The elements of an F64 tensor in row-major order; an F32 tensor is widened. */
    public double[] f64(String name) {
        Entry e = entry(name);
        ByteBuffer b = bytes(e);
        return switch (e.dtype()) {
            case "F64" -> {
                double[] out = new double[(e.end() - e.begin()) / 8];
                b.asDoubleBuffer().get(out);
                yield out;
            }
            case "F32" -> {
                double[] out = new double[(e.end() - e.begin()) / 4];
                for (int i = 0; i < out.length; i++) {
                    out[i] = b.getFloat(4 * i);
                }
                yield out;
            }
            default -> throw new IllegalArgumentException(source + ": f64(\"" + name
                    + "\"): expected dtype F64 or F32, got " + e.dtype());
        };
    }

    /** The elements of an I64 tensor in row-major order; an I32 tensor is widened. */
    public long[] i64(String name) {
        Entry e = entry(name);
        ByteBuffer b = bytes(e);
        return switch (e.dtype()) {
            case "I64" -> {
                long[] out = new long[(e.end() - e.begin()) / 8];
                b.asLongBuffer().get(out);
                yield out;
            }
            case "I32" -> {
                long[] out = new long[(e.end() - e.begin()) / 4];
                for (int i = 0; i < out.length; i++) {
                    out[i] = b.getInt(4 * i);
                }
                yield out;
            }
            default -> throw new IllegalArgumentException(source + ": i64(\"" + name
                    + "\"): expected dtype I64 or I32, got " + e.dtype());
        };
    }

    @Override
    public String toString() {
        return "SafetensorsFixture[" + source + ", " + entries.size() + " tensors]";
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException(source + ": expected a tensor named \"" + name
                    + "\", got only " + entries.keySet());
        }
        return e;
    }

    private ByteBuffer bytes(Entry e) {
        return data.slice(e.begin(), e.end() - e.begin()).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String decodeUtf8(byte[] bytes, int n, String source) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 8, n))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(source + ": expected the " + n
                    + "-byte header to be UTF-8, got invalid bytes (" + e + ")");
        }
    }

    private static Map<String, String> metadata(Object value, String source) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(source + ": expected __metadata__ to be an object, got "
                    + describe(value));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new IllegalArgumentException(source + ": expected __metadata__." + e.getKey()
                        + " to be a string, got " + describe(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static Entry entry(String name, Object value, int dataLength, String source) {
        String where = source + ": tensor \"" + name + "\"";
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(where + ": expected an object, got " + describe(value));
        }
        if (!(map.get("dtype") instanceof String dtype)) {
            throw new IllegalArgumentException(where + ": expected a string dtype, got "
                    + describe(map.get("dtype")));
        }
        int itemSize = itemSize(dtype);
        if (itemSize == 0) {
            throw new IllegalArgumentException(where + ": expected a dtype among F64, F32, F16, BF16, I64, "
                    + "I32, I16, I8, U8, BOOL, got " + dtype);
        }
        long[] dims = longs(map.get("shape"), -1, where + ": shape");
        int[] shape = new int[dims.length];
        long size = itemSize;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(where + ": expected non-negative int dims, got shape "
                        + Arrays.toString(dims));
            }
            shape[i] = (int) dims[i];
            size = dims[i] == 0 || size <= Integer.MAX_VALUE / dims[i] ? size * dims[i] : Long.MAX_VALUE;
        }
        long[] offsets = longs(map.get("data_offsets"), 2, where + ": data_offsets");
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin || end > dataLength) {
            throw new IllegalArgumentException(where + ": expected data_offsets within the " + dataLength
                    + "-byte data buffer, got " + Arrays.toString(offsets)
                    + (end > dataLength ? " (is the file truncated?)" : ""));
        }
        if (end - begin != size) {
            throw new IllegalArgumentException(where + ": expected " + (size == Long.MAX_VALUE ? "more than 2^31 - 1" : size)
                    + " bytes for shape "
                    + Arrays.toString(shape) + " of " + dtype + ", got data_offsets " + Arrays.toString(offsets)
                    + " (" + (end - begin) + " bytes)");
        }
        return new Entry(dtype, shape, (int) begin, (int) end);
    }

    private static long[] longs(Object value, int length, String what) {
        if (!(value instanceof List<?> list) || (length >= 0 && list.size() != length)) {
            throw new IllegalArgumentException(what + ": expected an array of "
                    + (length >= 0 ? length + " " : "") + "integers, got " + describe(value));
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long v)) {
                throw new IllegalArgumentException(what + ": expected integers, got " + describe(value));
            }
            out[i] = v;
        }
        return out;
    }

    private static void checkCoverage(Map<String, Entry> entries, int dataLength, String source) {
        List<Map.Entry<String, Entry>> sorted = new ArrayList<>(entries.entrySet());
        sorted.sort(Comparator.comparingInt((Map.Entry<String, Entry> e) -> e.getValue().begin())
                .thenComparingInt(e -> e.getValue().end()));
        int at = 0;
        for (Map.Entry<String, Entry> e : sorted) {
            if (e.getValue().begin() != at) {
                throw new IllegalArgumentException(source + ": expected tensor \"" + e.getKey()
                        + "\" to start at data offset " + at + " (tensors laid out without holes or overlaps), got "
                        + e.getValue().begin());
            }
            at = e.getValue().end();
        }
        if (at != dataLength) {
            throw new IllegalArgumentException(source + ": expected a data buffer of " + at
                    + " bytes (the end of the last tensor), got " + dataLength);
        }
    }

    private static int itemSize(String dtype) {
        return switch (dtype) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16", "I16" -> 2;
            case "I8", "U8", "BOOL" -> 1;
            default -> 0;
        };
    }

    private static String describe(Object value) {
        return switch (value) {
            case null -> "nothing (missing or null)";
            case String s -> "the string \"" + s + "\"";
            case Map<?, ?> m -> "an object " + m.keySet();
            case List<?> l -> "the array " + l;
            default -> value.toString();
        };
    }
}

package dev.kiln.nn.io;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reading and writing the header of a safetensors file: the 8-byte little-endian length, then
 * that many bytes of UTF-8 JSON padded with spaces. Parsing checks everything a lying header could
 * get wrong before any tensor is allocated; every error names the file, the tensor, what was
 * expected and what was given.
 */
final class SafetensorsHeader {
    /** The reference implementation refuses larger headers, and so do we. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The one header key that is not a tensor. */
    static final String METADATA_KEY = "__metadata__";

    /** A parsed header: the tensors in header order and the {@code __metadata__} strings. */
    record Parsed(List<TensorInfo> tensors, Map<String, String> metadata) {}

    private SafetensorsHeader() {
    }

    /**
     * Checks the raw length field {@code n} (read as a signed long; negative means above 2^63)
     * against the limit and the file size, and returns it as the number of header bytes to read.
     */
    static int checkLength(long n, long fileSize, String source) {
        if (fileSize < 8) {
            throw new IllegalArgumentException(source + ": expected at least 8 bytes (the header length), got a "
                    + fileSize + "-byte file");
        }
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new IllegalArgumentException(source + ": expected a header length of at most " + MAX_HEADER_BYTES
                    + " bytes, got " + Long.toUnsignedString(n) + " (not a safetensors file, or a corrupt one)");
        }
        if (n > fileSize - 8) {
            throw new IllegalArgumentException(source + ": expected a header length of at most " + (fileSize - 8)
                    + " bytes (what follows the length field), got " + n + " (is the file truncated?)");
        }
        if (n < 2) {
            throw new IllegalArgumentException(source + ": expected a header length of at least 2 bytes ('{}'), got " + n);
        }
        return (int) n;
    }

    /** Parses and validates the header; {@code dataLength} is the number of bytes after it. */
    static Parsed parse(byte[] header, long dataLength, String source) {
        Object root = HeaderJson.parse(decodeUtf8(header, source), source);
        if (!(root instanceof Map<?, ?> top)) {
            throw new IllegalArgumentException(source + ": expected the header to be a JSON object, got " + describe(root));
        }
        List<TensorInfo> tensors = new ArrayList<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = metadata(e.getValue(), source);
            } else {
                tensors.add(entry(name, e.getValue(), dataLength, source));
            }
        }
        checkCoverage(tensors, dataLength, source);
        return new Parsed(Collections.unmodifiableList(tensors), metadata);
    }

    /**
     * The header bytes for {@code tensors} (in the given order) and {@code metadata} (written
     * first, keys sorted, left out when empty), padded with spaces to a multiple of 8 bytes.
     */
    static byte[] encode(List<TensorInfo> tensors, Map<String, String> metadata) {
        StringBuilder sb = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            HeaderJson.writeString(sb, METADATA_KEY);
            sb.append(":{");
            String sep = "";
            for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) {
                sb.append(sep);
                HeaderJson.writeString(sb, e.getKey());
                sb.append(':');
                HeaderJson.writeString(sb, e.getValue());
                sep = ",";
            }
            sb.append('}');
            if (!tensors.isEmpty()) {
                sb.append(',');
            }
        }
        String sep = "";
        for (TensorInfo t : tensors) {
            sb.append(sep);
            HeaderJson.writeString(sb, t.name());
            sb.append(":{\"dtype\":\"").append(t.dtype()).append("\",\"shape\":[");
            int[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) {
                sb.append(i == 0 ? "" : ",").append(shape[i]);
            }
            sb.append("],\"data_offsets\":[").append(t.begin()).append(',').append(t.end()).append("]}");
            sep = ",";
        }
        sb.append('}');
        byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(text, (text.length + 7) / 8 * 8);
        Arrays.fill(padded, text.length, padded.length, (byte) ' ');
        return padded;
    }

    /** Throws unless {@code s} encodes to UTF-8 without loss (no unpaired surrogates). */
    static void requireEncodable(String s, String what) {
        try {
            StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(s));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + ": expected text that UTF-8 can encode, got an unpaired surrogate in \""
                    + s + "\"");
        }
    }

    private static String decodeUtf8(byte[] header, String source) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(header);
        CharBuffer out = CharBuffer.allocate(header.length);
        CoderResult r = decoder.decode(in, out, true);
        if (r.isError()) {
            int at = in.position();
            StringBuilder bad = new StringBuilder();
            for (int i = at; i < Math.min(header.length, at + r.length()); i++) {
                bad.append(String.format(" %02x", header[i] & 0xFF));
            }
            throw new IllegalArgumentException(source + ": expected the " + header.length + "-byte header to be UTF-8, got"
                    + bad + " at header byte " + at);
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    private static Map<String, String> metadata(Object value, String source) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(source + ": expected " + METADATA_KEY + " to be an object of strings, got "
                    + describe(value));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new IllegalArgumentException(source + ": expected " + METADATA_KEY + ".\"" + e.getKey()
                        + "\" to be a string, got " + describe(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo entry(String name, Object value, long dataLength, String source) {
        String where = source + ": tensor \"" + name + "\"";
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(where + ": expected an object with dtype, shape and data_offsets, got "
                    + describe(value));
        }
        Object dtypeValue = map.get("dtype");
        SafetensorsDType dtype = dtypeValue instanceof String s ? SafetensorsDType.parse(s) : null;
        if (dtype == null) {
            throw new IllegalArgumentException(where + ": expected a dtype among " + SafetensorsDType.list(false) + ", got "
                    + describe(dtypeValue));
        }
        long[] dims = integers(map.get("shape"), -1, where + ": shape");
        int[] shape = new int[dims.length];
        long bits = dtype.bits();
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(where + ": expected dimensions in 0.." + Integer.MAX_VALUE + ", got shape "
                        + Arrays.toString(dims));
            }
            shape[i] = (int) dims[i];
            try {
                bits = Math.multiplyExact(bits, dims[i]);
            } catch (ArithmeticException overflow) {
                throw new IllegalArgumentException(where + ": expected a shape whose size fits in 2^63 bits, got "
                        + Arrays.toString(dims) + " of " + dtype);
            }
        }
        if (bits % 8 != 0) {
            throw new IllegalArgumentException(where + ": expected a whole number of bytes, got " + bits + " bits for shape "
                    + Arrays.toString(dims) + " of " + dtype);
        }
        long[] offsets = integers(map.get("data_offsets"), 2, where + ": data_offsets");
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin || end > dataLength) {
            throw new IllegalArgumentException(where + ": expected data_offsets [begin, end] with 0 <= begin <= end <= "
                    + dataLength + " (the data buffer's size), got " + Arrays.toString(offsets)
                    + (end > dataLength ? " (is the file truncated?)" : ""));
        }
        if (end - begin != bits / 8) {
            throw new IllegalArgumentException(where + ": expected " + bits / 8 + " bytes for shape " + Arrays.toString(shape)
                    + " of " + dtype + ", got data_offsets " + Arrays.toString(offsets) + " (" + (end - begin) + " bytes)");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] integers(Object value, int length, String what) {
        if (!(value instanceof List<?> list) || (length >= 0 && list.size() != length)) {
            throw new IllegalArgumentException(what + ": expected an array of " + (length >= 0 ? length + " " : "")
                    + "integers, got " + describe(value));
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long v)) {
                throw new IllegalArgumentException(what + ": expected integers in 0.." + Long.MAX_VALUE + ", got "
                        + describe(value));
            }
            out[i] = v;
        }
        return out;
    }

    private static void checkCoverage(List<TensorInfo> tensors, long dataLength, String source) {
        List<TensorInfo> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long at = 0;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < at) {
                throw new IllegalArgumentException(source + ": tensor \"" + t.name() + "\": expected data_offsets that start at "
                        + at + " or later, got [" + t.begin() + ", " + t.end() + "), which overlaps tensor \"" + previous.name()
                        + "\" at [" + previous.begin() + ", " + previous.end() + ")");
            }
            if (t.begin() > at) {
                throw new IllegalArgumentException(source + ": tensor \"" + t.name() + "\": expected data_offsets that start at "
                        + at + " (the buffer must be covered without holes), got " + t.begin() + ": bytes [" + at + ", "
                        + t.begin() + ") belong to no tensor");
            }
            at = t.end();
            previous = t;
        }
        if (at != dataLength) {
            throw new IllegalArgumentException(source + ": expected the data buffer to end with the last tensor at byte " + at
                    + ", got " + dataLength + " bytes (" + (dataLength - at) + " trailing bytes belong to no tensor)");
        }
    }

    private static String describe(Object value) {
        return switch (value) {
            case null -> "nothing (missing or null)";
            case String s -> {
                StringBuilder sb = new StringBuilder("the string ");
                HeaderJson.writeString(sb, s);
                yield sb.toString();
            }
            case Map<?, ?> m -> "an object with keys " + m.keySet();
            case List<?> l -> "the array " + l;
            default -> value.toString();
        };
    }
}

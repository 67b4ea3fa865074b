package dev.kiln.nn.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Hand-made safetensors bytes for tests: a length field, a header exactly as given, then the data. */
final class RawFiles {
    private RawFiles() {
    }

    /** {@code length} as the 8-byte field, {@code header} as UTF-8 (not padded), then {@code data}. */
    static byte[] bytes(long length, String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(length).put(h).put(data).array();
    }

    /** A file with a truthful length field. */
    static Path write(Path dir, String name, String header, byte[] data) throws IOException {
        return Files.write(dir.resolve(name), bytes(header.getBytes(StandardCharsets.UTF_8).length, header, data));
    }

    static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }

    static byte[] u16(int... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putShort((short) x);
        }
        return b.array();
    }

    static byte[] zeros(int n) {
        return new byte[n];
    }
}

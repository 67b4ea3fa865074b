package dev.kiln.nn.io;

import dev.kiln.engine.Device;
import dev.kiln.engine.HeapStorage;
import dev.kiln.engine.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reading and writing the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format: an 8-byte little-endian header length, a UTF-8 JSON header
 * ({@code {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}})
 * padded with spaces to a multiple of 8 bytes, then the little-endian, row-major data.
 *
 * <p>{@link #write} lays the file out as the reference implementation (and so the Python
 * {@code safetensors} package) does: {@code __metadata__} first (keys sorted here; left out when
 * empty), then the tensors by descending dtype (I64, F64, F32, I32, I8, BOOL) and, within a dtype,
 * by name (UTF-8 byte order), so every tensor's data is aligned to its element size. The write is
 * atomic: the bytes go to a temporary file in the same directory, which is synced and then renamed
 * over the target, so a crash or an error never leaves a partial file under the final name.
 *
 * <p>{@link #read} validates the whole header before it maps the file or allocates any tensor:
 * header length (at most 100,000,000 bytes and within the file), UTF-8, JSON, dtype names, shapes
 * (non-negative, no overflow), data offsets (in range and matching shape times element size), no
 * overlaps and no holes (the format requires the data buffer to be covered exactly), no repeated
 * names. Keys of a tensor entry other than dtype, shape and data_offsets are ignored, as the
 * reference does.
 *
 * <pre>{@code
 * Safetensors.write(Path.of("w.safetensors"), Map.of("w", w, "b", b), Map.of("epoch", "3"));
 * try (SafetensorsFile f = Safetensors.read(Path.of("w.safetensors"))) {
 *     Tensor w2 = f.tensor("w");
 * }
 * }</pre>
 */
public final class Safetensors {
    private static final int CHUNK = 1 << 20;

    private Safetensors() {
    }

    /** Opens a safetensors file: header validated, data memory-mapped; close it when done. */
    public static SafetensorsFile read(Path path) {
        return SafetensorsFile.open(path);
    }

    /** Writes {@code tensors} atomically with no metadata. */
    public static void write(Path path, Map<String, Tensor> tensors) {
        write(path, tensors, Map.of());
    }

    /**
     * Writes {@code tensors} (any device, dtype, layout) and {@code metadata} (may be null) to
     * {@code path} atomically, replacing a file already there.
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) {
        String source = path.toString();
        Map<String, String> meta = metadata == null ? Map.of() : metadata;
        for (Map.Entry<String, String> e : meta.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException(source + ": expected metadata of non-null strings, got " + e.getKey()
                        + " = " + e.getValue());
            }
            SafetensorsHeader.requireEncodable(e.getKey(), source + ": metadata key");
            SafetensorsHeader.requireEncodable(e.getValue(), source + ": metadata \"" + e.getKey() + "\"");
        }
        List<Map.Entry<String, Tensor>> order = layout(tensors, source);
        List<TensorInfo> infos = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : order) {
            Tensor t = e.getValue();
            long bytes = (long) t.numel() * t.dtype().byteSize();
            infos.add(new TensorInfo(e.getKey(), SafetensorsDType.of(t.dtype()), t.shape(), offset, offset + bytes));
            offset += bytes;
        }
        byte[] header = SafetensorsHeader.encode(infos, meta);
        Path target = path.toAbsolutePath();
        Path tmp = target.resolveSibling("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(header.length).put(header).flip();
                writeFully(ch, head);
                ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
                MemorySegment chunkSegment = MemorySegment.ofBuffer(chunk);
                for (Map.Entry<String, Tensor> e : order) {
                    writeData(ch, e.getValue(), chunk, chunkSegment);
                }
                ch.force(true);
            }
            move(tmp, target);
        } catch (IOException e) {
            deleteQuietly(tmp, e);
            throw new UncheckedIOException(source + ": cannot write safetensors file (any previous file is unchanged): " + e, e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp, e);
            throw e;
        }
    }

    /** Removes the temporary file after a failure; a failure to remove it is attached to {@code cause}. */
    private static void deleteQuietly(Path tmp, Throwable cause) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException cleanup) {
            cause.addSuppressed(cleanup);
        }
    }

    /** The entries in the reference implementation's order, after checking names and tensors. */
    private static List<Map.Entry<String, Tensor>> layout(Map<String, Tensor> tensors, String source) {
        List<Map.Entry<String, Tensor>> order = new ArrayList<>(tensors.size());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.equals(SafetensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException(source + ": expected tensor names other than null and \""
                        + SafetensorsHeader.METADATA_KEY + "\", got " + (name == null ? "null" : "\"" + name + "\""));
            }
            SafetensorsHeader.requireEncodable(name, source + ": tensor name");
            if (e.getValue() == null) {
                throw new IllegalArgumentException(source + ": tensor \"" + name + "\": expected a tensor, got null");
            }
            order.add(Map.entry(name, e.getValue()));
        }
        Comparator<Map.Entry<String, Tensor>> byDType = Comparator.comparing(e -> SafetensorsDType.of(e.getValue().dtype()));
        order.sort(byDType.reversed().thenComparing((a, b) -> Arrays.compareUnsigned(
                a.getKey().getBytes(StandardCharsets.UTF_8), b.getKey().getBytes(StandardCharsets.UTF_8))));
        return order;
    }

    /** Writes the tensor's elements in little-endian order through {@code chunk}, which {@code dst} views whole. */
    private static void writeData(FileChannel ch, Tensor t, ByteBuffer chunk, MemorySegment dst) throws IOException {
        Tensor c = t.detach().to(Device.CPU).contiguous();
        MemorySegment src = heapSegment((HeapStorage) c.storage());
        long size = c.dtype().byteSize();
        long perChunk = CHUNK / size;
        long n = c.numel();
        for (long done = 0; done < n; done += perChunk) {
            long k = Math.min(perChunk, n - done);
            MemorySegment.copy(src, Layouts.heap(c.dtype()), (c.offset() + done) * size, dst, Layouts.file(c.dtype()), 0, k);
            chunk.clear().limit((int) (k * size));
            writeFully(ch, chunk);
        }
    }

    private static MemorySegment heapSegment(HeapStorage h) {
        return switch (h.dtype()) {
            case F32 -> MemorySegment.ofArray(h.f32());
            case F64 -> MemorySegment.ofArray(h.f64());
            case I32 -> MemorySegment.ofArray(h.i32());
            case I64 -> MemorySegment.ofArray(h.i64());
            case I8, BOOL -> MemorySegment.ofArray(h.bytes());
        };
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}

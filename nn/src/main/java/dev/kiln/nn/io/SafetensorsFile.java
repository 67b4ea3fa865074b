package dev.kiln.nn.io;

import dev.kiln.engine.DType;
import dev.kiln.engine.HeapStorage;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An open safetensors file, memory-mapped: the header is parsed and validated when it is opened,
 * and a tensor's bytes are only read when {@link #tensor} copies them into a new heap tensor
 * (which stays valid after {@link #close}). Closing unmaps the file; the object may be used from
 * several threads, but not after it is closed, and the file must not be truncated while it is open.
 *
 * <pre>{@code
 * try (SafetensorsFile f = Safetensors.read(Path.of("model.safetensors"))) {
 *     int[] shape = f.shape("features.0.weight");      // from the header, nothing loaded
 *     Tensor w = f.tensor("features.0.weight");        // a heap copy
 * }
 * }</pre>
 */
public final class SafetensorsFile implements AutoCloseable {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, TensorInfo> infos;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, List<TensorInfo> infos, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        infos.forEach(i -> byName.put(i.name(), i));
        this.infos = Collections.unmodifiableMap(byName);
        this.metadata = metadata;
    }

    /** Opens {@code path}, reads and validates its header, and maps its data buffer. */
    static SafetensorsFile open(Path path) {
        String source = path.toString();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            if (size >= 8) {
                readFully(ch, length, 0);
            }
            int n = SafetensorsHeader.checkLength(length.getLong(0), size, source);
            ByteBuffer header = ByteBuffer.allocate(n);
            readFully(ch, header, 8);
            SafetensorsHeader.Parsed parsed = SafetensorsHeader.parse(header.array(), size - 8 - n, source);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, 8 + n, size - 8 - n, arena);
                return new SafetensorsFile(path, arena, data, parsed.tensors(), parsed.metadata());
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": cannot read safetensors file: " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long at = position;
        while (dst.hasRemaining()) {
            int r = ch.read(dst, at);
            if (r < 0) {
                throw new EOFException("expected " + dst.capacity() + " bytes at offset " + position + ", the file ended at " + at);
            }
            at += r;
        }
    }

    /** The file this was read from. */
    public Path path() {
        return path;
    }

    /** The tensor names, in header order. */
    public List<String> names() {
        return List.copyOf(infos.keySet());
    }

    /** True when the file holds a tensor named {@code name}. */
    public boolean contains(String name) {
        return infos.containsKey(name);
    }

    /** The header entries, in header order. */
    public List<TensorInfo> infos() {
        return List.copyOf(infos.values());
    }

    /** The header entry of {@code name}: stored dtype, shape and byte range, without loading anything. */
    public TensorInfo info(String name) {
        TensorInfo i = infos.get(name);
        if (i == null) {
            throw new IllegalArgumentException(path + ": expected a tensor named \"" + name + "\", got only "
                    + (infos.size() <= 20 ? infos.keySet() : new ArrayList<>(infos.keySet()).subList(0, 20) + " and "
                            + (infos.size() - 20) + " more"));
        }
        return i;
    }

    /** The dtype stored in the file for {@code name} (see {@link SafetensorsDType#kilnDType} for what it reads as). */
    public SafetensorsDType dtype(String name) {
        return info(name).dtype();
    }

    /** The shape of {@code name} (a copy). */
    public int[] shape(String name) {
        return info(name).shape();
    }

    /** The {@code __metadata__} strings (empty when the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Copies tensor {@code name} into a new contiguous heap tensor: F16 and BF16 become F32, U8
     * becomes I32, BOOL bytes other than 0 become true; the other readable dtypes keep theirs.
     */
    public Tensor tensor(String name) {
        TensorInfo info = info(name);
        String where = path + ": tensor \"" + name + "\"";
        if (!info.dtype().readable()) {
            throw new UnsupportedOperationException(where + ": expected a dtype Kiln reads (" + SafetensorsDType.list(true)
                    + "), got " + info.dtype());
        }
        if (info.numel() > Integer.MAX_VALUE) {
            throw new UnsupportedOperationException(where + ": expected at most " + Integer.MAX_VALUE
                    + " elements (a Kiln tensor's limit), got " + info.numel() + " in shape " + Arrays.toString(info.shape()));
        }
        if (closed) {
            throw new IllegalStateException(where + ": expected an open file, got one already closed");
        }
        Tensor t = Tensors.zeros(info.dtype().kilnDType(), info.shape());
        decode(info, (HeapStorage) t.storage(), (int) info.numel());
        return t;
    }

    /** Every tensor, in header order (each one a heap copy, as {@link #tensor}). */
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : infos.keySet()) {
            out.put(name, tensor(name));
        }
        return out;
    }

    private void decode(TensorInfo info, HeapStorage dst, int n) {
        long at = info.begin();
        switch (info.dtype()) {
            case F32 -> MemorySegment.copy(data, Layouts.F32, at, dst.f32(), 0, n);
            case F64 -> MemorySegment.copy(data, Layouts.F64, at, dst.f64(), 0, n);
            case I32 -> MemorySegment.copy(data, Layouts.I32, at, dst.i32(), 0, n);
            case I64 -> MemorySegment.copy(data, Layouts.I64, at, dst.i64(), 0, n);
            case I8 -> MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, dst.bytes(), 0, n);
            case BOOL -> {
                byte[] b = dst.bytes();
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, b, 0, n);
                for (int i = 0; i < n; i++) {
                    b[i] = (byte) (b[i] != 0 ? 1 : 0);
                }
            }
            case U8 -> {
                int[] a = dst.i32();
                for (int i = 0; i < n; i++) {
                    a[i] = data.get(ValueLayout.JAVA_BYTE, at + i) & 0xFF;
                }
            }
            case F16 -> {
                float[] a = dst.f32();
                for (int i = 0; i < n; i++) {
                    a[i] = Float.float16ToFloat(data.get(LE_SHORT, at + 2L * i));
                }
            }
            case BF16 -> {
                float[] a = dst.f32();
                for (int i = 0; i < n; i++) {
                    a[i] = bf16ToFloat(data.get(LE_SHORT, at + 2L * i));
                }
            }
            default -> throw new IllegalStateException("decode: no reader for " + info.dtype());
        }
    }

    /** A bfloat16 value (the top 16 bits of an IEEE binary32) as a float; exact. */
    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Unmaps the file; tensors already read stay valid. Closing twice does nothing. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + infos.size() + " tensors" + (closed ? ", closed" : "") + "]";
    }
}

package dev.kiln.kernels.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A caching allocator of device memory: requests are rounded up to a size class and freed blocks
 * are kept in a free list per class, so a training loop reuses the same blocks and calls the
 * driver only while its working set grows. When the driver runs out of memory the cache is handed
 * back ({@link #emptyCache()}) and the allocation tried once more.
 *
 * <p>Size classes: multiples of 512 bytes up to 1 MiB; above, the two steps 2^k and 1.5 * 2^k
 * per power of two (at most a third of a block wasted). Work on one stream stays ordered, so a
 * block freed after its last use was enqueued can be handed to later work on that stream at once.
 *
 * <p>The backing (the driver, or a fake in tests) is pluggable. Thread-safe.
 */
public final class DeviceAllocator {
    /** Where blocks come from: {@code cuMemAlloc}/{@code cuMemFree} on a device, or a fake. */
    public interface Backing {
        /** A new block of {@code bytes} bytes; throws {@link CudaException} when out of memory. */
        long allocate(long bytes);

        void free(long address);
    }

    /** Counters: bytes handed out, bytes cached, blocks obtained from and returned to the backing, cache hits. */
    public record Stats(long bytesInUse, long bytesCached, long backingAllocations, long backingFrees, long cacheHits) {
    }

    static final long SMALL_STEP = 512;
    static final long SMALL_LIMIT = 1L << 20;
    private static final int CUDA_ERROR_OUT_OF_MEMORY = 2;

    private final Backing backing;
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    private final Map<Long, Long> live = new HashMap<>();
    private long bytesInUse;
    private long bytesCached;
    private long backingAllocations;
    private long backingFrees;
    private long cacheHits;

    public DeviceAllocator(Backing backing) {
        if (backing == null) {
            throw new IllegalArgumentException("DeviceAllocator: expected a backing allocator, got null");
        }
        this.backing = backing;
    }

    /** The size class that a request of {@code bytes} bytes is served from. */
    public static long sizeClass(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("DeviceAllocator: expected a size >= 0 bytes, got " + bytes);
        }
        if (bytes <= SMALL_LIMIT) {
            return Math.max(SMALL_STEP, (bytes + SMALL_STEP - 1) / SMALL_STEP * SMALL_STEP);
        }
        long p = Long.highestOneBit(bytes);
        if (bytes == p) {
            return p;
        }
        long mid = p + (p >> 1);
        return bytes <= mid ? mid : p << 1;
    }

    /** A block of at least {@code bytes} bytes (its address is the backing's, 256-byte aligned on a device). */
    public synchronized long allocate(long bytes) {
        long size = sizeClass(bytes);
        ArrayDeque<Long> list = free.get(size);
        long address;
        if (list != null && !list.isEmpty()) {
            address = list.pop();
            bytesCached -= size;
            cacheHits++;
        } else {
            address = allocateFromBacking(size);
        }
        live.put(address, size);
        bytesInUse += size;
        return address;
    }

    private long allocateFromBacking(long size) {
        try {
            long a = backing.allocate(size);
            backingAllocations++;
            return a;
        } catch (CudaException e) {
            if (e.code() != CUDA_ERROR_OUT_OF_MEMORY || bytesCached == 0) {
                throw e;
            }
            emptyCache();
            long a = backing.allocate(size);
            backingAllocations++;
            return a;
        }
    }

    /** Returns a block from {@link #allocate} to the cache. */
    public synchronized void release(long address) {
        Long size = live.remove(address);
        if (size == null) {
            throw new IllegalArgumentException("DeviceAllocator: release of 0x" + Long.toHexString(address)
                    + ", which is not a live block of this allocator");
        }
        bytesInUse -= size;
        bytesCached += size;
        free.computeIfAbsent(size, k -> new ArrayDeque<>()).push(address);
    }

    /** Hands every cached block back to the backing. */
    public synchronized void emptyCache() {
        for (ArrayDeque<Long> list : free.values()) {
            for (long a : list) {
                backing.free(a);
                backingFrees++;
            }
        }
        free.clear();
        bytesCached = 0;
    }

    public synchronized Stats stats() {
        return new Stats(bytesInUse, bytesCached, backingAllocations, backingFrees, cacheHits);
    }
}

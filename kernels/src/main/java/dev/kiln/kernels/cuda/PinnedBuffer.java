package dev.kiln.kernels.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Page-locked host memory ({@code cuMemAllocHost}) for asynchronous copies to and from the device,
 * e.g. to stage the next batch while the GPU works on the current one. Close it to free it (after
 * the copies that use it have completed: {@link CudaDevice#synchronize()}).
 *
 * <pre>{@code
 * try (PinnedBuffer b = dev.pinned(batchBytes)) {
 *     b.segment().copyFrom(MemorySegment.ofArray(images));
 *     b.copyToDeviceAsync(deviceBatch, batchBytes);
 * }
 * }</pre>
 */
public final class PinnedBuffer implements AutoCloseable {
    private final CudaDevice device;
    private final MemorySegment segment;
    private boolean closed;

    PinnedBuffer(CudaDevice device, MemorySegment segment) {
        this.device = device;
        this.segment = segment;
    }

    /** The host memory (native, {@link #byteSize()} bytes). */
    public MemorySegment segment() {
        requireOpen();
        return segment;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    /** Copies floats from a heap array into this buffer at element {@code at}. */
    public void put(float[] src, int srcOff, int at, int n) {
        MemorySegment.copy(src, srcOff, segment(), ValueLayout.JAVA_FLOAT, (long) at * 4, n);
    }

    /** Enqueues a copy of the first {@code bytes} bytes to device address {@code dst} on the device's stream. */
    public void copyToDeviceAsync(long dst, long bytes) {
        requireRange(bytes);
        device.bind();
        device.driver().memcpyHtoDAsync(dst, segment, bytes, device.stream());
    }

    /** Enqueues a copy of {@code bytes} bytes from device address {@code src} into this buffer. */
    public void copyFromDeviceAsync(long src, long bytes) {
        requireRange(bytes);
        device.bind();
        device.driver().memcpyDtoHAsync(segment, src, bytes, device.stream());
    }

    private void requireRange(long bytes) {
        requireOpen();
        if (bytes < 0 || bytes > segment.byteSize()) {
            throw new IllegalArgumentException("PinnedBuffer: expected 0 <= bytes <= " + segment.byteSize() + ", got " + bytes);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("PinnedBuffer: already closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.bind();
            device.driver().memFreeHost(segment);
        }
    }
}

package dev.kiln.kernels.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Test helper: the GPU (tests calling {@link #device()} are skipped, and reported as skipped,
 * where CUDA is unavailable) and device buffers filled from and read back into heap arrays.
 */
final class Gpu implements AutoCloseable {
    final CudaDevice dev;
    private final List<Long> blocks = new ArrayList<>();

    private Gpu(CudaDevice dev) {
        this.dev = dev;
    }

    /** The GPU, or the calling test is skipped with the reason CUDA is unavailable. */
    static Gpu open() {
        String reason = CudaDevice.unavailableReason(0);
        assumeTrue(reason == null, reason);
        return new Gpu(CudaDevice.get(0));
    }

    long alloc(long bytes) {
        long a = dev.allocator().allocate(Math.max(1, bytes));
        blocks.add(a);
        return a;
    }

    long put(float[] a) {
        long p = alloc(4L * a.length);
        dev.copyToDevice(p, MemorySegment.ofArray(a), 4L * a.length);
        return p;
    }

    long put(int[] a) {
        long p = alloc(4L * a.length);
        dev.copyToDevice(p, MemorySegment.ofArray(a), 4L * a.length);
        return p;
    }

    long put(long[] a) {
        long p = alloc(8L * a.length);
        dev.copyToDevice(p, MemorySegment.ofArray(a), 8L * a.length);
        return p;
    }

    long put(byte[] a) {
        long p = alloc(a.length);
        dev.copyToDevice(p, MemorySegment.ofArray(a), a.length);
        return p;
    }

    float[] floats(long p, int n) {
        float[] a = new float[n];
        dev.copyToHost(MemorySegment.ofArray(a), p, 4L * n);
        return a;
    }

    int[] ints(long p, int n) {
        int[] a = new int[n];
        dev.copyToHost(MemorySegment.ofArray(a), p, 4L * n);
        return a;
    }

    @Override
    public void close() {
        dev.synchronize();
        for (long b : blocks) {
            dev.allocator().release(b);
        }
    }
}

package dev.kiln.kernels.cuda;

import dev.kiln.kernels.UnaryOp;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The FFM binding against a stand-in driver library (src/test/c/fake_libcuda.c, compiled here with
 * the system's C compiler; skipped without one): symbol names and signatures of every bound call,
 * heap and pinned copies, kernel-argument marshalling including the Strides struct layout, and
 * error translation. It says nothing about the GPU kernels themselves.
 */
class FakeDriverTest {
    private static CudaDevice dev;

    @BeforeAll
    static void build() throws IOException, InterruptedException {
        Path src = Path.of("src/test/c/fake_libcuda.c");
        assumeTrue(Files.isRegularFile(src), "fake driver source not found at " + src.toAbsolutePath());
        Path lib = Path.of("target/fake-cuda/libfakecuda.so").toAbsolutePath();
        Files.createDirectories(lib.getParent());
        Process p;
        try {
            p = new ProcessBuilder("cc", "-shared", "-fPIC", "-O1", "-o", lib.toString(), src.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no C compiler (cc) to build the fake driver: " + e.getMessage());
            return;
        }
        String log = new String(p.getInputStream().readAllBytes());
        assumeTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "cc failed: " + log);
        MemorySegment image = Arena.global().allocate(16);
        dev = CudaDevice.open(Driver.open(lib), 0, name -> image);
    }

    @Test
    void devicePropertiesComeThroughTheBinding() {
        assertEquals("Kiln fake GPU", dev.name());
        assertEquals(90, dev.computeCapability());
        assertEquals(132, dev.multiprocessors());
        assertEquals(80L << 30, dev.totalMemory());
        assertEquals(13000, dev.driver().driverVersion());
        assertEquals(1, dev.driver().deviceCount());
        assertArrayEquals(new long[] {79L << 30, 80L << 30}, dev.driver().memoryInfo());
        assertEquals(1.5, dev.timeMillis(() -> { }), 1e-6);
    }

    @Test
    void copiesFromHeapArraysAndPinnedBuffersRoundTrip() {
        float[] a = {1, 2, 3, 4, 5, 6, 7};
        long d = dev.allocator().allocate(4L * a.length);
        dev.copyToDevice(d, MemorySegment.ofArray(a), 4L * a.length);
        float[] back = new float[a.length];
        dev.copyToHost(MemorySegment.ofArray(back), d, 4L * a.length);
        assertArrayEquals(a, back);
        try (PinnedBuffer pin = dev.pinned(4L * a.length)) {
            pin.put(new float[] {9, 8, 7, 6, 5, 4, 3}, 0, 0, 7);
            pin.copyToDeviceAsync(d, 4L * a.length);
            dev.copyToHost(MemorySegment.ofArray(back), d, 4L * a.length);
            assertArrayEquals(new float[] {9, 8, 7, 6, 5, 4, 3}, back);
            assertThrows(IllegalArgumentException.class, () -> pin.copyToDeviceAsync(d, 4L * a.length + 1));
        }
        // more uploads than staging slots, each read back after the others were queued
        long[] blocks = new long[CudaDevice.STAGING_SLOTS * 2 + 1];
        for (int b = 0; b < blocks.length; b++) {
            blocks[b] = dev.allocator().allocate(16);
            dev.copyToDevice(blocks[b], MemorySegment.ofArray(new int[] {b, b + 1, b + 2, b + 3}), 16);
        }
        for (int b = 0; b < blocks.length; b++) {
            int[] got = new int[4];
            dev.copyToHost(MemorySegment.ofArray(got), blocks[b], 16);
            assertArrayEquals(new int[] {b, b + 1, b + 2, b + 3}, got, "staged upload " + b);
            dev.allocator().release(blocks[b]);
        }
        dev.zero(d, 8);
        dev.fill(d + 8, 2.5f, 2);
        dev.copyToHost(MemorySegment.ofArray(back), d, 4L * a.length);
        assertArrayEquals(new float[] {0, 0, 2.5f, 2.5f, 5, 4, 3}, back);
        dev.allocator().release(d);
    }

    @Test
    void launchArgumentsReachTheKernel() {
        float[] y = {1, 1, 1, 1, 1};
        float[] x = {1, 2, 3, 4, 5};
        long dy = put(y);
        long dx = put(x);
        CudaElementwise.axpy(dev, dy, 0.5f, dx, 5);
        assertArrayEquals(new float[] {1.5f, 2, 2.5f, 3, 3.5f}, get(dy, 5));
        // a transposed copy through the Strides struct: out [3, 2] = x [2, 3]^T
        float[] m = {1, 2, 3, 4, 5, 6};
        long dm = put(m);
        long dt = put(new float[6]);
        int[] shape = {3, 2};
        int[] f = StridedArg.of(shape, new int[][] {StridedArg.contiguous(shape), {1, 3}}, new int[] {0, 0});
        CudaElementwise.copy(dev, 4, dt, dm, f, 6);
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, get(dt, 6));
        // fill a column view (offset 1, stride 2) of a [3, 2] matrix
        CudaElementwise.fill(dev, dt, -1f, StridedArg.of(new int[] {3}, new int[][] {{2}}, new int[] {1}), 3);
        assertArrayEquals(new float[] {1, -1, 2, -1, 3, -1}, get(dt, 6));
    }

    @Test
    void driverErrorsNameTheCallAndTheError() {
        CudaException oom = assertThrows(CudaException.class, () -> dev.driver().memAlloc(1L << 41));
        assertEquals("cuMemAlloc(2199023255552 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", oom.getMessage());
        CudaException missing = assertThrows(CudaException.class, () -> Launch.of(dev, "elementwise", "missing_kernel"));
        assertEquals("cuModuleGetFunction(missing_kernel) failed: CUDA_ERROR_NOT_FOUND (500): named symbol not found",
                missing.getMessage());
        CudaException launch = assertThrows(CudaException.class, () -> CudaElementwise.unary(dev,
                UnaryOp.EXP, 16, 16, 1000));
        assertEquals("cuLaunchKernel(kiln_unary, grid 4x1x1, block 256x1x1) failed: CUDA_ERROR_NOT_SUPPORTED (801): "
                + "operation not supported", launch.getMessage());
        assertEquals("CUresult 12345", dev.driver().errorName(12345));
        assertThrows(IllegalArgumentException.class, () -> Launch.of(dev, "elementwise", "kiln_axpy").block(1025));
        assertThrows(IllegalArgumentException.class, () -> Launch.of(dev, "elementwise", "kiln_axpy").grid(0));
    }

    private static long put(float[] a) {
        long d = dev.allocator().allocate(4L * a.length);
        dev.copyToDevice(d, MemorySegment.ofArray(a), 4L * a.length);
        return d;
    }

    private static float[] get(long d, int n) {
        float[] a = new float[n];
        dev.copyToHost(MemorySegment.ofArray(a), d, 4L * n);
        return a;
    }
}

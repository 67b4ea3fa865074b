package dev.kiln.kernels.cuda;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The caching allocator's bookkeeping over a fake backing (no GPU needed). */
class DeviceAllocatorTest {
    /** Hands out increasing fake addresses, fails with CUDA_ERROR_OUT_OF_MEMORY above a byte budget. */
    static final class FakeBacking implements DeviceAllocator.Backing {
        long next = 0x1000;
        long held;
        final long budget;
        final java.util.Map<Long, Long> live = new java.util.HashMap<>();
        int allocations;
        int frees;

        FakeBacking(long budget) {
            this.budget = budget;
        }

        @Override
        public long allocate(long bytes) {
            if (held + bytes > budget) {
                throw new CudaException("cuMemAlloc(" + bytes + " bytes)", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
            }
            long a = next;
            next += bytes + 256;
            held += bytes;
            live.put(a, bytes);
            allocations++;
            return a;
        }

        @Override
        public void free(long address) {
            Long size = live.remove(address);
            assertTrue(size != null, "double free of " + address);
            held -= size;
            frees++;
        }
    }

    @Test
    void sizeClassesRoundUpAndWasteAtMostAThird() {
        assertEquals(512, DeviceAllocator.sizeClass(0));
        assertEquals(512, DeviceAllocator.sizeClass(1));
        assertEquals(512, DeviceAllocator.sizeClass(512));
        assertEquals(1024, DeviceAllocator.sizeClass(513));
        assertEquals(1L << 20, DeviceAllocator.sizeClass((1L << 20) - 1));
        assertEquals(3L << 19, DeviceAllocator.sizeClass((1L << 20) + 1));
        assertEquals(2L << 20, DeviceAllocator.sizeClass((3L << 19) + 1));
        assertEquals(1L << 30, DeviceAllocator.sizeClass(1L << 30));
        for (long b = 1; b < (1L << 34); b = b * 3 / 2 + 7) {
            long c = DeviceAllocator.sizeClass(b);
            assertTrue(c >= b, "class " + c + " below request " + b);
            assertTrue(b <= 512 || c - b < 512 || (double) (c - b) / c <= 1.0 / 3 + 1e-9, "request " + b + " -> class " + c);
        }
        assertThrows(IllegalArgumentException.class, () -> DeviceAllocator.sizeClass(-1));
    }

    @Test
    void freedBlocksAreReusedWithoutCallingTheBacking() {
        FakeBacking fake = new FakeBacking(1L << 40);
        DeviceAllocator a = new DeviceAllocator(fake);
        List<Long> blocks = new ArrayList<>();
        for (int step = 0; step < 100; step++) {
            for (int i = 0; i < 5; i++) {
                blocks.add(a.allocate(1000 * (i + 1)));
            }
            for (long b : blocks) {
                a.release(b);
            }
            blocks.clear();
        }
        assertEquals(5, fake.allocations, "one backing allocation per size class, reused afterwards");
        DeviceAllocator.Stats s = a.stats();
        assertEquals(0, s.bytesInUse());
        assertEquals(495, s.cacheHits());
        assertTrue(s.bytesCached() > 0);
        a.emptyCache();
        assertEquals(5, fake.frees);
        assertEquals(0, a.stats().bytesCached());
    }

    @Test
    void liveBlocksAreDistinctAndCounted() {
        DeviceAllocator a = new DeviceAllocator(new FakeBacking(1L << 40));
        long x = a.allocate(4096);
        long y = a.allocate(4096);
        assertNotEquals(x, y);
        assertEquals(8192, a.stats().bytesInUse());
        a.release(x);
        assertEquals(x, a.allocate(4000), "the cached block of the same class comes back");
    }

    @Test
    void outOfMemoryEmptiesTheCacheAndRetriesOnce() {
        FakeBacking fake = new FakeBacking(3000);
        DeviceAllocator a = new DeviceAllocator(fake);
        long x = a.allocate(2048);
        a.release(x);
        long y = a.allocate(1536);
        assertEquals(1, fake.frees, "the cached 2048-byte block was handed back to make room");
        a.release(y);
        CudaException e = assertThrows(CudaException.class, () -> a.allocate(1L << 20));
        assertTrue(e.getMessage().contains("CUDA_ERROR_OUT_OF_MEMORY"), e.getMessage());
    }

    @Test
    void releasingAnUnknownBlockIsAnError() {
        DeviceAllocator a = new DeviceAllocator(new FakeBacking(1L << 40));
        long x = a.allocate(10);
        a.release(x);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.release(x));
        assertTrue(e.getMessage().contains("not a live block"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DeviceAllocator(null));
    }
}

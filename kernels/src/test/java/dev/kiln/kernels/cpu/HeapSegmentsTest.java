package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class HeapSegmentsTest {
    /** A segment is the one of the array asked for, whatever the history; the last two arrays keep theirs. */
    @Test
    void eachArrayGetsItsOwnSegmentAndTheLastTwoAreKept() {
        HeapSegments segs = new HeapSegments();
        int[] a = new int[8];
        int[] b = new int[8];
        int[] c = new int[9];
        MemorySegment sa = segs.of(a);
        MemorySegment sb = segs.of(b);
        assertSame(sa, segs.of(a), "a, b, a: a's segment kept");
        assertSame(sb, segs.of(b));
        assertSame(sa, segs.of(a));
        MemorySegment sc = segs.of(c); // replaces the older one: b
        assertSame(sa, segs.of(a));
        assertSame(sc, segs.of(c));
        MemorySegment sb2 = segs.of(b);
        assertNotSame(sb, sb2, "b was evicted, so its segment is made again");
        for (int[] arr : new int[][] {a, b, c, a, a, c, b}) {
            MemorySegment m = segs.of(arr);
            assertSame(arr, m.heapBase().orElseThrow());
            assertEquals(4L * arr.length, m.byteSize());
        }
        int[] copy = a.clone(); // equal contents, another array
        assertSame(copy, segs.of(copy).heapBase().orElseThrow());
    }

    @Test
    void arraysOfEveryKindItServes() {
        HeapSegments segs = new HeapSegments();
        float[] f = new float[3];
        short[] s = new short[5];
        byte[] b = new byte[7];
        assertEquals(12, segs.of(f).byteSize());
        assertEquals(10, segs.of(s).byteSize());
        assertEquals(7, segs.of(b).byteSize());
        assertSame(b, segs.of(b).heapBase().orElseThrow());
        assertSame(f, segs.of(f).heapBase().orElseThrow());
    }
}

package dev.kiln.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.util.function.Function;

/**
 * The heap segments of the last two arrays passed for one role of a downcall (the source of a
 * packing, the panels of a GEMM, ...), per thread by its owner, both weakly held so that no array
 * is kept alive by them. Why: where C2 does not inline {@code MemorySegment.ofArray} next to the
 * downcall, the segment (and its session) is allocated, 16-48 B a call and thousands of calls per
 * GEMM; a kernel works block after block on the same few arrays, so a segment made once per array
 * serves them all. Two entries because double-buffered packing alternates between two buffers.
 * Not thread-safe: one instance per thread and role.
 */
final class HeapSegments {
    private Entry latest = new Entry();
    private Entry other = new Entry();

    MemorySegment of(float[] a) {
        return of(a, MemorySegment::ofArray);
    }

    MemorySegment of(int[] a) {
        return of(a, MemorySegment::ofArray);
    }

    MemorySegment of(short[] a) {
        return of(a, MemorySegment::ofArray);
    }

    MemorySegment of(byte[] a) {
        return of(a, MemorySegment::ofArray);
    }

    /** The kept segment of {@code a}, else one {@code make} makes, kept as the latest (a non-capturing factory: nothing allocated for it). */
    private <T> MemorySegment of(T a, Function<T, MemorySegment> make) {
        MemorySegment m = find(a);
        return m != null ? m : latest.set(a, make.apply(a));
    }

    /**
     * The segment of {@code a} from the latest entry, else from the other one, which becomes the
     * latest either way: null when neither holds it, and the caller then fills that entry (the
     * older one). Also null when the segment was collected while the array lived on.
     */
    private MemorySegment find(Object a) {
        MemorySegment m = latest.of(a);
        if (m != null) {
            return m;
        }
        Entry e = other;
        other = latest;
        latest = e;
        return e.of(a);
    }

    /** An array and its segment, both weakly held. */
    private static final class Entry {
        private WeakReference<Object> array = new WeakReference<>(null);
        private WeakReference<MemorySegment> segment = new WeakReference<>(null);

        MemorySegment of(Object a) {
            return array.get() == a ? segment.get() : null;
        }

        MemorySegment set(Object a, MemorySegment m) {
            array = new WeakReference<>(a);
            segment = new WeakReference<>(m);
            return m;
        }
    }
}

package dev.kiln.kernels.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Where a heap {@code float[]} crosses a 64-byte (cache line, AVX-512 vector) boundary.
 *
 * <p>A 512-bit load that straddles two cache lines costs about twice an aligned one; the sparse
 * kernels do four such loads per stored weight, which made them a third slower on unaligned
 * buffers (Zen 5: 3.0 against 1.9 ns per stored weight at batch 64). Java neither aligns arrays
 * to 64 bytes nor tells their address, so this asks libc: {@code memchr} called through a critical
 * FFM downcall receives the array's own address and, searching one byte for that byte's value,
 * returns it. Without native access (no {@code --enable-native-access} for this module) or without
 * {@code memchr} it answers 0. The answer is a hint for one call: the GC may move the array later,
 * which costs speed but never correctness.
 */
final class SparseAlign {
    private static final MethodHandle MEMCHR = memchr();

    private SparseAlign() {
    }

    /** The downcall to {@code memchr}, or null; restricted, hence only with native access enabled. */
    @SuppressWarnings("restricted")
    private static MethodHandle memchr() {
        if (!SparseAlign.class.getModule().isNativeAccessEnabled()) {
            return null;
        }
        Linker linker = Linker.nativeLinker();
        return linker.defaultLookup().find("memchr")
                .map(f -> linker.downcallHandle(f, FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), Linker.Option.critical(true)))
                .orElse(null);
    }

    /**
     * The smallest index {@code i < 16} such that {@code a[i]} starts a 64-byte line, or 0 when it
     * cannot be told. {@code a} must hold at least 16 elements.
     */
    static int firstAligned(float[] a) {
        if (MEMCHR == null) {
            return 0;
        }
        MemorySegment s = MemorySegment.ofArray(a);
        try {
            long address = ((MemorySegment) MEMCHR.invokeExact(s, s.get(ValueLayout.JAVA_BYTE, 0) & 0xff, 1L))
                    .address();
            return address == 0 || (address & 3) != 0 ? 0 : (int) ((64 - (address & 63)) & 63) / 4;
        } catch (Throwable e) {
            throw new IllegalStateException("memchr failed", e);
        }
    }
}

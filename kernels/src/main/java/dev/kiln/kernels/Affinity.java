package dev.kiln.kernels;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.BitSet;
import java.util.Locale;

/**
 * The CPUs the calling thread may run on (Linux {@code sched_getaffinity}/{@code sched_setaffinity}
 * through the FFM linker), for measurements that compare two programs on one thread each: run both
 * on the same CPU, so that neither gets the faster one.
 *
 * <p>Why: on a virtual machine two vCPUs can differ in speed for minutes at a time (whatever shares
 * their physical cores and caches). Measured here (2 vCPUs, Zen 5), the conv micro-kernel over a
 * 28x28 image's tiles at 213-218 GFLOP/s on one vCPU against 156-182 on the other, in processes
 * pinned with {@code taskset} in the same minutes, while a register-only FMA loop ran at the same
 * rate on both. An unpinned process keeps the vCPU it started on, so Kiln and a peer in another
 * process could each spend a whole run on a different one: a 1-thread ratio that moved by 25%
 * from one run to the next.
 *
 * <p>{@link #supported} is false where this cannot work (not Linux, native access not enabled for
 * this module, no libc symbols); then {@link #get} and {@link #set} throw.
 */
public final class Affinity {
    /** {@code cpu_set_t}'s size in glibc: 1024 CPUs. */
    private static final int SET_BYTES = 128;
    private static final StructLayout ERRNO = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_VALUE = ERRNO.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle GET;
    private static final MethodHandle SET;
    private static final MethodHandle GETCPU;
    private static final String WHY;

    static {
        MethodHandle get = null;
        MethodHandle set = null;
        MethodHandle cpu = null;
        String why = null;
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            why = "thread affinity is only supported on Linux, this is " + System.getProperty("os.name");
        } else if (!Affinity.class.getModule().isNativeAccessEnabled()) {
            why = "native access is not enabled for " + Affinity.class.getModule() + " (--enable-native-access=ALL-UNNAMED)";
        } else {
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                FunctionDescriptor fd = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS);
                Linker.Option errno = Linker.Option.captureCallState("errno");
                get = linker.downcallHandle(libc.find("sched_getaffinity").orElseThrow(), fd, errno);
                set = linker.downcallHandle(libc.find("sched_setaffinity").orElseThrow(), fd, errno);
                cpu = linker.downcallHandle(libc.find("sched_getcpu").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
            } catch (RuntimeException | LinkageError e) {
                why = "libc's sched_getaffinity/sched_setaffinity/sched_getcpu not found: " + e;
                get = null;
                set = null;
                cpu = null;
            }
        }
        GET = get;
        SET = set;
        GETCPU = cpu;
        WHY = why;
    }

    private Affinity() {
    }

    /** Whether {@link #get} and {@link #set} work here. */
    public static boolean supported() {
        return WHY == null;
    }

    /** Why {@link #supported} is false (null when it is true). */
    public static String unsupportedReason() {
        return WHY;
    }

    /** The CPUs the calling thread may run on. */
    public static BitSet get() {
        require();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mask = a.allocate(SET_BYTES, 8);
            MemorySegment state = a.allocate(ERRNO);
            int rc = (int) GET.invokeExact(state, 0, (long) SET_BYTES, mask);
            check(rc, state, "sched_getaffinity", null);
            return BitSet.valueOf(mask.toArray(JAVA_LONG));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Lets the calling thread (only it: not other threads, not ones it starts later unless they
     * inherit) run on {@code cpus} alone. Threads started afterwards by this thread inherit the set.
     *
     * @throws IllegalArgumentException when {@code cpus} is empty, names a CPU past 1023, or
     *         names none this process may use (the message lists them)
     */
    public static void set(BitSet cpus) {
        require();
        if (cpus.isEmpty() || cpus.length() > SET_BYTES * 8) {
            throw new IllegalArgumentException("Affinity.set: expected CPUs in [0, " + SET_BYTES * 8 + "), got " + cpus);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mask = a.allocate(SET_BYTES, 8);
            long[] words = cpus.toLongArray();
            MemorySegment.copy(words, 0, mask, JAVA_LONG, 0, words.length);
            MemorySegment state = a.allocate(ERRNO);
            int rc = (int) SET.invokeExact(state, 0, (long) SET_BYTES, mask);
            check(rc, state, "sched_setaffinity", cpus);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Lets the calling thread run on {@code cpu} alone ({@link #set}). */
    public static void pin(int cpu) {
        if (cpu < 0) {
            throw new IllegalArgumentException("Affinity.pin: expected a CPU number >= 0, got " + cpu);
        }
        BitSet one = new BitSet();
        one.set(cpu);
        set(one);
    }

    /**
     * The CPU to pin to for a requested one: {@code requested} when it is one the calling thread
     * may run on, the first of those when {@code requested} is negative.
     *
     * @throws IllegalArgumentException naming the CPUs it may use, when {@code requested} is not one
     */
    public static int choose(int requested) {
        BitSet allowed = get();
        int cpu = requested >= 0 ? requested : allowed.nextSetBit(0);
        if (!allowed.get(cpu)) {
            throw new IllegalArgumentException("expected one of the CPUs this process may use, " + allowed + ", got " + requested);
        }
        return cpu;
    }

    /** The CPU the calling thread runs on now ({@code sched_getcpu}), or -1 where that is unknown. */
    public static int currentCpu() {
        if (GETCPU == null) {
            return -1;
        }
        try {
            return (int) GETCPU.invokeExact();
        } catch (Throwable t) {
            return -1;
        }
    }

    private static void require() {
        if (WHY != null) {
            throw new UnsupportedOperationException(WHY);
        }
    }

    private static void check(int rc, MemorySegment state, String fn, BitSet asked) {
        if (rc == 0) {
            return;
        }
        int errno = (int) ERRNO_VALUE.get(state, 0L);
        if (errno == 22 && asked != null) { // EINVAL: none of the CPUs is in the process's set
            throw new IllegalArgumentException("Affinity.set: none of CPUs " + asked + " is available to this process; it may use "
                    + get());
        }
        throw new IllegalStateException(fn + " failed: errno " + errno);
    }
}

package dev.kiln.bench;

/**
 * Wall-clock timing of a call. Kiln's kernels run at full speed only once C2 has compiled their
 * Vector API loops (before that they run through the API's Java fallback, orders of magnitude
 * slower), so a case is first warmed up until its rate settles, then timed in blocks.
 */
final class Timer {
    /** Warm-up blocks must agree within this factor ... */
    private static final double SETTLED = 1.10;
    /** ... over this many consecutive blocks. */
    private static final int SETTLED_BLOCKS = 3;
    /** Warm-up lasts at least this long (C2 compiles in the background meanwhile). */
    private static final double MIN_WARMUP_SECONDS = 2.0;

    private Timer() {
    }

    /**
     * Runs {@code r} in blocks of at least {@code seconds} until the last {@link #SETTLED_BLOCKS}
     * blocks agree within {@link #SETTLED} and {@link #MIN_WARMUP_SECONDS} have passed, or until
     * {@code maxSeconds}; returns the seconds spent.
     */
    static double warmUp(Runnable r, double seconds, double maxSeconds) {
        double[] recent = new double[SETTLED_BLOCKS];
        long t0 = System.nanoTime();
        for (int block = 0; ; block++) {
            recent[block % SETTLED_BLOCKS] = secondsPerCall(r, seconds);
            double spent = (System.nanoTime() - t0) * 1e-9;
            if (spent >= maxSeconds || block >= SETTLED_BLOCKS - 1 && spent >= MIN_WARMUP_SECONDS && settled(recent)) {
                return spent;
            }
        }
    }

    private static boolean settled(double[] v) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (double x : v) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        return hi <= lo * SETTLED;
    }

    /** Mean seconds per call over a block of calls lasting at least {@code seconds}, after three untimed calls. */
    static double secondsPerCall(Runnable r, double seconds) {
        return secondsPerCall(r, seconds, 3);
    }

    /** {@link #secondsPerCall(Runnable, double)} after {@code untimed} untimed calls. */
    static double secondsPerCall(Runnable r, double seconds, int untimed) {
        for (int i = 0; i < untimed; i++) {
            r.run();
        }
        long calls = 1;
        while (true) {
            long t0 = System.nanoTime();
            for (long i = 0; i < calls; i++) {
                r.run();
            }
            double dt = (System.nanoTime() - t0) * 1e-9;
            if (dt >= seconds) {
                return dt / calls;
            }
            calls = Math.max(calls * 2, (long) (calls * seconds / Math.max(dt, 1e-6) * 1.2));
        }
    }

    /**
     * Bytes allocated on the heap per call, by all threads (the caller and the pool's workers), over
     * {@code calls} calls of an already warmed-up {@code r}; NaN where the JVM cannot count them.
     * Kernels that write into caller-owned arrays should show (close to) zero; engine-level cases
     * show their output and gradient tensors.
     */
    static double bytesPerCall(Runnable r, int calls) {
        if (!(java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean mx)
                || !mx.isThreadAllocatedMemorySupported() || !mx.isThreadAllocatedMemoryEnabled()) {
            return Double.NaN;
        }
        r.run();
        long before = mx.getTotalThreadAllocatedBytes();
        for (int i = 0; i < calls; i++) {
            r.run();
        }
        long after = mx.getTotalThreadAllocatedBytes();
        return before < 0 || after < 0 ? Double.NaN : (double) (after - before) / calls;
    }
}

package dev.kiln.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one intra-op thread pool of Kiln. Kernels split work with {@link #forRange}; the calling
 * thread always does the first chunk itself, so one thread means no hand-off at all.
 *
 * <p>The size comes from, in order: {@link #setThreads(int)}, the system property
 * {@code kiln.threads}, the environment variable {@code KILN_THREADS}, the available processors.
 *
 * <p>How work is handed off: training runs thousands of kernels of 10 to 500 microseconds per
 * second, so the hand-off must cost far less than that. A plain executor (a queue, a future per
 * chunk, the caller parked on it) cost two thread wake-ups per call: a 64x300x100 GEMM with a
 * little serial work between calls took 81-85 us on 2 threads against 57 us on 1. Here the
 * workers are persistent; a call publishes its job in a volatile field, unparks the workers it
 * needs, runs the first chunk itself and spins until they have finished (one wake-up per call:
 * 46-49 us for that GEMM). The spins read a volatile field without {@code Thread.onSpinWait()}:
 * on the virtual machines Kiln was measured on, PAUSE loops made the hypervisor deschedule the
 * spinning CPU (pause-loop exiting), and batch-64 MLP training on 2 threads ran 5-15% slower
 * with them. Idle workers may also spin before they park (system property
 * {@code kiln.spin.micros}, default 0): 200 us brings that GEMM to 35 us but takes a core from
 * whatever else runs (the JVM's GC and JIT threads, other processes), so it is off by default;
 * {@link #forRange(int, int, long, RangeBody)} asks for a short spin after one call only, for
 * kernels called back to back, and lets the caller take over chunks no worker has started.
 * One job runs at a time: a second thread calling while the pool is busy runs its range serially
 * rather than wait.
 *
 * <pre>{@code
 * Parallel.forRange(rows, 64, (lo, hi) -> { for (int r = lo; r < hi; r++) work(r); });
 * }</pre>
 */
public final class Parallel {
    /** A body over the half-open range {@code [lo, hi)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int lo, int hi);
    }

    /** How long an idle worker spins before it parks (system property {@code kiln.spin.micros}, default 0). */
    static final long SPIN_NANOS = Long.getLong("kiln.spin.micros", 0) * 1000;

    private static volatile int threads = initialThreads();
    private static volatile Pool pool;
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private Parallel() {
    }

    private static int initialThreads() {
        String p = System.getProperty("kiln.threads");
        String source = "system property kiln.threads";
        if (p == null || p.isBlank()) {
            p = System.getenv("KILN_THREADS");
            source = "environment variable KILN_THREADS";
        }
        if (p == null || p.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(p.trim());
            if (n < 1) {
                throw new IllegalArgumentException(source + ": expected a thread count >= 1, got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + ": expected a thread count >= 1, got '" + p + "'");
        }
    }

    /** Number of threads intra-op work is split over (including the caller). */
    public static int threads() {
        return threads;
    }

    /** Sets the number of threads (>= 1); takes effect for the next parallel call. */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("setThreads: expected a thread count >= 1, got " + n);
        }
        if (n != threads) {
            threads = n;
            Pool old = pool;
            pool = null;
            if (old != null) {
                old.shutdown();
            }
        }
    }

    private static Pool pool(int t) {
        Pool p = pool;
        if (p == null || p.workers.length != t - 1) {
            synchronized (Parallel.class) {
                p = pool;
                if (p == null || p.workers.length != t - 1) {
                    if (p != null) {
                        p.shutdown();
                    }
                    p = new Pool(t - 1);
                    pool = p;
                }
            }
        }
        return p;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} contiguous chunks
     * of at least {@code grain} items each. Nested calls run serially on the calling thread. An
     * exception thrown by any chunk is rethrown here after every chunk has finished.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        forRange(n, grain, 0, false, body);
    }

    /**
     * {@link #forRange(int, int, RangeBody)} for short kernels called back to back (sparse
     * products of 50-250 us, where waking a parked worker costs as much as the work it takes
     * over), with two differences. The workers that were handed a chunk spin for up to
     * {@code spinNanos} (or {@code kiln.spin.micros}, if longer) before they park, so that a call
     * following soon after finds them awake. And chunks are claimed rather than assigned: the
     * caller, done with the first, runs every chunk no worker has started yet, so it never waits
     * for a worker that is not running (a late worker finds nothing left and returns), only for
     * chunks in progress. Which thread runs a chunk varies, so a body must not depend on it.
     */
    public static void forRange(int n, int grain, long spinNanos, RangeBody body) {
        forRange(n, grain, spinNanos, true, body);
    }

    private static void forRange(int n, int grain, long spinNanos, boolean claim, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int t = threads;
        int chunks = Math.min(t, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || INSIDE.get()) {
            body.run(0, n);
            return;
        }
        Pool p = pool(t);
        if (!p.lock.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            if (p.stopped) {
                body.run(0, n);
            } else {
                p.run(n, chunks, spinNanos, claim, body);
            }
        } finally {
            p.lock.unlock();
        }
    }

    /** Floats per 64-byte cache line. */
    private static final int CACHE_LINE_FLOATS = 16;

    /**
     * Fewest elements per thread for {@link #forElements} (system property
     * {@code kiln.elementwise.grain}, default 65,536: 256 KB of each float array).
     */
    public static final int ELEMENT_GRAIN = Math.max(CACHE_LINE_FLOATS, Integer.getInteger("kiln.elementwise.grain", 1 << 16));

    /**
     * Whether {@link #forElements} splits {@code n} elements over threads: {@code n >= 2 * }
     * {@link #ELEMENT_GRAIN} and more than one thread. Callers test it first and run their loop
     * directly when false, so that small calls do not allocate the body (a lambda that escapes
     * into the pool on the other path is not scalar-replaced).
     */
    public static boolean splitsElements(int n) {
        return n >= 2 * ELEMENT_GRAIN && threads > 1;
    }

    /**
     * Runs an elementwise {@code body} over {@code [0, n)}: split into contiguous chunks of at
     * least {@link #ELEMENT_GRAIN} elements that start on multiples of 16 (so that no two threads
     * write into one 64-byte cache line of a float array that starts on one) when
     * {@link #splitsElements}, else on the calling thread alone. For loops that treat each element
     * on its own, so the split cannot change a result; as {@link #forRange(int, int, RangeBody)}
     * otherwise (nested calls run serially).
     */
    public static void forElements(int n, RangeBody body) {
        if (!splitsElements(n)) {
            body.run(0, n);
            return;
        }
        int lines = (n + CACHE_LINE_FLOATS - 1) / CACHE_LINE_FLOATS;
        forRange(lines, ELEMENT_GRAIN / CACHE_LINE_FLOATS, (lo, hi) ->
                body.run(lo * CACHE_LINE_FLOATS, Math.min(n, hi * CACHE_LINE_FLOATS)));
    }

    /** Chunk {@code c} of {@code chunks} over {@code [0, n)}: the first {@code n % chunks} get one more. */
    private static int chunkStart(int n, int chunks, int c) {
        int base = n / chunks;
        int rem = n % chunks;
        return c * base + Math.min(c, rem);
    }

    /** One call of {@link #forRange}: its range, chunks, and the chunks the workers have left. */
    private static final class Job {
        final RangeBody body;
        final int n;
        final int chunks;
        final AtomicInteger pending;
        /** How long a worker that was handed a chunk of this job spins before it parks. */
        final long spinNanos;
        /** The next chunk to claim, or null when worker {@code w} runs chunk {@code w + 1}. */
        final AtomicInteger next;
        volatile Throwable failure;

        Job(RangeBody body, int n, int chunks, long spinNanos, boolean claim) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.spinNanos = spinNanos;
            this.next = claim ? new AtomicInteger(1) : null;
            this.pending = new AtomicInteger(chunks - 1);
        }
    }

    /** Persistent workers, one job at a time. */
    private static final class Pool {
        final ReentrantLock lock = new ReentrantLock();
        final Thread[] workers;
        /** The latest job; each worker runs each job it sees once (its chunk, if the job has one). */
        volatile Job current;
        /** Workers that are parked (or about to park) and need an unpark to see a new job. */
        final boolean[] parked;
        volatile boolean stopped;

        Pool(int count) {
            workers = new Thread[count];
            parked = new boolean[count];
            for (int w = 0; w < count; w++) {
                int id = w;
                Thread th = new Thread(() -> work(id), "kiln-worker-" + (w + 1));
                th.setDaemon(true);
                workers[w] = th;
                th.start();
            }
        }

        void run(int n, int chunks, long spinNanos, boolean claim, RangeBody body) {
            Job job = new Job(body, n, chunks, spinNanos, claim);
            current = job;
            for (int w = 0; w < chunks - 1; w++) {
                if (isParked(w)) {
                    LockSupport.unpark(workers[w]);
                }
            }
            INSIDE.set(Boolean.TRUE);
            Throwable mine = null;
            try {
                body.run(0, chunkStart(n, chunks, 1));
            } catch (Throwable e) {
                mine = e;
            }
            if (claim) {
                for (int c = job.next.getAndIncrement(); c < chunks; c = job.next.getAndIncrement()) {
                    try {
                        body.run(chunkStart(n, chunks, c), chunkStart(n, chunks, c + 1));
                    } catch (Throwable e) {
                        mine = mine == null ? e : mine;
                    } finally {
                        job.pending.decrementAndGet();
                    }
                }
            }
            INSIDE.set(Boolean.FALSE);
            for (int spins = 0; job.pending.get() != 0; spins++) {
                if (spins >= 1 << 22) {
                    Thread.yield();
                }
            }
            Throwable f = mine != null ? mine : job.failure;
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error er) {
                throw er;
            }
            if (f != null) {
                throw new IllegalStateException(f);
            }
        }

        private synchronized boolean isParked(int w) {
            return parked[w];
        }

        private synchronized void setParked(int w, boolean v) {
            parked[w] = v;
        }

        private void work(int id) {
            INSIDE.set(Boolean.TRUE);
            // Not "current": a job published before this thread got to run is still new to it.
            Job seen = null;
            while (true) {
                Job job = awaitNext(id, seen);
                if (job == seen) {
                    return;
                }
                seen = job;
                int c = job.next == null ? id + 1 : job.next.getAndIncrement();
                if (c < job.chunks) {
                    try {
                        job.body.run(chunkStart(job.n, job.chunks, c), chunkStart(job.n, job.chunks, c + 1));
                    } catch (Throwable e) {
                        job.failure = e;
                    } finally {
                        job.pending.decrementAndGet();
                    }
                }
            }
        }

        /**
         * Spins, then parks, until a job other than {@code seen} is published (returned) or the pool
         * is stopped with none ({@code seen} returned): a job published before the stop still runs.
         */
        private Job awaitNext(int id, Job seen) {
            long spin = seen != null && id + 1 < seen.chunks ? Math.max(SPIN_NANOS, seen.spinNanos) : SPIN_NANOS;
            long start = System.nanoTime();
            for (int spins = 0; ; spins++) {
                Job j = current;
                if (j != seen || stopped) {
                    return j;
                }
                if ((spins & 63) != 63 || System.nanoTime() - start < spin) {
                    continue;
                }
                setParked(id, true);
                if (current == seen && !stopped) {
                    LockSupport.park(this);
                }
                setParked(id, false);
                spin = SPIN_NANOS;
                start = System.nanoTime();
            }
        }

        /** Stops the workers once the job in progress (if any) has finished; later calls run serially. */
        void shutdown() {
            lock.lock();
            try {
                stopped = true;
            } finally {
                lock.unlock();
            }
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
        }
    }
}

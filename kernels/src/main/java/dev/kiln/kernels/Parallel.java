package dev.kiln.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one intra-op thread pool of Kiln. Kernels split work with {@link #forRange}; the calling
 * thread always does the first chunk itself, so one thread means no hand-off at all.
 *
 * <p>The size comes from, in order: {@link #setThreads(int)}, the system property
 * {@code kiln.threads}, the environment variable {@code KILN_THREADS}, the available processors.
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

    private static volatile int threads = initialThreads();
    private static volatile ExecutorService pool;
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
            ExecutorService old = pool;
            pool = null;
            if (old != null) {
                old.shutdown();
            }
        }
    }

    private static ExecutorService pool() {
        ExecutorService p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                p = pool;
                if (p == null) {
                    AtomicInteger id = new AtomicInteger();
                    ThreadFactory f = r -> {
                        Thread t = new Thread(r, "kiln-worker-" + id.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    };
                    p = Executors.newFixedThreadPool(Math.max(1, threads - 1), f);
                    pool = p;
                }
            }
        }
        return p;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} contiguous chunks
     * of at least {@code grain} items each. Nested calls run serially on the calling thread.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int t = threads;
        int chunks = Math.min(t, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || INSIDE.get()) {
            body.run(0, n);
            return;
        }
        ExecutorService p = pool();
        List<Future<?>> futures = new ArrayList<>(chunks - 1);
        int base = n / chunks;
        int rem = n % chunks;
        int first = base + (rem > 0 ? 1 : 0);
        int lo = first;
        for (int c = 1; c < chunks; c++) {
            int size = base + (c < rem ? 1 : 0);
            int clo = lo;
            int chi = lo + size;
            futures.add(p.submit(() -> {
                INSIDE.set(Boolean.TRUE);
                try {
                    body.run(clo, chi);
                } finally {
                    INSIDE.set(Boolean.FALSE);
                }
            }));
            lo = chi;
        }
        INSIDE.set(Boolean.TRUE);
        try {
            body.run(0, first);
        } finally {
            INSIDE.set(Boolean.FALSE);
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for kernel workers", e);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof RuntimeException re) {
                    throw re;
                }
                if (c instanceof Error er) {
                    throw er;
                }
                throw new IllegalStateException(c);
            }
        }
    }
}

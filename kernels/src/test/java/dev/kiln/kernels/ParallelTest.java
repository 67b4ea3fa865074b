package dev.kiln.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ParallelTest {
    private final int before = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(before);
    }

    /** Every index of [0, n) visited exactly once, for many calls in a row (workers reused). */
    @Test
    void coversEveryIndexOnceOverManyCalls() {
        for (int t : new int[] {1, 2, 3, 4}) {
            Parallel.setThreads(t);
            for (int n : new int[] {1, 2, 3, 7, 64, 1001}) {
                for (int grain : new int[] {1, 5, 1000}) {
                    for (int call = 0; call < 20; call++) {
                        AtomicIntegerArray seen = new AtomicIntegerArray(n);
                        Parallel.forRange(n, grain, (lo, hi) -> {
                            for (int i = lo; i < hi; i++) {
                                seen.incrementAndGet(i);
                            }
                        });
                        for (int i = 0; i < n; i++) {
                            assertEquals(1, seen.get(i), "threads " + t + ", n " + n + ", grain " + grain + ": index " + i);
                        }
                    }
                }
            }
        }
    }

    /**
     * {@code forElements}: every element once; chunks start on multiples of 16 and hold at least
     * the grain (but the last); below twice the grain, or on one thread, one call on the caller.
     */
    @Test
    void forElementsSplitsOnCacheLinesAboveTwiceTheGrain() {
        int g = Parallel.ELEMENT_GRAIN;
        for (int t : new int[] {1, 2, 3}) {
            Parallel.setThreads(t);
            for (int n : new int[] {0, 5, 2 * g - 1, 2 * g, 2 * g + 13, 3 * g + 1, 7 * g + 5}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(n);
                Set<Long> chunks = ConcurrentHashMap.newKeySet();
                Parallel.forElements(n, (lo, hi) -> {
                    chunks.add((long) lo << 32 | hi);
                    for (int i = lo; i < hi; i++) {
                        seen.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertEquals(1, seen.get(i), "threads " + t + ", n " + n + ": element " + i);
                }
                boolean split = t > 1 && n >= 2 * g;
                assertEquals(split, Parallel.splitsElements(n), "threads " + t + ", n " + n);
                assertEquals(split ? Math.min(t, n / g) : n > 0 ? 1 : chunks.size(), chunks.size(),
                        "threads " + t + ", n " + n + ": chunks " + chunks.size());
                for (long c : chunks) {
                    int lo = (int) (c >>> 32);
                    int hi = (int) c;
                    assertEquals(0, lo % 16, "chunk start " + lo);
                    assertTrue(hi == n || hi - lo >= g, "chunk [" + lo + ", " + hi + ") of n " + n);
                }
            }
        }
    }

    /**
     * With claimed chunks and a spin after the call, every index is still visited once (calls with
     * and without the spin interleaved), a chunk's exception is rethrown, and the workers park once
     * the spin is over.
     */
    @Test
    void spinAfterACallCoversEveryIndexAndEnds() throws InterruptedException {
        for (int t : new int[] {2, 3}) {
            Parallel.setThreads(t);
            for (int call = 0; call < 200; call++) {
                int n = 1 + call % 9;
                AtomicIntegerArray seen = new AtomicIntegerArray(n);
                Parallel.forRange(n, 1, call % 2 == 0 ? 2_000_000 : 0, (lo, hi) -> {
                    for (int i = lo; i < hi; i++) {
                        seen.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertEquals(1, seen.get(i), "threads " + t + ", call " + call + ": index " + i);
                }
            }
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forRange(3, 1, 1000,
                (lo, hi) -> {
                    if (lo == 2) {
                        throw new IllegalStateException("chunk " + lo);
                    }
                }));
        assertEquals("chunk 2", e.getMessage());
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!workersParked() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(workersParked(), "kiln workers still running 20 s after a 2 ms spin");
    }

    private static boolean workersParked() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(th -> th.getName().startsWith("kiln-worker"))
                .allMatch(th -> th.getState() == Thread.State.WAITING || !th.isAlive());
    }

    @Test
    void splitsOverSeveralThreadsAndNestsSerially() {
        Parallel.setThreads(2);
        Set<String> names = ConcurrentHashMap.newKeySet();
        AtomicInteger inner = new AtomicInteger();
        for (int call = 0; call < 50; call++) {
            Parallel.forRange(2, 1, (lo, hi) -> {
                names.add(Thread.currentThread().getName());
                Parallel.forRange(10, 1, (a, b) -> {
                    names.add("nested on " + Thread.currentThread().getName());
                    inner.addAndGet(b - a);
                });
            });
        }
        assertEquals(50 * 2 * 10, inner.get());
        assertTrue(names.stream().anyMatch(s -> s.startsWith("kiln-worker")), names::toString);
        // a nested call runs on the thread that made it, never on another worker
        for (String s : names) {
            if (s.startsWith("nested on ")) {
                assertTrue(names.contains(s.substring("nested on ".length())), s);
            }
        }
    }

    @Test
    void rethrowsAChunksExceptionAfterAllChunksFinished() {
        Parallel.setThreads(2);
        AtomicInteger done = new AtomicInteger();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forRange(2, 1, (lo, hi) -> {
            if (lo == 1) {
                throw new IllegalStateException("chunk " + lo);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            done.incrementAndGet();
        }));
        assertEquals("chunk 1", e.getMessage());
        assertEquals(1, done.get());
        // the pool still works afterwards
        AtomicInteger sum = new AtomicInteger();
        Parallel.forRange(100, 1, (lo, hi) -> sum.addAndGet(hi - lo));
        assertEquals(100, sum.get());
    }

    @Test
    void wakesParkedWorkers() throws InterruptedException {
        Parallel.setThreads(2);
        Parallel.forRange(2, 1, (lo, hi) -> { });
        Thread.sleep(5 * Parallel.SPIN_NANOS / 1_000_000 + 20);
        Set<String> names = ConcurrentHashMap.newKeySet();
        Parallel.forRange(2, 1, (lo, hi) -> names.add(Thread.currentThread().getName()));
        assertEquals(2, names.size(), names::toString);
    }

    /** Two threads calling at once both get complete, correct results (one may run serially). */
    @Test
    void concurrentCallersBothComplete() throws InterruptedException {
        Parallel.setThreads(2);
        int n = 10_000;
        long[] sums = new long[2];
        CountDownLatch go = new CountDownLatch(1);
        Thread[] callers = new Thread[2];
        for (int c = 0; c < 2; c++) {
            int id = c;
            callers[c] = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int call = 0; call < 200; call++) {
                    AtomicInteger s = new AtomicInteger();
                    Parallel.forRange(n, 1, (lo, hi) -> {
                        int local = 0;
                        for (int i = lo; i < hi; i++) {
                            local += 1;
                        }
                        s.addAndGet(local);
                    });
                    sums[id] += s.get();
                }
            });
            callers[c].start();
        }
        go.countDown();
        for (Thread t : callers) {
            t.join();
        }
        assertEquals(200L * n, sums[0]);
        assertEquals(200L * n, sums[1]);
    }

    /** Changing the thread count while another thread runs parallel calls loses no chunk and never hangs. */
    @Test
    void setThreadsDuringCallsIsSafe() throws InterruptedException {
        Parallel.setThreads(2);
        AtomicInteger wrong = new AtomicInteger();
        Thread caller = new Thread(() -> {
            for (int call = 0; call < 3000; call++) {
                AtomicInteger s = new AtomicInteger();
                Parallel.forRange(1000, 1, (lo, hi) -> s.addAndGet(hi - lo));
                if (s.get() != 1000) {
                    wrong.incrementAndGet();
                }
            }
        });
        caller.start();
        for (int i = 0; i < 300 && caller.isAlive(); i++) {
            Parallel.setThreads(2 + i % 2);
        }
        caller.join();
        assertEquals(0, wrong.get());
    }

    @Test
    void rejectsABadThreadCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
        assertEquals("setThreads: expected a thread count >= 1, got 0", e.getMessage());
    }
}

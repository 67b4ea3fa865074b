package dev.kiln.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Waits, before each timed measurement, until the bench's processes stop using CPU time.
 *
 * <p>OpenBLAS's worker threads spin after every multi-threaded call until a timeout (2^28
 * time-stamp-counter ticks by default, about 0.13 s on a 2 GHz counter) before they sleep: that
 * makes its next call's hand-off fast, and it also takes a core from whatever is measured next.
 * On 2 vCPUs, Kiln's batch-1 Linear (1 x 1024 x 1024, 2 threads) timed right after OpenBLAS's
 * `sgemv` ran at 73-104 us per call against 55-60 us after a pause, and the PyTorch worker's own
 * OpenBLAS (another process) does the same after its measurements. So each measurement first
 * waits until this JVM and the peer processes together use less than {@link #MAX_BUSY} of one
 * CPU over {@link #WINDOW_SECONDS} (at most {@link #MAX_WAIT_SECONDS}). It reads the threads'
 * run times from {@code /proc/PID/task/TID/schedstat} (Linux); where those cannot be read it
 * sleeps {@link #FALLBACK_SECONDS} instead.
 */
final class Quiet {
    /** The window over which CPU use is sampled. */
    static final double WINDOW_SECONDS = 0.02;
    /** Quiet: the processes together ran less than this fraction of one CPU over a window. */
    static final double MAX_BUSY = 0.25;
    /** The longest wait (a JIT compilation may keep the JVM busy that long; it is waited out too). */
    static final double MAX_WAIT_SECONDS = 1.0;
    /** The sleep where run times cannot be read: longer than OpenBLAS's spin at 2 GHz. */
    static final double FALLBACK_SECONDS = 0.3;

    private static long waits;
    private static long waited;
    private static double total;
    private static double longest;

    private Quiet() {
    }

    /**
     * Sleeps until this process and those of {@code others} (pids; non-positive ones are skipped)
     * are quiet; returns the seconds waited (at least one window).
     */
    static double await(long... others) {
        long[] pids = new long[others.length + 1];
        pids[0] = ProcessHandle.current().pid();
        System.arraycopy(others, 0, pids, 1, others.length);
        long t0 = System.nanoTime();
        long before = cpuNanos(pids);
        if (before < 0) {
            sleep(FALLBACK_SECONDS);
            return note(FALLBACK_SECONDS, false);
        }
        for (int window = 1; ; window++) {
            long w0 = System.nanoTime();
            sleep(WINDOW_SECONDS);
            long after = cpuNanos(pids);
            long wall = System.nanoTime() - w0;
            double elapsed = (System.nanoTime() - t0) * 1e-9;
            if (after < 0 || after - before < MAX_BUSY * wall || elapsed >= MAX_WAIT_SECONDS) {
                return note(elapsed, window > 1);
            }
            before = after;
        }
    }

    /** Sum of the run times of every thread of the processes, in ns, or -1 where one cannot be read. */
    static long cpuNanos(long... pids) {
        long sum = 0;
        for (long pid : pids) {
            if (pid <= 0) {
                continue;
            }
            Path tasks = Path.of("/proc", Long.toString(pid), "task");
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(tasks)) {
                for (Path t : ds) {
                    try {
                        String s = Files.readString(t.resolve("schedstat"));
                        int sp = s.indexOf(' ');
                        sum += Long.parseLong(sp < 0 ? s.trim() : s.substring(0, sp));
                    } catch (IOException | NumberFormatException e) {
                        // a thread that ended between the listing and the read
                    }
                }
            } catch (IOException | SecurityException e) {
                return -1;
            }
        }
        return sum;
    }

    private static synchronized double note(double seconds, boolean busy) {
        waits++;
        total += seconds;
        if (busy) {
            waited++;
            longest = Math.max(longest, seconds);
        }
        return seconds;
    }

    /** One line on the waits so far, e.g. for the end of the report. */
    static synchronized String summary() {
        return String.format(Locale.ROOT, "quiet CPUs awaited before each of %d measurements (%.1f s in all); busy before %d, for at most %.2f s",
                waits, total, waited, longest);
    }

    private static void sleep(double seconds) {
        try {
            Thread.sleep((long) (seconds * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

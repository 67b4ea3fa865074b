package dev.kiln.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class QuietTest {
    @Test
    void runTimesGrowWhileAThreadSpins() throws Exception {
        long pid = ProcessHandle.current().pid();
        assumeTrue(Quiet.cpuNanos(pid) >= 0, "no /proc here");
        AtomicBoolean stop = new AtomicBoolean();
        Thread spinner = new Thread(() -> {
            while (!stop.get()) {
                Thread.onSpinWait();
            }
        });
        spinner.start();
        try {
            long a = Quiet.cpuNanos(pid);
            Thread.sleep(100);
            long b = Quiet.cpuNanos(pid);
            assertTrue(b - a >= 30_000_000L, "a spinning thread ran " + (b - a) + " ns in 100 ms");
        } finally {
            stop.set(true);
            spinner.join();
        }
    }

    @Test
    void waitsUntilASpinningThreadStops() throws Exception {
        assumeTrue(Quiet.cpuNanos(ProcessHandle.current().pid()) >= 0, "no /proc here");
        long stopAt = System.nanoTime() + 200_000_000L;
        Thread spinner = new Thread(() -> {
            while (System.nanoTime() < stopAt) {
                Thread.onSpinWait();
            }
        });
        spinner.start();
        long t0 = System.nanoTime();
        Quiet.await();
        long waited = System.nanoTime() - t0;
        spinner.join();
        // the spinner ran until stopAt; the wait can only end once it stopped (or at the cap)
        assertTrue(t0 + waited >= stopAt,
                "await returned " + (stopAt - t0 - waited) / 1e6 + " ms before the spinner stopped");
        assertTrue(waited < (Quiet.MAX_WAIT_SECONDS + 0.5) * 1e9, "waited " + waited / 1e9 + " s");
    }
}

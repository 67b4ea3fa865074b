package dev.kiln.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.BitSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class AffinityTest {
    @Test
    void pinsTheCallingThreadOnlyAndRestores() throws Exception {
        assumeTrue(Affinity.supported(), Affinity.unsupportedReason());
        BitSet all = Affinity.get();
        assertFalse(all.isEmpty());
        int last = all.length() - 1;
        try {
            Affinity.pin(last);
            assertEquals(1, Affinity.get().cardinality());
            assertTrue(Affinity.get().get(last));
            assertEquals(last, Affinity.currentCpu(), "the kernel moves the caller before sched_setaffinity returns");
            // another thread that was already running keeps its own set
            AtomicReference<BitSet> other = new AtomicReference<>();
            Thread t = Thread.ofPlatform().unstarted(() -> other.set(Affinity.get()));
            t.start();
            t.join();
            assertEquals(1, other.get().cardinality(), "a thread started by a pinned thread inherits its set");
        } finally {
            Affinity.set(all);
        }
        assertEquals(all, Affinity.get());
    }

    @Test
    void refusesEmptyAndUnavailableSets() {
        assumeTrue(Affinity.supported(), Affinity.unsupportedReason());
        BitSet all = Affinity.get();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Affinity.set(new BitSet()));
        assertTrue(e.getMessage().contains("expected CPUs"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Affinity.pin(-1));
        int absent = all.nextClearBit(0);
        if (absent < 1024) {
            e = assertThrows(IllegalArgumentException.class, () -> Affinity.pin(absent));
            assertTrue(e.getMessage().contains("it may use " + all), e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class, () -> Affinity.pin(5000));
        assertTrue(e.getMessage().contains("expected CPUs in [0, 1024)"), e.getMessage());
        assertEquals(all, Affinity.get(), "a refused set leaves the thread's set as it was");
    }

    @Test
    void choosesTheRequestedCpuOrTheFirstAllowed() {
        assumeTrue(Affinity.supported(), Affinity.unsupportedReason());
        BitSet all = Affinity.get();
        assertEquals(all.nextSetBit(0), Affinity.choose(-1));
        int last = all.length() - 1;
        assertEquals(last, Affinity.choose(last));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Affinity.choose(4000));
        assertEquals("expected one of the CPUs this process may use, " + all + ", got 4000", e.getMessage());
        assertEquals(all, Affinity.get(), "choosing pins nothing");
    }
}

package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.NR;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One packed B panel shared by the threads of a GEMM split over rows ({@link GemmPacked}), where
 * each thread used to pack all of B for itself: the threads claim its {@code NR}-column strips one
 * at a time, pack them, and each starts on its rows once every strip is packed. A thread that comes
 * late finds the panel done; one that runs alone packs it all, so nothing waits on a thread that
 * has not started. The packed values and the tiles are those of the per-thread path: same bits.
 *
 * <p>One GEMM at a time holds the panel ({@link #LOCK}); a concurrent one packs per thread.
 */
final class GemmSharedB {
    /** Held by the GEMM that uses the panel. */
    static final ReentrantLock LOCK = new ReentrantLock();
    private static final GemmSharedB INSTANCE = new GemmSharedB();

    /** The packed panel (grown on demand, kept). */
    float[] bp = new float[0];
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger done = new AtomicInteger();
    private boolean transB;
    private float[] b;
    private int bOff;
    private int ldb;
    private int n;
    private int k;
    private int strips;

    private GemmSharedB() {
    }

    /** Sets up the panel for op(B) {@code [k, n]}, {@code k <= KC}, {@code n <= NC}; the caller holds {@link #LOCK}. */
    static GemmSharedB start(boolean transB, float[] b, int bOff, int ldb, int n, int k) {
        GemmSharedB s = INSTANCE;
        s.strips = (n + NR - 1) / NR;
        if (s.bp.length < s.strips * NR * k) {
            s.bp = new float[s.strips * NR * k];
        }
        s.transB = transB;
        s.b = b;
        s.bOff = bOff;
        s.ldb = ldb;
        s.n = n;
        s.k = k;
        s.next.set(0);
        s.done.set(0);
        return s;
    }

    /** Packs strips until none is left to claim, then waits until the others' strips are packed too. */
    void pack() {
        for (int s = next.getAndIncrement(); s < strips; s = next.getAndIncrement()) {
            int j0 = s * NR;
            GemmPack.packB(bp, j0 * k, transB, b, bOff, ldb, 0, j0, k, Math.min(NR, n - j0));
            done.incrementAndGet();
        }
        while (done.get() < strips) {
            // Plain volatile reads, as Parallel's spins (PAUSE made this VM deschedule the CPU): the
            // strips still missing are being packed by a running thread, a few microseconds each.
        }
    }
}

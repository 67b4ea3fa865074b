package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import dev.kiln.kernels.Parallel;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A GEMM split over rows whose threads share each packed B panel ({@link GemmPacked}), where each
 * thread used to pack all of B for itself. The panels ({@code KC x NC}) are taken in the serial
 * order; for each, the threads claim its {@code NR}-column strips one at a time and pack them,
 * then claim its row blocks (at most {@code MC} rows: pack that block of A, run the tiles) until
 * none is left. Two panel buffers alternate, so a thread done with its blocks packs the next panel
 * while the others finish theirs. Everything is claimed, nothing assigned: a thread that comes
 * late finds less to do (or nothing), one that runs alone does it all, and a thread only ever
 * waits for work that another has claimed and is doing (the strips of the panel it is about to
 * use; a row block's previous {@code KC} slice; the blocks still using a buffer it is about to
 * pack into). A busy core slows the GEMM by the share it loses, not by a whole static half.
 *
 * <p>Every tile is computed from the same packed values in the same order as on one thread (a
 * tile depends on the {@code KC} slices, not on the row blocks): same bits at any thread count.
 * One GEMM at a time holds the buffers ({@link #LOCK}); a concurrent one packs per thread.
 *
 * <p>2048^3 on 2 threads packed B in each thread (16 MB, about 2% of each thread's time) and split
 * the rows in two fixed halves, so a thread that lost its core for a while held the other up.
 */
final class GemmSharedB {
    /** Held by the GEMM that uses the shared buffers. */
    static final ReentrantLock LOCK = new ReentrantLock();
    private static final GemmSharedB INSTANCE = new GemmSharedB();
    /** Each chunk (one a thread) runs one thread's share; claimed chunks, so none waits for a late thread. */
    private static final Parallel.RangeBody WORK = (lo, hi) -> {
        for (int i = lo; i < hi; i++) {
            try {
                INSTANCE.work();
            } catch (RuntimeException | Error e) {
                if (INSTANCE.failure == null) {
                    INSTANCE.failure = e;
                }
                throw e;
            }
        }
    };

    /**
     * Strips of B a thread claims and packs at a time: 128 columns, so that an untransposed B is
     * copied in bands along its rows ({@link GemmPack#packB}). Zen 1, 2 threads, sgemm 1024^3 and
     * 2048^3: 83.0-83.1 and 85.3-85.7 GFLOP/s a strip at a time, 83.4-84.4 and 85.0-85.9 eight strips at a time.
     */
    private static final int CLAIM = Math.max(1, 128 / NR);

    /** Per-panel counters: next strip to claim, strips packed, next row block to claim, row blocks done. */
    private static final int PACK_NEXT = 0, PACKED = 1, BLOCK_NEXT = 2, FINISHED = 3, COUNTERS = 4;

    /** The two packed B panels (grown on demand, kept); panel {@code q} goes to {@code bp[q & 1]}. */
    private final float[][] bp = {new float[0], new float[0]};
    private AtomicIntegerArray counters = new AtomicIntegerArray(0);
    /**
     * Per row block, the panels up to which it is done (its next {@code KC} slice waits for the
     * previous one). Only panels {@code q} and {@code q + 1} can be in progress together (panel
     * {@code q + 2} reuses {@code q}'s buffer), so when a block's count is at least {@code q}, its
     * slice of panel {@code q - 1} is done: a later panel's slice can only have set it once panel
     * {@code q - 1} was all done.
     */
    private AtomicIntegerArray blockDone = new AtomicIntegerArray(0);
    /** What a thread of this product threw, if any: the others stop waiting for its claimed work. */
    private volatile Throwable failure;

    private boolean acc;
    private float[] c;
    private int cOff;
    private int ldc;
    private boolean transA;
    private float[] a;
    private int aOff;
    private int lda;
    private boolean transB;
    private float[] b;
    private int bOff;
    private int ldb;
    private float[] bias;
    private int bo;
    private boolean relu;
    private int m;
    private int n;
    private int k;
    private int ncMax;
    private int kcMax;
    private int mcMax;
    private int kPanels;
    private int panels;
    private int strips;
    private int blocks;

    private GemmSharedB() {
    }

    /**
     * Runs the GEMM on up to {@code threads} threads through the shared panels; the caller holds
     * {@link #LOCK}. Validated arguments, as {@link GemmPacked#gemm}.
     */
    static void gemm(int threads, boolean acc, float[] c, int cOff, int ldc, boolean transA, float[] a, int aOff,
                     int lda, boolean transB, float[] b, int bOff, int ldb, float[] bias, int bo, boolean relu,
                     int m, int n, int k) {
        gemm(GemmPacked.NC, GemmPacked.KC, GemmPacked.MC, threads, acc, c, cOff, ldc, transA, a, aOff, lda, transB, b,
                bOff, ldb, bias, bo, relu, m, n, k);
    }

    /**
     * {@link #gemm} with panels of {@code kcMax x ncMax} and row blocks of at most {@code mcMax}
     * rows (multiples of {@code NR} and {@code MR}): tests take small ones, to cross many panels.
     */
    static void gemm(int ncMax, int kcMax, int mcMax, int threads, boolean acc, float[] c, int cOff, int ldc, boolean transA, float[] a, int aOff,
                     int lda, boolean transB, float[] b, int bOff, int ldb, float[] bias, int bo, boolean relu,
                     int m, int n, int k) {
        GemmSharedB s = INSTANCE;
        s.ncMax = ncMax;
        s.kcMax = kcMax;
        s.mcMax = mcMax;
        s.acc = acc;
        s.c = c;
        s.cOff = cOff;
        s.ldc = ldc;
        s.transA = transA;
        s.a = a;
        s.aOff = aOff;
        s.lda = lda;
        s.transB = transB;
        s.b = b;
        s.bOff = bOff;
        s.ldb = ldb;
        s.bias = bias;
        s.bo = bo;
        s.relu = relu;
        s.m = m;
        s.n = n;
        s.k = k;
        s.kPanels = (k + kcMax - 1) / kcMax;
        s.panels = (n + ncMax - 1) / ncMax * s.kPanels;
        s.strips = (Math.min(n, ncMax) + NR - 1) / NR;
        s.blocks = blocks((m + MR - 1) / MR, mcMax / MR, threads);
        int size = s.strips * NR * Math.min(k, kcMax);
        for (int i = 0; i < Math.min(2, s.panels); i++) {
            if (s.bp[i].length < size) {
                s.bp[i] = new float[size];
            }
        }
        if (s.counters.length() < s.panels * COUNTERS) {
            s.counters = new AtomicIntegerArray(s.panels * COUNTERS);
        } else {
            for (int i = 0; i < s.panels * COUNTERS; i++) {
                s.counters.set(i, 0);
            }
        }
        if (s.blockDone.length() < s.blocks) {
            s.blockDone = new AtomicIntegerArray(s.blocks);
        } else {
            for (int i = 0; i < s.blocks; i++) {
                s.blockDone.set(i, 0);
            }
        }
        s.failure = null;
        Parallel.forRange(threads, 1, 0, WORK);
    }

    /**
     * Row blocks for {@code units} strips of {@code MR} rows: at most {@code perBlock} strips each, a
     * multiple of {@code threads} in number where there are enough strips (even shares when the
     * threads run at the same speed).
     */
    static int blocks(int units, int perBlock, int threads) {
        int blocks = (units + perBlock - 1) / perBlock;
        return Math.min(units, (blocks + threads - 1) / threads * threads);
    }

    /** First row of row block {@code r}: the strips are dealt out as evenly as they go. */
    private int rowStart(int r) {
        int units = (m + MR - 1) / MR;
        return Math.min(m, (int) ((long) units * r / blocks) * MR);
    }

    /** One thread's share: claims strips and row blocks, panel after panel, until none is left. */
    private void work() {
        GemmPack.Buffers buf = GemmPack.Buffers.get();
        float[] ap = buf.a(Math.min(kcMax, k) * mcMax);
        for (int q = 0; q < panels; q++) {
            int jc = q / kPanels * ncMax;
            int pc = q % kPanels * kcMax;
            int nc = Math.min(ncMax, n - jc);
            int kc = Math.min(kcMax, k - pc);
            int base = q * COUNTERS;
            float[] panel = bp[q & 1];
            int panelStrips = (nc + NR - 1) / NR;
            int s = counters.getAndAdd(base + PACK_NEXT, CLAIM);
            if (s < panelStrips && q >= 2) {
                await(counters, (q - 2) * COUNTERS + FINISHED, blocks);
            }
            for (; s < panelStrips; s = counters.getAndAdd(base + PACK_NEXT, CLAIM)) {
                int j0 = s * NR;
                int count = Math.min(CLAIM, panelStrips - s);
                GemmPack.packB(panel, j0 * kc, transB, b, bOff, ldb, pc, jc + j0, kc, Math.min(count * NR, nc - j0));
                counters.addAndGet(base + PACKED, count);
            }
            await(counters, base + PACKED, panelStrips);
            boolean last = pc + kc == k;
            GemmPacked.Epilogue ep = GemmPacked.Epilogue.of(acc || pc > 0, last ? bias : null, bo + jc, last && relu);
            for (int r = counters.getAndIncrement(base + BLOCK_NEXT); r < blocks;
                 r = counters.getAndIncrement(base + BLOCK_NEXT)) {
                if (pc > 0) {
                    await(blockDone, r, q);
                }
                int i0 = rowStart(r);
                int mc = rowStart(r + 1) - i0;
                GemmPack.packA(ap, transA, a, aOff, lda, i0, pc, mc, kc);
                GemmPacked.macro(ap, panel, null, 0, 0, buf.tile, c, cOff + i0 * ldc + jc, ldc, mc, nc, kc, ep, 0,
                        GemmPacked.rowsFirst(m, n, kc));
                // Not a plain set: the next column panel's block r (no earlier slice to wait for)
                // may finish before this one on a thread that kept its core, and must not be undone.
                blockDone.accumulateAndGet(r, q + 1, Math::max);
                counters.incrementAndGet(base + FINISHED);
            }
        }
    }

    /**
     * Waits until {@code v[i] >= target}: work that a running thread has claimed, a few to a
     * thousand microseconds. Plain volatile reads, as Parallel's spins (PAUSE made this VM
     * deschedule the CPU); a long wait (the other thread lost its core) yields. Stops with an
     * exception if a thread of this product has failed (its claimed work will never be done).
     */
    private void await(AtomicIntegerArray v, int i, int target) {
        for (int spins = 0; v.get(i) < target; spins++) {
            if (failure != null) {
                throw new IllegalStateException("GEMM: another thread of this product failed", failure);
            }
            if (spins >= 1 << 20) {
                Thread.yield();
            }
        }
    }
}

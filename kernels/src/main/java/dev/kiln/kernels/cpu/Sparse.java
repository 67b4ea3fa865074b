package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.SparseCsrLoops.PANEL;

import dev.kiln.kernels.BlockSparse;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.SparseCsr;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Sparse weight times dense activations, for pruned layers: a {@link SparseCsr} (unstructured) or
 * {@link BlockSparse} weight {@code W[rows, cols]} against a dense row-major operand.
 *
 * <ul>
 *   <li>Linear layout ({@link #spmmCsr}, {@link #spmmBlock}): {@code y[batch, rows] (=|+=)
 *       x[batch, cols] * W^T}, W being a Linear weight {@code [out, in]}.</li>
 *   <li>Left layout ({@link #spmmCsrLeft}, {@link #spmmBlockLeft}): {@code C[rows, n] (=|+=)
 *       W[rows, cols] * B[cols, n]}, a convolution weight {@code [outC, inC*kh*kw]} against its
 *       im2col columns.</li>
 * </ul>
 *
 * <p>Each stored weight is broadcast and multiplied into a row of the dense operand laid out
 * {@code [cols, lanes]}, so the vectors run along the batch (or the pixels) and need no gathers.
 * Each thread works through tiles of 64 lanes: in the Linear layout it packs the tile of x
 * transposed into a per-thread panel, computes strips of 64 output rows into a small buffer and
 * stores them transposed into y; in the Left layout B already has that shape and is copied into
 * the panel only when its rows are reused often enough to pay for it. The panels start on a
 * 64-byte line ({@link SparseAlign}), which makes the kernels a third faster. Threads take
 * ranges of output rows balanced by stored elements (or, in the Left layout with few rows,
 * ranges of tiles), and the pool's workers stay awake for a moment after each product
 * ({@link #SPIN_NANOS}); a result does not depend on the number of threads. CSR products that
 * do not accumulate run generated x86 code where it can run ({@link SparseCsrJit}, bit for bit
 * the results of the Vector API loops; {@code -Dkiln.sparse.jit=false} turns it off), which keeps
 * a plan per matrix (with AVX-512 a reordered copy of its elements, about 8 bytes each, and the
 * rows cut between threads on 64-row strips; with AVX2 a checked copy of its column indices).
 * Pruned weights
 * contribute nothing, not even a NaN or infinity of the dense operand at their position. Outputs
 * must not overlap inputs.
 *
 * <pre>{@code
 * SparseCsr w = SparseCsr.fromDense(weight, 0, out, in, 0f);
 * Sparse.spmmCsr(y, 0, out, w, x, 0, in, batch, false);   // y[batch,out] = x[batch,in] * w^T
 * }</pre>
 */
public final class Sparse {
    /**
     * Output rows computed per strip in the Linear layout: each row of y then gets 256 contiguous
     * bytes per store pass (1024x1024 b64: 24-36 us of stores with 16 rows, 15 with 32, 14 with 64).
     */
    private static final int STRIP_ROWS = 64;
    /** Columns of x transposed per sweep over the batch. */
    private static final int TRANSPOSE_COLS = 16;
    /** The Left layout packs B when its rows are used this many times on average. */
    private static final int PACK_MIN_USES = 4;
    /**
     * How long the pool's workers stay awake after a sparse product (system property
     * {@code kiln.sparse.spin.micros}, default 50; see {@link Parallel#forRange(int, int, long,
     * Parallel.RangeBody)}). A product here takes 50-250 us, and waking a parked worker cost about
     * 10 us of the caller's time (the unpark) and 20-30 us before the worker started, more while
     * other processes ran: 1024x1024 at 90%, batch 64, 2 threads, 246-248 us a call without the
     * spin against 125-126 with it in the same minute (219-224 us on one thread).
     */
    private static final long SPIN_NANOS = Long.getLong("kiln.sparse.spin.micros", 50) * 1000;
    /** Pieces of rows per thread and tile that the threads of a Linear-layout product take in turn. */
    private static final int PIECES_PER_THREAD = 8;

    private Sparse() {
    }

    /** A product over the units (rows or block rows) {@code [u0, u1)} and lanes {@code [j0, j1)}. */
    private interface Rows {
        void run(float[] c, int cOff, int ldc, boolean load, int u0, int u1, float[] b, int bOff, int ldb,
                 int j0, int j1);

        /** The units that ranges of them should start on: 1, or a strip of {@link SparseCsrJit}. */
        default int grid() {
            return 1;
        }
    }

    /**
     * {@code y[t, r] = sum_c x[t, c] * W[r, c]} for {@code t < batch}, {@code r < w.rows()}, or
     * {@code +=} when {@code accumulate}: element {@code (t, r)} of y at {@code y[yOff + t*ldy + r]},
     * {@code (t, c)} of x at {@code x[xOff + t*ldx + c]}. Without {@code accumulate} y is only
     * written (rows of W with no stored element give 0).
     *
     * @throws IllegalArgumentException on a negative batch or offset, {@code ldy < rows},
     *                                  {@code ldx < cols}, or a buffer too small
     */
    public static void spmmCsr(float[] y, int yOff, int ldy, SparseCsr w, float[] x, int xOff, int ldx, int batch,
                               boolean accumulate) {
        Objects.requireNonNull(w, "spmmCsr: w is null");
        checkLinear("spmmCsr", y, yOff, ldy, w.rows(), w.cols(), x, xOff, ldx, batch);
        linear(y, yOff, ldy, x, xOff, ldx, batch, accumulate, w.rows(), w.cols(), 1, w.rowPtr(), 1, csr(w));
    }

    /**
     * {@link #spmmCsr} for a block-sparse weight: {@code y[batch, rows] (=|+=) x[batch, cols] * W^T},
     * stored blocks multiplied whole (their zeros included).
     *
     * @throws IllegalArgumentException as {@link #spmmCsr}
     */
    public static void spmmBlock(float[] y, int yOff, int ldy, BlockSparse w, float[] x, int xOff, int ldx, int batch,
                                 boolean accumulate) {
        Objects.requireNonNull(w, "spmmBlock: w is null");
        checkLinear("spmmBlock", y, yOff, ldy, w.rows(), w.cols(), x, xOff, ldx, batch);
        linear(y, yOff, ldy, x, xOff, ldx, batch, accumulate, w.rows(), w.cols(), w.blockRows(), w.blockRowPtr(),
                w.blockRows() * w.blockCols(), block(w));
    }

    /**
     * {@code C[r, j] = sum_q W[r, q] * B[q, j]} for {@code r < w.rows()}, {@code j < n}, or {@code +=}
     * when {@code accumulate}: element {@code (r, j)} of C at {@code c[cOff + r*ldc + j]},
     * {@code (q, j)} of B at {@code b[bOff + q*ldb + j]}. Without {@code accumulate} C is only
     * written (rows of W with no stored element give 0).
     *
     * @throws IllegalArgumentException on a negative n or offset, {@code ldc < n}, {@code ldb < n},
     *                                  or a buffer too small
     */
    public static void spmmCsrLeft(float[] c, int cOff, int ldc, SparseCsr w, float[] b, int bOff, int ldb, int n,
                                   boolean accumulate) {
        Objects.requireNonNull(w, "spmmCsrLeft: w is null");
        checkLeft("spmmCsrLeft", c, cOff, ldc, w.rows(), w.cols(), b, bOff, ldb, n);
        left(c, cOff, ldc, b, bOff, ldb, n, accumulate, w.rows(), w.cols(), 1, w.rowPtr(), 1, csr(w));
    }

    /**
     * {@link #spmmCsrLeft} for a block-sparse weight: {@code C[rows, n] (=|+=) W[rows, cols] * B[cols, n]},
     * stored blocks multiplied whole (their zeros included).
     *
     * @throws IllegalArgumentException as {@link #spmmCsrLeft}
     */
    public static void spmmBlockLeft(float[] c, int cOff, int ldc, BlockSparse w, float[] b, int bOff, int ldb, int n,
                                     boolean accumulate) {
        Objects.requireNonNull(w, "spmmBlockLeft: w is null");
        checkLeft("spmmBlockLeft", c, cOff, ldc, w.rows(), w.cols(), b, bOff, ldb, n);
        left(c, cOff, ldc, b, bOff, ldb, n, accumulate, w.rows(), w.cols(), w.blockRows(), w.blockRowPtr(),
                w.blockRows() * w.blockCols(), block(w));
    }

    private static Rows csr(SparseCsr w) {
        int[] rowPtr = w.rowPtr();
        int[] idx = w.colIdx();
        float[] val = w.values();
        SparseCsrJit.Plan plan = SparseCsrJit.plan(w);
        if (plan == null) {
            return (c, cOff, ldc, load, u0, u1, b, bOff, ldb, j0, j1) ->
                    SparseCsrLoops.rows(c, cOff, ldc, load, rowPtr, idx, val, u0, u1, b, bOff, ldb, j0, j1);
        }
        return new Rows() {
            @Override
            public void run(float[] c, int cOff, int ldc, boolean load, int u0, int u1, float[] b, int bOff, int ldb,
                            int j0, int j1) {
                int j = load ? j0 : SparseCsrJit.rows(plan, c, cOff, ldc, u0, u1, b, bOff, ldb, j0, j1);
                if (j < j1) {
                    SparseCsrLoops.rows(c, cOff + j - j0, ldc, load, rowPtr, idx, val, u0, u1, b, bOff, ldb, j, j1);
                }
            }

            @Override
            public int grid() {
                return SparseCsrJit.grid(plan);
            }
        };
    }



    private static Rows block(BlockSparse w) {
        return (c, cOff, ldc, load, u0, u1, b, bOff, ldb, j0, j1) ->
                SparseBlockLoops.rows(c, cOff, ldc, load, w, u0, u1, b, bOff, ldb, j0, j1);
    }

    /**
     * The Linear layout over {@code units = ptr.length - 1} units of {@code unitRows} rows; unit
     * {@code u} holds {@code ptr[u+1] - ptr[u]} entries of {@code perEntry} values each. Each thread
     * packs a tile of 64 batch rows of x transposed into its own aligned panel (all of it: threads
     * split the rows of W), computes strips of output rows from it and stores them transposed into
     * y (8 x 8 register transposes both ways).
     *
     * <p>With several threads and a single tile (batch up to 64) see {@link #homeAndSteal}. With
     * more tiles the work is cut into pieces that the threads take in order from a shared counter:
     * a whole tile each when there are enough of them (each packed once), otherwise
     * {@link #PIECES_PER_THREAD} pieces of rows per thread and tile, of about equal cost. Which
     * thread computes a row never changes its result.
     */
    private static void linear(float[] y, int yOff, int ldy, float[] x, int xOff, int ldx, int batch, boolean acc,
                               int rows, int cols, int unitRows, int[] ptr, int perEntry, Rows kernel) {
        if (batch == 0 || rows == 0) {
            return;
        }
        int units = ptr.length - 1;
        int parts = parts((long) ptr[units] * perEntry * batch, units);
        if (batch == 1) {
            forParts(parts, ptr, perEntry, unitRows, (u0, u1) ->
                    kernel.run(y, yOff + u0 * unitRows, 1, acc, u0, u1, x, xOff, 1, 0, 1));
            return;
        }
        Strips strips = new Strips(y, yOff, ldy, x, xOff, ldx, batch, acc, rows, cols, unitRows, kernel);
        int tiles = (batch + PANEL - 1) / PANEL;
        if (tiles == 1 && parts > 1) {
            homeAndSteal(strips, parts, ptr, perEntry);
            return;
        }
        int perTile = parts == 1 || tiles >= 2 * parts ? 1 : Math.min(units, parts * PIECES_PER_THREAD);
        int pieces = tiles * perTile;
        long total = cost(ptr, units, perEntry, unitRows);
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(parts, 1, SPIN_NANOS, (lo, hi) -> {
            Strips.Buffers buf = strips.buffers();
            for (int id = next.getAndIncrement(); id < pieces; id = next.getAndIncrement()) {
                int tile = id / perTile;
                int piece = id % perTile;
                int u0 = piece == 0 ? 0 : firstUnit(ptr, perEntry, unitRows, total * piece / perTile, kernel.grid());
                int u1 = piece + 1 == perTile ? units : firstUnit(ptr, perEntry, unitRows, total * (piece + 1) / perTile, kernel.grid());
                if (u0 < u1) {
                    strips.run(buf, tile, u0, u1);
                }
            }
        });
    }

    /**
     * A Linear-layout product of one tile of the batch on {@code parts} threads. The rows are cut
     * into {@link #PIECES_PER_THREAD} pieces per thread of about equal cost; thread {@code p} owns
     * a contiguous run of them (its "home"), takes them from the front, and once done takes the
     * pieces still left to the others from their back. Each thread packs x into its own panel.
     *
     * <p>Why: a shared panel packed by both threads and pieces taken from one shared counter (as
     * before) left the two cores of this VM passing cache lines back and forth: each call rewrote
     * the panel lines the other core had cached and wrote rows of y the other core wrote last time.
     * 1024x1024 at 90%, batch 64, quiet machine: the shared pack took 34 us (9.4 us for the whole
     * pack on one thread), each thread's half of the products 165 us (190 us for all of them on one
     * thread; two independent 1-thread products side by side each kept their 227 us), 183-215 us a
     * call against 222 on one thread. With homes, each core writes the same rows of y each call and
     * reads the same part of the weight, and a late worker costs only the pieces the caller takes over
     * (the caller also runs the chunk of a worker that has not started: see {@link
     * Parallel#forRange(int, int, long, Parallel.RangeBody)}; that chunk then finds nothing left).
     * Quiet minute, same shape: 119-121 us a call at 90% and 73-76 us at 95% (dense on 2 threads
     * 440-463 us), i.e. each thread's pack of x (~10 us) plus half of the one-thread products and
     * stores (206 + 16 us): the hand-off and the balance cost nothing left to measure. Starting the
     * pieces on 64-byte lines of y (no line of y written by both threads) measured the same
     * (122-123 / 73-76 us in the same minute). The rest is the pack each thread repeats: sharing
     * it is what cost 34 us. Nor would splitting the batch between the threads (each packing and
     * computing 32 lanes) pay: one thread at batch 32 took 140 us against 231 at 64 (90%, same
     * minute), so each of two threads would take about 140 against 119-127 with homes.
     */
    private static void homeAndSteal(Strips strips, int parts, int[] ptr, int perEntry) {
        int units = ptr.length - 1;
        int pieces = Math.min(units, parts * PIECES_PER_THREAD);
        long total = cost(ptr, units, perEntry, strips.unitRows);
        AtomicLongArray homes = new AtomicLongArray(parts);
        for (int p = 0; p < parts; p++) {
            homes.set(p, (long) (pieces * p / parts) << 32 | pieces * (p + 1) / parts);
        }
        Parallel.forRange(parts, 1, SPIN_NANOS, (lo, hi) -> {
            if (!anyLeft(homes)) {
                return;
            }
            Strips.Buffers buf = strips.buffers();
            strips.pack(buf, 0);
            for (int h = lo; h < lo + parts; h++) {
                int home = h % parts;
                boolean own = home >= lo && home < hi;
                for (int id = claim(homes, home, own); id >= 0; id = claim(homes, home, own)) {
                    int u0 = id == 0 ? 0 : firstUnit(ptr, perEntry, strips.unitRows, total * id / pieces, strips.kernel.grid());
                    int u1 = id + 1 == pieces ? units : firstUnit(ptr, perEntry, strips.unitRows, total * (id + 1) / pieces, strips.kernel.grid());
                    if (u0 < u1) {
                        strips.run(buf, 0, u0, u1);
                    }
                }
            }
        });
    }

    /** Whether any home has a piece left. */
    private static boolean anyLeft(AtomicLongArray homes) {
        for (int h = 0; h < homes.length(); h++) {
            long v = homes.get(h);
            if ((int) (v >>> 32) < (int) v) {
                return true;
            }
        }
        return false;
    }

    /**
     * Takes a piece of {@code home} (packed as {@code first << 32 | end}): its first one for the
     * owner, its last one for another thread; -1 when none is left.
     */
    private static int claim(AtomicLongArray homes, int home, boolean own) {
        while (true) {
            long v = homes.get(home);
            int first = (int) (v >>> 32);
            int end = (int) v;
            if (first >= end) {
                return -1;
            }
            long next = own ? (long) (first + 1) << 32 | end : (long) first << 32 | (end - 1);
            if (homes.compareAndSet(home, v, next)) {
                return own ? first : end - 1;
            }
        }
    }

    /** One Linear-layout product cut into strips of rows: packs tiles of x, runs the kernel, stores into y. */
    private record Strips(float[] y, int yOff, int ldy, float[] x, int xOff, int ldx, int batch, boolean acc,
                          int rows, int cols, int unitRows, Rows kernel) {
        /** A thread's panel and strip, with the tile its panel holds. */
        static final class Buffers {
            final float[] panel;
            final int pb;
            final float[] strip;
            final int sb;
            int packed = -1;

            Buffers(float[] panel, float[] strip) {
                this.panel = panel;
                this.strip = strip;
                pb = SparseAlign.firstAligned(panel);
                sb = SparseAlign.firstAligned(strip);
            }
        }

        int stripUnits() {
            return Math.max(1, STRIP_ROWS / unitRows);
        }

        /** The calling thread's buffers (nothing packed yet). */
        Buffers buffers() {
            Scratch scratch = Scratch.get();
            return new Buffers(scratch.panel(cols * PANEL), scratch.strip(stripUnits() * unitRows * PANEL));
        }

        /** Packs tile {@code tile} of x into the panel unless it holds it already. */
        void pack(Buffers buf, int tile) {
            if (buf.packed != tile) {
                int j0 = tile * PANEL;
                packTransposed(buf.panel, buf.pb, x, xOff + j0 * ldx, ldx, Math.min(PANEL, batch - j0), cols);
                buf.packed = tile;
            }
        }

        /** Units {@code [u0, u1)} of tile {@code tile}. */
        void run(Buffers buf, int tile, int u0, int u1) {
            pack(buf, tile);
            int j0 = tile * PANEL;
            int jn = Math.min(PANEL, batch - j0);
            int stripUnits = stripUnits();
            float[] strip = buf.strip;
            int sb = buf.sb;
            for (int u = u0; u < u1; u += stripUnits) {
                int ue = Math.min(u1, u + stripUnits);
                int r0 = u * unitRows;
                int nr = Math.min(rows, ue * unitRows) - r0;
                kernel.run(strip, sb, PANEL, false, u, ue, buf.panel, buf.pb, PANEL, 0, jn);
                int stored = acc ? 0 : storeTransposed(y, yOff + j0 * ldy + r0, ldy, strip, sb, nr, jn);
                if (stored == nr) {
                    continue;
                }
                for (int t = 0; t < jn; t++) {
                    int yi = yOff + (j0 + t) * ldy + r0;
                    if (acc) {
                        for (int r = 0, si = sb + t; r < nr; r++, si += PANEL) {
                            y[yi + r] += strip[si];
                        }
                    } else {
                        for (int r = stored, si = sb + stored * PANEL + t; r < nr; r++, si += PANEL) {
                            y[yi + r] = strip[si];
                        }
                    }
                }
            }
        }
    }



    /**
     * The Left layout; units as in {@link #linear}. When the rows of B are reused often enough
     * ({@link #PACK_MIN_USES}), each thread copies tiles of 64 columns of B into an aligned panel
     * first; otherwise it reads B in place.
     */
    private static void left(float[] c, int cOff, int ldc, float[] b, int bOff, int ldb, int n, boolean acc,
                             int rows, int cols, int unitRows, int[] ptr, int perEntry, Rows kernel) {
        if (n == 0 || rows == 0) {
            return;
        }
        int units = ptr.length - 1;
        int tiles = (n + PANEL - 1) / PANEL;
        long entries = (long) ptr[units] * perEntry;
        int parts = parts(entries * n, Math.max(units, tiles));
        boolean pack = n >= PANEL / 4 && entries >= (long) PACK_MIN_USES * cols;
        if (units >= 4 * parts || tiles < parts) {
            forParts(parts, ptr, perEntry, unitRows, (u0, u1) ->
                    leftTiles(c, cOff + u0 * unitRows * ldc, ldc, b, bOff, ldb, n, acc, cols, pack, u0, u1, 0, tiles,
                            kernel));
        } else {
            Parallel.forRange(parts, 1, SPIN_NANOS, (lo, hi) -> {
                for (int p = lo; p < hi; p++) {
                    leftTiles(c, cOff, ldc, b, bOff, ldb, n, acc, cols, pack, 0, units,
                            (int) ((long) tiles * p / parts), (int) ((long) tiles * (p + 1) / parts), kernel);
                }
            });
        }
    }

    /** Units {@code [u0, u1)} (C starting at {@code cOff}) times tiles {@code [t0, t1)} of 64 columns. */
    private static void leftTiles(float[] c, int cOff, int ldc, float[] b, int bOff, int ldb, int n, boolean acc,
                                  int cols, boolean pack, int u0, int u1, int t0, int t1, Rows kernel) {
        float[] panel = pack ? Scratch.get().panel(cols * PANEL) : null;
        int pb = pack ? SparseAlign.firstAligned(panel) : 0;
        for (int t = t0; t < t1; t++) {
            int j0 = t * PANEL;
            int j1 = Math.min(n, j0 + PANEL);
            if (pack) {
                for (int q = 0; q < cols; q++) {
                    System.arraycopy(b, bOff + q * ldb + j0, panel, pb + q * PANEL, j1 - j0);
                }
                kernel.run(c, cOff + j0, ldc, acc, u0, u1, panel, pb, PANEL, 0, j1 - j0);
            } else {
                kernel.run(c, cOff + j0, ldc, acc, u0, u1, b, bOff + j0, ldb, 0, j1 - j0);
            }
        }
    }

    /** Threads for {@code work} multiply-adds spread over at most {@code units} pieces. */
    private static int parts(long work, int units) {
        int threads = Parallel.threads();
        if (threads == 1 || work < Gemm.PARALLEL_MIN_WORK) {
            return 1;
        }
        return (int) Math.max(1, Math.min(Math.min(threads, units), work / Gemm.PARALLEL_CHUNK_WORK));
    }

    /** A body over the units {@code [u0, u1)}. */
    @FunctionalInterface
    private interface UnitBody {
        void run(int u0, int u1);
    }

    /**
     * Runs {@code body} on {@code parts} contiguous ranges of units with about equal cost, a unit
     * costing its entries times {@code perEntry} plus its {@code unitRows} rows.
     */
    private static void forParts(int parts, int[] ptr, int perEntry, int unitRows, UnitBody body) {
        int units = ptr.length - 1;
        if (parts == 1) {
            body.run(0, units);
            return;
        }
        long total = cost(ptr, units, perEntry, unitRows);
        Parallel.forRange(parts, 1, SPIN_NANOS, (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                int u0 = firstUnit(ptr, perEntry, unitRows, total * p / parts, 1);
                int u1 = p + 1 == parts ? units : firstUnit(ptr, perEntry, unitRows, total * (p + 1) / parts, 1);
                if (u0 < u1) {
                    body.run(u0, u1);
                }
            }
        });
    }

    private static long cost(int[] ptr, int u, int perEntry, int unitRows) {
        return (long) ptr[u] * perEntry + (long) u * unitRows;
    }

    /**
     * The smallest unit {@code u} whose cost before it is at least {@code target}, rounded to the
     * nearest multiple of {@code grid} (at most the number of units).
     */
    private static int firstUnit(int[] ptr, int perEntry, int unitRows, long target, int grid) {
        int lo = 0;
        int hi = ptr.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cost(ptr, mid, perEntry, unitRows) < target) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return grid == 1 ? lo : Math.min(ptr.length - 1, (lo + grid / 2) / grid * grid);
    }

    /**
     * {@code y[yOff + t*ldy + r] = strip[sb + r*PANEL + t]} for {@code t < lanes} and the first rows
     * {@code r < rows} in groups of 8; returns how many rows it stored (see
     * {@link GemmPack#transposeRows}). It goes 8 rows of y at a time, each row's stretch written
     * whole before the next: rows of y usually lie a power of two apart (4 KB at 1024 outputs), so
     * all 64 of a tile map to one L1 set, and a single transpose over all 64, writing half of each
     * row's line per pass, evicted every line between its two halves (1024 outputs, batch 64:
     * 80 us of stores per product, 21 us this way).
     */
    private static int storeTransposed(float[] y, int yOff, int ldy, float[] strip, int sb, int rows, int lanes) {
        int stored = 0;
        for (int t = 0; t < lanes; t += 8) {
            stored = GemmPack.transposeRows(y, yOff + t * ldy, ldy, strip, sb + t, PANEL, rows, Math.min(8, lanes - t));
        }
        return stored;
    }

    /**
     * {@code panel[pb + c*PANEL + t] = x[xOff + t*ldx + c]} for {@code t < rows}, {@code c < cols}:
     * reads along rows of x, writing {@link #TRANSPOSE_COLS} rows of the panel at a time (rows of x
     * often lie a power of two apart, so reading down a column of x would keep hitting one cache set).
     * 64x1024, min of 200 x 10 calls, measured against this (8-10 us) and dropped: 16 columns at a
     * time down all rows (each line of x used whole, each panel row written whole) 19-22 us; 16
     * rows at a time (whole 64-byte panel lines per pass) 13 us.
     * (With AVX2, rows of x 1024 floats apart: 37-51 us before {@link GemmPack#transposeRows} chose
     * the block order by the strides, 11-14 us after.)
     */
    private static void packTransposed(float[] panel, int pb, float[] x, int xOff, int ldx, int rows, int cols) {
        int done = GemmPack.transposeRows(panel, pb, PANEL, x, xOff, ldx, rows, cols);
        for (int c0 = 0; c0 < cols; c0 += TRANSPOSE_COLS) {
            int cn = Math.min(TRANSPOSE_COLS, cols - c0);
            for (int t = done; t < rows; t++) {
                for (int c = 0, xi = xOff + t * ldx + c0, pi = pb + c0 * PANEL + t; c < cn; c++, xi++, pi += PANEL) {
                    panel[pi] = x[xi];
                }
            }
        }
    }

    /** Per-thread buffers, grown on demand and reused across calls. */
    private static final class Scratch {
        private static final int ALIGN_SLACK = 16;
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);
        private float[] panel = new float[0];
        private float[] strip = new float[0];

        static Scratch get() {
            return LOCAL.get();
        }

        /** At least {@code size} floats past the first 64-byte aligned element. */
        float[] panel(int size) {
            if (panel.length < size + ALIGN_SLACK) {
                panel = new float[size + ALIGN_SLACK];
            }
            return panel;
        }

        /** At least {@code size} floats past the first 64-byte aligned element. */
        float[] strip(int size) {
            if (strip.length < size + ALIGN_SLACK) {
                strip = new float[size + ALIGN_SLACK];
            }
            return strip;
        }
    }

    private static void checkLinear(String name, float[] y, int yOff, int ldy, int rows, int cols, float[] x, int xOff,
                                    int ldx, int batch) {
        GemmArgs.nonNull(y, name, "y");
        GemmArgs.nonNull(x, name, "x");
        if (batch < 0) {
            throw new IllegalArgumentException(name + ": expected batch >= 0, got " + batch);
        }
        checkOperand(name, "y", y.length, yOff, ldy, batch, rows);
        checkOperand(name, "x", x.length, xOff, ldx, batch, cols);
    }

    private static void checkLeft(String name, float[] c, int cOff, int ldc, int rows, int cols, float[] b, int bOff,
                                  int ldb, int n) {
        GemmArgs.nonNull(c, name, "c");
        GemmArgs.nonNull(b, name, "b");
        if (n < 0) {
            throw new IllegalArgumentException(name + ": expected n >= 0, got " + n);
        }
        checkOperand(name, "c", c.length, cOff, ldc, rows, n);
        checkOperand(name, "b", b.length, bOff, ldb, cols, n);
    }

    private static void checkOperand(String name, String what, int length, int off, int ld, int rows, int cols) {
        if (off < 0) {
            throw new IllegalArgumentException(name + ": expected " + what + " offset >= 0, got " + off);
        }
        if (ld < cols) {
            throw new IllegalArgumentException(name + ": expected ld" + what + " >= " + cols + " (row length of "
                    + what + "), got " + ld);
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        long need = (rows - 1L) * ld + cols;
        if (need > (long) length - off) {
            throw new IllegalArgumentException(name + ": " + what + " too small: need " + need + " floats from offset "
                    + off + ", has " + length);
        }
    }
}

package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.L;
import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import dev.kiln.kernels.cpu.x86.TransposeCode.Mode;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Convolution passes for many-channel layers with no packing of the image at all: the micro-kernel
 * ({@link ConvMicro}) reads its {@code 8} broadcast values straight from a padded image, at offsets
 * from a table, and its {@code NR}-wide vectors from channels packed once per call (weights) or
 * once per image (output gradient). Tiles are {@code 8} rows of consecutive floats of an image by
 * {@code NR} channels. On machines with 16 vector registers (AVX2) the tiles are 5 rows
 * ({@link ConvMicro#kernel5}): the forward pass where rows of 5 tile the output width, the weight
 * gradient of 5-wide kernels by kernel rows ({@link #tapRows}); the input gradient stays elsewhere.
 *
 * <ul>
 * <li>{@link #conv2d}: {@code yT[q, o] = sum_t xpad[tap[t] + pos[q]] * w[o, t]}, tiles of 8 (or 7,
 * {@link #rowBlock}) consecutive output positions of a row (stride 1 in width) by {@code NR}
 * output channels, or of 10 positions by one vector of channels ({@link #tileCols}); each block
 * of channels of {@code yT} is transposed into {@code y} (bias added) while it is in L1.
 * <li>{@link #conv2dBackwardInput}: the same over the output gradient padded for a full
 * correlation, with the weight flipped in both kernel axes and its channel axes swapped (stride 1,
 * input rows tiled as the forward pass's output rows).
 * <li>{@link #conv2dBackwardWeight}: {@code gwT[(ci*kh + a)*kw + b, o] = sum_{n,q} xs[n, pos[q] +
 * a*dh*wp + b*dw, ci] * gy[n, o, q]} with {@code xs} the padded images in blocks of 8 channels
 * ({@link #blocked}): 8 consecutive input channels of one tap (tile rows {@code kh*kw} rows apart) by
 * {@code NR} output channels,
 * summed over the images and positions of each part of the batch ({@link ConvParts}), then over the
 * parts in order; {@code gwT}'s rows are in the weight's own order, so {@code gw} is its transpose
 * (8x8 register transposes; a scalar gather per element took 3-5% of the 64 -> 128 pass).
 * </ul>
 *
 * <p>Compared with {@link ConvPacked} (which packs {@code K x P} floats of the image per image,
 * used by only {@code m / 8} tiles: 8 for the input gradient of a 64-channel input), the work
 * besides the multiply-adds is a transpose of the output (or of the image and the output gradient
 * for the weight) per image. Every value is one micro-kernel accumulation in an order fixed by the
 * geometry, so the results do not depend on the thread count.
 */
final class ConvDirect {
    /** Rows of a tile: the 8 broadcast values of {@link ConvMicro#kernel}. */
    private static final int ROWS = 8;
    private static final VectorSpecies<Float> F = Simd.F;
    /** Deepest reduction one kernel call runs ({@code KC x NR} floats of B sit in L1). */
    private static final int KC = ConvPacked.KC;
    private static final ThreadLocal<float[]> WEIGHTS = ThreadLocal.withInitial(() -> new float[0]);

    private ConvDirect() {
    }

    /**
     * Whether {@code Conv} routes the forward pass here: vector lanes, stride 1 in width, rows of 8
     * outputs, output channels in blocks of {@code NR}. Measured, 1 thread, CPU time against
     * {@link ConvPacked} (both padding through {@link ConvPad}), min of 15-20 calls per round in one
     * JVM on the shared machine: 64 -> 128 at 8x8 3.21-3.46 vs 3.39-3.52 ms; 32 -> 64 at 16x16
     * 3.34-3.94 vs 3.53-4.11 ms, faster in 8 of 9 rounds once each {@code NR}-channel block of the
     * output is transposed while it is in L1 (transposing the whole {@code [P, oc]} image at the end
     * made it 5% slower than the packed path: the transposes took 15% of JFR's samples). A short
     * reduction ({@code cPerGroup * kh * kw} below {@link #MIN_FORWARD_TAPS}) stays packed: each
     * tile's 8 x NR result costs as much to transpose out as to compute. Measured, 1 thread, min of
     * a 0.4-0.7 s loop, batch 64 at 32x32, k3, direct vs packed: 3 -> 32 1.13-1.16 vs 0.83-0.87 ms,
     * 3 -> 64 2.32-2.42 vs 1.58-1.69, 8 -> 32 2.01-2.08 vs 1.89-1.97, 16 -> 32 3.49-3.63 vs 3.70-3.83,
     * 32 -> 32 6.74-6.82 vs 7.37-7.55.
     */
    static boolean suitsForward(ConvGeom g) {
        return canForward(g) && g.cPerGroup() * g.kh() * g.kw() >= MIN_FORWARD_TAPS;
    }

    /** Whether {@link #conv2d} can take the geometry at all (routed or not). */
    static boolean canForward(ConvGeom g) {
        return !Simd.SCALAR && g.sw() == 1 && tileCols(g.ow(), g.ocPerGroup()) > 0;
    }

    /**
     * Positions per tile along an output row of width {@code ow}: 8 ({@link ConvMicro#kernel}) when
     * they tile it, else 7 ({@link ConvMicro#kernel7}: widths 14 and 28 of 28x28 inputs), else 0 (not
     * here); with 16 vector registers 5 when they tile it. Measured, 1 thread, min of a 0.6 s loop, batch 64, k3 pad 1, rows of 7 here against
     * the paths that took those layers before (the forward pass on {@link ConvFlat}, which computes
     * the padded width's columns and drops them; the input gradient through col2im), forward /
     * input gradient: 32 -> 32 at 28x28 5.64-5.83 vs 6.11-6.28 / 5.52-5.70 vs 7.45-7.88 ms; 32 -> 64
     * at 14x14 2.76-2.80 vs 3.18-3.34 / 2.54-2.63 vs 3.00-3.08; 64 -> 64 at 14x14 5.00-5.08 vs
     * 5.90-5.94 / 4.97-5.10 vs 6.41-6.72. (PyTorch's oneDNN in the same minutes: 5.57 / 6.12, 2.48 /
     * 2.52, 5.13 / 5.18.)
     */
    static int rowBlock(int ow) {
        // 16 registers: rows of 5 (ConvMicro.kernel5, 10 accumulators). Zen 1, 1 thread, batch 64,
        // against the packed path: LeNet-5's 6 -> 16 forward 1.50 vs 0.84 ms (PyTorch 1.20)
        if (MR != ROWS) {
            return ow % 5 == 0 ? 5 : 0;
        }
        return ow % ROWS == 0 ? ROWS : ow % 7 == 0 ? 7 : 0;
    }

    /**
     * Channels per tile for output rows of width {@code ow} and {@code m} channels: {@code NR} where
     * rows of 8 or 7 tile the width ({@link #rowBlock}) and the channels come in blocks of {@code NR};
     * else one vector ({@code L}) where rows of 10 do and the channels come in vectors
     * ({@link ConvMicro#kernel10}: LeNet-5's 6 -> 16 layer, 10x10 outputs); else 0 (not here).
     * Measured for the rows of 10, 1 thread, min of a 0.6 s loop, batch 64: LeNet-5's 6 -> 16
     * forward 0.31 ms on the flat path (160 positions computed for 100) against 0.25 here (oneDNN
     * through PyTorch: 0.19).
     */
    static int tileCols(int ow, int m) {
        if (rowBlock(ow) > 0 && m % NR == 0) {
            return NR;
        }
        return ow % 10 == 0 && m % L == 0 ? L : 0;
    }

    /** Positions per tile for {@link #tileCols} {@code cols}. */
    private static int tileRows(int ow, int cols) {
        return cols == NR ? rowBlock(ow) : 10;
    }

    /** The shortest reduction ({@code cPerGroup * kh * kw}) whose forward pass runs here. */
    static final int MIN_FORWARD_TAPS = 128;

    /** Whether {@link #conv2dBackwardInput} runs: as {@link #canForward} with the roles of input and output swapped, stride 1. */
    static boolean suitsInput(ConvGeom g) {
        return !Simd.SCALAR && MR == ROWS && g.sh() == 1 && g.sw() == 1 && tileCols(g.w(), g.cPerGroup()) > 0
                && g.ph() <= g.dh() * (g.kh() - 1) && g.pw() <= g.dw() * (g.kw() - 1);
    }

    /**
     * Whether {@link #conv2dBackwardWeight} runs: output channels in blocks of {@code NR}, and input
     * channels in groups of 8, or on machines with 16 vector registers, kernel rows of 5 taps
     * ({@link #tapRows}).
     */
    static boolean suitsWeight(ConvGeom g) {
        return !Simd.SCALAR && (MR == ROWS && g.cPerGroup() % ROWS == 0 || tapRows(g)) && g.ocPerGroup() % NR == 0;
    }

    /**
     * Whether the weight gradient's tiles are kernel rows ({@link ConvMicro#kernel5}: the 5 taps
     * {@code b} of one input channel and kernel row, 5 consecutive floats of the padded image, by
     * {@code NR} output channels) rather than 8 input channels of one tap: on 16-register
     * machines, for 5-wide kernels without dilation across (LeNet-5's). Measured on Zen 1, 1 thread,
     * batch 64, min of 5 rounds, against {@link ConvPacked}'s weight gradient it replaces: LeNet-5's
     * 6 -> 16 at 14x14 2.40 vs 1.05 ms (PyTorch's oneDNN 1.44), 3 -> 32 at 32x32 (padding 2) 13.4 vs
     * 9.0, 16 -> 32 at 14x14 (padding 2) 11.7 vs 7.7.
     */
    static boolean tapRows(ConvGeom g) {
        return MR != ROWS && g.kw() == 5 && g.dw() == 1;
    }

    /**
     * {@code Conv.conv2d} (arguments checked, {@link #canForward}): images split over threads.
     * Returns false, doing nothing, when a padded image would not fit one array.
     */
    static boolean conv2d(float[] y, float[] x, float[] w, float[] bias, ConvGeom g) {
        ConvPacked cp = ConvPacked.of(g);
        if (!cp.permutable) {
            return false;
        }
        int ocg = g.ocPerGroup();
        int groups = g.groups();
        int cols = tileCols(g.ow(), ocg);
        int rows = tileRows(g.ow(), cols);
        float[] wb = packedWeights(groups * ocg * cp.k);
        for (int gi = 0; gi < groups; gi++) {
            for (int jb = 0; jb < ocg; jb += cols) {
                transpose(wb, (gi * ocg + jb) * cp.k, cols, w, (gi * ocg + jb) * cp.k, cp.k, cols, cp.k);
            }
        }
        int xImage = g.c() * g.h() * g.w();
        int yImage = g.oc() * cp.p;
        ConvPacked.eachImage(g.n(), img -> {
            PadScratch s = PadScratch.of(SCRATCH, cp.p * cols);
            float[] xpad = s.pad.zeroed(cp);
            for (int gi = 0; gi < groups; gi++) {
                ConvPad.pad(xpad, cp, x, img * xImage + gi * cp.cin * g.h() * g.w());
                int yOff = img * yImage + gi * ocg * cp.p;
                tiles(false, y, yOff, s, ocg, xpad, cp, rows, cols, wb, gi * ocg * cp.k, bias, gi * ocg);
            }
        });
        return true;
    }

    /**
     * {@code Conv.conv2dBackwardInput} (arguments checked, {@link #suitsInput}) as the forward pass
     * of the output gradient padded by {@code dh*(kh-1) - ph} (and likewise in width) with the
     * flipped weight. Returns false, doing nothing, when a padded gradient would not fit one array.
     */
    static boolean conv2dBackwardInput(boolean accumulate, float[] gx, float[] gy, float[] w, ConvGeom g) {
        int ocg = g.ocPerGroup();
        int cg = g.cPerGroup();
        int kh = g.kh();
        int kw = g.kw();
        ConvPacked cp = ConvPacked.input(g, g.h(), g.w());
        if (!cp.permutable) {
            return false;
        }
        int groups = g.groups();
        int kk = kh * kw;
        int cols = tileCols(g.w(), cg);
        int rows = tileRows(g.w(), cols);
        float[] wb = packedWeights(groups * cg * cp.k);
        // wb[(gi*cg + jb)*K + (o*kk + kk-1-ab)*cols + j] = w[gi, o, jb + j, ab]: per (o, jb) the
        // [cols, kk] block of w transposed, its kk rows written backwards (a negative stride)
        for (int gi = 0; gi < groups; gi++) {
            int wOff = gi * ocg * cg * kk;
            for (int jb = 0; jb < cg; jb += cols) {
                for (int o = 0; o < ocg; o++) {
                    transpose(wb, (gi * cg + jb) * cp.k + (o * kk + kk - 1) * cols, -cols, w, wOff + (o * cg + jb) * kk, kk,
                            cols, kk);
                }
            }
        }
        int xImage = g.c() * cp.p;
        int yImage = g.oc() * g.oh() * g.ow();
        ConvPacked.eachImage(g.n(), img -> {
            PadScratch s = PadScratch.of(SCRATCH, accumulate ? 2 * cp.p * cols : cp.p * cols);
            float[] xpad = s.pad.zeroed(cp);
            for (int gi = 0; gi < groups; gi++) {
                ConvPad.pad(xpad, cp, gy, img * yImage + gi * ocg * g.oh() * g.ow());
                tiles(accumulate, gx, img * xImage + gi * cg * cp.p, s, cg, xpad, cp, rows, cols, wb, gi * cg * cp.k,
                        null, 0);
            }
        });
        return true;
    }

    /**
     * {@code dst[dOff + j*P + q] (=|+=) sum_t xpad[tap[t] + pos[q]] * w[j, t]} for all {@code P}
     * positions and {@code m} columns (adds when {@code acc}), with {@code wb} the weight packed per
     * {@code cols}-column block ({@code wb[wo + jb*K + t*cols + j]}, {@code jb} a multiple of
     * {@code cols}; {@link #tileCols}), tiles of {@code rows} positions: per block, each B slice
     * ({@code depth x cols}) serves every position tile of {@code s.out} ({@code [P, cols]}), which
     * is then stored transposed into {@code dst} while it is in L1 ({@link #store}), plus
     * {@code bias[bOff + j]} for column {@code j} when {@code bias} is not null.
     */
    private static void tiles(boolean acc, float[] dst, int dOff, PadScratch s, int m, float[] xpad, ConvPacked cp, int rows,
                              int cols, float[] wb, int wo, float[] bias, int bOff) {
        int k = cp.k;
        int p = cp.p;
        float[] out = s.out;
        for (int jb = 0; jb < m; jb += cols) {
            for (int pc = 0; pc < k; pc += cp.depth) {
                int kc = Math.min(cp.depth, k - pc);
                int bo = wo + jb * k + pc * cols;
                if (cols != NR) {
                    for (int q0 = 0; q0 < p; q0 += rows) {
                        ConvMicro.kernel10(kc, xpad, cp.tap, pc, cp.pos[q0], wb, bo, out, q0 * cols, cols, pc > 0);
                    }
                } else if (rows == ROWS) {
                    for (int q0 = 0; q0 < p; q0 += ROWS) {
                        ConvMicro.kernel(kc, xpad, cp.tap, pc, cp.pos[q0], wb, bo, out, q0 * NR, NR, pc > 0);
                    }
                } else if (rows == 5) {
                    for (int q0 = 0; q0 < p; q0 += rows) {
                        ConvMicro.kernel5(kc, xpad, cp.tap, pc, cp.pos[q0], wb, bo, out, q0 * NR, NR, pc > 0);
                    }
                } else {
                    for (int q0 = 0; q0 < p; q0 += rows) {
                        ConvMicro.kernel7(kc, xpad, cp.tap, pc, cp.pos[q0], wb, bo, out, q0 * NR, NR, pc > 0);
                    }
                }
            }
            store(acc, dst, dOff + jb * p, out, p, cols, bias, bOff + jb);
        }
    }

    /**
     * {@code dst[dOff + j*p + q] (=|+=) out[q*cols + j] (+ bias[bOff + j])} for {@code q < p},
     * {@code j < cols}: adds to {@code dst} when {@code acc}, adds the bias when it is not null (not
     * both). The {@code 16 x 16} blocks go through {@link TransposeJit} where it runs, the bias or
     * the sum folded into its stores, the rows past them ({@code p % 16}) element by element; else
     * the Java transposes, then a pass adding the bias, or (when adding) a transpose into the
     * second half of {@code out} and a pass adding its rows. One rounding per added value either
     * way, so the same bits.
     */
    private static void store(boolean acc, float[] dst, int dOff, float[] out, int p, int cols, float[] bias, int bOff) {
        int r16 = TransposeJit.suits(cols, p) && cols % 16 == 0 ? p & ~15 : 0;
        if (r16 > 0) {
            Mode mode = acc ? Mode.ADD : bias != null ? Mode.BIAS : Mode.WRITE;
            TransposeJit.transpose(mode, dst, dOff, p, out, 0, cols, r16 / 16, cols / 16, bias, bOff);
            for (int q = r16; q < p; q++) {
                for (int j = 0, d = dOff + q, o = q * cols; j < cols; j++, d += p) {
                    float v = out[o + j];
                    dst[d] = acc ? dst[d] + v : bias != null ? v + bias[bOff + j] : v;
                }
            }
        } else if (acc) {
            int t = p * cols;
            transpose(out, t, p, out, 0, cols, p, cols);
            for (int j = 0; j < cols; j++) {
                ConvLowering.addInto(dst, dOff + j * p, out, t + j * p, p);
            }
        } else {
            transpose(dst, dOff, p, out, 0, cols, p, cols);
            if (bias != null) {
                for (int j = 0; j < cols; j++) {
                    ConvGemm.addScalar(dst, dOff + j * p, dst, dOff + j * p, bias[bOff + j], p);
                }
            }
        }
    }

    /**
     * {@code Conv.conv2dBackwardWeight} (arguments checked, {@link #suitsWeight}), with the bias
     * gradient when {@code gb} is not null: parts of the batch handed to threads ({@link ConvParts}),
     * each summed over its images in order, then the parts in order, so the result does not depend
     * on the thread count. The bias gradient is summed from the output gradient while it is packed
     * for the weight's tiles (per slice in float, then per part and over the parts in double), not
     * in a second pass over it. Returns false, doing nothing, when a padded image would not fit one
     * array.
     */
    static boolean conv2dBackwardWeight(float[] gw, float[] gb, float[] x, float[] gy, ConvGeom g) {
        ConvPacked cp = ConvPacked.of(g);
        if (!cp.permutable) {
            return false;
        }
        int n = g.n();
        int groups = g.groups();
        int cg = g.cPerGroup();
        int ocg = g.ocPerGroup();
        int p = cp.p;
        int plane = cp.hp * cp.wp;
        int images = Math.clamp(KC / p, 1, n);
        boolean rows = tapRows(g);
        int[] idx = new int[images * p];
        for (int li = 0; li < images; li++) {
            for (int q = 0; q < p; q++) {
                idx[li * p + q] = li * plane * cg + cp.pos[q] * (rows ? 1 : ROWS);
            }
        }
        int kk = g.kh() * g.kw();
        int tiles = rows ? cg * g.kh() : kk * cg / ROWS;
        int size = groups * ocg * cp.k;
        int parts = ConvParts.parts(n);
        float[] gwT = ConvParts.buffer(parts, size);
        int oc = g.oc();
        double[] gbT = gb == null ? null : new double[parts * oc];
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(Math.min(parts, Parallel.threads()), 1, 0L, (lo, hi) -> {
            PadScratch s = PadScratch.of(SCRATCH, TransposeJit.use ? g.h() * g.w() * ROWS : 0);
            float[] bp = SLICE.get();
            float[] xs = s.pad.raw(images * plane * cg + ROWS);
            Arrays.fill(xs, 0, images * plane * cg, 0f);
            for (int part = next.getAndIncrement(); part < parts; part = next.getAndIncrement()) {
                int start = ConvParts.start(part, parts, n);
                int end = ConvParts.start(part + 1, parts, n);
                for (int gi = 0; gi < groups; gi++) {
                    for (int first = start; first < end; first += images) {
                        int count = Math.min(images, end - first);
                        if (rows) {
                            for (int li = 0; li < count; li++) {
                                ConvPad.pad(xs, li * plane * cg, cp, x, ((first + li) * g.c() + gi * cg) * g.h() * g.w());
                            }
                        } else {
                            blocked(xs, s.out, x, g, cp, gi, first, count);
                        }
                        for (int j0 = 0; j0 < ocg; j0 += NR) {
                            weightTiles(first > start, gwT, part * size + gi * ocg * cp.k, ocg, cg, xs, bp, idx, g,
                                    cp, gy, gi, j0, first, count, tiles, gbT, part * oc + gi * ocg + j0);
                        }
                    }
                }
            }
        });
        ConvParts.sum(gwT, parts, size);
        if (gb != null) {
            ConvParts.sumBias(gb, gbT, parts, oc);
        }
        int k = cp.k;
        if (rows) { // k taps need not come in eights
            for (int gi = 0; gi < groups; gi++) {
                transpose(gw, gi * ocg * k, k, gwT, gi * ocg * k, ocg, k, ocg);
            }
            return true;
        }
        Parallel.forRange(groups * k / ROWS, 8, 0L, (lo, hi) -> {
            for (int b = lo; b < hi; ) {
                int gi = b * ROWS / k;
                int end = Math.min(hi, (gi + 1) * k / ROWS);
                int t0 = b * ROWS - gi * k;
                int off = gi * ocg * k;
                transpose(gw, off + t0, k, gwT, off + t0 * ocg, ocg, (end - b) * ROWS, ocg);
                b = end;
            }
        });
        return true;
    }

    /**
     * The {@code tiles} tiles of column block {@code j0} of {@code gwT} (from {@code off}, rows of
     * {@code ocg}) over images {@code [first, first+count)}, whose padded images ({@link #blocked}) are
     * in {@code xs}, added to what is there when {@code acc}: the positions in slices of at most
     * {@link #KC}, the output gradient packed per slice into {@code bp}; each slice's column sums
     * added to {@code gb[gbOff, gbOff + NR)} when {@code gb} is not null.
     */
    private static void weightTiles(boolean acc, float[] gwT, int off, int ocg, int cg, float[] xs, float[] bp, int[] idx,
                                    ConvGeom g, ConvPacked cp, float[] gy, int gi, int j0, int first, int count, int tiles,
                                    double[] gb, int gbOff) {
        int p = cp.p;
        int yImage = g.oc() * p;
        int total = count * p;
        int slices = Math.ceilDiv(total, KC);
        int cpr = cg / ROWS;
        int kk = g.kh() * g.kw();
        for (int sl = 0; sl < slices; sl++) {
            int r0 = (int) ((long) sl * total / slices);
            int r1 = (int) ((long) (sl + 1) * total / slices);
            for (int r = r0; r < r1; ) {
                int li = r / p;
                int q = r % p;
                int len = Math.min(p - q, r1 - r);
                transpose(bp, (r - r0) * NR, NR, gy, (first + li) * yImage + (gi * ocg + j0) * p + q, p, NR, len);
                r += len;
            }
            if (gb != null) {
                addColumnSums(gb, gbOff, bp, r1 - r0);
            }
            boolean load = acc || sl > 0;
            if (tapRows(g)) {
                for (int t = 0; t < tiles; t++) {
                    int ci = t / g.kh();
                    int a = t % g.kh();
                    ConvMicro.kernel5(r1 - r0, xs, idx, r0, ci * cp.hp * cp.wp + a * g.dh() * cp.wp, bp, 0, gwT,
                            off + (ci * kk + a * g.kw()) * ocg + j0, ocg, load);
                }
                continue;
            }
            for (int t = 0; t < tiles; t++) {
                int ab = t / cpr;
                int ci0 = (t % cpr) * ROWS;
                int base = ci0 * cp.hp * cp.wp + ((ab / g.kw()) * g.dh() * cp.wp + (ab % g.kw()) * g.dw()) * ROWS;
                ConvMicro.kernel(r1 - r0, xs, idx, r0, base, bp, 0, gwT, off + (ci0 * kk + ab) * ocg + j0,
                        kk * ocg, load);
            }
        }
    }

    /**
     * {@code sums[off + j] += sum_{r < kc} bp[r*NR + j]} for {@code j < NR}: summed over {@code r}
     * in float (through {@code bp[KC*NR, KC*NR + NR)}), then added in double.
     */
    private static void addColumnSums(double[] sums, int off, float[] bp, int kc) {
        int tmp = KC * NR;
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = FloatVector.zero(F);
        for (int r = 0, i = 0; r < kc; r++, i += NR) {
            s0 = s0.add(FloatVector.fromArray(F, bp, i));
            s1 = s1.add(FloatVector.fromArray(F, bp, i + L));
        }
        s0.intoArray(bp, tmp);
        s1.intoArray(bp, tmp + L);
        for (int j = 0; j < NR; j++) {
            sums[off + j] += bp[tmp + j];
        }
    }

    /**
     * {@code xs[((li*cg/8 + ci/8)*hp*wp + (ph + y)*wp + pw + x)*8 + ci%8] = x[first + li, gi*cg + ci, y, x]}
     * for the {@code count} images: padded planes in blocks of 8 channels, a position's 8 channels
     * consecutive (the tiles' 8 broadcast values), so the transposes write whole lines and a tile
     * reads its positions' channels from consecutive 32-byte runs; the padding is left as it is
     * (zero). (Fully channels-last, a position's {@code cg} channels together, the transposes wrote
     * 32 bytes every {@code 4*cg}.) Where {@link TransposeJit} runs, each block of 8 channels is
     * interleaved whole into {@code tmp} ({@code [h*w, 8]}, {@link TransposeJit#interleave8} for the
     * positions in sixteens, the rest element by element), then copied row by row into its padded
     * plane; else each row goes through {@link #transpose}. Measured, 1 thread, the weight gradient
     * of 32 -> 32 at 28x28 (batch 64, k3 pad 1): these transposes took 12% of its perf samples
     * with the Vector API's; see the commit that brought the interleave for the times.
     */
    private static void blocked(float[] xs, float[] tmp, float[] x, ConvGeom g, ConvPacked cp, int gi, int first,
                                int count) {
        int cg = g.cPerGroup();
        int w = g.w();
        int hw = g.h() * w;
        int plane = cp.hp * cp.wp;
        int sixteens = TransposeJit.use && tmp.length >= hw * ROWS ? hw / 16 : 0;
        for (int li = 0; li < count; li++) {
            int src = (first + li) * g.c() * hw + gi * cg * hw;
            for (int c0 = 0; c0 < cg; c0 += ROWS) {
                int dst = (li * cg + c0) * plane + (cp.ph * cp.wp + cp.pw) * ROWS;
                int s0 = src + c0 * hw;
                if (sixteens == 0) {
                    for (int r = 0; r < g.h(); r++) {
                        transpose(xs, dst + r * cp.wp * ROWS, ROWS, x, s0 + r * w, hw, ROWS, w);
                    }
                    continue;
                }
                TransposeJit.interleave8(tmp, 0, x, s0, hw, sixteens);
                for (int p = 16 * sixteens; p < hw; p++) {
                    for (int k = 0; k < ROWS; k++) {
                        tmp[p * ROWS + k] = x[s0 + k * hw + p];
                    }
                }
                for (int r = 0; r < g.h(); r++) {
                    System.arraycopy(tmp, r * w * ROWS, xs, dst + r * cp.wp * ROWS, w * ROWS);
                }
            }
        }
    }

    /**
     * {@code dst[dOff + c*dStride + r] = src[sOff + r*ld + c]} for {@code r < rows}, {@code c < cols}:
     * {@code 16 x 16} blocks through {@link TransposeJit} where it runs (3.3x the Vector API's rate
     * on a {@code [64, 32]} block, 18 against 5.4 floats per ns); what is left, rows in groups of 8
     * through register transposes ({@link GemmPack#transposeRows}), the rest element by element.
     * There, the columns go 8 at a time, each such block over all rows, so the 8 rows
     * of {@code dst} it writes fill whole cache lines one after the other. (All columns per group of
     * rows wrote 32 bytes to each of {@code cols} rows of {@code dst} in turn: with {@code dStride}
     * a multiple of 1024 floats those rows share one L1 set, and the output transposes of a 3 -> 32
     * convolution at 32x32 took 2 of its 3 ms.)
     */
    static void transpose(float[] dst, int dOff, int dStride, float[] src, int sOff, int ld, int rows, int cols) {
        int r16 = TransposeJit.leadingBlocks(dst, dOff, dStride, src, sOff, ld, rows, cols);
        int c16 = r16 > 0 ? cols & ~15 : 0;
        if (c16 < cols) {
            vectorTranspose(dst, dOff + c16 * dStride, dStride, src, sOff + c16, ld, r16, cols - c16);
        }
        vectorTranspose(dst, dOff + r16, dStride, src, sOff + r16 * ld, ld, rows - r16, cols);
    }

    /** {@link #transpose} on the Vector API alone. */
    private static void vectorTranspose(float[] dst, int dOff, int dStride, float[] src, int sOff, int ld, int rows,
                                        int cols) {
        int done = 0;
        for (int c0 = 0; c0 < cols; c0 += 8) {
            done = GemmPack.transposeRows(dst, dOff + c0 * dStride, dStride, src, sOff + c0, ld, rows, Math.min(8, cols - c0));
        }
        for (int r = done; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                dst[dOff + c * dStride + r] = src[sOff + r * ld + c];
            }
        }
    }

    /**
     * The calling thread's buffer of at least {@code size} floats for weights packed once per call
     * (read by the workers during the call), kept across calls instead of allocated per call.
     */
    static float[] packedWeights(int size) {
        float[] b = WEIGHTS.get();
        if (b.length < size) {
            b = new float[size];
            WEIGHTS.set(b);
        }
        return b;
    }

    /** Per-thread buffers: padded image (or images in channel blocks) and transposed output. */
    private static final ThreadLocal<PadScratch> SCRATCH = ThreadLocal.withInitial(PadScratch::new);
    /** Per-thread packed slice of the output gradient ({@code KC x NR}), then {@code NR} floats of column sums. */
    private static final ThreadLocal<float[]> SLICE = ThreadLocal.withInitial(() -> new float[KC * NR + NR]);
}

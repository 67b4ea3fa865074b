package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Convolution as GEMM without a column matrix: the GEMM's packed B strips are gathered straight
 * from a zero-padded copy of one image, and its micro-kernel ({@link GemmMicro}) writes the output
 * in place. For a lowered geometry (an input of {@code cin} planes {@code h x w}, a {@code kh x kw}
 * kernel, stride, padding, dilation) the column matrix is {@code col[t, q] = xpad[tap[t] + pos[q]]},
 * with {@code tap[t]} the offset of tap {@code t = (ci*kh + a)*kw + b} and {@code pos[q]} that of
 * output position {@code q = i*ow + j} in the padded image ({@code hp x wp} planes). Both offsets
 * are precomputed. Where each group of {@code L} consecutive positions spans less than two vectors
 * of the padded image ({@link #permutable}: stride 1 and more), a strip of {@code NR} values of a
 * column-matrix row is {@code NR / L} plain loads, or pairs of loads and a permute (forward); the
 * weight gradient builds {@code NR} such rows and transposes them in registers. (16-lane gathers
 * with an index map measured several times slower.)
 *
 * <ul>
 * <li>{@link #forward}: {@code out[m, P] (=|+=) A[m, K] * col[K, P]} per image, with {@code A}
 * packed once per call ({@link #packA}); the input gradient of a stride-1 convolution can be such
 * a forward pass over the output gradient with the flipped, transposed weight ({@link #packFlipped}).
 * <li>{@link #weight}: {@code C[m, K] (=|+=) gy[m, P] * col[K, P]^T} per image, for a range of
 * {@code NR}-tap strips; the caller splits the batch into fixed parts ({@link ConvParts}), so
 * every value is summed in the same order for any thread count.
 * </ul>
 *
 * <p>Every value of the output is one micro-kernel accumulation over {@code K} (slices of at most
 * {@link #KC}) in a fixed order, so results depend on the geometry only.
 */
final class ConvPacked {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /**
     * Deepest slice of the reduction a packed strip holds ({@code KC x NR} floats sit in L1); a
     * multiple of 16. A reduction longer than this is cut into slices of equal depth.
     */
    static final int KC = 320;

    final int cin;
    final int h;
    final int w;
    final int hp;
    final int wp;
    final int ph;
    final int pw;
    final int oh;
    final int ow;
    /** Output positions {@code oh * ow}. */
    final int p;
    /** Taps {@code cin * kh * kw}. */
    final int k;
    /** Depth of the slices of the {@code K} taps: {@code K} cut into equal slices of at most {@link #KC}. */
    final int depth;
    /** Depth of the slices of the {@code P} positions: likewise, rounded up to whole vectors. */
    private final int posDepth;
    /** Padded-image offset of each tap, padded with 0 to a multiple of {@code NR}. */
    final int[] tap;
    /** Padded-image offset of each output position, padded with 0 to a multiple of {@code NR}. */
    final int[] pos;
    /**
     * Per group of {@code L} output positions ({@code NR / L} per strip): the offset of its first one
     * ({@code start}), and when they are not {@link #consecutive}, each lane's distance from it as
     * a shuffle of two vectors ({@code shuffle}; null where a distance is {@code 2L} or more, and
     * then the geometry is not {@link #permutable}); lanes past the last position repeat it.
     * The shuffles are made once: {@code VectorShuffle.fromArray} copies its indices into a fresh
     * {@code int[]} in Java, which C2 did not always eliminate (43 KB per call of the 1 -> 32 weight
     * gradient when made per strip).
     */
    private final int[] start;
    private final VectorShuffle<Float>[] shuffle;
    /** Per group: whether its positions are consecutive (one plain load). */
    private final boolean[] consecutive;
    /**
     * Whether every group spans less than {@code 2L} floats (strips are packed by two loads and a
     * permute) and a padded image fits one array: the drivers run only then.
     */
    final boolean permutable;
    /** The rest of the construction arguments, for {@link #get}'s lookup. */
    private final int kh;
    private final int kw;
    private final int sh;
    private final int sw;
    private final int dh;
    private final int dw;

    /**
     * Geometries built lately, for {@link #get}: every field is final, so a thread that finds one
     * through this racy array sees it whole. Replaced in turn when full.
     */
    private static final ConvPacked[] CACHE = new ConvPacked[32];
    private static int nextSlot;

    private ConvPacked(int cin, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int oh,
                       int ow) {
        this.cin = cin;
        this.h = h;
        this.w = w;
        this.kh = kh;
        this.kw = kw;
        this.sh = sh;
        this.sw = sw;
        this.dh = dh;
        this.dw = dw;
        this.ph = ph;
        this.pw = pw;
        this.oh = oh;
        this.ow = ow;
        // rows/columns beyond the last one a tap reaches are never read
        hp = Math.max(h + ph, (oh - 1) * sh + (kh - 1) * dh + 1);
        wp = Math.max(w + pw, (ow - 1) * sw + (kw - 1) * dw + 1);
        p = oh * ow;
        k = cin * kh * kw;
        depth = Math.ceilDiv(k, Math.ceilDiv(k, KC));
        posDepth = Math.min(KC, roundUp(Math.ceilDiv(p, Math.ceilDiv(p, KC)), L));
        tap = new int[roundUp(k, NR)];
        for (int ci = 0, t = 0; ci < cin; ci++) {
            for (int a = 0; a < kh; a++) {
                for (int b = 0; b < kw; b++, t++) {
                    tap[t] = ci * hp * wp + a * dh * wp + b * dw;
                }
            }
        }
        pos = new int[roundUp(p, NR)];
        for (int i = 0, q = 0; i < oh; i++) {
            for (int j = 0; j < ow; j++, q++) {
                pos[q] = i * sh * wp + j * sw;
            }
        }
        int groups = pos.length / L;
        start = new int[groups];
        int[] delta = new int[pos.length];
        consecutive = new boolean[groups];
        @SuppressWarnings("unchecked")
        VectorShuffle<Float>[] shuffles = new VectorShuffle[groups];
        Map<List<Integer>, VectorShuffle<Float>> made = new HashMap<>();
        boolean fits = true;
        for (int gr = 0; gr < groups; gr++) {
            int q0 = gr * L;
            start[gr] = pos[Math.min(q0, p - 1)];
            boolean run = true;
            boolean near = true;
            for (int l = 0; l < L; l++) {
                int d = pos[Math.min(q0 + l, p - 1)] - start[gr];
                delta[q0 + l] = d;
                run &= d == l;
                near &= d >= 0 && d < 2 * L;
            }
            consecutive[gr] = run;
            if (!run && near) { // groups with the same distances share one shuffle (stride 2: all of them)
                shuffles[gr] = made.computeIfAbsent(Arrays.asList(Arrays.stream(delta, q0, q0 + L).boxed()
                        .toArray(Integer[]::new)), k -> VectorShuffle.fromArray(F, delta, q0));
            }
            fits &= near;
        }
        shuffle = shuffles;
        // a padded image must fit one Java array (else the im2col path, which checks its own sizes)
        permutable = fits && (long) cin * hp * wp + 2L * L <= Integer.MAX_VALUE - 8;
    }

    /**
     * Whether {@link #conv2d} takes this path (when the geometry is also {@link #permutable}):
     * vector lanes, and at least {@link GemmMicro#MR} output channels per group (rows of the
     * micro-kernel's tile; LeNet's 1 -> 6 layer measured faster through im2col).
     */
    static boolean suits(ConvGeom g) {
        return !Simd.SCALAR && g.ocPerGroup() >= MR;
    }

    /**
     * Whether {@link #conv2dBackwardWeight} takes this path: as {@link #suits}, and the weight
     * gradient's tile of C, reloaded once per image, is cheap against an image's work: at least
     * 128 positions per image, or a gradient of at most 8192 floats per group (L1). Measured, 1
     * thread, CPU time against im2col: 6 -> 16 at 14x14 (P = 100, 2400 floats) 0.62-0.71 vs
     * 0.76-0.83 ms, 32 -> 64 at 16x16 (P = 256) even, 64 -> 128 at 8x8 (P = 64, 73728 floats) 5.4-5.8
     * vs 5.1 ms: the last stays on im2col, whose GEMM sums several images per call.
     */
    static boolean suitsWeight(ConvGeom g) {
        long gw = (long) g.ocPerGroup() * g.cPerGroup() * g.kh() * g.kw();
        return suits(g) && ((long) g.oh() * g.ow() >= 128 || gw <= 8192);
    }

    /** The lowered geometry of the forward pass (and weight gradient) of a group. */
    static ConvPacked of(ConvGeom g) {
        return get(g.cPerGroup(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(), g.oh(),
                g.ow());
    }

    /**
     * The lowered geometry of a stride-1 layer's input gradient as a forward pass: the output
     * gradient ({@code ocPerGroup} planes) padded by the kernel's reach less the padding and read
     * by the flipped kernel, for {@code oh x ow} results ({@code g.h() x g.w()}, the input's
     * planes, unless a caller wants more).
     */
    static ConvPacked input(ConvGeom g, int oh, int ow) {
        return get(g.ocPerGroup(), g.oh(), g.ow(), g.kh(), g.kw(), 1, 1, g.dh() * (g.kh() - 1) - g.ph(),
                g.dw() * (g.kw() - 1) - g.pw(), g.dh(), g.dw(), oh, ow);
    }

    /**
     * The geometry of these arguments, from {@link #CACHE} when built lately (its tables are
     * {@code O(K + P)} ints a call would otherwise allocate), else built and remembered.
     */
    static ConvPacked get(int cin, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                          int oh, int ow) {
        for (ConvPacked c : CACHE) {
            if (c != null && c.cin == cin && c.h == h && c.w == w && c.kh == kh && c.kw == kw && c.sh == sh
                    && c.sw == sw && c.ph == ph && c.pw == pw && c.dh == dh && c.dw == dw && c.oh == oh && c.ow == ow) {
                return c;
            }
        }
        ConvPacked c = new ConvPacked(cin, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow);
        CACHE[nextSlot++ & (CACHE.length - 1)] = c;
        return c;
    }

    /**
     * {@code Conv.conv2d} (arguments checked): images split over threads, each output value in a
     * fixed order. Returns false, doing nothing, when the geometry is not {@link #permutable}.
     */
    static boolean conv2d(float[] y, float[] x, float[] w, float[] bias, ConvGeom g) {
        ConvPacked cp = of(g);
        if (!cp.permutable) {
            return false;
        }
        int ocg = g.ocPerGroup();
        int groups = g.groups();
        float[][] ap = new float[groups][cp.packedSize(ocg)];
        for (int gi = 0; gi < groups; gi++) {
            cp.packA(ap[gi], 0, w, gi * ocg * cp.k, ocg);
        }
        int xImage = g.c() * g.h() * g.w();
        int yImage = g.oc() * cp.p;
        eachImage(g.n(), img -> {
            Scratch s = Scratch.get(0);
            float[] xpad = s.pad.zeroed(cp);
            for (int gi = 0; gi < groups; gi++) {
                int yOff = img * yImage + gi * ocg * cp.p;
                ConvPad.pad(xpad, cp, x, img * xImage + gi * cp.cin * g.h() * g.w());
                if (bias != null) {
                    for (int o = 0; o < ocg; o++) {
                        Arrays.fill(y, yOff + o * cp.p, yOff + (o + 1) * cp.p, bias[gi * ocg + o]);
                    }
                }
                cp.forward(bias != null, y, yOff, ap[gi], ocg, xpad, s.bp, s.tile);
            }
        });
        return true;
    }

    /**
     * Whether {@code Conv} routes the input gradient here: with 16 vector registers ({@link Simd#REGISTERS}; AVX2:
     * the 8-row direct kernels do not run there), a stride-1 layer padded by at most the kernel's
     * reach, at least {@code MR} input channels per group, and at most 12% of the tiles' rows and
     * positions padding ({@code roundUp(c/groups, MR) * roundUp(h*w, NR)} against
     * {@code c/groups * h*w}; GEMM + col2im packs several images side by side and wastes less).
     * Measured on Zen 1, batch 64, 1 thread, min of 6 rounds, here vs GEMM + col2im: 32 -> 32 at
     * 28x28 26.1 vs 30.7 ms, 64 -> 64 at 14x14 24.8 vs 28.5, 32 -> 64 at 16x16 17.1 vs 17.8,
     * 64 -> 128 at 8x8 15.1 vs 16.3, but 32 -> 64 at 14x14 (16% padding) 14.4 vs 13.5. On Zen 5
     * (AVX-512) such layers measured no faster than GEMM + col2im (1 thread, CPU time: 32 -> 64 at
     * 16x16 4.8 vs 4.3 ms, 64 -> 128 at 8x8 5.6 vs 5.7 ms), and on unpadded layers this pass
     * multiplies the zeros of the padding.
     */
    static boolean suitsInput(ConvGeom g) {
        int cg = g.cPerGroup();
        long plane = (long) g.h() * g.w();
        return Simd.REGISTERS < 32 && !Simd.SCALAR && cg >= MR && g.sh() == 1 && g.sw() == 1 && g.ph() <= g.dh() * (g.kh() - 1)
                && g.pw() <= g.dw() * (g.kw() - 1)
                && 100L * roundUp(cg, MR) * roundUp((int) Math.min(plane, Integer.MAX_VALUE - NR), NR) <= 112L * cg * plane;
    }

    /**
     * {@code Conv.conv2dBackwardInput} (arguments checked) as the forward pass of the output
     * gradient, padded by {@code dh*(kh-1) - ph} (and likewise in width), with the weight flipped in
     * both kernel axes and its channel axes swapped. Returns false, doing nothing, unless the stride
     * is 1, the padding at most {@code dh*(kh-1)} ({@code dw*(kw-1)}) and that pass
     * {@link #permutable}. Routed where {@link #suitsInput}.
     */
    static boolean conv2dBackwardInput(float[] gx, float[] gy, float[] w, ConvGeom g) {
        if (g.sh() != 1 || g.sw() != 1 || g.ph() > g.dh() * (g.kh() - 1) || g.pw() > g.dw() * (g.kw() - 1)) {
            return false;
        }
        int ocg = g.ocPerGroup();
        int cg = g.cPerGroup();
        int groups = g.groups();
        ConvPacked cp = input(g, g.h(), g.w());
        if (!cp.permutable) {
            return false;
        }
        float[][] ap = new float[groups][cp.packedSize(cg)];
        for (int gi = 0; gi < groups; gi++) {
            cp.packFlipped(ap[gi], 0, w, gi * ocg * cg * g.kh() * g.kw(), cg, g.kh(), g.kw());
        }
        int xImage = g.c() * cp.p;
        int yImage = g.oc() * g.oh() * g.ow();
        eachImage(g.n(), img -> {
            Scratch s = Scratch.get(0);
            float[] xpad = s.pad.zeroed(cp);
            for (int gi = 0; gi < groups; gi++) {
                ConvPad.pad(xpad, cp, gy, img * yImage + gi * ocg * g.oh() * g.ow());
                cp.forward(false, gx, img * xImage + gi * cg * cp.p, ap[gi], cg, xpad, s.bp, s.tile);
            }
        });
        return true;
    }

    /**
     * {@code Conv.conv2dBackwardWeight} without the bias (arguments checked): parts of the batch
     * handed to threads ({@link ConvParts}), each summing its images in order over all strips of
     * {@code NR} taps, then the parts in order, so the result does not depend on the thread count.
     * Returns false, doing nothing, when the geometry is not {@link #permutable}.
     */
    static boolean conv2dBackwardWeight(float[] gw, float[] x, float[] gy, ConvGeom g) {
        ConvPacked cp = of(g);
        if (!cp.permutable) {
            return false;
        }
        int ocg = g.ocPerGroup();
        int strips = cp.tapStrips();
        boolean swapped = cp.swapsWeight(ocg);
        int xImage = g.c() * g.h() * g.w();
        int yImage = g.oc() * cp.p;
        int n = g.n();
        int size = g.groups() * ocg * cp.k;
        int parts = ConvParts.parts(n);
        float[] buf = ConvParts.buffer(parts, size);
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(Math.min(parts, Parallel.threads()), 1, 0L, (lo, hi) -> {
            Scratch s = Scratch.get(roundUp(swapped ? cp.k : ocg, MR) * KC);
            float[] xpad = s.pad.zeroed(cp);
            float[] taps = swapped ? s.taps(cp.k * roundUp(cp.posDepth, L)) : null;
            float[] bt = swapped ? s.bt(roundUp(ocg, NR) * KC) : null;
            float[] ct = swapped ? s.ct(cp.k * ocg) : null;
            for (int part = next.getAndIncrement(); part < parts; part = next.getAndIncrement()) {
                int start = ConvParts.start(part, parts, n);
                int end = ConvParts.start(part + 1, parts, n);
                for (int gi = 0; gi < g.groups(); gi++) {
                    for (int img = start; img < end; img++) {
                        ConvPad.pad(xpad, cp, x, img * xImage + gi * cp.cin * g.h() * g.w());
                        if (swapped) {
                            cp.weightSwapped(img > start, ct, gy, img * yImage + gi * ocg * cp.p, ocg, xpad, s.ap, bt,
                                    s.tile, taps);
                        } else {
                            cp.weight(img > start, buf, part * size + gi * ocg * cp.k, gy,
                                    img * yImage + gi * ocg * cp.p, ocg, xpad, 0, strips, s.ap, s.bp, s.tile, s.rows);
                        }
                    }
                    if (swapped) {
                        int base = part * size + gi * ocg * cp.k;
                        for (int o = 0; o < ocg; o++) {
                            for (int t = 0; t < cp.k; t++) {
                                buf[base + o * cp.k + t] = ct[t * ocg + o];
                            }
                        }
                    }
                }
            }
        });
        ConvParts.sum(buf, parts, size);
        System.arraycopy(buf, 0, gw, 0, size);
        return true;
    }

    /**
     * Runs {@code body} for every image, handed out one at a time to whichever thread asks next:
     * a thread that the OS deschedules (the machine is shared) holds up no more than its image.
     * The threads' chunks are claimed ({@code Parallel.forRange} with a spin time), so the caller
     * never waits for a worker that has not started: one that starts late finds no image left.
     * Each image is computed the same way by any thread.
     */
    static void eachImage(int n, IntConsumer body) {
        int threads = Math.min(n, Parallel.threads());
        if (threads <= 1) {
            for (int img = 0; img < n; img++) {
                body.accept(img);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Parallel.forRange(threads, 1, 0L, (lo, hi) -> {
            for (int img = next.getAndIncrement(); img < n; img = next.getAndIncrement()) {
                body.accept(img);
            }
        });
    }

    /** Per-thread buffers: padded image, packed B strip, edge tile, packed A slice; grown on demand. */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);
        final ConvPad pad = new ConvPad();
        float[] ap = new float[0];
        final float[] bp = new float[KC * NR];
        final float[] tile = new float[MR * NR];
        final float[] rows = new float[rowsSize()];
        private float[] taps = new float[0];
        private float[] bt = new float[0];
        private float[] ct = new float[0];

        /** {@link #weightSwapped}'s rows of the column matrix, at least {@code size} floats. */
        float[] taps(int size) {
            if (taps.length < size) {
                taps = new float[size];
            }
            return taps;
        }

        /** {@link #weightSwapped}'s packed strips of B, at least {@code size} floats. */
        float[] bt(int size) {
            if (bt.length < size) {
                bt = new float[size];
            }
            return bt;
        }

        /** {@link #weightSwapped}'s transposed gradient, at least {@code size} floats. */
        float[] ct(int size) {
            if (ct.length < size) {
                ct = new float[size];
            }
            return ct;
        }

        static Scratch get(int packedA) {
            Scratch s = LOCAL.get();
            if (s.ap.length < packedA) {
                s.ap = new float[packedA];
            }
            return s;
        }
    }

    /** Floats of a padded image ({@link ConvPad#pad}), with {@code 2L} of slack for the loads of {@link #forward}. */
    int paddedSize() {
        return cin * hp * wp + 2 * L;
    }

    /** Floats of a packed {@code [m, K]} operand ({@link #packA}, {@link #packFlipped}). */
    int packedSize(int m) {
        return roundUp(m, MR) * k;
    }

    /**
     * Packs {@code A[m, K]} with {@code A[r, t] = a[aOff + r*K + t]} for {@link #forward}: for each
     * slice of {@code K} ({@link #depth} deep), {@code MR}-row strips of {@code kc} columns of {@code MR}
     * values, rows past {@code m} zero; from {@code ap[apOff]}.
     */
    void packA(float[] ap, int apOff, float[] a, int aOff, int m) {
        int mr = roundUp(m, MR);
        for (int pc = 0; pc < k; pc += depth) {
            int kc = Math.min(depth, k - pc);
            for (int ir = 0; ir < mr; ir += MR) {
                int base = apOff + pc * mr + ir * kc;
                for (int i = 0; i < MR; i++) {
                    int r = ir + i;
                    if (r >= m) {
                        for (int t = 0; t < kc; t++) {
                            ap[base + t * MR + i] = 0f;
                        }
                    } else {
                        for (int t = 0; t < kc; t++) {
                            ap[base + t * MR + i] = a[aOff + r * k + pc + t];
                        }
                    }
                }
            }
        }
    }

    /**
     * Packs, like {@link #packA}, the operand of an input gradient computed as a forward pass: here
     * the taps are over the {@code cin} output-gradient planes and the {@code m} rows are input
     * channels, {@code A[c, (o*kh + a)*kw + b] = w[wOff + ((o*m + c)*kh + kh-1-a)*kw + kw-1-b]} for
     * a weight {@code [cin, m, kh, kw]} from {@code wOff}; from {@code ap[apOff]}.
     */
    void packFlipped(float[] ap, int apOff, float[] wt, int wOff, int m, int kh, int kw) {
        int mr = roundUp(m, MR);
        int kk = kh * kw;
        for (int pc = 0; pc < k; pc += depth) {
            int kc = Math.min(depth, k - pc);
            for (int ir = 0; ir < mr; ir += MR) {
                int base = apOff + pc * mr + ir * kc;
                for (int i = 0; i < MR; i++) {
                    int c = ir + i;
                    for (int t = 0; t < kc; t++) {
                        int tt = pc + t;
                        int o = tt / kk;
                        int ab = kk - 1 - tt % kk;
                        ap[base + t * MR + i] = c < m ? wt[wOff + (o * m + c) * kk + ab] : 0f;
                    }
                }
            }
        }
    }

    /**
     * {@code out[r, q] (=|+=) sum_t A[r, t] * col[t, q]} for {@code r < m}, {@code q < P}, with
     * row {@code r} of the output at {@code out[outOff + r*P]}, {@code A} packed by {@link #packA}
     * and {@code xpad} one padded image ({@link #pad}); adds when {@code acc}. {@code bp} holds
     * {@code KC * NR} floats and {@code tile} {@code MR * NR}. The full tiles of a strip go through
     * {@link GemmJit} where it runs (one call per strip; Zen 1, 1 thread, batch 64, the 3 -> 32 layer
     * at 32 x 32 5.93 -> 5.44 ms, the other layers measured level).
     */
    void forward(boolean acc, float[] out, int outOff, float[] ap, int m, float[] xpad, float[] bp, float[] tile) {
        int mr = roundUp(m, MR);
        for (int q0 = 0; q0 < p; q0 += NR) {
            int nr = Math.min(NR, p - q0);
            for (int pc = 0; pc < k; pc += depth) {
                int kc = Math.min(depth, k - pc);
                packPositions(bp, xpad, pc, kc, q0);
                boolean load = acc || pc > 0;
                int ir = 0;
                if (GemmJit.use && nr == NR && m >= MR) {
                    GemmJit.tiles(ap, pc * mr, MR * kc, bp, 0, NR, 0, out, outOff + q0, p, MR * p, kc, m / MR, load,
                            null, 0, 0, false);
                    ir = m / MR * MR;
                }
                for (; ir < mr; ir += MR) {
                    int ci = outOff + ir * p + q0;
                    int rows = Math.min(MR, m - ir);
                    boolean full = rows == MR && nr == NR;
                    GemmMicro.kernel(kc, ap, pc * mr + ir * kc, bp, 0, full ? out : tile, full ? ci : 0, full ? p : NR,
                            full && load, null, 0, false);
                    if (!full) {
                        store(out, ci, p, tile, rows, nr, load);
                    }
                }
            }
        }
    }

    /**
     * {@code gw[r, t] (=|+=) sum_q gy[r, q] * col[t, q]} for {@code r < m} and the taps of strips
     * {@code [s0, s1)} ({@code NR} taps each), with row {@code r} of {@code gw} at
     * {@code gw[gwOff + r*K]} and of {@code gy} at {@code gy[gyOff + r*P]}; adds when {@code acc}.
     * {@code ap} holds {@code roundUp(m, MR) * KC} floats, {@code bp} {@code KC * NR}, {@code tile}
     * {@code MR * NR}.
     */
    void weight(boolean acc, float[] gw, int gwOff, float[] gy, int gyOff, int m, float[] xpad, int s0, int s1,
                float[] ap, float[] bp, float[] tile, float[] rows) {
        int mr = roundUp(m, MR);
        for (int q0 = 0; q0 < p; q0 += posDepth) {
            int kc = Math.min(posDepth, p - q0);
            packRowsT(ap, gy, gyOff, m, q0, kc);
            boolean load = acc || q0 > 0;
            for (int s = s0; s < s1; s++) {
                int t0 = s * NR;
                int nr = Math.min(NR, k - t0);
                packTaps(bp, rows, xpad, t0, nr, q0, kc);
                int ir = 0;
                if (GemmJit.use && nr == NR && m >= MR) {
                    GemmJit.tiles(ap, 0, MR * kc, bp, 0, NR, 0, gw, gwOff + t0, k, MR * k, kc, m / MR, load, null, 0, 0,
                            false);
                    ir = m / MR * MR;
                }
                for (; ir < mr; ir += MR) {
                    int ci = gwOff + ir * k + t0;
                    int rws = Math.min(MR, m - ir);
                    boolean full = rws == MR && nr == NR;
                    // one call site: two inlined copies of the kernel blew C2's inlining budget
                    GemmMicro.kernel(kc, ap, ir * kc, bp, 0, full ? gw : tile, full ? ci : 0, full ? k : NR,
                            full && load, null, 0, false);
                    if (!full) {
                        store(gw, ci, k, tile, rws, nr, load);
                    }
                }
            }
        }
    }

    /**
     * Whether {@link #conv2dBackwardWeight} computes the transposed gradient ({@link #weightSwapped}):
     * where its tiles waste clearly less, taps along the rows of tiles ({@code MR}) and output
     * channels along the columns ({@code NR}), than the other way round, and all taps fit one packed
     * block. A first layer's few taps fill few of a tile's {@code NR} columns: 1 -> 32 at 3 x 3 uses
     * 9 of 16 (51% of the tiles' work useful), swapped 9 of 10 rows (90%). Zen 1, 1 thread, batch
     * 64, both ways in turn in one JVM (best of 24 x 5 calls): 1 -> 32 at 28 x 28 3.95 -> 3.01 ms,
     * 3 -> 32 at 32 x 32 8.11 -> 6.87 ms (with the bias gradient, 0.5 ms of them).
     */
    boolean swapsWeight(int ocg) {
        double kept = (double) ocg / roundUp(ocg, MR) * k / roundUp(k, NR);
        double swapped = (double) k / roundUp(k, MR) * ocg / roundUp(ocg, NR);
        return swapWeights && k <= SWAP_MAX_TAPS && swapped > 1.1 * kept;
    }

    /** Whether {@link #swapsWeight} may choose the transposed gradient: tests and benchmarks turn it off. */
    static volatile boolean swapWeights = true;

    /** Most taps {@link #swapsWeight} packs into one block (their rows for a slice of positions). */
    static final int SWAP_MAX_TAPS = 256;

    /**
     * {@code ct[t, r] (=|+=) sum_q col[t, q] * gy[r, q]} for every tap {@code t < K} and
     * {@code r < m} ({@code ct} row-major, {@code m} columns), {@code gy}'s row {@code r} at
     * {@code gy[gyOff + r*P]}; adds when {@code acc}. The transpose of {@link #weight}'s gradient,
     * with the same sums in the same order (per slice of positions a chain of FMAs, then added to
     * what the gradient held), so its transpose has the same bits: the taps' rows of the column
     * matrix are built in {@code taps} and packed as A, {@code gy}'s rows transposed into strips of
     * B ({@code bt}).
     */
    void weightSwapped(boolean acc, float[] ct, float[] gy, int gyOff, int m, float[] xpad, float[] ap, float[] bt,
                       float[] tile, float[] taps) {
        for (int q0 = 0; q0 < p; q0 += posDepth) {
            int kc = Math.min(posDepth, p - q0);
            int ld = roundUp(kc, L);
            for (int c = 0; c < ld; c += L) {
                int gr = (q0 + c) / L;
                if (consecutive[gr]) {
                    copyRows(taps, c, ld, xpad, tap, 0, k, start[gr]);
                } else {
                    permuteRows(taps, c, ld, xpad, tap, 0, k, start[gr], shuffle[gr]);
                }
            }
            GemmPack.packA(ap, false, taps, 0, ld, 0, 0, k, kc);
            GemmPack.packB(bt, true, gy, gyOff, p, q0, 0, kc, m);
            GemmPacked.macro(ap, bt, null, 0, 0, tile, ct, 0, m, k, m, kc,
                    GemmPacked.Epilogue.of(acc || q0 > 0, null, 0, false), 0, false);
        }
    }

    /** Floats of the scratch {@link #weight} builds column-matrix rows in. */
    static int rowsSize() {
        return NR * roundUp(KC, L);
    }

    /**
     * {@code bp[r*NR + j] = col[t0 + j, q0 + r]} for {@code r < kc}, {@code j < nr}: rows of the
     * column matrix built in {@code rows} (as {@link #packPositions} does) and transposed in
     * registers ({@link GemmPack#transposeRows}); columns {@code j >= nr} are left as they are.
     */
    private void packTaps(float[] bp, float[] rows, float[] xpad, int t0, int nr, int q0, int kc) {
        int ld = roundUp(kc, L);
        for (int c = 0; c < ld; c += L) {
            int gr = (q0 + c) / L;
            if (consecutive[gr]) {
                copyRows(rows, c, ld, xpad, tap, t0, nr, start[gr]);
            } else {
                permuteRows(rows, c, ld, xpad, tap, t0, nr, start[gr], shuffle[gr]);
            }
        }
        int done = GemmPack.transposeRows(bp, 0, NR, rows, 0, ld, nr, kc);
        for (int j = done; j < nr; j++) {
            for (int r = 0; r < kc; r++) {
                bp[r * NR + j] = rows[j * ld + r];
            }
        }
    }

    /** Strips of {@code NR} taps, the unit {@link #weight} is split by. */
    int tapStrips() {
        return Math.ceilDiv(k, NR);
    }

    /**
     * {@code bp[r*NR + j] = xpad[tap[pc + r] + pos[q0 + j]]} for {@code r < kc}, {@code j < NR}:
     * a packed B strip of the forward pass, each row {@code NR / L} plain loads or pairs of loads
     * and a permute.
     */
    private void packPositions(float[] bp, float[] xpad, int pc, int kc, int q0) {
        for (int j = 0; j < NR; j += L) {
            int gr = (q0 + j) / L;
            if (consecutive[gr]) {
                copyRows(bp, j, NR, xpad, tap, pc, kc, start[gr]);
            } else {
                permuteRows(bp, j, NR, xpad, tap, pc, kc, start[gr], shuffle[gr]);
            }
        }
    }

    /** {@code bp[r*ld + j + l] = xpad[tap[pc + r] + st + l]} for {@code r < kc}, {@code l < L}. */
    private static void copyRows(float[] bp, int j, int ld, float[] xpad, int[] tap, int pc, int kc, int st) {
        for (int r = 0; r < kc; r++) {
            FloatVector.fromArray(F, xpad, tap[pc + r] + st).intoArray(bp, r * ld + j);
        }
    }

    /** {@code bp[r*ld + j + l] = xpad[tap[pc + r] + st + idx[l]]} for {@code r < kc}, {@code l < L}, {@code idx[l] < 2L}. */
    private static void permuteRows(float[] bp, int j, int ld, float[] xpad, int[] tap, int pc, int kc, int st,
                                    VectorShuffle<Float> idx) {
        for (int r = 0; r < kc; r++) {
            int base = tap[pc + r] + st;
            FloatVector.fromArray(F, xpad, base).rearrange(idx, FloatVector.fromArray(F, xpad, base + L))
                    .intoArray(bp, r * ld + j);
        }
    }

    /**
     * Packs rows {@code [0, m)}, columns {@code [q0, q0+kc)} of {@code src} (row {@code r} at
     * {@code src[off + r*P]}) into {@code MR}-row strips of {@code kc} columns ({@code ap[ir*kc + c*MR + i]}),
     * rows past {@code m} zero.
     */
    private void packRowsT(float[] ap, float[] src, int off, int m, int q0, int kc) {
        // GemmPack's packing: 5-row strips through generated code (Zen 1, the weight gradient of 1 -> 32
        // at 28 x 28, batch 64: 4.94 -> 3.95 ms; element by element before)
        GemmPack.packA(ap, false, src, off, p, 0, q0, m, kc);
    }

    /** Rows {@code [0, rows)}, columns {@code [0, nr)} of a {@code MR x NR} tile into {@code c} (adds when {@code load}). */
    private static void store(float[] c, int ci, int ldc, float[] tile, int rows, int nr, boolean load) {
        for (int i = 0; i < rows; i++) {
            int row = ci + i * ldc;
            int t = i * NR;
            if (load) {
                for (int j = 0; j < nr; j++) {
                    c[row + j] += tile[t + j];
                }
            } else {
                System.arraycopy(tile, t, c, row, nr);
            }
        }
    }

    static int roundUp(int x, int unit) {
        return (x + unit - 1) / unit * unit;
    }
}

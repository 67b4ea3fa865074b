package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Winograd F(2x2, 3x3) for 3x3 stride-1 "same" layers whose sides are multiples of 8 (8x8, 16x16,
 * 24x24, 32x32): the same arithmetic as {@link ConvWinograd}, with the tiles laid out by region
 * instead of by row. Each 8x8 block of outputs (a region: 4x4 tiles of 2x2) fills one 16-lane
 * vector, lane {@code 4*ty + tx} for tile {@code (ty, tx)}, so 8-wide and 16-wide layers use
 * every lane (a row of 4 or 8 tiles would fill a quarter or half of one). Two regions make one
 * 32-tile block of the GEMMs ({@link ConvMicro#kernel}, 8 output channels x 32 tiles, depth =
 * input channels).
 *
 * <p>Input transform of one region and channel: its 10 padded rows, each one vector (lanes 0-9;
 * the padding columns zeroed by a blend), their column transforms as two permutes and a
 * multiply-add per row (lane {@code 4k + tx} = {@code (d B)[k]} of tile column {@code tx}), the
 * row transforms as additions (per tile row {@code ty} and {@code a}: lanes {@code (k, tx)}), then
 * for each {@code a} a 4x4 transpose of lane quarters (eight two-vector permutes) to lanes
 * {@code (ty, tx)} for {@code xi = 4a + k}. Output transform of one region and output channel:
 * {@code A^T M A} as additions on the 16 products (lanes {@code (ty, tx)}, one vector per output
 * position {@code (p, q)} of the tile), then eight permutes to four vectors of two output rows
 * each. As in {@link ConvWinograd}, no masked loads and no vector code on branches (see there why).
 *
 * <p>Rounding as {@link ConvWinograd}'s (the same transforms in the same order per tile); each
 * value is computed the same way at any thread count.
 */
final class ConvWinogradRegions {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int SLOT = 16;
    /** Column transform: lane {@code 4k + tx} takes padded column {@code 2tx + COL_X[k]} plus SIGN[k] times {@code 2tx + COL_Y[k]}. */
    private static final VectorShuffle<Float> COL_X;
    private static final VectorShuffle<Float> COL_Y;
    private static final FloatVector COL_SIGN;
    /** Quarter transposes: stage 1 pairs, stage 2 pairs (see {@link #inputTransform}). */
    private static final IntVector T1_EVEN;
    private static final IntVector T1_ODD;
    private static final IntVector T2_LO;
    private static final IntVector T2_HI;
    /** Output interleave: columns {@code 2tx + q} of tile rows ty, ty + 1 from (q = 0, q = 1) vectors, then rows. */
    private static final IntVector OUT_Q_LO;
    private static final IntVector OUT_Q_HI;
    private static final IntVector OUT_P_LO;
    private static final IntVector OUT_P_HI;
    /** The padded rows above and below the image. */
    private static final float[] ZEROS = new float[SLOT];
    private static final ThreadLocal<float[][]> SCRATCH =
            ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0], new float[11 * SLOT]});

    static {
        boolean ok = F.length() == SLOT;
        float[] cx = new float[SLOT], cy = new float[SLOT], cs = new float[SLOT];
        int[] ax = {0, 1, 2, 1};
        int[] ay = {2, 2, 1, 3};
        float[] sg = {-1f, 1f, -1f, -1f};
        float[] t1e = new float[SLOT], t1o = new float[SLOT], t2l = new float[SLOT], t2h = new float[SLOT];
        float[] oql = new float[SLOT], oqh = new float[SLOT], opl = new float[SLOT], oph = new float[SLOT];
        for (int l = 0; l < SLOT; l++) {
            int k = l / 4;
            int tx = l % 4;
            cx[l] = 2 * tx + ax[k];
            cy[l] = 2 * tx + ay[k];
            cs[l] = sg[k];
            // stage 1 (inputs W0, W1): E0 = [W0.q0, W1.q0, W0.q2, W1.q2], E1 = [W0.q1, W1.q1, W0.q3, W1.q3]
            int q = l / 4;
            int src = (q % 2 == 0 ? 0 : SLOT) + (q < 2 ? 0 : 8);
            t1e[l] = src + l % 4;
            t1o[l] = src + 4 + l % 4;
            // stage 2 (inputs E0, E2): O0 = [E0.q0, E0.q1, E2.q0, E2.q1], O2 = [E0.q2, E0.q3, E2.q2, E2.q3]
            t2l[l] = (q < 2 ? 0 : SLOT) + (q % 2) * 4 + l % 4;
            t2h[l] = (q < 2 ? 0 : SLOT) + 8 + (q % 2) * 4 + l % 4;
            // output: Z (inputs O_p0, O_p1), lane j: tile row ty = j / 8 (+2 for HI), tx = (j % 8) / 2, q = j % 2
            int ty = l / 8;
            int txo = (l % 8) / 2;
            int qq = l % 2;
            oql[l] = qq * SLOT + 4 * ty + txo;
            oqh[l] = qq * SLOT + 4 * (ty + 2) + txo;
            // rows (inputs Z_0, Z_1): lanes 0-7 row p = 0 of tile row ty, lanes 8-15 row p = 1; LO for ty even, HI odd
            opl[l] = (l < 8 ? 0 : SLOT) + l % 8;
            oph[l] = (l < 8 ? 0 : SLOT) + 8 + l % 8;
        }
        COL_X = ok ? FloatVector.fromArray(F, cx, 0).toShuffle() : null;
        COL_Y = ok ? FloatVector.fromArray(F, cy, 0).toShuffle() : null;
        COL_SIGN = ok ? FloatVector.fromArray(F, cs, 0) : null;
        T1_EVEN = ok ? ConvWinograd.ints(t1e) : null;
        T1_ODD = ok ? ConvWinograd.ints(t1o) : null;
        T2_LO = ok ? ConvWinograd.ints(t2l) : null;
        T2_HI = ok ? ConvWinograd.ints(t2h) : null;
        OUT_Q_LO = ok ? ConvWinograd.ints(oql) : null;
        OUT_Q_HI = ok ? ConvWinograd.ints(oqh) : null;
        OUT_P_LO = ok ? ConvWinograd.ints(opl) : null;
        OUT_P_HI = ok ? ConvWinograd.ints(oph) : null;
    }

    private ConvWinogradRegions() {
    }

    /**
     * Whether {@code g}'s forward pass runs here: 3x3, stride 1, padding 1, no dilation or groups,
     * height and width multiples of 8, at least {@link ConvWinograd#MIN_DEPTH} input channels,
     * output channels in eights, and rows of at most 16 outputs or at least 4096 channel pairs
     * ({@code c * oc}: the transforms' share of the work falls as it grows). Measured, 1 thread,
     * batch 64, min of 12 alternating 0.3 s rounds in one JVM, this against the direct kernels
     * (forward / input gradient, ms): 64 -> 128 at 8x8 2.45 vs 3.45 / 2.51 vs 3.50; 64 -> 64 at
     * 8x8 1.25 vs 1.75 / 1.26 vs 1.73; 32 -> 32 at 8x8 0.38 vs 0.53; 32 -> 64 at 16x16 2.92-3.43 vs
     * 3.37-3.76 / 3.04-3.85 vs 3.33-3.62; 64 -> 64 at 16x16 5.54 vs 6.72 / 5.47 vs 6.77; 64 -> 32
     * at 16x16 3.26-4.23 vs 3.36-4.29; 64 -> 64 at 32x32 21.3 vs 26.9. Left out: 32 -> 32 at
     * 32x32 (7.5-8.8 vs 7.1-8.7) and 24-wide layers, which {@link ConvWinograd} takes (32 -> 32:
     * 3.61 vs 4.22 here).
     */
    static boolean suitsForward(ConvGeom g) {
        return suitsGeometry(g) && g.c() >= ConvWinograd.MIN_DEPTH && g.oc() % MR == 0;
    }

    /** As {@link #suitsForward} for the input gradient: the output gradient's channels are the depth. */
    static boolean suitsInput(ConvGeom g) {
        return suitsGeometry(g) && g.oc() >= ConvWinograd.MIN_DEPTH && g.c() % MR == 0;
    }

    private static boolean suitsGeometry(ConvGeom g) {
        return ConvWinograd.sameLayer(g) && g.h() % 8 == 0 && g.w() % 8 == 0
                && (g.w() <= 16 || (long) g.c() * g.oc() >= 4096) && !ConvWinograd.suitsGeometry(g)
                && 16L * g.c() * g.oc() < Integer.MAX_VALUE;
    }

    /** {@code Conv.conv2d} (arguments checked, {@link #suitsForward}). */
    static void forward(float[] y, float[] x, float[] w, float[] bias, ConvGeom g) {
        float[] u = ConvDirect.packedWeights(16 * g.c() * g.oc());
        ConvWinograd.transformWeights(u, w, g.oc(), g.c(), false);
        conv2d(y, x, u, bias, g.n(), g.c(), g.oc(), g.h(), g.w());
    }

    /**
     * {@code Conv.conv2dBackwardInput} writing {@code gx} (arguments checked, {@link #suitsInput}):
     * the forward pass of the output gradient with the weight's channel axes swapped and its taps
     * rotated by 180 degrees.
     */
    static void backwardInput(float[] gx, float[] gy, float[] w, ConvGeom g) {
        float[] u = ConvDirect.packedWeights(16 * g.c() * g.oc());
        ConvWinograd.transformWeights(u, w, g.c(), g.oc(), true);
        conv2d(gx, gy, u, null, g.n(), g.oc(), g.c(), g.h(), g.w());
    }

    /**
     * {@code y = conv(x, w) (+ bias)} for {@code n} images, {@code c -> oc} channels, {@code h x w};
     * {@code u} holds the transformed weights ({@link ConvWinograd#transformWeights}).
     */
    static void conv2d(float[] y, float[] x, float[] u, float[] bias, int n, int c, int oc, int h, int w) {
        byRegions(y, x, u, bias, n, c, oc, h, w, 8, 16, ConvWinograd.chunkBlocks(c, oc, (n * (h / 8) * (w / 8) + 1) / 2),
                SCRATCH, ConvWinogradRegions::inputTransform, ConvWinogradRegions::outputTransform);
    }

    /** One region's input transform of one channel: its {@code xi} vectors into {@code v[at + xi*vStride]}. */
    interface RegionInput {
        void run(float[] v, int at, int vStride, float[] x, int xOff, int h, int w, int ry, int rx, float[] work);
    }

    /** One region's output transform of one channel (at {@code y[yOff]}) from {@code m[mOff + xi*mStride]}, plus {@code bias}. */
    interface RegionOutput {
        void run(float[] y, int yOff, int h, int w, int ry, int rx, float[] m, int mOff, int mStride, float bias, float[] work);
    }

    /**
     * Winograd by regions of {@code side x side} outputs, one per 16 lanes, with {@code xis}
     * transformed positions (this class and {@link ConvWinogradF4}): per chunk of {@code cb}
     * 32-tile blocks (two regions each), the input transforms of its regions, one GEMM per
     * {@code xi} and 8 output channels ({@link ConvMicro#kernel}), and the output transforms.
     * {@code scratch} holds per thread the transformed inputs, the products and the transforms' work array.
     */
    static void byRegions(float[] y, float[] x, float[] u, float[] bias, int n, int c, int oc, int h, int w, int side,
                          int xis, int cb, ThreadLocal<float[][]> scratch, RegionInput input, RegionOutput output) {
        int rw = (w + side - 1) / side;
        int perImage = (h + side - 1) / side * rw;
        int regions = n * perImage;
        int blocks = (regions + 1) / 2;
        int chunks = (blocks + cb - 1) / cb;
        int[] idx = new int[c];
        for (int ci = 0; ci < c; ci++) {
            idx[ci] = ci * oc;
        }
        int tl = cb * NR;
        int vStride = ConvWinograd.vStride(c, cb);
        int mStride = ConvWinograd.mStride(oc, cb);
        ConvPacked.eachImage(chunks, chunk -> {
            float[][] s = scratch.get();
            if (s[0].length < xis * vStride) {
                s[0] = new float[xis * vStride];
            }
            if (s[1].length < xis * mStride) {
                s[1] = new float[xis * mStride];
            }
            float[] v = s[0];
            float[] m = s[1];
            float[] work = s[2];
            int r0 = chunk * cb * 2;
            int nr = Math.min(cb * 2, regions - r0);
            int nb = (nr + 1) / 2;
            for (int k = 0; k < nr; k++) {
                int reg = r0 + k;
                int img = reg / perImage;
                int ry = reg % perImage / rw;
                int rx = reg % rw;
                int xImg = img * c * h * w;
                for (int ci = 0; ci < c; ci++) {
                    input.run(v, ((k / 2) * c + ci) * NR + (k % 2) * SLOT, vStride, x, xImg + ci * h * w, h, w, ry, rx, work);
                }
            }
            if (nr % 2 == 1) { // the second half of the last block: zeros (its products are not stored)
                for (int xi = 0; xi < xis; xi++) {
                    for (int ci = 0; ci < c; ci++) {
                        int at = xi * vStride + ((nb - 1) * c + ci) * NR + SLOT;
                        java.util.Arrays.fill(v, at, at + SLOT, 0f);
                    }
                }
            }
            for (int o0 = 0; o0 < oc; o0 += MR) {
                for (int xi = 0; xi < xis; xi++) {
                    for (int b = 0; b < nb; b++) {
                        ConvMicro.kernel(c, u, idx, 0, xi * c * oc + o0, v, xi * vStride + b * c * NR, m,
                                xi * mStride + b * NR, tl, false);
                    }
                }
                for (int o = o0; o < o0 + MR; o++) {
                    float bo = bias == null ? 0f : bias[o];
                    for (int k = 0; k < nr; k++) {
                        int reg = r0 + k;
                        int img = reg / perImage;
                        output.run(y, (img * oc + o) * h * w, h, w, reg % perImage / rw, reg % rw, m, (o - o0) * tl + k * SLOT,
                                mStride, bo, work);
                    }
                }
            }
        });
    }

    /**
     * The 16 vectors {@code B^T d B} (lanes {@code 4ty + tx}) of region {@code (ry, rx)} of one
     * channel (at {@code x[xOff]}, {@code h x w}) into {@code v[at + xi*vStride]}. {@code work}:
     * the padded row read from outside {@code x} (floats 0-15) and the 10 column-transformed rows
     * (from float 16).
     */
    private static void inputTransform(float[] v, int at, int vStride, float[] x, int xOff, int h, int w, int ry, int rx,
                                       float[] work) {
        int col = 8 * rx - 1;
        // the padding columns: lane 0 (column -1) in a row's first region, lane 9 (column w) in its last
        VectorMask<Float> padding = VectorMask.fromLong(F, (rx == 0 ? 1L : 0L) | (8 * rx + 8 == w ? 1L << 9 : 0L));
        int row = 8 * ry - 1;
        for (int i = 0; i < 10; i++) {
            int pr = row + i;
            int rs = xOff + pr * w + col;
            boolean image = pr >= 0 && pr < h;
            boolean inside = image && rs >= 0 && rs + SLOT <= x.length;
            float[] src = inside ? x : image ? work : ZEROS;
            int from = inside ? rs : image ? edgeRow(x, pr, rs, work) : 0;
            FloatVector p = FloatVector.fromArray(F, src, from).blend(0f, padding);
            // lane 4k + tx: (d B)[k] of tile column tx, as ConvWinograd's d0 - d2, d1 + d2, d2 - d1, d1 - d3
            p.rearrange(COL_Y).fma(COL_SIGN, p.rearrange(COL_X)).intoArray(work, SLOT + i * SLOT);
        }
        // B^T's row a over each tile row's four padded rows x0-x3 (x0 - x2, x1 + x2, x2 - x1, x1 - x3), then
        // lanes (k, tx) of tile rows 0-3 -> lanes (ty, tx) of xi = 4a + k (two rounds of two-vector permutes).
        // Written out for each a: a loop over a, loading its rows each time, took 12% longer (0.86 against
        // 0.76 ms of input transforms at 32 -> 64, 16x16, batch 64).
        FloatVector r0 = FloatVector.fromArray(F, work, SLOT);
        FloatVector r1 = FloatVector.fromArray(F, work, 2 * SLOT);
        FloatVector r2 = FloatVector.fromArray(F, work, 3 * SLOT);
        FloatVector r3 = FloatVector.fromArray(F, work, 4 * SLOT);
        FloatVector r4 = FloatVector.fromArray(F, work, 5 * SLOT);
        FloatVector r5 = FloatVector.fromArray(F, work, 6 * SLOT);
        FloatVector r6 = FloatVector.fromArray(F, work, 7 * SLOT);
        FloatVector r7 = FloatVector.fromArray(F, work, 8 * SLOT);
        FloatVector r8 = FloatVector.fromArray(F, work, 9 * SLOT);
        FloatVector r9 = FloatVector.fromArray(F, work, 10 * SLOT);
        IntVector w0 = r0.sub(r2).reinterpretAsInts();
        IntVector w1 = r2.sub(r4).reinterpretAsInts();
        IntVector w2 = r4.sub(r6).reinterpretAsInts();
        IntVector w3 = r6.sub(r8).reinterpretAsInts();
        IntVector e0 = T1_EVEN.selectFrom(w0, w1);
        IntVector e1 = T1_ODD.selectFrom(w0, w1);
        IntVector e2 = T1_EVEN.selectFrom(w2, w3);
        IntVector e3 = T1_ODD.selectFrom(w2, w3);
        int dst = at;
        T2_LO.selectFrom(e0, e2).reinterpretAsFloats().intoArray(v, dst);
        T2_LO.selectFrom(e1, e3).reinterpretAsFloats().intoArray(v, dst + vStride);
        T2_HI.selectFrom(e0, e2).reinterpretAsFloats().intoArray(v, dst + 2 * vStride);
        T2_HI.selectFrom(e1, e3).reinterpretAsFloats().intoArray(v, dst + 3 * vStride);
        w0 = r1.add(r2).reinterpretAsInts();
        w1 = r3.add(r4).reinterpretAsInts();
        w2 = r5.add(r6).reinterpretAsInts();
        w3 = r7.add(r8).reinterpretAsInts();
        e0 = T1_EVEN.selectFrom(w0, w1);
        e1 = T1_ODD.selectFrom(w0, w1);
        e2 = T1_EVEN.selectFrom(w2, w3);
        e3 = T1_ODD.selectFrom(w2, w3);
        dst = at + 4 * vStride;
        T2_LO.selectFrom(e0, e2).reinterpretAsFloats().intoArray(v, dst);
        T2_LO.selectFrom(e1, e3).reinterpretAsFloats().intoArray(v, dst + vStride);
        T2_HI.selectFrom(e0, e2).reinterpretAsFloats().intoArray(v, dst + 2 * vStride);
        T2_HI.selectFrom(e1, e3).reinterpretAsFloats().intoArray(v, dst + 3 * vStride);
        w0 = r2.sub(r1).reinterpretAsInts();
        w1 = r4.sub(r3).reinterpretAsInts();
        w2 = r6.sub(r5).reinterpretAsInts();
        w3 = r8.sub(r7).reinterpretAsInts();
        e0 = T1_EVEN.selectFrom(w0, w1);
        e1 = T1_ODD.selectFrom(w0, w1);
        e2 = T1_EVEN.selectFrom(w2, w3);
        e3 = T1_ODD.selectFrom(w2, w3);
        dst = at + 8 * vStride;
        T2_LO.selectFrom(e0, e2).reinterpretAsFloats().intoArray(v, dst);
        T2_LO.selectFrom(e1, e3).reinterpretAsFloats().intoArray(v, dst + vStride);
        T2_HI.selectFrom(e0, e2).reinterpretAsFloats().intoArray(v, dst + 2 * vStride);
        T2_HI.selectFrom(e1, e3).reinterpretAsFloats().intoArray(v, dst + 3 * vStride);
        w0 = r1.sub(r3).reinterpretAsInts();
        w1 = r3.sub(r5).reinterpretAsInts();
        w2 = r5.sub(r7).reinterpretAsInts();
        w3 = r7.sub(r9).reinterpretAsInts();
        e0 = T1_EVEN.selectFrom(w0, w1);
        e1 = T1_ODD.selectFrom(w0, w1);
        e2 = T1_EVEN.selectFrom(w2, w3);
        e3 = T1_ODD.selectFrom(w2, w3);
        dst = at + 12 * vStride;
        T2_LO.selectFrom(e0, e2).reinterpretAsFloats().intoArray(v, dst);
        T2_LO.selectFrom(e1, e3).reinterpretAsFloats().intoArray(v, dst + vStride);
        T2_HI.selectFrom(e0, e2).reinterpretAsFloats().intoArray(v, dst + 2 * vStride);
        T2_HI.selectFrom(e1, e3).reinterpretAsFloats().intoArray(v, dst + 3 * vStride);
    }

    /**
     * Image row {@code pr} from column {@code 8rx - 1} (at {@code x[rs]}) as 16 floats in
     * {@code work[0, 16)}, zeros outside {@code x}: the rows whose vector would reach past either
     * end of it. Returns 0, where {@link #inputTransform} reads it.
     */
    private static int edgeRow(float[] x, int pr, int rs, float[] work) {
        for (int j = 0; j < SLOT; j++) {
            int i = rs + j;
            work[j] = i >= 0 && i < x.length ? x[i] : 0f;
        }
        return 0;
    }

    /**
     * The 8x8 outputs of region {@code (ry, rx)} of one channel (at {@code y[channel]}, rows {@code w}
     * apart) from its 16 products {@code m[mOff + xi*mStride]} (lanes {@code 4ty + tx}), plus
     * {@code bias}: {@code A^T M A} in {@link ConvWinograd}'s order (the same lines as there: a
     * shared method passing the four vectors through memory made the row-based layout's passes
     * 1-9% slower), then rows. Each output row is
     * written as 8 lanes of a masked store whose vector lies inside {@code y}.
     */
    private static void outputTransform(float[] y, int channel, int h, int w, int ry, int rx, float[] m, int mOff, int mStride,
                                        float bias, float[] work) {
        int yOff = channel + ry * 8 * w + rx * 8;
        FloatVector a0 = FloatVector.fromArray(F, m, mOff);
        FloatVector a1 = FloatVector.fromArray(F, m, mOff + 4 * mStride);
        FloatVector a2 = FloatVector.fromArray(F, m, mOff + 8 * mStride);
        FloatVector a3 = FloatVector.fromArray(F, m, mOff + 12 * mStride);
        FloatVector s0 = a0.add(a1).add(a2);
        FloatVector u0 = a1.sub(a2).sub(a3);
        a0 = FloatVector.fromArray(F, m, mOff + mStride);
        a1 = FloatVector.fromArray(F, m, mOff + 5 * mStride);
        a2 = FloatVector.fromArray(F, m, mOff + 9 * mStride);
        a3 = FloatVector.fromArray(F, m, mOff + 13 * mStride);
        FloatVector s1 = a0.add(a1).add(a2);
        FloatVector u1 = a1.sub(a2).sub(a3);
        a0 = FloatVector.fromArray(F, m, mOff + 2 * mStride);
        a1 = FloatVector.fromArray(F, m, mOff + 6 * mStride);
        a2 = FloatVector.fromArray(F, m, mOff + 10 * mStride);
        a3 = FloatVector.fromArray(F, m, mOff + 14 * mStride);
        FloatVector s2 = a0.add(a1).add(a2);
        FloatVector u2 = a1.sub(a2).sub(a3);
        a0 = FloatVector.fromArray(F, m, mOff + 3 * mStride);
        a1 = FloatVector.fromArray(F, m, mOff + 7 * mStride);
        a2 = FloatVector.fromArray(F, m, mOff + 11 * mStride);
        a3 = FloatVector.fromArray(F, m, mOff + 15 * mStride);
        FloatVector s3 = a0.add(a1).add(a2);
        FloatVector u3 = a1.sub(a2).sub(a3);
        FloatVector e0 = s0.add(s1).add(s2).add(bias); // output (p, q) = (0, 0)
        FloatVector e1 = s1.sub(s2).sub(s3).add(bias); // (0, 1)
        FloatVector f0 = u0.add(u1).add(u2).add(bias); // (1, 0)
        FloatVector f1 = u1.sub(u2).sub(u3).add(bias); // (1, 1)
        // columns 2tx + q of rows (ty, p): tile rows 0-1 (LO) and 2-3 (HI)
        IntVector ie0 = e0.reinterpretAsInts();
        IntVector ie1 = e1.reinterpretAsInts();
        IntVector if0 = f0.reinterpretAsInts();
        IntVector if1 = f1.reinterpretAsInts();
        IntVector z0lo = OUT_Q_LO.selectFrom(ie0, ie1);
        IntVector z1lo = OUT_Q_LO.selectFrom(if0, if1);
        IntVector z0hi = OUT_Q_HI.selectFrom(ie0, ie1);
        IntVector z1hi = OUT_Q_HI.selectFrom(if0, if1);
        VectorMask<Float> low = VectorMask.fromLong(F, 0xFFL);
        VectorMask<Float> high = VectorMask.fromLong(F, 0xFF00L);
        // output rows 2ty (lanes 0-7) and 2ty + 1 (lanes 8-15)
        FloatVector r = OUT_P_LO.selectFrom(z0lo, z1lo).reinterpretAsFloats();
        r.intoArray(y, yOff, low);
        r.intoArray(y, yOff + w - 8, high);
        r = OUT_P_HI.selectFrom(z0lo, z1lo).reinterpretAsFloats();
        r.intoArray(y, yOff + 2 * w, low);
        r.intoArray(y, yOff + 3 * w - 8, high);
        r = OUT_P_LO.selectFrom(z0hi, z1hi).reinterpretAsFloats();
        r.intoArray(y, yOff + 4 * w, low);
        r.intoArray(y, yOff + 5 * w - 8, high);
        r = OUT_P_HI.selectFrom(z0hi, z1hi).reinterpretAsFloats();
        r.intoArray(y, yOff + 6 * w, low);
        r.intoArray(y, yOff + 7 * w - 8, high);
    }
}

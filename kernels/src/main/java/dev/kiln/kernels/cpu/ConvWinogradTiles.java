package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.cpu.GemmMicro.MR;
import static dev.kiln.kernels.cpu.GemmMicro.NR;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Simd;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Winograd F(2x2, 3x3) for 3x3 stride-1 "same" layers at any vector width, with an image's 2x2
 * output tiles numbered row by row ({@code T = ty*tw + tx}) and laid in consecutive lanes
 * whatever the row length: a vector of tiles may span the end of one row of tiles and the start
 * of the next, so that 14x14 (7x7 tiles) or 8x8 layers leave no lanes of padding per row. Per
 * tile and channel the 4x4 patch {@code d} of padded input becomes {@code V = B^T d B} and the
 * weight {@code g} becomes {@code U = G g G^T}; for each of the 16 positions {@code xi} of those,
 * {@code M[xi] = U[xi] V[xi]} is a GEMM (output channels x depth times depth x tiles) on the GEMM
 * micro-kernel ({@link GemmMicro#kernel}, {@link GemmMicro#MR} output channels x {@link
 * GemmMicro#NR} tiles, U packed as its A strips, V read in place); the tile's outputs are
 * {@code A^T M A}. The GEMMs hold all the multiplies: 2.25x fewer than the direct convolution's.
 *
 * <p>Work is split by units of whole images ({@link #imagesPerUnit}: enough images that their
 * tiles fill the GEMM's 16-tile strips with little padding, e.g. four 14x14 images' 196 tiles
 * in 13 strips). Per unit and input channel: the image is copied into a zero-bordered plane,
 * each padded row split into the four sequences a tile column reads ({@code (E0, O0, E1, O1)[t]}
 * = padded columns {@code 2t, 2t+1, 2t+2, 2t+3}) stored by row parity, so that patch row
 * {@code s} of {@code L} consecutive tiles is four plain loads at {@code T + (s/2)*tw} from the
 * split rows of parity {@code s % 2} (for tile row {@code ty} it is padded row {@code 2ty + s});
 * then the 4x4 transform as additions, 16 stores into V ({@code [xi][channel][tile]}). The
 * GEMMs run per group of output channels; the output transform of each channel then writes
 * two interleaved output rows per row of tiles into a row buffer, copied to the image.
 *
 * <p>Rounding as {@link ConvWinograd}'s (the same transforms, in the same order per tile); each
 * value is computed the same way at any thread count.
 */
final class ConvWinogradTiles {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Lanes 0, 2, 4, ... and 1, 3, 5, ... of two vectors side by side (deinterleave). */
    private static final VectorShuffle<Float> EVENS;
    private static final VectorShuffle<Float> ODDS;
    /** Lanes of two vectors interleaved: {@code a0 b0 a1 b1 ...} (first half, second half). */
    private static final VectorShuffle<Float> ZIP_LO;
    private static final VectorShuffle<Float> ZIP_HI;
    /**
     * Tiles (GEMM columns) a unit of images aims for: transformed input and products of a unit stay
     * in L2/L3. With {@link #GROUP_FLOATS}, swept on Zen 1 (units of 64, 128, 256 and 1024 tiles by
     * groups of 16K and 64K floats, the five 3x3 bench layers forward and input gradient): all
     * within 13% of the best per pass; 256 and 64K within 6% of it on every pass, the best on four.
     */
    static final int UNIT_TILES = 256;
    /** Floats of products (16 positions x a group of output channels x the unit's tiles) per group. */
    static final int GROUP_FLOATS = 1 << 16;
    /** The least channels to reduce over worth the transforms (measured, see {@link #ROUTED}). */
    static final int MIN_DEPTH = 16;
    /** The least output channels (rows of the GEMMs) worth the transforms (measured, see {@link #ROUTED}). */
    static final int MIN_OUT = 8;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static {
        int[] ev = new int[L];
        int[] od = new int[L];
        int[] lo = new int[L];
        int[] hi = new int[L];
        for (int l = 0; l < L; l++) {
            ev[l] = 2 * l;
            od[l] = 2 * l + 1;
            lo[l] = l / 2 + (l % 2 == 0 ? 0 : L);
            hi[l] = L / 2 + l / 2 + (l % 2 == 0 ? 0 : L);
        }
        EVENS = VectorShuffle.fromArray(F, ev, 0);
        ODDS = VectorShuffle.fromArray(F, od, 0);
        ZIP_LO = VectorShuffle.fromArray(F, lo, 0);
        ZIP_HI = VectorShuffle.fromArray(F, hi, 0);
    }

    private ConvWinogradTiles() {
    }

    /**
     * Whether {@code Conv} routes the layers this suits here: on machines with 16 vector registers
     * (AVX2), where the 16-lane Winograd kernels do not run (on AVX-512 those were measured; this
     * was not). Measured on Zen 1, 1 thread, batch 64, min of 3 rounds, this against the path it
     * replaces, forward / input gradient (ms): 32 -> 32 at 28x28 27.1 vs 18.2 / 26.5 vs 18.2; 64 -> 64
     * at 14x14 24.9 vs 15.7 / 25.0 vs 15.7; 32 -> 64 at 16x16 15.0 vs 10.1 / 17.1 vs 11.1; 64 -> 128
     * at 8x8 14.3 vs 9.4 / 15.2 vs 10.5; 16 -> 32 at 28x28 22.6 vs 11.1 / 26.2 vs 12.0; 32 -> 32 at
     * 7x7 2.49 vs 1.98 / 3.25 vs 1.97; 256 -> 256 at 4x4 29.4 vs 21.0 / 32.2 vs 21.3. Near even at 8
     * channels on either side (8 -> 32 at 28x28 7.80 vs 7.30 / 7.98 vs 7.64; 32 -> 8 10.4 vs 7.65 /
     * 7.57 vs 7.27); slower at 3 (3 -> 32 at 32x32: 4.89 vs 6.78 / 3.55 vs 7.20).
     */
    static final boolean ROUTED = Simd.REGISTERS == 16;

    /**
     * Whether {@code g}'s forward pass can run here: a 3x3 stride-1 layer with padding 1 (no
     * dilation or groups), at least {@link #MIN_DEPTH} input and {@link #MIN_OUT} output channels.
     */
    static boolean suitsForward(ConvGeom g) {
        return sameLayer(g) && g.c() >= MIN_DEPTH && g.oc() >= MIN_OUT;
    }

    /** As {@link #suitsForward} for the input gradient: the output gradient's channels are the depth. */
    static boolean suitsInput(ConvGeom g) {
        return sameLayer(g) && g.oc() >= MIN_DEPTH && g.c() >= MIN_OUT;
    }

    /**
     * 3x3, stride 1, padding 1, no dilation or groups, a non-empty image, and one image's
     * transformed channels ({@code 16 * channels * tiles} floats per thread, the largest work array)
     * within {@link #MAX_WORK} floats: a unit is at least one whole image.
     */
    static boolean sameLayer(ConvGeom g) {
        return !Simd.SCALAR && g.kh() == 3 && g.kw() == 3 && g.sh() == 1 && g.sw() == 1 && g.dh() == 1 && g.dw() == 1
                && g.ph() == 1 && g.pw() == 1 && g.groups() == 1 && g.h() > 0 && g.w() > 0
                && 16L * (Math.max(g.c(), g.oc()) + MR + L) * ((g.h() + 1L) / 2 * ((g.w() + 1L) / 2) + NR + 2L * L)
                <= MAX_WORK;
    }

    /** The most floats of one thread's largest work array (32 MB): 64 channels of a 128x128 image. */
    static final long MAX_WORK = 1L << 23;

    /** {@code Conv.conv2d} (arguments checked, {@link #suitsForward}). */
    static void forward(float[] y, float[] x, float[] w, float[] bias, ConvGeom g) {
        int panels = (g.oc() + MR - 1) / MR;
        float[] u = ConvDirect.packedWeights(16 * panels * MR * g.c());
        transformWeights(u, w, g.oc(), g.c(), false);
        conv2d(false, y, x, u, bias, g.n(), g.c(), g.oc(), g.h(), g.w());
    }

    /**
     * {@code Conv.conv2dBackwardInput} (arguments checked, {@link #suitsInput}): the forward pass
     * of the output gradient with the weight's channel axes swapped and its taps rotated by 180
     * degrees; adds to {@code gx} when {@code acc} (the same bits as writing and then adding).
     */
    static void backwardInput(boolean acc, float[] gx, float[] gy, float[] w, ConvGeom g) {
        int panels = (g.c() + MR - 1) / MR;
        float[] u = ConvDirect.packedWeights(16 * panels * MR * g.oc());
        transformWeights(u, w, g.c(), g.oc(), true);
        conv2d(acc, gx, gy, u, null, g.n(), g.oc(), g.c(), g.h(), g.w());
    }

    /**
     * Whether {@code g}'s weight gradient can run here: the layers of {@link #sameLayer} with at least
     * {@link #MIN_OUT} channels on either side (the two sides of its GEMMs; the tiles are the depth),
     * the per-slot sums of the transformed gradient ({@link #WEIGHT_SLOTS} of {@code 16 * c * oc}
     * floats, padded to whole tiles) within 32 MB. Measured on Zen 1 against the path it replaces
     * (batch 64, 1 thread, ms): 32 -> 32 at 28x28 45.4 vs 19.3, 64 -> 64 at 14x14 33.5 vs 16.3, 32 -> 64
     * at 16x16 28.2 vs 12.9, 64 -> 128 at 8x8 38.2 vs 12.3, 8 -> 32 at 28x28 21.8 vs 9.7, 32 -> 8 27.9 vs
     * 11.4, 16 -> 8 at 14x14 3.68 vs 1.59; slower with 3 input channels (3 -> 32 at 32x32 8.0 vs 12.7).
     */
    static boolean suitsWeight(ConvGeom g) {
        return sameLayer(g) && g.c() >= MIN_OUT && g.oc() >= MIN_OUT
                && (long) WEIGHT_SLOTS * 16 * (g.c() + MR + L) * (g.oc() + NR) <= 1L << 23;
    }

    /** Partial sums of the weight gradient: slot {@code s} sums units {@code s, s + slots, ...}. */
    static final int WEIGHT_SLOTS = 4;

    /**
     * {@code Conv.conv2dBackwardWeight} without the bias (arguments checked, {@link #suitsWeight}):
     * {@code dW = G^T dU G} with {@code dU[xi] = sum over tiles of V[xi] (A dY A^T)[xi]^T}. Here the
     * transforms run across channels, not tiles: each image of input and output gradient is first
     * transposed to channels-last (a zero-bordered copy; {@link GemmPack#transposeRows}), then a
     * vector of {@code L} channels of one tile is 16 (or 4) plain loads, and the transformed values
     * land tile-major ({@code [xi][tile][channel]}), which is the layout the GEMM micro-kernel reads
     * in place: A = V (input channels, {@code MR} per tile), B = the transformed output gradient
     * ({@code NR} output channels per tile), the reduction over the unit's tiles in one call. (Tile-
     * major rows through {@link Gemm#sgemmBatched} spent more time packing than multiplying: 5-row
     * strips of A are transposed element by element; dot products per unit reduced too often.)
     * Slot {@code s} sums units {@code s, s + slots, ...}; the slots are added in order, so the bits
     * do not depend on the thread count.
     */
    static void backwardWeight(float[] gw, float[] x, float[] gy, ConvGeom g) {
        int n = g.n();
        int c = g.c();
        int oc = g.oc();
        int h = g.h();
        int w = g.w();
        Geometry geo = new Geometry(n, c, oc, h, w);
        WeightGeometry wg = new WeightGeometry(geo, c, oc);
        int slots = Math.min(geo.units, WEIGHT_SLOTS);
        int duSize = 16 * wg.cp * wg.op;
        float[] du = ConvParts.buffer(slots, duSize);
        ConvPacked.eachImage(slots, slot -> {
            WeightScratch s = WeightScratch.LOCAL.get().fit(wg);
            int base = slot * duSize;
            for (int unit = slot; unit < geo.units; unit += slots) {
                int img0 = unit * geo.k;
                int imgs = Math.min(geo.k, n - img0);
                for (int i = 0; i < imgs; i++) {
                    channelsLast(s.xt, ((1 * wg.wp) + 1) * wg.cs, wg.wp * wg.cs, wg.cs, x, (img0 + i) * c * h * w, c, h, w);
                    channelsLast(s.gt, 0, 2 * geo.tw * wg.os, wg.os, gy, (img0 + i) * oc * h * w, oc, h, w);
                    inputTransformChannels(s, wg, i * geo.t);
                    gradientTransformChannels(s, wg, i * geo.t);
                }
                int p = imgs * geo.t;
                boolean acc = unit >= slots;
                for (int xi = 0; xi < 16; xi++) {
                    int vx = xi * wg.tiles * wg.cs;
                    int mx = xi * wg.tiles * wg.os;
                    int cx = base + xi * wg.cp * wg.op;
                    for (int o0 = 0; o0 < wg.op; o0 += NR) {
                        if (GemmJit.use) { // the run of tiles down the input channels in one call
                            GemmJit.tiles(s.vt, vx, wg.cs, MR, s.mt, mx + o0, wg.os, 0, du, cx + o0, wg.op, MR * wg.op, p,
                                    wg.cp / MR, acc, null, 0, 0, false);
                            continue;
                        }
                        for (int c0 = 0; c0 < wg.cp; c0 += MR) {
                            GemmMicro.kernel(p, s.vt, vx + c0, wg.cs, s.mt, mx + o0, wg.os, du, cx + c0 * wg.op + o0, wg.op,
                                    acc, null, 0, false);
                        }
                    }
                }
            }
        });
        ConvParts.sum(du, slots, duSize);
        untransformWeights(gw, du, oc, c, wg.cp, wg.op);
    }

    /** The weight gradient's sizes beyond {@link Geometry}'s. */
    private static final class WeightGeometry {
        final Geometry geo;
        /** Input channels padded to whole A strips and vectors; rows of dU (whole strips). */
        final int cs;
        final int cp;
        /** Output channels padded to whole B strips: per tile in the transformed output gradient, columns of dU. */
        final int os;
        final int op;
        /** Padded channels-last input: row length (positions), rows. */
        final int wp;
        final int hp;
        /** Tiles a unit holds at most. */
        final int tiles;
        final int c;
        final int oc;

        WeightGeometry(Geometry geo, int c, int oc) {
            this.geo = geo;
            this.c = c;
            this.oc = oc;
            cp = (c + MR - 1) / MR * MR;
            cs = Math.max(cp, (c + L - 1) / L * L);
            op = (oc + NR - 1) / NR * NR;
            os = op;
            wp = 2 * geo.tw + 2;
            hp = 2 * geo.th + 2;
            tiles = geo.k * geo.t;
        }
    }

    /** Per-thread work arrays of the weight gradient, grown on demand. */
    private static final class WeightScratch {
        static final ThreadLocal<WeightScratch> LOCAL = ThreadLocal.withInitial(WeightScratch::new);
        float[] xt = new float[0];
        float[] gt = new float[0];
        float[] vt = new float[0];
        float[] mt = new float[0];

        WeightScratch fit(WeightGeometry wg) {
            int xs = wg.hp * wg.wp * wg.cs;
            int gs = 2 * wg.geo.th * 2 * wg.geo.tw * wg.os;
            if (xt.length < xs) {
                xt = new float[xs];
            }
            if (gt.length < gs) {
                gt = new float[gs];
            }
            if (vt.length < 16 * wg.tiles * wg.cs) {
                vt = new float[16 * wg.tiles * wg.cs];
            }
            if (mt.length < 16 * wg.tiles * wg.os) {
                mt = new float[16 * wg.tiles * wg.os];
            }
            // borders and padding channels: zero (only the image's positions and channels are written)
            Arrays.fill(xt, 0, xs, 0f);
            Arrays.fill(gt, 0, gs, 0f);
            return this;
        }
    }

    /**
     * {@code dst[dOff + r*rowStride + j*cs + ch] = src[sOff + (ch*h + r)*w + j]} for {@code ch < chans},
     * {@code r < h}, {@code j < w}: one image to channels-last, row by row.
     */
    private static void channelsLast(float[] dst, int dOff, int rowStride, int cs, float[] src, int sOff, int chans, int h,
                                     int w) {
        int hw = h * w;
        for (int r = 0; r < h; r++) {
            int d = dOff + r * rowStride;
            int done = GemmPack.transposeRows(dst, d, cs, src, sOff + r * w, hw, chans, w);
            for (int ch = done; ch < chans; ch++) {
                for (int j = 0; j < w; j++) {
                    dst[d + j * cs + ch] = src[sOff + ch * hw + r * w + j];
                }
            }
        }
    }

    /**
     * {@code V = B^T d B} of every tile of the image in {@code s.xt} (padded, channels-last), {@code L}
     * channels at a time, into {@code s.vt} at {@code (xi*tiles + tOff + T)*cs + channel}.
     */
    private static void inputTransformChannels(WeightScratch s, WeightGeometry wg, int tOff) {
        float[] x = s.xt;
        float[] v = s.vt;
        int cs = wg.cs;
        int row = wg.wp * cs;
        int xs = wg.tiles * cs;
        int tw = wg.geo.tw;
        int th = wg.geo.th;
        for (int ty = 0; ty < th; ty++) {
            for (int tx = 0; tx < tw; tx++) {
                int at = (2 * ty * wg.wp + 2 * tx) * cs;
                int dst0 = (tOff + ty * tw + tx) * cs;
                for (int c0 = 0; c0 < wg.c; c0 += L) { // channels past c: read only into rows of dU past c
                    int q = at + c0;
                    FloatVector d0 = FloatVector.fromArray(F, x, q);
                    FloatVector d1 = FloatVector.fromArray(F, x, q + cs);
                    FloatVector d2 = FloatVector.fromArray(F, x, q + 2 * cs);
                    FloatVector d3 = FloatVector.fromArray(F, x, q + 3 * cs);
                    FloatVector a0 = d0.sub(d2);
                    FloatVector a1 = d1.add(d2);
                    FloatVector a2 = d2.sub(d1);
                    FloatVector a3 = d1.sub(d3);
                    q += row;
                    d0 = FloatVector.fromArray(F, x, q);
                    d1 = FloatVector.fromArray(F, x, q + cs);
                    d2 = FloatVector.fromArray(F, x, q + 2 * cs);
                    d3 = FloatVector.fromArray(F, x, q + 3 * cs);
                    FloatVector b0 = d0.sub(d2);
                    FloatVector b1 = d1.add(d2);
                    FloatVector b2 = d2.sub(d1);
                    FloatVector b3 = d1.sub(d3);
                    q += row;
                    d0 = FloatVector.fromArray(F, x, q);
                    d1 = FloatVector.fromArray(F, x, q + cs);
                    d2 = FloatVector.fromArray(F, x, q + 2 * cs);
                    d3 = FloatVector.fromArray(F, x, q + 3 * cs);
                    FloatVector c0v = d0.sub(d2);
                    FloatVector c1v = d1.add(d2);
                    FloatVector c2v = d2.sub(d1);
                    FloatVector c3v = d1.sub(d3);
                    q += row;
                    d0 = FloatVector.fromArray(F, x, q);
                    d1 = FloatVector.fromArray(F, x, q + cs);
                    d2 = FloatVector.fromArray(F, x, q + 2 * cs);
                    d3 = FloatVector.fromArray(F, x, q + 3 * cs);
                    FloatVector g0 = d0.sub(d2);
                    FloatVector g1 = d1.add(d2);
                    FloatVector g2 = d2.sub(d1);
                    FloatVector g3 = d1.sub(d3);
                    int dst = dst0 + c0;
                    a0.sub(c0v).intoArray(v, dst);
                    a1.sub(c1v).intoArray(v, dst + xs);
                    a2.sub(c2v).intoArray(v, dst + 2 * xs);
                    a3.sub(c3v).intoArray(v, dst + 3 * xs);
                    b0.add(c0v).intoArray(v, dst + 4 * xs);
                    b1.add(c1v).intoArray(v, dst + 5 * xs);
                    b2.add(c2v).intoArray(v, dst + 6 * xs);
                    b3.add(c3v).intoArray(v, dst + 7 * xs);
                    c0v.sub(b0).intoArray(v, dst + 8 * xs);
                    c1v.sub(b1).intoArray(v, dst + 9 * xs);
                    c2v.sub(b2).intoArray(v, dst + 10 * xs);
                    c3v.sub(b3).intoArray(v, dst + 11 * xs);
                    b0.sub(g0).intoArray(v, dst + 12 * xs);
                    b1.sub(g1).intoArray(v, dst + 13 * xs);
                    b2.sub(g2).intoArray(v, dst + 14 * xs);
                    b3.sub(g3).intoArray(v, dst + 15 * xs);
                }
            }
        }
    }

    /**
     * {@code A dY A^T} of every tile of the output gradient in {@code s.gt} (channels-last, zero past
     * the image), {@code L} channels at a time, into {@code s.mt} at {@code (xi*tiles + tOff + T)*os + channel}.
     */
    private static void gradientTransformChannels(WeightScratch s, WeightGeometry wg, int tOff) {
        float[] y = s.gt;
        float[] m = s.mt;
        int os = wg.os;
        int tw = wg.geo.tw;
        int th = wg.geo.th;
        int row = 2 * tw * os;
        int xs = wg.tiles * os;
        for (int ty = 0; ty < th; ty++) {
            for (int tx = 0; tx < tw; tx++) {
                int at = (2 * ty * 2 * tw + 2 * tx) * os;
                int dst0 = (tOff + ty * tw + tx) * os;
                for (int o0 = 0; o0 < wg.oc; o0 += L) { // channels past oc: read only into columns of dU past oc
                    // each row (y0, y1) to (y0, y0 + y1, y0 - y1, -y1), then the same down the columns
                    int q = at + o0;
                    FloatVector y0 = FloatVector.fromArray(F, y, q);
                    FloatVector y1 = FloatVector.fromArray(F, y, q + os);
                    FloatVector k0 = y0;
                    FloatVector k1 = y0.add(y1);
                    FloatVector k2 = y0.sub(y1);
                    FloatVector k3 = y1.neg();
                    y0 = FloatVector.fromArray(F, y, q + row);
                    y1 = FloatVector.fromArray(F, y, q + row + os);
                    FloatVector l0 = y0;
                    FloatVector l1 = y0.add(y1);
                    FloatVector l2 = y0.sub(y1);
                    FloatVector l3 = y1.neg();
                    int dst = dst0 + o0;
                    k0.intoArray(m, dst);
                    k1.intoArray(m, dst + xs);
                    k2.intoArray(m, dst + 2 * xs);
                    k3.intoArray(m, dst + 3 * xs);
                    k0.add(l0).intoArray(m, dst + 4 * xs);
                    k1.add(l1).intoArray(m, dst + 5 * xs);
                    k2.add(l2).intoArray(m, dst + 6 * xs);
                    k3.add(l3).intoArray(m, dst + 7 * xs);
                    k0.sub(l0).intoArray(m, dst + 8 * xs);
                    k1.sub(l1).intoArray(m, dst + 9 * xs);
                    k2.sub(l2).intoArray(m, dst + 10 * xs);
                    k3.sub(l3).intoArray(m, dst + 11 * xs);
                    l0.neg().intoArray(m, dst + 12 * xs);
                    l1.neg().intoArray(m, dst + 13 * xs);
                    l2.neg().intoArray(m, dst + 14 * xs);
                    l3.neg().intoArray(m, dst + 15 * xs);
                }
            }
        }
    }

    /**
     * {@code gw[o, ci] = G^T dU G} for {@code dU[(xi*cp + ci)*op + o]} ({@code xi = 4a + b}), in
     * double, rounded once.
     */
    private static void untransformWeights(float[] gw, float[] du, int oc, int c, int cp, int op) {
        double[] t = new double[12];
        int xs = cp * op;
        for (int o = 0; o < oc; o++) {
            for (int ci = 0; ci < c; ci++) {
                int at = ci * op + o;
                for (int a = 0; a < 4; a++) { // (dU G)[a][j]
                    double u0 = du[(4 * a) * xs + at];
                    double u1 = du[(4 * a + 1) * xs + at];
                    double u2 = du[(4 * a + 2) * xs + at];
                    double u3 = du[(4 * a + 3) * xs + at];
                    t[3 * a] = u0 + 0.5 * (u1 + u2);
                    t[3 * a + 1] = 0.5 * (u1 - u2);
                    t[3 * a + 2] = 0.5 * (u1 + u2) + u3;
                }
                int out = (o * c + ci) * 9;
                for (int j = 0; j < 3; j++) { // G^T (dU G)
                    gw[out + j] = (float) (t[j] + 0.5 * (t[3 + j] + t[6 + j]));
                    gw[out + 3 + j] = (float) (0.5 * (t[3 + j] - t[6 + j]));
                    gw[out + 6 + j] = (float) (0.5 * (t[3 + j] + t[6 + j]) + t[9 + j]);
                }
            }
        }
    }

    /**
     * Images per unit: at most {@link #UNIT_TILES} tiles' worth (at least one image), the count
     * whose tiles leave the least padding in the last 16-tile strip (the fewest images of those).
     */
    static int imagesPerUnit(int n, int tiles) {
        int most = Math.clamp(UNIT_TILES / tiles, 1, n);
        int best = 1;
        double least = 1;
        for (int k = 1; k <= most; k++) {
            int cols = (k * tiles + NR - 1) / NR * NR;
            double waste = (cols - k * tiles) / (double) cols;
            if (waste < least - 1e-3) {
                least = waste;
                best = k;
            }
        }
        return best;
    }

    /**
     * {@code y (=|+=) conv(x, w) (+ bias)} for {@code n} images, {@code c -> oc} channels,
     * {@code h x w}; adds to {@code y} when {@code acc} ({@code bias} then null). {@code u} holds
     * the transformed weights ({@link #transformWeights}).
     */
    static void conv2d(boolean acc, float[] y, float[] x, float[] u, float[] bias, int n, int c, int oc, int h, int w) {
        Geometry geo = new Geometry(n, c, oc, h, w);
        ConvPacked.eachImage(geo.units, unit -> {
            Scratch s = SCRATCH.get().fit(geo);
            int img0 = unit * geo.k;
            int imgs = Math.min(geo.k, n - img0);
            int strips = (imgs * geo.t + NR - 1) / NR;
            for (int i = 0; i < imgs; i++) {
                int xImg = (img0 + i) * c * h * w;
                for (int ci = 0; ci < c; ci++) {
                    inputTransform(s, geo, x, xImg + ci * h * w, ci * geo.ldv + i * geo.t);
                }
            }
            int vXi = c * geo.ldv;
            for (int p0 = 0; p0 < geo.panels; p0 += geo.group) {
                int pn = Math.min(geo.group, geo.panels - p0);
                for (int xi = 0; xi < 16; xi++) {
                    for (int st = 0; st < strips; st++) {
                        if (GemmJit.use) { // the panels' tiles of this strip in one call: the same tiles, the same bits
                            GemmJit.tiles(u, (xi * geo.panels + p0) * c * MR, c * MR, s.v, xi * vXi + st * NR, geo.ldv, 0,
                                    s.m, xi * geo.group * MR * geo.ldv + st * NR, geo.ldv, MR * geo.ldv, c, pn, false, null,
                                    0, 0, false);
                            continue;
                        }
                        for (int p = 0; p < pn; p++) {
                            GemmMicro.kernel(c, u, ((xi * geo.panels + p0 + p) * c) * MR, s.v, xi * vXi + st * NR, geo.ldv,
                                    s.m, (xi * geo.group + p) * MR * geo.ldv + st * NR, geo.ldv, false, null, 0, false);
                        }
                    }
                }
                int o1 = Math.min(oc, (p0 + pn) * MR);
                for (int o = p0 * MR; o < o1; o++) {
                    float bo = bias == null ? 0f : bias[o];
                    for (int i = 0; i < imgs; i++) {
                        outputTransform(acc, s, geo, y, ((img0 + i) * oc + o) * h * w, (o - p0 * MR) * geo.ldv + i * geo.t, bo);
                    }
                }
            }
        });
    }

    /** The sizes of one call. */
    private static final class Geometry {
        final int h;
        final int w;
        /** Tile rows, tile columns, tiles per image. */
        final int th;
        final int tw;
        final int t;
        /** Images per unit, units. */
        final int k;
        final int units;
        /** Output channel panels of MR, panels per group of products. */
        final int panels;
        final int group;
        /** Floats from one channel's (or output channel's) tiles to the next in V and M. */
        final int ldv;
        /** Padded plane: row length (a multiple of 2L, plus 2), rows. */
        final int wp;
        final int hp;
        /** Split rows per parity: floats (th + 1 rows of tw, plus a vector). */
        final int split;
        final int c;

        Geometry(int n, int c, int oc, int h, int w) {
            this.c = c;
            this.h = h;
            this.w = w;
            th = (h + 1) / 2;
            tw = (w + 1) / 2;
            t = th * tw;
            k = imagesPerUnit(n, t);
            units = (n + k - 1) / k;
            panels = (oc + MR - 1) / MR;
            int cols = (k * t + NR - 1) / NR * NR;
            // a vector past the last tile, and not a multiple of 1 KB (rows one L1 set apart)
            int ld = cols + L;
            ldv = ld % 256 == 0 ? ld + L : ld;
            group = Math.clamp(GROUP_FLOATS / (16 * MR * ldv), 1, panels);
            int chunks = (tw + L - 1) / L;
            wp = 2 * chunks * L + 2 + L;
            hp = 2 * th + 2;
            split = (th + 1) * tw + L;
        }
    }

    /** Per-thread work arrays, grown on demand. */
    private static final class Scratch {
        float[] v = new float[0];
        float[] m = new float[0];
        float[] pad = new float[0];
        float[] split = new float[0];
        float[] z = new float[0];
        Scratch fit(Geometry geo) {
            if (v.length < 16 * geo.c * geo.ldv) {
                v = new float[16 * geo.c * geo.ldv];
            }
            if (m.length < 16 * geo.group * MR * geo.ldv) {
                m = new float[16 * geo.group * MR * geo.ldv];
            }
            if (pad.length < geo.hp * geo.wp) {
                pad = new float[geo.hp * geo.wp];
            }
            if (split.length < 8 * geo.split) {
                split = new float[8 * geo.split];
            }
            int zl = 2 * (2 * geo.t + 2 * L);
            if (z.length < zl) {
                z = new float[zl];
            }
            // the padded plane's border: zero (only the image's columns of its rows are written)
            Arrays.fill(pad, 0, geo.hp * geo.wp, 0f);
            return this;
        }
    }

    /**
     * The 16 rows {@code V[xi]} of one channel of one image ({@code x[xOff]}, {@code h x w}) into
     * {@code s.v} at {@code xi * c * ldv + vOff + T}.
     */
    private static void inputTransform(Scratch s, Geometry geo, float[] x, int xOff, int vOff) {
        int h = geo.h;
        int w = geo.w;
        int wp = geo.wp;
        int tw = geo.tw;
        float[] pad = s.pad;
        float[] sp = s.split;
        for (int r = 0; r < h; r++) {
            System.arraycopy(x, xOff + r * w, pad, (r + 1) * wp + 1, w);
        }
        int ss = geo.split;
        for (int pr = 0; pr < geo.hp; pr++) {
            int base = (pr & 1) * 4 * ss + (pr >> 1) * tw;
            int row = pr * wp;
            for (int j = 0; j < tw; j += L) {
                FloatVector a0 = FloatVector.fromArray(F, pad, row + 2 * j);
                FloatVector a1 = FloatVector.fromArray(F, pad, row + 2 * j + L);
                FloatVector b0 = FloatVector.fromArray(F, pad, row + 2 * j + 2);
                FloatVector b1 = FloatVector.fromArray(F, pad, row + 2 * j + 2 + L);
                a0.rearrange(EVENS, a1).intoArray(sp, base + j);
                a0.rearrange(ODDS, a1).intoArray(sp, base + ss + j);
                b0.rearrange(EVENS, b1).intoArray(sp, base + 2 * ss + j);
                b0.rearrange(ODDS, b1).intoArray(sp, base + 3 * ss + j);
            }
        }
        float[] v = s.v;
        int xs = geo.c * geo.ldv;
        int e = 4 * ss; // odd padded rows
        for (int t0 = 0; t0 < geo.t; t0 += L) {
            int r1 = t0 + tw; // patch rows 2 and 3: the split rows one tile row on
            // column transform (d B) of patch rows 0..3: d0 - d2, d1 + d2, d2 - d1, d1 - d3
            FloatVector d0 = FloatVector.fromArray(F, sp, t0);
            FloatVector d1 = FloatVector.fromArray(F, sp, ss + t0);
            FloatVector d2 = FloatVector.fromArray(F, sp, 2 * ss + t0);
            FloatVector d3 = FloatVector.fromArray(F, sp, 3 * ss + t0);
            FloatVector a0 = d0.sub(d2);
            FloatVector a1 = d1.add(d2);
            FloatVector a2 = d2.sub(d1);
            FloatVector a3 = d1.sub(d3);
            d0 = FloatVector.fromArray(F, sp, e + t0);
            d1 = FloatVector.fromArray(F, sp, e + ss + t0);
            d2 = FloatVector.fromArray(F, sp, e + 2 * ss + t0);
            d3 = FloatVector.fromArray(F, sp, e + 3 * ss + t0);
            FloatVector b0 = d0.sub(d2);
            FloatVector b1 = d1.add(d2);
            FloatVector b2 = d2.sub(d1);
            FloatVector b3 = d1.sub(d3);
            d0 = FloatVector.fromArray(F, sp, r1);
            d1 = FloatVector.fromArray(F, sp, ss + r1);
            d2 = FloatVector.fromArray(F, sp, 2 * ss + r1);
            d3 = FloatVector.fromArray(F, sp, 3 * ss + r1);
            FloatVector c0 = d0.sub(d2);
            FloatVector c1 = d1.add(d2);
            FloatVector c2 = d2.sub(d1);
            FloatVector c3 = d1.sub(d3);
            d0 = FloatVector.fromArray(F, sp, e + r1);
            d1 = FloatVector.fromArray(F, sp, e + ss + r1);
            d2 = FloatVector.fromArray(F, sp, e + 2 * ss + r1);
            d3 = FloatVector.fromArray(F, sp, e + 3 * ss + r1);
            FloatVector g0 = d0.sub(d2);
            FloatVector g1 = d1.add(d2);
            FloatVector g2 = d2.sub(d1);
            FloatVector g3 = d1.sub(d3);
            // row transform B^T: rows a - c, b + c, c - b, b - g (a, b, c, g: patch rows 0..3)
            int dst = vOff + t0;
            a0.sub(c0).intoArray(v, dst);
            a1.sub(c1).intoArray(v, dst + xs);
            a2.sub(c2).intoArray(v, dst + 2 * xs);
            a3.sub(c3).intoArray(v, dst + 3 * xs);
            b0.add(c0).intoArray(v, dst + 4 * xs);
            b1.add(c1).intoArray(v, dst + 5 * xs);
            b2.add(c2).intoArray(v, dst + 6 * xs);
            b3.add(c3).intoArray(v, dst + 7 * xs);
            c0.sub(b0).intoArray(v, dst + 8 * xs);
            c1.sub(b1).intoArray(v, dst + 9 * xs);
            c2.sub(b2).intoArray(v, dst + 10 * xs);
            c3.sub(b3).intoArray(v, dst + 11 * xs);
            b0.sub(g0).intoArray(v, dst + 12 * xs);
            b1.sub(g1).intoArray(v, dst + 13 * xs);
            b2.sub(g2).intoArray(v, dst + 14 * xs);
            b3.sub(g3).intoArray(v, dst + 15 * xs);
        }
    }

    /**
     * One output channel of one image ({@code y[yOff]}, {@code h x w}) from its products
     * ({@code s.m[xi * group * MR * ldv + mOff + T]}) plus {@code bias}, plus what {@code y} held
     * when {@code acc}.
     */
    private static void outputTransform(boolean acc, Scratch s, Geometry geo, float[] y, int yOff, int mOff, float bias) {
        float[] m = s.m;
        float[] z = s.z;
        int ms = geo.group * MR * geo.ldv;
        int zs = 2 * geo.t + 2 * L; // second row buffer: odd output rows
        for (int t0 = 0; t0 < geo.t; t0 += L) {
            int at = mOff + t0;
            FloatVector a0 = FloatVector.fromArray(F, m, at);
            FloatVector a1 = FloatVector.fromArray(F, m, at + 4 * ms);
            FloatVector a2 = FloatVector.fromArray(F, m, at + 8 * ms);
            FloatVector a3 = FloatVector.fromArray(F, m, at + 12 * ms);
            FloatVector s0 = a0.add(a1).add(a2);
            FloatVector u0 = a1.sub(a2).sub(a3);
            a0 = FloatVector.fromArray(F, m, at + ms);
            a1 = FloatVector.fromArray(F, m, at + 5 * ms);
            a2 = FloatVector.fromArray(F, m, at + 9 * ms);
            a3 = FloatVector.fromArray(F, m, at + 13 * ms);
            FloatVector s1 = a0.add(a1).add(a2);
            FloatVector u1 = a1.sub(a2).sub(a3);
            a0 = FloatVector.fromArray(F, m, at + 2 * ms);
            a1 = FloatVector.fromArray(F, m, at + 6 * ms);
            a2 = FloatVector.fromArray(F, m, at + 10 * ms);
            a3 = FloatVector.fromArray(F, m, at + 14 * ms);
            FloatVector s2 = a0.add(a1).add(a2);
            FloatVector u2 = a1.sub(a2).sub(a3);
            a0 = FloatVector.fromArray(F, m, at + 3 * ms);
            a1 = FloatVector.fromArray(F, m, at + 7 * ms);
            a2 = FloatVector.fromArray(F, m, at + 11 * ms);
            a3 = FloatVector.fromArray(F, m, at + 15 * ms);
            FloatVector s3 = a0.add(a1).add(a2);
            FloatVector u3 = a1.sub(a2).sub(a3);
            FloatVector e0 = s0.add(s1).add(s2).add(bias);
            FloatVector e1 = s1.sub(s2).sub(s3).add(bias);
            FloatVector f0 = u0.add(u1).add(u2).add(bias);
            FloatVector f1 = u1.sub(u2).sub(u3).add(bias);
            int zo = 2 * t0;
            e0.rearrange(ZIP_LO, e1).intoArray(z, zo);
            e0.rearrange(ZIP_HI, e1).intoArray(z, zo + L);
            f0.rearrange(ZIP_LO, f1).intoArray(z, zs + zo);
            f0.rearrange(ZIP_HI, f1).intoArray(z, zs + zo + L);
        }
        int h = geo.h;
        int w = geo.w;
        int zw = 2 * geo.tw;
        for (int r = 0; r < h; r++) {
            int from = (r & 1) * zs + (r >> 1) * zw;
            int to = yOff + r * w;
            if (acc) {
                ConvLowering.addInto(y, to, z, from, w);
            } else {
                System.arraycopy(z, from, y, to, w);
            }
        }
    }

    /**
     * {@code u} as the GEMM's A strips: {@code u[((xi*panels + o/MR)*c + ci)*MR + o%MR] = (G g G^T)[xi]}
     * for {@code g = w[o, ci]} ({@code w} as {@code [oc, c, 3, 3]}), or when {@code flip}, for
     * {@code g = w[ci, o]} rotated by 180 degrees ({@code w} as {@code [c, oc, 3, 3]}); zeros for
     * the rows past {@code oc} in the last panel.
     */
    static void transformWeights(float[] u, float[] w, int oc, int c, boolean flip) {
        int panels = (oc + MR - 1) / MR;
        float[] t = new float[12];
        float[] uu = new float[16];
        Arrays.fill(u, 0, 16 * panels * MR * c, 0f);
        for (int o = 0; o < oc; o++) {
            for (int ci = 0; ci < c; ci++) {
                ConvWinograd.transformKernel(uu, t, w, flip ? (ci * oc + o) * 9 : (o * c + ci) * 9, flip);
                for (int xi = 0; xi < 16; xi++) {
                    u[((xi * panels + o / MR) * c + ci) * MR + o % MR] = uu[xi];
                }
            }
        }
    }
}

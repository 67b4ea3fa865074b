package dev.kiln.kernels.cpu;

import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Simd;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * The im2col + GEMM lowering behind {@link Conv}, for runs of images that share one GEMM: their
 * column matrices sit side by side ({@code [K, images * P]}, with
 * {@code K = c/groups * kh * kw} and {@code P = oh * ow}), so the GEMM sees {@code images * P}
 * columns instead of {@code P} (64 for an 8 x 8 output) and runs near its large-shape rate. The
 * output gradient is gathered into the same side-by-side layout ({@code [ocg, images * P]}) where a
 * GEMM reads it, and forward outputs are scattered back (bias added on the way). A 1x1 stride-1
 * unpadded convolution uses the input itself as its column matrix, one image at a time.
 */
final class ConvGemm {
    /** Images join one GEMM until it has this many columns ... */
    static final int TARGET_COLUMNS = 1024;
    /** ... as long as their column matrix stays under this many floats (it should stay in L2/L3). */
    static final int MAX_COL_FLOATS = 1 << 18;
    /** Scratch up to this many floats is kept per thread across calls; larger buffers are made per call. */
    private static final int CACHED_FLOATS = 1 << 20;
    /** Per-thread scratch: column matrix and output-gradient buffer, grown on demand. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private final ConvGeom g;
    private final int cg;
    private final int ocg;
    private final int p;
    private final int k;
    private final int xImage;
    private final int xGroup;
    private final int yImage;
    private final int yGroup;
    private final int wGroup;
    private final boolean pointwise;
    private final ConvLowering lowering;
    /** Runs the batch is cut into: run {@code r} holds images {@code [r*n/runs, (r+1)*n/runs)}. */
    final int runs;
    private final float[] col;
    /** Forward output or gathered output gradient of a run, {@code [ocg, count * P]}. */
    private final float[] grad;

    /** Sizes from the geometry, and scratch for the calling thread: the column matrix and a {@code [ocg, images * P]} buffer. */
    ConvGemm(ConvGeom g) {
        this.g = g;
        cg = g.cPerGroup();
        ocg = g.ocPerGroup();
        p = g.oh() * g.ow();
        k = cg * g.kh() * g.kw();
        xImage = g.c() * g.h() * g.w();
        xGroup = cg * g.h() * g.w();
        yImage = g.oc() * p;
        yGroup = ocg * p;
        wGroup = ocg * k;
        pointwise = g.isPointwise();
        lowering = pointwise ? null : new ConvLowering(cg, g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(),
                g.dh(), g.dw(), g.oh(), g.ow());
        int images = imagesPerRun(g);
        runs = Math.ceilDiv(g.n(), images);
        float[][] scratch = SCRATCH.get();
        col = pointwise ? null : scratch(scratch, 0, k * p * images);
        grad = images > 1 ? scratch(scratch, 1, ocg * p * images) : null;
    }

    private static float[] scratch(float[][] buffers, int which, int size) {
        if (size > CACHED_FLOATS) {
            return new float[size];
        }
        if (buffers[which].length < size) {
            buffers[which] = new float[size];
        }
        return buffers[which];
    }

    /**
     * Images per run: enough that a GEMM sees about {@link #TARGET_COLUMNS} columns, few enough that
     * their column matrix stays under {@link #MAX_COL_FLOATS}; 1 for pointwise convolutions. It
     * depends on the geometry only, so the runs, and hence the results, do not depend on the thread count.
     */
    static int imagesPerRun(ConvGeom g) {
        int p = g.oh() * g.ow();
        long perImage = ConvArgs.product(g.cPerGroup(), g.kh(), g.kw(), p);
        if (perImage > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("conv2d: im2col buffer of " + perImage
                    + " floats exceeds the largest Java array; geometry " + g);
        }
        if (g.isPointwise()) {
            return 1;
        }
        return (int) Math.clamp(Math.min(Math.ceilDiv(TARGET_COLUMNS, p), MAX_COL_FLOATS / perImage), 1, g.n());
    }

    /** Runs {@code [lo, hi)}, one after the other. */
    void forRuns(int lo, int hi, RunBody body) {
        for (int r = lo; r < hi; r++) {
            int first = (int) ((long) r * g.n() / runs);
            int end = (int) ((long) (r + 1) * g.n() / runs);
            body.run(first, end - first);
        }
    }

    /** A run of {@code count} images from {@code first}. */
    @FunctionalInterface
    interface RunBody {
        void run(int first, int count);
    }

    /** {@code y} of images {@code [first, first+count)} (writes), group by group. */
    void forward(float[] y, float[] x, float[] w, float[] bias, int first, int count) {
        int np = count * p;
        for (int gi = 0; gi < g.groups(); gi++) {
            int yOff = first * yImage + gi * yGroup;
            float[] b = lower(x, first, count, gi);
            int bOff = pointwise ? first * xImage + gi * xGroup : 0;
            if (count == 1) {
                if (bias != null) {
                    for (int o = 0; o < ocg; o++) {
                        Arrays.fill(y, yOff + o * p, yOff + (o + 1) * p, bias[gi * ocg + o]);
                    }
                }
                Gemm.sgemm(bias != null, y, yOff, p, false, w, gi * wGroup, k, false, b, bOff, p, ocg, p, k);
                continue;
            }
            float[] out = grad;
            Gemm.sgemm(false, out, 0, np, false, w, gi * wGroup, k, false, b, bOff, np, ocg, np, k);
            for (int t = 0; t < count; t++) {
                for (int o = 0; o < ocg; o++) {
                    int dst = yOff + t * yImage + o * p;
                    int src = o * np + t * p;
                    if (bias == null) {
                        System.arraycopy(out, src, y, dst, p);
                    } else {
                        addScalar(y, dst, out, src, bias[gi * ocg + o], p);
                    }
                }
            }
        }
    }

    /** {@code gx} of images {@code [first, first+count)} (writes). */
    void backwardInput(float[] gx, float[] gy, float[] w, int first, int count) {
        int np = count * p;
        for (int gi = 0; gi < g.groups(); gi++) {
            int xOff = first * xImage + gi * xGroup;
            if (pointwise) {
                Gemm.sgemm(false, gx, xOff, p, true, w, gi * wGroup, k, false, gy, first * yImage + gi * yGroup, p,
                        k, p, ocg);
                continue;
            }
            float[] a = gather(gy, first, count, gi);
            int aOff = count == 1 ? first * yImage + gi * yGroup : 0;
            Gemm.sgemm(false, col, 0, np, true, w, gi * wGroup, k, false, a, aOff, np, k, np, ocg);
            for (int t = 0; t < count; t++) {
                int xi = xOff + t * xImage;
                Arrays.fill(gx, xi, xi + xGroup, 0f);
                lowering.col2im(gx, xi, col, t * p, np, true);
            }
        }
    }

    /** {@code gw (=|+=) dL/dw} over images {@code [first, first+count)}; adds when {@code acc}. */
    void backwardWeight(boolean acc, float[] gw, float[] x, float[] gy, int first, int count) {
        int np = count * p;
        for (int gi = 0; gi < g.groups(); gi++) {
            float[] b = lower(x, first, count, gi);
            int bOff = pointwise ? first * xImage + gi * xGroup : 0;
            float[] a = gather(gy, first, count, gi);
            int aOff = count == 1 ? first * yImage + gi * yGroup : 0;
            Gemm.sgemm(acc, gw, gi * wGroup, k, false, a, aOff, np, true, b, bOff, np, ocg, k, np);
        }
    }

    /** The column matrix of group {@code gi} of the run: the input itself when pointwise, else im2col into {@link #col}. */
    private float[] lower(float[] x, int first, int count, int gi) {
        if (pointwise) {
            return x;
        }
        int np = count * p;
        for (int t = 0; t < count; t++) {
            lowering.im2col(col, t * p, np, x, (first + t) * xImage + gi * xGroup);
        }
        return col;
    }

    /** Group {@code gi} of {@code gy} for the run as {@code [ocg, count * P]}: {@code gy} itself for one image. */
    private float[] gather(float[] gy, int first, int count, int gi) {
        if (count == 1) {
            return gy;
        }
        int np = count * p;
        float[] out = grad;
        for (int t = 0; t < count; t++) {
            for (int o = 0; o < ocg; o++) {
                System.arraycopy(gy, (first + t) * yImage + gi * yGroup + o * p, out, o * np + t * p, p);
            }
        }
        return out;
    }

    /** {@code dst[dOff + i] = src[sOff + i] + s} for {@code i < len}. */
    static void addScalar(float[] dst, int dOff, float[] src, int sOff, float s, int len) {
        int i = 0;
        if (!Simd.SCALAR) {
            FloatVector sv = FloatVector.broadcast(Simd.F, s);
            for (int bound = Simd.F.loopBound(len); i < bound; i += Simd.F.length()) {
                FloatVector.fromArray(Simd.F, src, sOff + i).add(sv).intoArray(dst, dOff + i);
            }
        }
        for (; i < len; i++) {
            dst[dOff + i] = src[sOff + i] + s;
        }
    }
}

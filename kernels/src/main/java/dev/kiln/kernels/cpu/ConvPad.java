package dev.kiln.kernels.cpu;

import dev.kiln.kernels.Simd;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * A per-thread buffer for zero-padded images ({@link ConvPad#pad} layout) that zeroes its
 * padding once per layout instead of once per image: consecutive images of one layout write the
 * same interior, so only the interior is copied ({@link #pad}), row by row in whole vectors. (Per
 * image zero fills and one {@code arraycopy} per 8-float row took 10-19% of a 64 -> 128 8x8 pass.)
 */
final class ConvPad {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();

    private float[] buf = new float[0];
    /** The layout whose padding is zero now: planes, rows, columns, padded rows and columns, padding; null for none. */
    private int[] zeroFor;

    /**
     * The buffer, at least {@code cp.paddedSize()} floats, with zeros wherever {@link #pad} for
     * {@code cp}'s layout does not write.
     */
    float[] zeroed(ConvPacked cp) {
        return zeroed(cp, cp.paddedSize());
    }

    /**
     * As {@link #zeroed(ConvPacked)} with {@code size} floats (at least {@code cp.paddedSize()}:
     * more slack for kernels whose loads run further past the last plane).
     */
    float[] zeroed(ConvPacked cp, int size) {
        // compared field by field: a key array built per call cost 48 B per image
        int[] z = zeroFor;
        if (buf.length < size || z == null || z[0] != cp.cin || z[1] != cp.h || z[2] != cp.w || z[3] != cp.hp
                || z[4] != cp.wp || z[5] != cp.ph || z[6] != cp.pw || z[7] != size) {
            if (buf.length < size) {
                buf = new float[size];
            } else {
                Arrays.fill(buf, 0, size, 0f);
            }
            zeroFor = new int[] {cp.cin, cp.h, cp.w, cp.hp, cp.wp, cp.ph, cp.pw, size};
        }
        return buf;
    }

    /** The buffer, at least {@code size} floats of any content; its padding is no longer known to be zero. */
    float[] raw(int size) {
        if (buf.length < size) {
            buf = new float[size];
        }
        zeroFor = null;
        return buf;
    }

    /**
     * Copies the {@code cin} planes {@code h x w} at {@code x[xOff]} into the interior of
     * {@code xpad} ({@code ph} rows down, {@code pw} columns right, in {@code hp x wp} planes); the
     * rest of {@code xpad} is left as it is (zero when it came from {@link #zeroed}).
     */
    static void pad(float[] xpad, ConvPacked cp, float[] x, int xOff) {
        pad(xpad, 0, cp, x, xOff);
    }

    /** As {@link #pad(float[], ConvPacked, float[], int)}, into {@code xpad} from {@code dOff}. */
    static void pad(float[] xpad, int dOff, ConvPacked cp, float[] x, int xOff) {
        int h = cp.h;
        int w = cp.w;
        int plane = cp.hp * cp.wp;
        if (cp.ph == 0 && cp.pw == 0 && cp.wp == w && cp.hp == h) {
            System.arraycopy(x, xOff, xpad, dOff, cp.cin * plane);
            return;
        }
        for (int ci = 0; ci < cp.cin; ci++) {
            int d = dOff + ci * plane + cp.ph * cp.wp + cp.pw;
            int s = xOff + ci * h * w;
            for (int r = 0; r < h; r++, d += cp.wp, s += w) {
                copyRow(xpad, d, x, s, w);
            }
        }
    }

    /**
     * {@code dst[d + i] = src[s + i]} for {@code i < n}: whole vectors, the last one overlapping;
     * rows of 8 to 15 floats as one masked vector where a whole vector fits in both arrays (as
     * fast as the 8-float vectors used before, and no second vector size: code that mixes sizes
     * fills the Vector API's shared profiles with wrong class guesses, and past 100 of them C2
     * compiles vector code with virtual calls that box; 14x14 and 8x8 conv passes allocated 3.5x
     * more per call under {@code -XX:PerMethodTrapLimit=0}).
     */
    static void copyRow(float[] dst, int d, float[] src, int s, int n) {
        if (n >= L && !Simd.SCALAR) {
            int i = 0;
            for (; i <= n - L; i += L) {
                FloatVector.fromArray(F, src, s + i).intoArray(dst, d + i);
            }
            if (i < n) {
                FloatVector.fromArray(F, src, s + n - L).intoArray(dst, d + n - L);
            }
        } else if (n >= 8 && !Simd.SCALAR && s + L <= src.length && d + L <= dst.length) {
            VectorMask<Float> m = VectorMask.fromLong(F, (1L << n) - 1);
            FloatVector.fromArray(F, src, s, m).intoArray(dst, d, m);
        } else {
            for (int i = 0; i < n; i++) {
                dst[d + i] = src[s + i];
            }
        }
    }
}

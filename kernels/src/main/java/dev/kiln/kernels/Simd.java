package dev.kiln.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species every CPU kernel uses, chosen once at class load.
 *
 * <p>By default the machine's preferred shape (AVX-512 gives 16 floats). The system property
 * {@code kiln.simd.bits} overrides it with 64, 128, 256 or 512; {@code 0} means "scalar only":
 * kernels then take their scalar loops everywhere (useful to isolate a vector-path bug).
 *
 * <pre>{@code
 * int n = Simd.F.loopBound(len);   // main vector loop to here, then a scalar tail
 * }</pre>
 */
public final class Simd {
    /** Vector width in bits; 0 when vectors are disabled. */
    public static final int BITS;
    /** True when kernels must not use vectors. */
    public static final boolean SCALAR;
    /**
     * Vector registers the kernels size their tiles for: 32 with 512-bit vectors (AVX-512), else
     * 16 (AVX2 has 16; narrower or scalar settings are treated the same). Tiles that keep more
     * values live than the machine has registers spill them to the stack on every step: on a Zen 1
     * (AVX2) the GEMM's 8-row tile ran at 62% of the FMA peak, its 5-row tile at 92%.
     */
    public static final int REGISTERS;
    /** Float species (16 lanes on AVX-512). */
    public static final VectorSpecies<Float> F;
    /** Double species with the same bit width as {@link #F}. */
    public static final VectorSpecies<Double> D;
    /** Int species with the same bit width as {@link #F}. */
    public static final VectorSpecies<Integer> I;
    /**
     * Float species with half the bit width of {@link #F} (as many lanes as {@link #D}), so that a
     * load widens to one double vector with {@code convertShape(F2D, D, 0)}: C2 compiles that to one
     * instruction, while part 1 of a full-width conversion is not intrinsified on JDK 25 and runs as
     * boxed Java (it was three quarters of the small VGG's training step). Equal to {@link #F} when
     * vectors are disabled.
     */
    public static final VectorSpecies<Float> FH;

    static {
        String prop = System.getProperty("kiln.simd.bits");
        int bits = prop == null || prop.isBlank()
                ? VectorShape.preferredShape().vectorBitSize()
                : parseBits(prop.trim());
        SCALAR = bits == 0;
        REGISTERS = bits >= 512 ? 32 : 16;
        VectorShape shape = SCALAR ? VectorShape.S_64_BIT : VectorShape.forBitSize(bits);
        BITS = bits;
        F = FloatVector.SPECIES_PREFERRED.withShape(shape);
        D = DoubleVector.SPECIES_PREFERRED.withShape(shape);
        I = IntVector.SPECIES_PREFERRED.withShape(shape);
        FH = SCALAR ? F : FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(bits / 2));
        int lanes = F.length();
        int steps = Integer.numberOfTrailingZeros(lanes);
        @SuppressWarnings("unchecked")
        VectorShuffle<Float>[] xor = new VectorShuffle[steps];
        for (int s = 0, d = lanes / 2; s < steps; s++, d /= 2) {
            int dist = d;
            xor[s] = VectorShuffle.fromOp(F, i -> i ^ dist);
        }
        XOR_F = xor;
        SWAP_F = VectorShuffle.fromOp(F, i -> i ^ lanes / 2);
        SWAP_I = VectorShuffle.fromOp(I, i -> i ^ lanes / 2);
    }

    /**
     * Swaps the two halves of a float vector (lane i takes lane {@code i ^ L/2}). With it the upper
     * half of a computed vector reaches a double vector as {@code v.rearrange(SWAP_F).convertShape(F2D, D, 0)}:
     * one lane permutation and the intrinsified part-0 conversion, where {@code convertShape(F2D, D, 1)}
     * goes through {@code slice} and can fall back to boxed Java on JDK 25 (see {@link #FH}).
     */
    public static final VectorShuffle<Float> SWAP_F;
    /** {@link #SWAP_F} for int vectors of the same width. */
    public static final VectorShuffle<Integer> SWAP_I;

    /** Butterfly shuffles for {@link #sumLanes}: lane i takes lane {@code i ^ L/2}, then {@code i ^ L/4}, ... */
    private static final VectorShuffle<Float>[] XOR_F;

    private Simd() {
    }

    private static int parseBits(String s) {
        int bits;
        try {
            bits = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("kiln.simd.bits: expected 0, 64, 128, 256 or 512, got '" + s + "'");
        }
        if (bits != 0 && bits != 64 && bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalArgumentException("kiln.simd.bits: expected 0, 64, 128, 256 or 512, got " + bits);
        }
        return bits;
    }

    /** Index where the vector main loop over {@code n} floats ends (0 in scalar mode). */
    public static int loopBoundF(int n) {
        return SCALAR ? 0 : F.loopBound(n);
    }

    /** Index where the vector main loop over {@code n} doubles ends (0 in scalar mode). */
    public static int loopBoundD(int n) {
        return SCALAR ? 0 : D.loopBound(n);
    }

    /**
     * The sum of all lanes of {@code v} in a fixed butterfly order (halves, then quarters, ...).
     *
     * <p>Unlike {@code reduceLanes(ADD)}, whose order differs between the interpreter and C2, every
     * step here is a lane-wise add, so the result has the same bits at every JIT tier.
     */
    public static float sumLanes(FloatVector v) {
        FloatVector s = v;
        for (VectorShuffle<Float> x : XOR_F) {
            s = s.add(s.rearrange(x));
        }
        return s.lane(0);
    }

    /** Float lanes per vector (1 in scalar mode). */
    public static int lanesF() {
        return SCALAR ? 1 : F.length();
    }
}

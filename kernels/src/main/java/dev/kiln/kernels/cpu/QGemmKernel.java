package dev.kiln.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The 512-bit pieces of {@link QGemmColumns}: the micro-kernel, a 16 x 16 int transpose and the
 * byte-to-pair widening.
 *
 * <p>Operands are unsigned 8-bit values in 16-bit lanes, two consecutive k-steps per 32-bit lane
 * ("pairs"). One {@code vpmullw} multiplies 16 pairs of A by a broadcast pair of B; since both
 * factors are below 256 each 16-bit product {@code p0, p1} is exact and unsigned, so the 32-bit lane
 * reads {@code x = p0 + 65536 * p1}. The kernel accumulates {@code X += x} and {@code H += x >>> 16}
 * and recovers {@code sum (p0 + p1) = X - 65535 * H} (mod 2^32): 4 vector ops per 32
 * multiply-adds (the signed variant would need two more shifts to sign-extend {@code p0}). On one
 * Zen 5 core {@link #tile} sustains about 185 GOP/s: 32 multiply-adds per cycle over the four
 * vector pipes, the rate of the fp32 micro-kernel's two FMA pipes, so int8 gains over fp32 come
 * from moving a quarter of the bytes, not from faster arithmetic.
 *
 * <p>Routes to VNNI-class arithmetic that were tried (JDK 25.0.3, C2, Zen 5 with AVX512_VNNI):
 * <ul>
 *   <li>Vector API: no operation, lanewise or conversion ({@code S2I} widening + {@code mul} +
 *       {@code add}, {@code ShortVector.mul} + reinterpretation), is compiled to {@code vpmaddwd}
 *       or {@code vpdp*}; C2 creates {@code MulAddVS2VI} only in its auto-vectorizer. Register
 *       loops of 12 chains, one thread, best of 25 in one process: this pair trick 153 GOP/s,
 *       int32 lanes ({@code vpmulld} + {@code vpaddd}, 8 multiply-adds per op as well) 149,
 *       {@code S2I} widening of 16-bit lanes then {@code mul} + {@code add} 115.</li>
 *   <li>Auto-vectorization (SuperWord): {@code PhaseIdealLoop::convert_add_to_muladd} rewrites
 *       {@code a[2i]*b[2i] + a[2i+1]*b[2i+1]} into {@code MulAddS2I} when all four factors are
 *       {@code short[]} loads inside the counted loop, and SuperWord packs it into
 *       {@code MulAddVS2VI}, which {@code AddVI} turns into {@code vpdpwssd zmm} (checked in the
 *       disassembly: {@code out[i] += a[2i]*b[2i] + a[2i+1]*b[2i+1]} compiles to a zmm load of
 *       {@code out}, two of the operands, {@code vpdpwssd} and a store). But only that
 *       element-wise shape vectorizes: the reduction {@code s += a[2i]*b[2i] + ...} (a dot
 *       product, which would keep accumulators in registers), two such statements in one loop,
 *       two pair products summed into one statement from one array (and, outside OSR
 *       compilations, from different arrays) and a broadcast operand (an index invariant in
 *       {@code i} is hoisted, so the loads leave the loop and the rewrite does not fire) all
 *       stay scalar. A GEMM on that shape needs its accumulators in memory and one operand
 *       replicated across the lanes: four memory operations per {@code vpdpwssd}. Measured in
 *       one process (2 shared cores): the element-wise idiom on L1-resident arrays 19-61 GOP/s
 *       against 150-250 GOP/s for this kernel's register-blocked loop ({@code Peak.int8AutoVec}
 *       and {@code Peak.int8} print both in every {@code kiln bench} run with the int8 group).</li>
 * </ul>
 * So this Vector API kernel stays on 16-bit multiplies: at batch 64, 1024 x 1024, one thread (min
 * of 30 calls), {@code gemmDequant} on it took 790 us, its tiles alone 720 us (186 GOP/s), widening
 * B 20-24 us, against 920 us for the fp32 {@code sgemm}: 1.15-1.2x fp32 where this arithmetic's
 * ceiling is 1.27x. The int8 targets (2x fp32, PyTorch's VNNI qlinear latency) need
 * {@code vpdpbusd}'s 64 multiply-adds per instruction, which Kiln reaches outside C2:
 * {@link QGemmJit} emits that micro-kernel as x86-64 machine code at run time and calls it through
 * the FFM linker. This kernel is the path wherever that one cannot run (no AVX512_VNNI, not Linux
 * x86-64, no native access, {@code -Dkiln.int8.jit=false}).
 *
 * <p>Everything is written out in the method bodies on purpose: a helper taking vectors that C2
 * declines to inline boxes them.
 */
final class QGemmKernel {
    static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    /** Ints per vector. */
    static final int L = 16;
    /** Rows of a tile: two vectors of pairs. */
    static final int MR = 2 * L;
    /** Columns of a tile: broadcast pairs of B. */
    static final int NR = 6;

    private static final IntVector LO8 = index(8, false), HI8 = index(8, true);
    private static final IntVector LO4 = index(4, false), HI4 = index(4, true);
    private static final IntVector LO2 = index(2, false), HI2 = index(2, true);
    private static final IntVector LO1 = index(1, false), HI1 = index(1, true);

    private QGemmKernel() {
    }

    /**
     * Raw tile {@code T[r, c] = sum_{q < kq} pairdot(A^T pair (q, r), B pair (c, q))} for
     * {@code r < MR, c < NR}: A^T pairs at {@code at[ai + q*MR + r]}, B pairs at
     * {@code bw[c*ldbw + q]}; T goes column-major to {@code cb[ci + c*ldcb + r]}.
     */
    static void tile(int kq, int[] at, int ai, int[] bw, int ldbw, int[] cb, int ci, int ldcb) {
        IntVector z = IntVector.zero(I);
        IntVector x00 = z, x01 = z, h00 = z, h01 = z;
        IntVector x10 = z, x11 = z, h10 = z, h11 = z;
        IntVector x20 = z, x21 = z, h20 = z, h21 = z;
        IntVector x30 = z, x31 = z, h30 = z, h31 = z;
        IntVector x40 = z, x41 = z, h40 = z, h41 = z;
        IntVector x50 = z, x51 = z, h50 = z, h51 = z;
        int b1 = ldbw, b2 = 2 * ldbw, b3 = 3 * ldbw, b4 = 4 * ldbw, b5 = 5 * ldbw;
        for (int q = 0, ap = ai; q < kq; q++, ap += MR) {
            ShortVector a0 = IntVector.fromArray(I, at, ap).reinterpretAsShorts();
            ShortVector a1 = IntVector.fromArray(I, at, ap + L).reinterpretAsShorts();
            ShortVector w = IntVector.broadcast(I, bw[q]).reinterpretAsShorts();
            IntVector t = a0.mul(w).reinterpretAsInts();
            x00 = x00.add(t);
            h00 = h00.add(t.lanewise(VectorOperators.LSHR, 16));
            t = a1.mul(w).reinterpretAsInts();
            x01 = x01.add(t);
            h01 = h01.add(t.lanewise(VectorOperators.LSHR, 16));
            w = IntVector.broadcast(I, bw[b1 + q]).reinterpretAsShorts();
            t = a0.mul(w).reinterpretAsInts();
            x10 = x10.add(t);
            h10 = h10.add(t.lanewise(VectorOperators.LSHR, 16));
            t = a1.mul(w).reinterpretAsInts();
            x11 = x11.add(t);
            h11 = h11.add(t.lanewise(VectorOperators.LSHR, 16));
            w = IntVector.broadcast(I, bw[b2 + q]).reinterpretAsShorts();
            t = a0.mul(w).reinterpretAsInts();
            x20 = x20.add(t);
            h20 = h20.add(t.lanewise(VectorOperators.LSHR, 16));
            t = a1.mul(w).reinterpretAsInts();
            x21 = x21.add(t);
            h21 = h21.add(t.lanewise(VectorOperators.LSHR, 16));
            w = IntVector.broadcast(I, bw[b3 + q]).reinterpretAsShorts();
            t = a0.mul(w).reinterpretAsInts();
            x30 = x30.add(t);
            h30 = h30.add(t.lanewise(VectorOperators.LSHR, 16));
            t = a1.mul(w).reinterpretAsInts();
            x31 = x31.add(t);
            h31 = h31.add(t.lanewise(VectorOperators.LSHR, 16));
            w = IntVector.broadcast(I, bw[b4 + q]).reinterpretAsShorts();
            t = a0.mul(w).reinterpretAsInts();
            x40 = x40.add(t);
            h40 = h40.add(t.lanewise(VectorOperators.LSHR, 16));
            t = a1.mul(w).reinterpretAsInts();
            x41 = x41.add(t);
            h41 = h41.add(t.lanewise(VectorOperators.LSHR, 16));
            w = IntVector.broadcast(I, bw[b5 + q]).reinterpretAsShorts();
            t = a0.mul(w).reinterpretAsInts();
            x50 = x50.add(t);
            h50 = h50.add(t.lanewise(VectorOperators.LSHR, 16));
            t = a1.mul(w).reinterpretAsInts();
            x51 = x51.add(t);
            h51 = h51.add(t.lanewise(VectorOperators.LSHR, 16));
        }
        x00.sub(h00.lanewise(VectorOperators.LSHL, 16)).add(h00).intoArray(cb, ci);
        x01.sub(h01.lanewise(VectorOperators.LSHL, 16)).add(h01).intoArray(cb, ci + L);
        x10.sub(h10.lanewise(VectorOperators.LSHL, 16)).add(h10).intoArray(cb, ci + ldcb);
        x11.sub(h11.lanewise(VectorOperators.LSHL, 16)).add(h11).intoArray(cb, ci + ldcb + L);
        x20.sub(h20.lanewise(VectorOperators.LSHL, 16)).add(h20).intoArray(cb, ci + 2 * ldcb);
        x21.sub(h21.lanewise(VectorOperators.LSHL, 16)).add(h21).intoArray(cb, ci + 2 * ldcb + L);
        x30.sub(h30.lanewise(VectorOperators.LSHL, 16)).add(h30).intoArray(cb, ci + 3 * ldcb);
        x31.sub(h31.lanewise(VectorOperators.LSHL, 16)).add(h31).intoArray(cb, ci + 3 * ldcb + L);
        x40.sub(h40.lanewise(VectorOperators.LSHL, 16)).add(h40).intoArray(cb, ci + 4 * ldcb);
        x41.sub(h41.lanewise(VectorOperators.LSHL, 16)).add(h41).intoArray(cb, ci + 4 * ldcb + L);
        x50.sub(h50.lanewise(VectorOperators.LSHL, 16)).add(h50).intoArray(cb, ci + 5 * ldcb);
        x51.sub(h51.lanewise(VectorOperators.LSHL, 16)).add(h51).intoArray(cb, ci + 5 * ldcb + L);
    }

    /**
     * {@code dst[dOff + c*ds + r] = src[so + r*ss + c]} for {@code r, c < 16}: four rounds of
     * two-vector permutes ({@code vpermi2d}), each swapping one bit of the row and lane index.
     */
    static void transpose16(int[] src, int so, int ss, int[] dst, int dOff, int ds) {
        IntVector r0 = IntVector.fromArray(I, src, so);
        IntVector r1 = IntVector.fromArray(I, src, so + ss);
        IntVector r2 = IntVector.fromArray(I, src, so + 2 * ss);
        IntVector r3 = IntVector.fromArray(I, src, so + 3 * ss);
        IntVector r4 = IntVector.fromArray(I, src, so + 4 * ss);
        IntVector r5 = IntVector.fromArray(I, src, so + 5 * ss);
        IntVector r6 = IntVector.fromArray(I, src, so + 6 * ss);
        IntVector r7 = IntVector.fromArray(I, src, so + 7 * ss);
        IntVector r8 = IntVector.fromArray(I, src, so + 8 * ss);
        IntVector r9 = IntVector.fromArray(I, src, so + 9 * ss);
        IntVector r10 = IntVector.fromArray(I, src, so + 10 * ss);
        IntVector r11 = IntVector.fromArray(I, src, so + 11 * ss);
        IntVector r12 = IntVector.fromArray(I, src, so + 12 * ss);
        IntVector r13 = IntVector.fromArray(I, src, so + 13 * ss);
        IntVector r14 = IntVector.fromArray(I, src, so + 14 * ss);
        IntVector r15 = IntVector.fromArray(I, src, so + 15 * ss);
        IntVector t;
        t = LO8.selectFrom(r0, r8);
        r8 = HI8.selectFrom(r0, r8);
        r0 = t;
        t = LO8.selectFrom(r1, r9);
        r9 = HI8.selectFrom(r1, r9);
        r1 = t;
        t = LO8.selectFrom(r2, r10);
        r10 = HI8.selectFrom(r2, r10);
        r2 = t;
        t = LO8.selectFrom(r3, r11);
        r11 = HI8.selectFrom(r3, r11);
        r3 = t;
        t = LO8.selectFrom(r4, r12);
        r12 = HI8.selectFrom(r4, r12);
        r4 = t;
        t = LO8.selectFrom(r5, r13);
        r13 = HI8.selectFrom(r5, r13);
        r5 = t;
        t = LO8.selectFrom(r6, r14);
        r14 = HI8.selectFrom(r6, r14);
        r6 = t;
        t = LO8.selectFrom(r7, r15);
        r15 = HI8.selectFrom(r7, r15);
        r7 = t;
        t = LO4.selectFrom(r0, r4);
        r4 = HI4.selectFrom(r0, r4);
        r0 = t;
        t = LO4.selectFrom(r1, r5);
        r5 = HI4.selectFrom(r1, r5);
        r1 = t;
        t = LO4.selectFrom(r2, r6);
        r6 = HI4.selectFrom(r2, r6);
        r2 = t;
        t = LO4.selectFrom(r3, r7);
        r7 = HI4.selectFrom(r3, r7);
        r3 = t;
        t = LO4.selectFrom(r8, r12);
        r12 = HI4.selectFrom(r8, r12);
        r8 = t;
        t = LO4.selectFrom(r9, r13);
        r13 = HI4.selectFrom(r9, r13);
        r9 = t;
        t = LO4.selectFrom(r10, r14);
        r14 = HI4.selectFrom(r10, r14);
        r10 = t;
        t = LO4.selectFrom(r11, r15);
        r15 = HI4.selectFrom(r11, r15);
        r11 = t;
        t = LO2.selectFrom(r0, r2);
        r2 = HI2.selectFrom(r0, r2);
        r0 = t;
        t = LO2.selectFrom(r1, r3);
        r3 = HI2.selectFrom(r1, r3);
        r1 = t;
        t = LO2.selectFrom(r4, r6);
        r6 = HI2.selectFrom(r4, r6);
        r4 = t;
        t = LO2.selectFrom(r5, r7);
        r7 = HI2.selectFrom(r5, r7);
        r5 = t;
        t = LO2.selectFrom(r8, r10);
        r10 = HI2.selectFrom(r8, r10);
        r8 = t;
        t = LO2.selectFrom(r9, r11);
        r11 = HI2.selectFrom(r9, r11);
        r9 = t;
        t = LO2.selectFrom(r12, r14);
        r14 = HI2.selectFrom(r12, r14);
        r12 = t;
        t = LO2.selectFrom(r13, r15);
        r15 = HI2.selectFrom(r13, r15);
        r13 = t;
        t = LO1.selectFrom(r0, r1);
        r1 = HI1.selectFrom(r0, r1);
        r0 = t;
        t = LO1.selectFrom(r2, r3);
        r3 = HI1.selectFrom(r2, r3);
        r2 = t;
        t = LO1.selectFrom(r4, r5);
        r5 = HI1.selectFrom(r4, r5);
        r4 = t;
        t = LO1.selectFrom(r6, r7);
        r7 = HI1.selectFrom(r6, r7);
        r6 = t;
        t = LO1.selectFrom(r8, r9);
        r9 = HI1.selectFrom(r8, r9);
        r8 = t;
        t = LO1.selectFrom(r10, r11);
        r11 = HI1.selectFrom(r10, r11);
        r10 = t;
        t = LO1.selectFrom(r12, r13);
        r13 = HI1.selectFrom(r12, r13);
        r12 = t;
        t = LO1.selectFrom(r14, r15);
        r15 = HI1.selectFrom(r14, r15);
        r14 = t;
        r0.intoArray(dst, dOff);
        r1.intoArray(dst, dOff + ds);
        r2.intoArray(dst, dOff + 2 * ds);
        r3.intoArray(dst, dOff + 3 * ds);
        r4.intoArray(dst, dOff + 4 * ds);
        r5.intoArray(dst, dOff + 5 * ds);
        r6.intoArray(dst, dOff + 6 * ds);
        r7.intoArray(dst, dOff + 7 * ds);
        r8.intoArray(dst, dOff + 8 * ds);
        r9.intoArray(dst, dOff + 9 * ds);
        r10.intoArray(dst, dOff + 10 * ds);
        r11.intoArray(dst, dOff + 11 * ds);
        r12.intoArray(dst, dOff + 12 * ds);
        r13.intoArray(dst, dOff + 13 * ds);
        r14.intoArray(dst, dOff + 14 * ds);
        r15.intoArray(dst, dOff + 15 * ds);
    }

    /** Permute indices of one transpose round: lanes with bit {@code h} clear ({@code hi} false) or set. */
    private static IntVector index(int h, boolean hi) {
        int[] idx = new int[L];
        for (int l = 0; l < L; l++) {
            idx[l] = hi ? ((l & h) == 0 ? l + h : L + l) : ((l & h) == 0 ? l : L + l - h);
        }
        return IntVector.fromArray(I, idx, 0);
    }

    /**
     * Widens {@code src[sOff : sOff+k]} to pairs of unsigned 16-bit values, {@code dst[dOff + p/2]}
     * holding bytes {@code p} (low half) and {@code p+1}, zero-padded to a whole vector of pairs;
     * {@code flip} maps int8 to uint8 ({@code + 128}). Returns the sum of the unsigned values,
     * accumulated in 16-bit lanes (at most 128 steps of values below 256 each before they spill).
     */
    static int widen(int[] dst, int dOff, byte[] src, int sOff, int k, boolean flip) {
        ByteVector bias = ByteVector.broadcast(B, flip ? (byte) 0x80 : 0);
        IntVector total = IntVector.zero(I);
        int full = (k & -(2 * L)) / 2;
        int q = 0;
        while (q < full) {
            ShortVector part = ShortVector.zero(S);
            for (int end = Math.min(full, q + 128 * L); q < end; q += L) {
                ShortVector v = (ShortVector) ByteVector.fromArray(B, src, sOff + 2 * q)
                        .lanewise(VectorOperators.XOR, bias).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                v.reinterpretAsInts().intoArray(dst, dOff + q);
                part = part.add(v);
            }
            IntVector pairs = part.reinterpretAsInts();
            total = total.add(pairs.and(0xffff)).add(pairs.lanewise(VectorOperators.LSHR, 16));
        }
        if (2 * q < k) {
            VectorMask<Byte> in = B.indexInRange(2 * q, k);
            ShortVector v = (ShortVector) ByteVector.fromArray(B, src, sOff + 2 * q, in)
                    .lanewise(VectorOperators.XOR, bias, in).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            IntVector pairs = v.reinterpretAsInts();
            pairs.intoArray(dst, dOff + q);
            total = total.add(pairs.and(0xffff)).add(pairs.lanewise(VectorOperators.LSHR, 16));
        }
        return total.reduceLanes(VectorOperators.ADD);
    }
}

package dev.kiln.kernels.cpu.x86;

import static dev.kiln.kernels.cpu.x86.X86Asm.*;

/**
 * Machine code of the CSR product's inner loop: {@link #strip} (AVX-512F) and {@link #rows8}
 * (AVX2, described there). {@link #strip} runs one strip of rows, blocked over the columns so
 * that the rows of B a block needs stay in L1, from a plan made once per matrix
 * (see {@code SparseCsrJit.StripPlan}): per block, {@code pairs} pair records of 4 ints
 * {@code (a, b, na, nb)} ({@code na <= nb}) naming two rows of C (the same row twice for a lone
 * row, with {@code na = 0}) and the counts of their stored elements in the block, and the
 * elements themselves as a stream of column indices and values: {@code na} pairs
 * {@code (row a, row b)} interleaved, then the {@code nb - na} left of row b. For 16*{@code nv}
 * lanes ({@code nv <= 4} vectors):
 * <pre>
 * C[a*ldc + l] (+)= sum over a's elements e in the block: val[e] * B[idx[e]*ldb + l]     (b likewise)
 * </pre>
 * Each lane of a row is one {@code vfmadd231ps} chain in the order of the row's stored elements,
 * from zero in the first block and from the value kept in C after that (stored and loaded back
 * unchanged, so the blocking changes no bit), so C ends as exactly
 * {@code SparseCsrLoops.rows} computes it without accumulation.
 *
 * <p>The function is {@code void f(c, hdr, idx, val, b, cOff, hdrOff, elemOff, bOff, ldc, ldb, pairs, blocks)}
 * (System V: five addresses, then longs; offsets and leading dims in bytes except
 * {@code elemOff}, an element index). It checks nothing: the plan is checked when it is made
 * (rows, counts and column indices in range), C and B by the caller before each call.
 *
 * <p>Registers: accumulators {@code zmm0 ..} (row a) and {@code zmm4 ..} (row b), the broadcast
 * weights {@code zmm8} and {@code zmm9}; {@code r10} walks the elements to {@code r12} (the
 * interleaved stretch) and {@code r11} (the pair's end), {@code rsi} the pair records,
 * {@code r14} and {@code r15} point at rows a and b of C.
 */
public final class SparseCsrCode {
    /** Most vectors of lanes. */
    public static final int MAX_NV = 4;
    /** Lanes of {@link #rows8}: eight ymm vectors. */
    public static final int ROW_LANES = 64;
    /** How many elements ahead {@link #rows8} prefetches B's rows. */
    public static final int PREFETCH_DISTANCE = 8;
    /** The callee-saved registers {@link #strip} uses, and {@link #rows8}. */
    private static final int[] SAVED = {RBX, RBP, R12, R13, R14, R15}, ROWS_SAVED = {RBX, RBP, R12};
    private static final int LOCALS = 16;
    /** Locals: blocks left, and whether the current block is the first (1) or not (0). */
    private static final Mem LEFT = mem(RSP, 0), FIRST = mem(RSP, 8);

    private SparseCsrCode() {
    }

    /** The stack argument {@code i} (0: hdrOff) after the pushes and locals. */
    private static Mem arg(int i) {
        return mem(RSP, LOCALS + 8 * (SAVED.length + 1) + 8 * i);
    }

    /** The kernel for {@code nv} vectors of 16 lanes. */
    public static byte[] strip(int nv) {
        if (nv < 1 || nv > MAX_NV) {
            throw new IllegalArgumentException("SparseCsrCode: expected nv in [1, " + MAX_NV + "], got " + nv);
        }
        final int c = RDI, hdr = RSI, idx = RDX, val = RCX, b = R8, ldb = RBX, ldc = RBP;
        final int p = R10, both = R12, end = R11, left = R13, rowA = R14, rowB = R15, t0 = RAX, t1 = R9;
        X86Asm x = new X86Asm();
        x.save(SAVED);
        x.subImm(RSP, LOCALS);
        x.add(c, R9);
        x.addLoad(hdr, arg(0));
        x.movLoad(p, arg(1));
        x.addLoad(b, arg(2));
        x.movLoad(ldc, arg(3));
        x.movLoad(ldb, arg(4));
        x.movLoad(t0, arg(6));
        x.movStore(LEFT, t0);
        x.movImm32(t0, 1);
        x.movStore(FIRST, t0);
        Label block = new Label();
        x.bind(block);
        x.movLoad(left, arg(5));
        Label pair = new Label();
        x.bind(pair);
        x.movLoad32(t0, mem(hdr, 0));
        x.imul(t0, ldc);
        x.lea(rowA, mem(c, t0, 1, 0));
        x.movLoad32(t0, mem(hdr, 4));
        x.imul(t0, ldc);
        x.lea(rowB, mem(c, t0, 1, 0));
        x.movLoad32(t0, mem(hdr, 8));
        x.lea(both, mem(p, t0, 2, 0));
        x.movLoad32(end, mem(hdr, 12));
        x.sub(end, t0);
        x.add(end, both);
        Label carry = new Label();
        Label start = new Label();
        x.movLoad(t0, FIRST);
        x.cmpImm(t0, 0);
        x.jz(carry);
        for (int v = 0; v < nv; v++) {
            x.vpxord(v, v, v);
            x.vpxord(4 + v, 4 + v, 4 + v);
        }
        x.jmp(start);
        x.bind(carry);
        for (int v = 0; v < nv; v++) {
            x.vmovupsLoad(v, mem(rowA, 64 * v));
            x.vmovupsLoad(4 + v, mem(rowB, 64 * v));
        }
        x.bind(start);
        Label tail = new Label();
        x.cmp(p, both);
        x.jge(tail);
        Label twoRows = new Label();
        x.bind(twoRows);
        element(x, p, 0, t0, 0, 8, nv);
        element(x, p, 4, t1, 4, 9, nv);
        x.addImm(p, 2);
        x.cmp(p, both);
        x.jl(twoRows);
        x.bind(tail);
        Label store = new Label();
        x.cmp(p, end);
        x.jge(store);
        Label oneRow = new Label();
        x.bind(oneRow);
        element(x, p, 0, t1, 4, 9, nv);
        x.addImm(p, 1);
        x.cmp(p, end);
        x.jl(oneRow);
        x.bind(store);
        for (int v = 0; v < nv; v++) {
            x.vmovupsStore(mem(rowA, 64 * v), v);
        }
        for (int v = 0; v < nv; v++) {
            x.vmovupsStore(mem(rowB, 64 * v), 4 + v);
        }
        x.addImm(hdr, 16);
        x.dec(left);
        x.jnz(pair);
        x.movImm32(t0, 0);
        x.movStore(FIRST, t0);
        x.movLoad(t0, LEFT);
        x.dec(t0);
        x.movStore(LEFT, t0);
        x.jnz(block);
        x.addImm(RSP, LOCALS);
        x.restoreAndReturn(SAVED);
        return x.bytes();
    }

    /**
     * The AVX2 kernel (ymm, 16 registers): rows one at a time over {@link #ROW_LANES} lanes, one
     * {@code vfmadd231ps} chain per lane from zero in the order of the row's stored elements (the
     * order of {@code SparseCsrLoops.rows}, so the same bits), eight accumulators {@code ymm0-7},
     * the weight broadcast into {@code ymm8}. For every element it prefetches the first line of
     * the row of B that the element {@link #PREFETCH_DISTANCE} places further on needs (the
     * hardware's adjacent-line prefetch takes the second; the next row's elements follow the
     * row's end), so {@code idx} holds that many readable entries past the last element of the
     * last row.
     *
     * <p>{@code void f(c, ptr, idx, val, b, cOff, ptrOff, bOff, ldc, ldb, rows)} (System V: five
     * addresses, then longs, in bytes): row {@code i < rows} of C at {@code c + cOff + i*ldc} gets
     * the elements {@code [ptr[i], ptr[i+1])} (ptr read at {@code ptrOff}) with B's row {@code q}
     * at {@code b + bOff + q*ldb}; {@code rows >= 1}. It checks nothing (see {@code SparseCsrJit}).
     *
     * <p>Measured (Zen 1, 1024x1024, 64 lanes, B 256 KB in L2, one thread, best of 200 calls):
     * 90% sparsity 472-478 us against 703 on the Vector API loop, 95% 241 against 411. The same
     * loop with every element on one row of B (all in L1) takes 438-454 us: the loads of B (one
     * ymm per FMA, Zen 1 loads 32 bytes a cycle) bound it at about two thirds of the FMA peak,
     * and the prefetch brings the L2 case within 5-8% of that. Without the prefetch 598 us;
     * distance 4-16 the same, 24 worse (559); two lines a row (0 and 128) 483-487; two elements
     * an iteration or 8-bit displacements (a base register 128 bytes on) the same or 1-3% slower.
     */
    public static byte[] rows8() {
        final int c = RDI, ptr = RSI, idx = RDX, val = RCX, b = R8, ldb = RBX, ldc = RBP;
        final int p = R10, end = R11, left = R12, t0 = RAX, t1 = R9;
        X86Asm x = new X86Asm();
        x.save(ROWS_SAVED);
        int args = 8 * (ROWS_SAVED.length + 1);
        x.add(c, R9);
        x.addLoad(ptr, mem(RSP, args));
        x.addLoad(b, mem(RSP, args + 8));
        x.movLoad(ldc, mem(RSP, args + 16));
        x.movLoad(ldb, mem(RSP, args + 24));
        x.movLoad(left, mem(RSP, args + 32));
        Label row = new Label();
        x.bind(row);
        x.movLoad32(p, mem(ptr, 0));
        x.movLoad32(end, mem(ptr, 4));
        for (int v = 0; v < 8; v++) {
            x.vpxorY(v, v, v);
        }
        Label store = new Label();
        x.cmp(p, end);
        x.jge(store);
        Label elem = new Label();
        x.bind(elem);
        x.movLoad32(t0, mem(idx, p, 4, 0));
        x.imul(t0, ldb);
        x.movLoad32(t1, mem(idx, p, 4, 4 * PREFETCH_DISTANCE));
        x.imul(t1, ldb);
        x.prefetcht0(mem(b, t1, 1, 0));
        x.vbroadcastssY(8, mem(val, p, 4, 0));
        for (int v = 0; v < 8; v++) {
            x.vfmadd231psY(v, 8, mem(b, t0, 1, 32 * v));
        }
        x.addImm(p, 1);
        x.cmp(p, end);
        x.jl(elem);
        x.bind(store);
        for (int v = 0; v < 8; v++) {
            x.vmovupsStoreY(mem(c, 32 * v), v);
        }
        x.add(c, ldc);
        x.addImm(ptr, 4);
        x.dec(left);
        x.jnz(row);
        x.restoreAndReturn(ROWS_SAVED);
        return x.bytes();
    }

    /**
     * The element at index {@code p} + {@code disp}/4: {@code acc.. += val[e] * B[idx[e]*ldb ..]},
     * the weight broadcast into {@code w}, {@code t} the scratch register for the row offset.
     */
    private static void element(X86Asm x, int p, int disp, int t, int acc, int w, int nv) {
        x.movLoad32(t, mem(RDX, p, 4, disp));
        x.imul(t, RBX);
        x.vbroadcastss(w, mem(RCX, p, 4, disp));
        for (int v = 0; v < nv; v++) {
            x.vfmadd231psMem(acc + v, w, mem(R8, t, 1, 64 * v));
        }
    }
}

package dev.kiln.kernels.cpu.x86;

import static dev.kiln.kernels.cpu.x86.X86Asm.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Small generated functions run through {@link JitCode}. */
class JitCodeTest {
    private static void assumeJit() {
        Assumptions.assumeTrue(JitCode.AVAILABLE, () -> "run-time code unavailable: " + JitCode.UNAVAILABLE_REASON);
    }

    @Test
    void addsTwoLongs() throws Throwable {
        assumeJit();
        X86Asm a = new X86Asm();
        a.mov(RAX, RDI);
        a.add(RAX, RSI);
        a.ret();
        MethodHandle add = JitCode.function(a.bytes(), FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG));
        assertEquals(42L, (long) add.invokeExact(40L, 2L));
        assertEquals(Long.MIN_VALUE, (long) add.invokeExact(Long.MAX_VALUE, 1L));
    }

    @Test
    void loopsAndCallerSavedRegisters() throws Throwable {
        assumeJit();
        // sum of 1..n with a backward jnz; rbx pushed and popped around its use
        X86Asm a = new X86Asm();
        a.push(RBX);
        a.mov(RBX, RDI);
        a.mov(RAX, RBX);
        a.sub(RAX, RBX); // rax = 0
        X86Asm.Label top = new X86Asm.Label();
        a.bind(top);
        a.add(RAX, RBX);
        a.dec(RBX);
        a.jnz(top);
        a.pop(RBX);
        a.ret();
        MethodHandle sum = JitCode.function(a.bytes(), FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        assertEquals(5050L, (long) sum.invokeExact(100L));
        assertEquals(1L, (long) sum.invokeExact(1L));
    }

    @Test
    void vnniDotOnHeapArrays() throws Throwable {
        assumeJit();
        Assumptions.assumeTrue(JitCode.cpuHas("avx512_vnni") && JitCode.cpuHas("avx512bw"),
                "CPU without avx512_vnni/avx512bw");
        // c[0:16] = vpdpbusd(c, u8 a[0:64], broadcast s8 b[0:4]), arrays passed as heap segments
        X86Asm a = new X86Asm();
        a.vmovdqu32Load(0, mem(RDX, 0));
        a.vmovdqu32Load(17, mem(RDI, 0));
        a.vpbroadcastd(31, mem(RSI, 0));
        a.vpdpbusd(0, 17, 31);
        a.vpdpbusdBcast(0, 17, mem(RSI, 4));
        a.vmovdqu32Store(mem(RDX, 0), 0);
        a.vzeroupper();
        a.ret();
        MethodHandle f = JitCode.function(a.bytes(), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS),
                Linker.Option.critical(true));
        byte[] u = new byte[64];
        byte[] s = {-128, 127, 3, -1, 1, 2, -3, 4};
        int[] c = new int[16];
        int[] expect = new int[16];
        for (int i = 0; i < 64; i++) {
            u[i] = (byte) (i * 37 + 255);
        }
        for (int l = 0; l < 16; l++) {
            c[l] = l * 1000 - 7;
            expect[l] = c[l];
            for (int t = 0; t < 4; t++) {
                expect[l] += (u[4 * l + t] & 0xff) * (s[t] + s[4 + t]);
            }
        }
        f.invokeExact(MemorySegment.ofArray(u), MemorySegment.ofArray(s), MemorySegment.ofArray(c));
        assertArrayEquals(expect, c);
    }
}

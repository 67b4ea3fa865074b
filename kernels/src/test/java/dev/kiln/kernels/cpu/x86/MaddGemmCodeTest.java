package dev.kiln.kernels.cpu.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The generated AVX2 int8 kernels as code: frame and exit bytes always, and, when GNU objdump is
 * on PATH, a full disassembly (every byte decodes, one {@code vpmaddwd} and one {@code vpaddd}
 * per accumulator and step (and one {@code vpmaddubsw} in the byte kernel), B's vectors loaded once a step by the GEMM kernel, the lanes-along-k kernel widening each column once a step, no EVEX instruction, rbx, r12 and r13 saved and restored,
 * {@code vzeroupper} before {@code ret}). What they compute is checked by running them
 * ({@code QGemmMaddTest}).
 */
class MaddGemmCodeTest {
    @Test
    void frameAndExit() {
        for (int rows = 1; rows <= MaddGemmCode.MAX_ROWS; rows++) {
            for (int nv = 1; nv <= MaddGemmCode.MAX_NV; nv++) {
                String hex = HexFormat.of().formatHex(MaddGemmCode.gemm(rows, nv));
                assertTrue(hex.startsWith("5341544155"), "push rbx; push r12; push r13 first: " + hex.substring(0, 10));
                assertTrue(hex.endsWith("415d415c5bc5f877c3"), "pop r13; pop r12; pop rbx; vzeroupper; ret last");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> MaddGemmCode.gemm(MaddGemmCode.MAX_ROWS + 1, 1));
        assertThrows(IllegalArgumentException.class, () -> MaddGemmCode.gemm(1, MaddGemmCode.MAX_NV + 1));
        assertThrows(IllegalArgumentException.class, () -> MaddGemmCode.gemm(0, 1));
        for (int rows = 1; rows <= MaddGemmCode.MAX_DOT_ROWS; rows++) {
            for (int nr = 1; nr <= MaddGemmCode.MAX_DOT_NR; nr++) {
                String hex = HexFormat.of().formatHex(MaddGemmCode.dot(rows, nr));
                assertTrue(hex.startsWith("5341544155") && hex.endsWith("415d415c5bc5f877c3"), "dot frame: " + hex);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> MaddGemmCode.dot(MaddGemmCode.MAX_DOT_ROWS + 1, 1));
        assertThrows(IllegalArgumentException.class, () -> MaddGemmCode.dot(1, MaddGemmCode.MAX_DOT_NR + 1));
    }

    @Test
    void objdumpDecodesEveryKernel() throws IOException, InterruptedException {
        Assumptions.assumeTrue(X86AsmTest.onPath("objdump"), "GNU objdump is not on PATH: only the frame bytes were checked");
        Path bin = Files.createTempFile("kiln-madd", ".bin");
        try {
            for (int kind = 0; kind < 3; kind++) {
              boolean dot = kind == 1;
              boolean bytes = kind == 2;
              int maxRows = dot ? MaddGemmCode.MAX_DOT_ROWS : bytes ? MaddGemmCode.MAX_BYTE_ROWS : MaddGemmCode.MAX_ROWS;
              for (int rows = 1; rows <= maxRows; rows++) {
                for (int nv = 1; nv <= (dot ? MaddGemmCode.MAX_DOT_NR : MaddGemmCode.MAX_NV); nv++) {
                    String what = (dot ? "dot(" : bytes ? "gemmBytes(" : "gemm(") + rows + ", " + nv + ")";
                    Files.write(bin, dot ? MaddGemmCode.dot(rows, nv) : bytes ? MaddGemmCode.gemmBytes(rows, nv)
                            : MaddGemmCode.gemm(rows, nv));
                    Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", "i386:x86-64", bin.toString())
                            .redirectErrorStream(true).start();
                    String out = new String(p.getInputStream().readAllBytes());
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, out);
                    List<String> ins = out.lines().filter(l -> l.matches("\\s+[0-9a-f]+:\\t.*"))
                            .map(l -> l.substring(l.lastIndexOf('\t') + 1).trim()).toList();
                    assertFalse(out.contains("(bad)"), what + " has bytes objdump cannot decode:\n" + out);
                    assertFalse(out.contains("zmm"), what + " must run without AVX-512:\n" + out);
                    assertEquals(rows * nv, ins.stream().filter(s -> s.startsWith("vpmaddwd ")).count(),
                            what + ": one vpmaddwd per accumulator and k-pair (k-quad)\n" + out);
                    assertEquals(bytes ? rows * nv : 0, ins.stream().filter(s -> s.startsWith("vpmaddubsw ")).count(),
                            what + ": one vpmaddubsw per accumulator and k-quad\n" + out);
                    assertEquals(bytes ? 1 : 0, ins.stream().filter(s -> s.startsWith("vpsrlw ")).count(),
                            what + ": the ones made once\n" + out);
                    assertEquals(rows * nv, ins.stream().filter(s -> s.startsWith("vpaddd ")).count(), what);
                    assertEquals(dot ? 0 : rows, ins.stream().filter(s -> s.startsWith("vpbroadcastd ")).count(), what);
                    assertEquals(dot ? nv : 0, ins.stream().filter(s -> s.startsWith("vpmovsxbw ")).count(), what);
                    assertEquals(List.of("push   %rbx", "push   %r12", "push   %r13"), ins.subList(0, 3), what);
                    assertEquals(List.of("pop    %r13", "pop    %r12", "pop    %rbx", "vzeroupper", "ret"),
                            ins.subList(ins.size() - 5, ins.size()), what);
                    if (!dot) {
                        assertEquals(nv, ins.stream().filter(s -> s.startsWith("vmovdqu (%rbx)")
                                || s.matches("vmovdqu 0x[0-9a-f]+\\(%rbx\\),%ymm1[0-3]")).count(),
                                what + ": B's vectors loaded once a step\n" + out);
                    }
                  }
                }
            }
        } finally {
            Files.delete(bin);
        }
    }
}

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
 * The generated int8 kernels as code: frame and exit bytes always, and, when GNU objdump is on
 * PATH, a full disassembly (every byte decodes, {@code rows * nr} non-saturating
 * {@code vpdpbusd}, rbx saved and restored, {@code vzeroupper} before {@code ret}). What they
 * compute is checked by running them ({@code QGemmJitTest}).
 */
class VnniGemmCodeTest {
    private static final int[][] VARIANTS = {{1, 1}, {4, 6}, {2, 5}, {3, 3}, {5, 4}, {7, 3}, {6, 4}};

    @Test
    void frameAndExit() {
        for (int[] v : VARIANTS) {
            List<byte[]> codes = v[0] > VnniGemmCode.MAX_MV ? List.of(VnniGemmCode.dot(v[0], v[1]))
                    : List.of(VnniGemmCode.gemm(v[0], v[1]), VnniGemmCode.dot(v[0], v[1]));
            for (byte[] code : codes) {
                String hex = HexFormat.of().formatHex(code);
                assertTrue(hex.startsWith("53"), "push rbx first: " + hex.substring(0, 8));
                assertTrue(hex.endsWith("5bc5f877c3"), "pop rbx; vzeroupper; ret last");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> VnniGemmCode.gemm(5, 1));
        assertThrows(IllegalArgumentException.class, () -> VnniGemmCode.dot(1, 7));
        assertThrows(IllegalArgumentException.class, () -> VnniGemmCode.dot(8, 1));
        assertThrows(IllegalArgumentException.class, () -> VnniGemmCode.dot(5, 5));
    }

    @Test
    void objdumpDecodesEveryKernel() throws IOException, InterruptedException {
        Assumptions.assumeTrue(X86AsmTest.onPath("objdump"), "GNU objdump is not on PATH: only the frame bytes were checked");
        Path bin = Files.createTempFile("kiln-vnni", ".bin");
        try {
            for (int[] v : VARIANTS) {
                for (boolean dot : new boolean[] {false, true}) {
                    if (!dot && v[0] > VnniGemmCode.MAX_MV) {
                        continue;
                    }
                    String what = (dot ? "dot" : "gemm") + "(" + v[0] + ", " + v[1] + ")";
                    Files.write(bin, dot ? VnniGemmCode.dot(v[0], v[1]) : VnniGemmCode.gemm(v[0], v[1]));
                    Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", "i386:x86-64", bin.toString())
                            .redirectErrorStream(true).start();
                    String out = new String(p.getInputStream().readAllBytes());
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, out);
                    List<String> ins = out.lines().filter(l -> l.matches("\\s+[0-9a-f]+:\\t.*"))
                            .map(l -> l.substring(l.lastIndexOf('\t') + 1).trim()).toList();
                    assertFalse(out.contains("(bad)"), what + " has bytes objdump cannot decode:\n" + out);
                    assertEquals(v[0] * v[1], ins.stream().filter(s -> s.startsWith("vpdpbusd ")).count(),
                            what + ": one vpdpbusd per accumulator and step\n" + out);
                    assertFalse(out.contains("vpdpbusds"), what + " must not saturate");
                    assertEquals("push   %rbx", ins.get(0), what);
                    assertEquals(List.of("pop    %rbx", "vzeroupper", "ret"), ins.subList(ins.size() - 3, ins.size()),
                            what);
                }
            }
        } finally {
            Files.delete(bin);
        }
    }
}

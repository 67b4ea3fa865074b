package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.kernels.SparseCsr;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A JVM without {@code --enable-native-access} (and one that denies it) still runs the int8 GEMM
 * and the CSR product: the VNNI path reports itself off, the generated sparse code stays unused,
 * and the Vector API kernels answer, with no error.
 */
class NoNativeAccessTest {
    /** Child JVM entry: one small GEMM, prints whether VNNI ran and the result. */
    public static void main(String[] args) {
        int[] c = new int[64 * 64];
        byte[] x = new byte[64 * 100];
        byte[] w = new byte[64 * 100];
        Arrays.fill(x, (byte) 3);
        Arrays.fill(w, (byte) -2);
        QGemm.gemmS32(c, 0, 64, x, 0, 100, true, 1, w, 0, 100, 64, 64, 100);
        // a 64x64 weight with two elements of 0.5 a row, used twice (the second product may run generated code)
        int[] rowPtr = new int[65];
        int[] colIdx = new int[128];
        float[] values = new float[128];
        for (int r = 0; r < 64; r++) {
            rowPtr[r + 1] = 2 * r + 2;
            colIdx[2 * r] = Math.min(r, (r + 1) % 64);
            colIdx[2 * r + 1] = Math.max(r, (r + 1) % 64);
            values[2 * r] = 0.5f;
            values[2 * r + 1] = 0.5f;
        }
        SparseCsr sw = new SparseCsr(64, 64, rowPtr, colIdx, values);
        float[] sx = new float[64 * 64];
        float[] sy = new float[64 * 64];
        Arrays.fill(sx, 1f);
        Sparse.spmmCsr(sy, 0, 64, sw, sx, 0, 64, 64, false);
        Sparse.spmmCsr(sy, 0, 64, sw, sx, 0, 64, 64, false);
        System.out.println("usesVnni=" + QGemm.usesVnni() + " c=" + c[0] + "," + c[c.length - 1] + " sparse=" + sy[0]
                + "," + sy[sy.length - 1]);
    }

    private static String child(String... flags) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector"));
        cmd.addAll(List.of(flags));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), NoNativeAccessTest.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("child JVM failed: " + out);
        }
        return out.lines().filter(l -> l.startsWith("usesVnni=")).findFirst().orElse(out);
    }

    @Test
    void fallsBackWithoutNativeAccess() throws Exception {
        String want = "usesVnni=false c=-400,-400 sparse=1.0,1.0";
        assertEquals(want, child());
        assertEquals(want, child("--illegal-native-access=deny"));
        assertEquals(want, child("--enable-native-access=ALL-UNNAMED", "-Dkiln.int8.jit=false"));
        assertEquals(want, child("--enable-native-access=ALL-UNNAMED", "-Dkiln.int8.jit=false", "-Dkiln.sparse.jit=false"));
    }
}

package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A JVM without {@code --enable-native-access} (and one that denies it) still runs the int8 GEMM:
 * the VNNI path reports itself off and the Vector API kernels answer, with no error.
 */
class NoNativeAccessTest {
    /** Child JVM entry: one small GEMM, prints whether VNNI ran and the result. */
    public static void main(String[] args) {
        int[] c = new int[64 * 64];
        byte[] x = new byte[64 * 100];
        byte[] w = new byte[64 * 100];
        java.util.Arrays.fill(x, (byte) 3);
        java.util.Arrays.fill(w, (byte) -2);
        QGemm.gemmS32(c, 0, 64, x, 0, 100, true, 1, w, 0, 100, 64, 64, 100);
        System.out.println("usesVnni=" + QGemm.usesVnni() + " c=" + c[0] + "," + c[c.length - 1]);
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
        assertEquals("usesVnni=false c=-400,-400", child());
        assertEquals("usesVnni=false c=-400,-400", child("--illegal-native-access=deny"));
        assertEquals("usesVnni=false c=-400,-400", child("--enable-native-access=ALL-UNNAMED", "-Dkiln.int8.jit=false"));
    }
}

package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import dev.kiln.kernels.Parallel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Once compiled, {@code sgemm} allocates almost nothing per call on every packing path, also after
 * other shapes have run: in a fresh child JVM, on one thread, the shapes of a Linear layer's three
 * products and a square one, one after another. When the generated packing routines were called
 * through one shared method (a switch on the routine), C2 left some of their downcalls out of line
 * after such a history, and each call then allocated its argument segments: 14 KB per
 * 64 x 1024 x 1024 product, 1.7 KB per 512^3 (Zen 1; 192 B each with a call site per routine).
 */
class GemmAllocationTest {
    private static final long MAX_BYTES_PER_CALL = 1 << 10;
    private static final String RESULT = "bytes per call: ";
    /** m, n, k, transA, transB: the order that showed it. */
    private static final int[][] SHAPES = {{512, 512, 512, 0, 0}, {64, 1024, 1024, 0, 0}, {64, 1024, 1024, 0, 1},
            {1024, 1024, 64, 1, 0}};

    @Test
    void sgemmAllocatesLittleAfterAHistoryOfShapes() throws IOException, InterruptedException {
        // measured where tiles have 5 rows (AVX2, 16 registers); the AVX-512 packing runs other routines
        // (16 x 16 transposes) whose allocation after such a history has not been measured
        Assumptions.assumeTrue(GemmMicro.MR == 5, "measured on AVX2 machines only");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                Child.class.getName()));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM still running");
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
        List<String> results = out.lines().filter(l -> l.startsWith(RESULT)).toList();
        assertEquals(SHAPES.length, results.size(), "expected a result per shape from the child JVM:\n" + out);
        for (String r : results) {
            String[] f = r.substring(RESULT.length()).split(" ");
            assertTrue(Long.parseLong(f[0]) <= MAX_BYTES_PER_CALL, "expected at most " + MAX_BYTES_PER_CALL
                    + " bytes per sgemm call once compiled, got " + f[0] + " for " + f[1] + "\n" + out);
        }
    }

    /** Runs in the child JVM; prints the median allocation per call of each shape's last rounds. */
    static final class Child {
        public static void main(String[] args) {
            Parallel.setThreads(1); // the work runs on this thread, where the allocation is counted
            ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
            for (int[] s : SHAPES) {
                int m = s[0], n = s[1], k = s[2];
                boolean tA = s[3] == 1, tB = s[4] == 1;
                float[] a = new float[m * k];
                float[] b = new float[k * n];
                float[] c = new float[m * n];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) rnd.nextDouble(-1, 1);
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) rnd.nextDouble(-1, 1);
                }
                long[] rounds = new long[12];
                for (int round = 0; round < rounds.length + 8; round++) {
                    long before = mx.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 20; i++) {
                        Gemm.sgemm(false, c, 0, n, tA, a, 0, tA ? m : k, tB, b, 0, tB ? k : n, m, n, k);
                    }
                    if (round >= 8) {
                        rounds[round - 8] = (mx.getCurrentThreadAllocatedBytes() - before) / 20;
                    }
                }
                String shape = m + "x" + n + "x" + k + (tA ? "-tA" : "") + (tB ? "-tB" : "");
                System.out.println("rounds " + shape + ": " + Arrays.toString(rounds));
                Arrays.sort(rounds);
                System.out.println(RESULT + rounds[rounds.length / 2] + " " + shape);
            }
        }
    }
}

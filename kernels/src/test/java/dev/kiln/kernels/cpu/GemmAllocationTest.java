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
 * The int8 GEMM + dequantize on the AVX2 {@code vpmaddwd} path likewise, with B as bytes and
 * prepacked: its segments made per block and per panel transpose had cost 3.5 KB per
 * 64 x 1024 x 1024 product (280-360 B prepacked); the per-thread cached ones cost nothing.
 */
class GemmAllocationTest {
    private static final long MAX_BYTES_PER_CALL = 1 << 10;
    /** The int8 call's own objects (its epilogue, the block lambda) are ~150 B. */
    private static final long MAX_INT8_BYTES_PER_CALL = 512;
    private static final String RESULT = "bytes per call: ";
    /** m, n, k, transA, transB: the order that showed it. */
    private static final int[][] SHAPES = {{512, 512, 512, 0, 0}, {64, 1024, 1024, 0, 0}, {64, 1024, 1024, 0, 1},
            {1024, 1024, 64, 1, 0}};

    @Test
    void sgemmAllocatesLittleAfterAHistoryOfShapes() throws IOException, InterruptedException {
        // measured where tiles have 5 rows (AVX2, 16 registers); the AVX-512 packing runs other routines
        // (16 x 16 transposes) whose allocation after such a history has not been measured
        Assumptions.assumeTrue(GemmMicro.MR == 5, "measured on AVX2 machines only");
        checkChild("sgemm", SHAPES.length, MAX_BYTES_PER_CALL);
    }

    @Test
    void int8GemmAllocatesLittle() throws IOException, InterruptedException {
        // the VNNI path (AVX-512) keeps its own segments, not measured here
        Assumptions.assumeTrue(QGemm.usesMadd(), "measured on the AVX2 vpmaddwd path only");
        checkChild("int8", 2, MAX_INT8_BYTES_PER_CALL);
    }

    /** Runs {@link Child} on {@code what} and checks each of its {@code count} results against {@code max}. */
    private static void checkChild(String what, int count, long max) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                Child.class.getName(), what));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM still running");
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
        List<String> results = out.lines().filter(l -> l.startsWith(RESULT)).toList();
        assertEquals(count, results.size(), "expected a result per shape from the child JVM:\n" + out);
        for (String r : results) {
            String[] f = r.substring(RESULT.length()).split(" ");
            assertTrue(Long.parseLong(f[0]) <= max, "expected at most " + max + " bytes per " + what
                    + " call once compiled, got " + f[0] + " for " + f[1] + "\n" + out);
        }
    }

    /** Runs in the child JVM; prints the median allocation per call of each shape's last rounds. */
    static final class Child {
        public static void main(String[] args) {
            Parallel.setThreads(1); // the work runs on this thread, where the allocation is counted
            ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
            if (args[0].equals("int8")) {
                int8(mx, rnd);
                return;
            }
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
                report(m + "x" + n + "x" + k + (tA ? "-tA" : "") + (tB ? "-tB" : ""), rounds);
            }
        }

        /** The int8 Linear's product at batch 64, 1024 -> 1024: B as bytes, then prepacked. */
        private static void int8(ThreadMXBean mx, java.util.SplittableRandom rnd) {
            int m = 64, n = 1024, k = 1024;
            byte[] a = new byte[m * k];
            byte[] b = new byte[n * k];
            for (int i = 0; i < a.length; i++) {
                a[i] = (byte) rnd.nextInt(256);
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) rnd.nextInt(-127, 128);
            }
            float[] c = new float[m * n];
            float[] scales = new float[n];
            Arrays.fill(scales, 0.01f);
            float[] bias = new float[n];
            QGemm.PackedWeights packed = QGemm.packWeights(b, 0, k, n, k);
            for (boolean prepacked : new boolean[] {false, true}) {
                long[] rounds = new long[10];
                for (int round = 0; round < rounds.length + 8; round++) {
                    long before = mx.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 20; i++) {
                        if (prepacked) {
                            QGemm.gemmDequant(c, 0, n, a, 0, k, true, 128, 0.02f, packed, scales, bias, m);
                        } else {
                            QGemm.gemmDequant(c, 0, n, a, 0, k, true, 128, 0.02f, b, 0, k, scales, bias, m, n, k);
                        }
                    }
                    if (round >= 8) {
                        rounds[round - 8] = (mx.getCurrentThreadAllocatedBytes() - before) / 20;
                    }
                }
                report("int8-" + m + "x" + n + "x" + k + (prepacked ? "-packed" : ""), rounds);
            }
        }

        private static void report(String shape, long[] rounds) {
            System.out.println("rounds " + shape + ": " + Arrays.toString(rounds));
            Arrays.sort(rounds);
            System.out.println(RESULT + rounds[rounds.length / 2] + " " + shape);
        }
    }
}

package dev.kiln.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import dev.kiln.kernels.Parallel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A Linear layer's forward and backward pass allocates its output and little else once compiled,
 * also after another layer shape has trained first, as in a real model. In a fresh child JVM: 300
 * steps of a Linear 784 -> 300, then a Linear 1024 -> 1024 (batch 64) until compiled. A Vector API
 * copy of the weight's rows into packed strips once boxed its vectors after exactly this history
 * (not after the GEMMs alone): 6.7 MB per 1024 -> 1024 backward pass instead of 21 KB, and 14%
 * slower (Zen 1).
 */
class LinearAllocationTest {
    /** The forward output (64 x 1024 floats, 262 KB) and small objects; the boxed copy was 6.7 MB. */
    private static final long MAX_BYTES_PER_STEP = 1 << 20;
    private static final String RESULT = "bytes per step: ";

    @Test
    void linearStepAllocatesItsOutputOnlyAfterAnotherShape() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                Child.class.getName()));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM still running");
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
        long perStep = out.lines().filter(l -> l.startsWith(RESULT)).mapToLong(l -> Long.parseLong(l.substring(RESULT.length())))
                .findFirst().orElseThrow(() -> new AssertionError("no result from the child JVM:\n" + out));
        assertTrue(perStep <= MAX_BYTES_PER_STEP, "expected at most " + MAX_BYTES_PER_STEP
                + " bytes per Linear 1024 -> 1024 forward + backward step once compiled, got " + perStep + "\n" + out);
    }

    /** Runs in the child JVM; prints the median allocation per step of the last rounds. */
    static final class Child {
        public static void main(String[] args) {
            Parallel.setThreads(1); // the work runs on this thread, where the allocation is counted
            Generator g = new Generator(3);
            step(g, 784, 300, 300);
            Tensor[] big = layer(g, 1024, 1024);
            ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            long[] last = new long[8];
            StringBuilder rounds = new StringBuilder("rounds:");
            for (int round = 0; round < 20; round++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 10; i++) {
                    Functional.linear(big[0], big[1], big[2]).backward(big[3]);
                }
                long perStep = (mx.getCurrentThreadAllocatedBytes() - before) / 10;
                rounds.append(' ').append(perStep);
                if (round >= 12) {
                    last[round - 12] = perStep;
                }
            }
            java.util.Arrays.sort(last);
            System.out.println(rounds);
            System.out.println(RESULT + last[last.length / 2]);
        }

        /** x, weight, bias (all requiring gradients) and the output gradient of a Linear {@code in -> out} at batch 64. */
        private static Tensor[] layer(Generator g, int in, int out) {
            return new Tensor[] {Tensors.randn(g, 64, in).requiresGrad(true), Tensors.randn(g, out, in).requiresGrad(true),
                    Tensors.randn(g, out).requiresGrad(true), Tensors.ones(64, out)};
        }

        private static void step(Generator g, int in, int out, int steps) {
            Tensor[] t = layer(g, in, out);
            for (int i = 0; i < steps; i++) {
                Functional.linear(t[0], t[1], t[2]).backward(t[3]);
            }
        }
    }
}

package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.randomFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.ThreadMXBean;
import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Winograd's loops must not allocate once compiled, whatever the JVM met before. The Vector API's
 * methods are inlined into every caller with the profile they share: after other kernels (other
 * vector sizes, masked loads and stores reaching past their arrays) had given C2 more than 100
 * wrong class guesses in them, it compiled Winograd's {@code selectFrom} calls, and any vector
 * code on a branch the profile never saw, as virtual calls and boxed the vectors around them (58 MB
 * per fwd+bwd call at 32 -> 32, 28x28, batch 64, 20% slower), in one of five {@code kiln bench}
 * runs. A child JVM with {@code -XX:PerMethodTrapLimit=0} makes C2 compile every method that way
 * from the start, so the test does not depend on what ran before it.
 */
class ConvWinogradAllocationTest {
    /** Bytes per call allowed once compiled: the per-call set-up (weight transform, index array) is well under. */
    private static final long MAX_BYTES_PER_CALL = 64 << 10;
    private static final String RESULT = "bytes per call: ";

    @Test
    void compiledLoopsDoNotAllocateWhenC2MayNotSpeculate() throws IOException, InterruptedException {
        assumeTrue(ConvWinograd.suitsForward(geom()), "Winograd runs only with 16-lane vectors");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-XX:PerMethodTrapLimit=0", "-Xmx512m", "-cp", System.getProperty("java.class.path"), Child.class.getName()));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM still running");
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
        long perCall = out.lines().filter(l -> l.startsWith(RESULT)).mapToLong(l -> Long.parseLong(l.substring(RESULT.length())))
                .findFirst().orElseThrow(() -> new AssertionError("no result from the child JVM:\n" + out));
        assertTrue(perCall <= MAX_BYTES_PER_CALL, "expected at most " + MAX_BYTES_PER_CALL
                + " bytes per forward + input-gradient call once compiled, got " + perCall + "\n" + out);
    }

    private static ConvGeom geom() {
        return new ConvGeom(2, 32, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    }

    /** Runs in the child JVM: the kernels until compiled, then prints the allocation per call of the last rounds. */
    static final class Child {
        public static void main(String[] args) {
            ConvGeom g = geom();
            SplittableRandom rnd = new SplittableRandom(3);
            float[] x = randomFloats(rnd, (int) g.xSize());
            float[] w = randomFloats(rnd, (int) g.wSize());
            float[] bias = randomFloats(rnd, g.oc());
            float[] y = new float[(int) g.ySize()];
            float[] gx = new float[(int) g.xSize()];
            ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            Parallel.setThreads(1); // the units run on this thread, where the allocation is counted
            long worst = 0;
            for (int round = 0; round < 30; round++) { // C2 has compiled the loops after about 3 rounds
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 100; i++) {
                    ConvWinograd.forward(y, x, w, bias, g);
                    ConvWinograd.backwardInput(i % 2 == 1, gx, y, w, g);
                }
                long perCall = (mx.getCurrentThreadAllocatedBytes() - before) / 100;
                if (round >= 20) {
                    worst = Math.max(worst, perCall);
                }
            }
            System.out.println(RESULT + worst);
        }
    }
}

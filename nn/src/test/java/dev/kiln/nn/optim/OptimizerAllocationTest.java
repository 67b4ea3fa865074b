package dev.kiln.nn.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.Parallel;
import dev.kiln.nn.Parameter;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * An optimizer step over contiguous F32 parameters (the fused in-place loop) allocates next to
 * nothing once compiled, whatever C2 made of the loop's choices. In a child JVM under
 * {@code -XX:PerMethodTrapLimit=0} (C2 compiles both sides of every branch, as it does after too
 * many failed guesses): its vector loops once merged two vectors at a branch (the first step's
 * momentum buffer, Nesterov or not), and C2 boxed them: an SGD step over 871,018 parameters took
 * 2.1 ms and allocated 10.5 MB instead of 0.9 ms and 144 bytes, in some processes only.
 */
class OptimizerAllocationTest {
    /** A few small objects per step (the step's records, iterators); boxed vectors were 12 bytes per element. */
    private static final long MAX_BYTES_PER_STEP = 4096;
    private static final String RESULT = "bytes per step ";

    @Test
    void fusedStepsDoNotAllocatePerElement() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "-XX:PerMethodTrapLimit=0", "-Xmx1g", "-cp", System.getProperty("java.class.path"), Child.class.getName()));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM still running");
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
        List<String> results = out.lines().filter(l -> l.startsWith(RESULT)).toList();
        assertEquals(Child.CONFIGS.size(), results.size(), "results from the child JVM:\n" + out);
        for (String r : results) {
            String[] f = r.substring(RESULT.length()).split(": ");
            assertTrue(Long.parseLong(f[1]) <= MAX_BYTES_PER_STEP, "expected at most " + MAX_BYTES_PER_STEP
                    + " bytes per " + f[0] + " step once compiled, got " + f[1] + "\n" + out);
        }
    }

    /** Runs in the child JVM; prints the median allocation per step of each optimizer's last rounds. */
    static final class Child {
        static final List<String> CONFIGS = List.of("sgd momentum", "sgd nesterov wd", "sgd", "adam", "adamw amsgrad");

        static Function<List<Parameter>, Optimizer> make(String name) {
            return switch (name) {
                case "sgd momentum" -> ps -> new SGD(ps, 0.01, 0.9, 0, false);
                case "sgd nesterov wd" -> ps -> new SGD(ps, 0.01, 0.9, 1e-4, true);
                case "sgd" -> ps -> new SGD(ps, 0.01);
                case "adam" -> ps -> new Adam(ps, 1e-3, 0.9, 0.999, 1e-8, 1e-4);
                default -> ps -> new AdamW(ps, 1e-3, 0.9, 0.999, 1e-8, 0.01, true);
            };
        }

        public static void main(String[] args) {
            Parallel.setThreads(1); // the work runs on this thread, where the allocation is counted
            ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            Generator g = new Generator(5);
            for (String name : CONFIGS) {
                List<Parameter> ps = new ArrayList<>();
                for (int n : new int[] {100_003, 4_099}) {
                    Tensor t = Tensors.randn(g, n).requiresGrad(true);
                    t.setGrad(Tensors.randn(g, n).mul(1e-3));
                    ps.add(new Parameter(t));
                }
                Optimizer opt = make(name).apply(ps);
                long[] last = new long[8];
                StringBuilder rounds = new StringBuilder(name + " rounds:");
                for (int round = 0; round < 40; round++) {
                    long before = mx.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 20; i++) {
                        opt.step();
                    }
                    long perStep = (mx.getCurrentThreadAllocatedBytes() - before) / 20;
                    rounds.append(' ').append(perStep);
                    if (round >= 32) {
                        last[round - 32] = perStep;
                    }
                }
                java.util.Arrays.sort(last);
                System.out.println(rounds);
                System.out.println(RESULT + name + ": " + last[last.length / 2]);
            }
        }
    }
}

package dev.kiln.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.kernels.Parallel;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The threads of one GEMM that share packed B panels ({@link GemmSharedB}) wait on each other's
 * strips and row blocks; an ordering bug there hangs a product (one did: a block's progress count
 * could go down when a thread that had lost its core finished late). With blocking this small
 * (a child JVM with {@code kiln.gemm.kc=16, mc=8, nc=64}) a product has dozens of panels and
 * blocks, so hundreds of random shapes on 2-4 threads go through many interleavings in seconds.
 * Each product must finish and have the bits of one thread. The child is killed after a time
 * limit, so a hang fails the test instead of stalling the build.
 */
class GemmSharedBStressTest {
    static final int SHAPES = 400;

    /** Child JVM entry: random shapes, 2-4 threads against 1, three calls each; exits 1 on a difference. */
    public static void main(String[] args) {
        SplittableRandom rnd = new SplittableRandom(42);
        for (int s = 0; s < SHAPES; s++) {
            int m = 1 + rnd.nextInt(208), n = 1 + rnd.nextInt(300), k = 1 + rnd.nextInt(100);
            boolean ta = rnd.nextBoolean(), tb = rnd.nextBoolean(), acc = rnd.nextBoolean();
            float[] a = random(rnd, m * k), b = random(rnd, k * n), c0 = random(rnd, m * n);
            int lda = ta ? m : k, ldb = tb ? k : n;
            Parallel.setThreads(1);
            float[] want = c0.clone();
            Gemm.sgemm(acc, want, 0, n, ta, a, 0, lda, tb, b, 0, ldb, m, n, k);
            Parallel.setThreads(2 + s % 3);
            for (int call = 0; call < 3; call++) {
                float[] got = c0.clone();
                Gemm.sgemm(acc, got, 0, n, ta, a, 0, lda, tb, b, 0, ldb, m, n, k);
                if (!Arrays.equals(want, got)) {
                    System.out.printf("differs: %dx%dx%d transA=%b transB=%b acc=%b threads=%d call=%d%n",
                            m, n, k, ta, tb, acc, 2 + s % 3, call);
                    System.exit(1);
                }
            }
        }
        System.out.println("ok " + SHAPES + " shapes");
        System.exit(0);
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextDouble(-1, 1);
        }
        return x;
    }

    @Test
    void tinyPanelsOnSeveralThreadsFinishWithTheBitsOfOne() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "-Dkiln.gemm.kc=16", "-Dkiln.gemm.mc=8", "-Dkiln.gemm.nc=64",
                "-cp", System.getProperty("java.class.path"), GemmSharedBStressTest.class.getName()));
        File log = File.createTempFile("kiln-gemm-stress", ".log");
        log.deleteOnExit();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("a GEMM with shared B panels did not finish in 180 s (hang?); child output: "
                    + Files.readString(log.toPath()));
        }
        String out = Files.readString(log.toPath());
        assertTrue(p.exitValue() == 0 && out.contains("ok " + SHAPES), "child JVM: exit " + p.exitValue() + ", " + out);
    }
}

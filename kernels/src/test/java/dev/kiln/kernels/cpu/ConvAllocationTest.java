package dev.kiln.kernels.cpu;

import static dev.kiln.kernels.TestArrays.randomFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.ThreadMXBean;
import dev.kiln.kernels.ConvGeom;
import dev.kiln.kernels.Parallel;
import dev.kiln.kernels.Simd;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The conv kernels must not allocate once compiled, whatever the JVM met before. The Vector API's
 * methods are inlined into every caller with the profile they share: once code using several
 * vector sizes, or masked loads and stores reaching past their arrays, has given C2 more than 100
 * wrong class guesses in them, it compiles vector calls whose receiver class it cannot prove, and
 * vector code on branches the profile never saw, as virtual calls, and boxes the vectors around
 * them. Winograd's loops did so in one of five {@code kiln bench} runs (58 MB per fwd+bwd call at
 * 32 -> 32, 28x28, batch 64, 20% slower). A child JVM with {@code -XX:PerMethodTrapLimit=0} has C2
 * compile every method that way from the start, so these tests do not depend on what ran before.
 */
class ConvAllocationTest {
    /**
     * Bytes per call allowed once compiled, for the AVX-512 kernels: their per-call set-up (packing
     * indices, weight transform) is well under.
     */
    private static final long MAX_BYTES_PER_CALL = 64 << 10;
    /**
     * The bound for the kernels measured on AVX2 (Zen 1, session 20, 1 thread): 0.8-4.2 KB per call
     * once compiled, the lambdas and per-call index tables. Before the conv geometries were cached
     * (and the shuffles made once per geometry) the few-channel layers took 10-43 KB per call.
     */
    private static final long MAX_BYTES_PER_CALL_AVX2 = 8 << 10;
    private static final String RESULT = "bytes per call: ";

    @ParameterizedTest
    @ValueSource(strings = {"winograd", "direct14", "f4", "f4wide", "conv8", "tiles", "lenet", "few1", "few3", "few32"})
    void compiledLoopsDoNotAllocateWhenC2MayNotSpeculate(String kernels) throws IOException, InterruptedException {
        assumeTrue(!Simd.SCALAR, "vector kernels only");
        assumeTrue(!"winograd".equals(kernels) || ConvWinograd.suitsForward(geom(kernels)), "Winograd runs only with 16-lane vectors");
        assumeTrue(!kernels.startsWith("f4") || ConvWinogradF4.suitsForward(geom(kernels)), "Winograd runs only with 16-lane vectors");
        assumeTrue(!"conv8".equals(kernels) || ConvWinogradRegions.suitsForward(geom(kernels)), "Winograd runs only with 16-lane vectors");
        assumeTrue(!"tiles".equals(kernels) || ConvWinogradTiles.ROUTED && Conv.winogradForward(geom(kernels)),
                "Winograd by flattened tiles: routed with 16 registers");
        assumeTrue(!"lenet".equals(kernels) || ConvScatterInput.suits(geom(kernels)),
                "LeNet-5's 6 -> 16 on 5-row tiles and the scattering input gradient: 16 registers");
        assumeTrue(!"direct14".equals(kernels) || ConvDirect.suitsInput(geom(kernels)), "8-row direct kernels: AVX-512 only");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector"));
        if (ConvAllocationTest.class.getModule().isNativeAccessEnabled()) {
            command.add("--enable-native-access=ALL-UNNAMED"); // the generated code's paths too, when this JVM runs them
        }
        long max = List.of("tiles", "lenet", "few1", "few3", "few32").contains(kernels) ? MAX_BYTES_PER_CALL_AVX2 : MAX_BYTES_PER_CALL;
        command.addAll(List.of("-XX:PerMethodTrapLimit=0", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                Child.class.getName(), kernels, Long.toString(max)));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM still running");
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
        long perCall = out.lines().filter(l -> l.startsWith(RESULT)).mapToLong(l -> Long.parseLong(l.substring(RESULT.length())))
                .findFirst().orElseThrow(() -> new AssertionError("no result from the child JVM:\n" + out));
        assertTrue(perCall <= max, "expected at most " + max + " bytes per " + kernels
                + " forward + backward call once compiled, got " + perCall + "\n" + out);
    }

    private static ConvGeom geom(String kernels) {
        return switch (kernels) {
            case "winograd" -> new ConvGeom(2, 32, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
            // the direct kernels called as such (Conv routes this layer's forward and input gradient to ConvWinogradF4)
            case "direct14" -> new ConvGeom(2, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1);
            // F(4x4, 3x3) forward and for the input gradient, the direct kernel for the weight gradient
            case "f4" -> new ConvGeom(2, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1);
            // F(4x4, 3x3) with rows read as two vectors
            case "f4wide" -> new ConvGeom(2, 32, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1);
            // Winograd by regions forward and for the input gradient, the direct kernel for the weight gradient
            case "conv8" -> new ConvGeom(2, 64, 8, 8, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1);
            // Winograd by flattened tiles (AVX2) forward and for the input gradient, through Conv
            case "tiles" -> new ConvGeom(3, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1);
            // LeNet-5's 6 -> 16 through Conv: 5-row direct forward, scattering input gradient, 5-tap weight rows (AVX2)
            case "lenet" -> new ConvGeom(4, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1);
            // few input channels (ConvFew): LeNet-5's first layer, 1 -> 6 5x5, and the small VGGs' first, 3 -> 32 3x3
            case "few1" -> new ConvGeom(4, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1);
            case "few3" -> new ConvGeom(2, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
            // 1 -> 32 3x3: its weight gradient is the packed GEMM's swapped one (taps as A, with permutes)
            case "few32" -> new ConvGeom(2, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
            default -> throw new IllegalArgumentException("expected winograd, direct14, f4, f4wide, conv8, tiles, lenet, few1, few3 or few32,"
                    + " got " + kernels);
        };
    }

    /** Runs in the child JVM: the kernels until compiled, then prints the median allocation per call of the last 10 rounds. */
    static final class Child {
        public static void main(String[] args) {
            String kernels = args[0];
            ConvGeom g = geom(kernels);
            SplittableRandom rnd = new SplittableRandom(3);
            float[] x = randomFloats(rnd, (int) g.xSize());
            float[] w = randomFloats(rnd, (int) g.wSize());
            float[] bias = randomFloats(rnd, g.oc());
            float[] y = new float[(int) g.ySize()];
            float[] gx = new float[(int) g.xSize()];
            float[] gw = new float[w.length];
            float[] gb = new float[bias.length];
            ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            Parallel.setThreads(1); // the work runs on this thread, where the allocation is counted
            // other widths first, as a training run would: other paths of shared code (16 channels: the direct
            // kernels, whose padded copies of 28- and 16-wide rows took another vector size until session 10)
            for (int hw : new int[] {28, 16}) {
                ConvGeom o = new ConvGeom(2, 16, hw, hw, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1);
                float[] ox = randomFloats(rnd, (int) o.xSize());
                float[] ow = randomFloats(rnd, (int) o.wSize());
                float[] oy = new float[(int) o.ySize()];
                for (int i = 0; i < 200; i++) {
                    Conv.conv2d(oy, ox, ow, null, o);
                    Conv.conv2dBackwardInput(false, ox, oy, ow, o);
                    Conv.conv2dBackwardWeight(ow, null, ox, oy, o);
                }
            }
            // rounds until the last 10 all stay within the bound (C2 has compiled the loops: after 16
            // rounds at most on the Zen 5 and Zen 1 machines, after 39 once on a Zen 3 while the other
            // test JVM ran), at most 200 rounds or 60 s; a loop compiled to boxed code allocates in
            // every round and so runs to that limit
            long max = Long.parseLong(args[1]);
            long[] perRound = new long[200];
            StringBuilder rounds = new StringBuilder("rounds:");
            long start = System.nanoTime();
            int done = 0;
            for (int streak = 0; done < perRound.length && streak < 10 && System.nanoTime() - start < 60_000_000_000L; done++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 100; i++) {
                    if ("winograd".equals(kernels)) {
                        ConvWinograd.forward(y, x, w, bias, g);
                        ConvWinograd.backwardInput(i % 2 == 1, gx, y, w, g);
                    } else if ("direct14".equals(kernels)) {
                        ConvDirect.conv2d(y, x, w, bias, g);
                        ConvDirect.conv2dBackwardInput(i % 2 == 1, gx, y, w, g);
                        Conv.conv2dBackwardWeight(gw, gb, x, y, g);
                    } else {
                        Conv.conv2d(y, x, w, bias, g);
                        Conv.conv2dBackwardInput(i % 2 == 1, gx, y, w, g);
                        Conv.conv2dBackwardWeight(gw, gb, x, y, g);
                    }
                }
                long perCall = (mx.getCurrentThreadAllocatedBytes() - before) / 100;
                rounds.append(' ').append(perCall);
                perRound[done] = perCall;
                streak = perCall <= max ? streak + 1 : 0;
            }
            // the median of the last 10 rounds: a round that caught a method between compilations (once in
            // about ten CI runs: 345 KB per call averaged over one round) is not what this test is about
            long[] last = java.util.Arrays.copyOfRange(perRound, Math.max(0, done - 10), done);
            java.util.Arrays.sort(last);
            System.out.println(rounds);
            System.out.println(RESULT + last[last.length / 2]);
        }
    }
}

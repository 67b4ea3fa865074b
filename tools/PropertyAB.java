import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Random;

/**
 * Times {@code sgemm} with a Kiln system property at two values, side by side in one JVM: the
 * kernels' classes are loaded twice (two class loaders over the same build), the property set to
 * the first value before the first loader's CPU kernel classes are all initialized and to the
 * second before the second's, then the two run in alternating order, round after round. On a shared host whose rate
 * drifts by several percent between JVMs, this resolves differences that separate JMH forks do
 * not. Properties read when a class initializes work this way ({@code kiln.gemm.jit},
 * {@code kiln.transpose.jit}, {@code kiln.gemm.kc/mc/nc}, ...).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED tools/PropertyAB.java \
 *     kernels/target/classes kiln.gemm.jit false true 1 8 2048 1024 512
 * </pre>
 * Arguments: classes directory, property, value A, value B, threads, rounds, then square sizes.
 * Prints the best time of each side per size (ms) and B's speed over A's, measured twice: with A's
 * loader made first and with B's made first (with one value on both sides the second-made side
 * ran up to 2% faster), and the geometric mean of the two.
 */
public class PropertyAB {
    public static void main(String[] args) throws Exception {
        if (args.length < 7) {
            throw new IllegalArgumentException("expected: classesDir property valueA valueB threads rounds size...,"
                    + " got " + args.length + " arguments");
        }
        String property = args[1];
        String[] values = {args[2], args[3]};
        int threads = Integer.parseInt(args[4]);
        int rounds = Integer.parseInt(args[5]);
        System.out.printf("%s = %s (A) vs %s (B), %d thread(s), best of %d rounds, each order of loading%n", property,
                values[0], values[1], threads, rounds);
        for (int a = 6; a < args.length; a++) {
            int n = Integer.parseInt(args[a]);
            float[] x = new float[n * n];
            float[] y = new float[n * n];
            float[] c = new float[n * n];
            Random r = new Random(1);
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextFloat() - 0.5f;
                y[i] = r.nextFloat() - 0.5f;
            }
            double[] speed = new double[2];
            double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
            for (int order = 0; order < 2; order++) {
                Method[] sgemm = load(args[0], property, values, threads, order == 1);
                double[] b = time(sgemm, rounds, c, x, y, n);
                speed[order] = b[0] / b[1];
                best[0] = Math.min(best[0], b[0]);
                best[1] = Math.min(best[1], b[1]);
            }
            System.out.printf("%d^3: A %.2f ms, B %.2f ms; B/A speed %.3fx (A loaded first), %.3fx (B first), %.3fx"
                    + " (geometric mean)%n", n, best[0], best[1], speed[0], speed[1], Math.sqrt(speed[0] * speed[1]));
        }
    }

    /**
     * The two sides' {@code Gemm.sgemm}, each from its own class loader with every CPU kernel class
     * initialized while the property holds that side's value; B's loader is made first when
     * {@code bFirst} (the side loaded second ran up to 2% faster with the same value on both).
     */
    private static Method[] load(String dir, String property, String[] values, int threads, boolean bFirst)
            throws Exception {
        Method[] sgemm = new Method[2];
        for (int k = 0; k < 2; k++) {
            int side = bFirst ? 1 - k : k;
            ClassLoader loader = new URLClassLoader(new URL[] {Path.of(dir).toUri().toURL()},
                    ClassLoader.getPlatformClassLoader());
            System.setProperty(property, values[side]);
            loader.loadClass("dev.kiln.kernels.Parallel").getMethod("setThreads", int.class).invoke(null, threads);
            Path cpu = Path.of(dir).resolve("dev/kiln/kernels/cpu");
            try (var files = java.nio.file.Files.walk(cpu)) {
                for (Path f : (Iterable<Path>) files.filter(q -> q.toString().endsWith(".class"))::iterator) {
                    Class.forName(Path.of(dir).relativize(f).toString().replace('/', '.').replace(".class", ""), true,
                            loader);
                }
            }
            sgemm[side] = loader.loadClass("dev.kiln.kernels.cpu.Gemm").getMethod("sgemm", boolean.class,
                    float[].class, int.class, int.class, boolean.class, float[].class, int.class, int.class,
                    boolean.class, float[].class, int.class, int.class, int.class, int.class, int.class);
        }
        return sgemm;
    }

    /**
     * Best time (ms) of each side over {@code rounds} rounds after {@code 2 + 2048/n} of warm-up
     * (the fresh loaders' code compiles then), the sides' order alternating.
     */
    private static double[] time(Method[] sgemm, int rounds, float[] c, float[] x, float[] y, int n) throws Exception {
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
        int warmup = 2 + 2048 / n;
        for (int round = 0; round < rounds + warmup; round++) {
            for (int k = 0; k < 2; k++) {
                int side = (round & 1) == 0 ? k : 1 - k;
                long t0 = System.nanoTime();
                sgemm[side].invoke(null, false, c, 0, n, false, x, 0, n, false, y, 0, n, n, n, n);
                double ms = (System.nanoTime() - t0) / 1e6;
                if (round >= warmup) {
                    best[side] = Math.min(best[side], ms);
                }
            }
        }
        return best;
    }
}

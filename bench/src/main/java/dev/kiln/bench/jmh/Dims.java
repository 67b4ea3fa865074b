package dev.kiln.bench.jmh;

/** The benchmarks' shape parameters: "64-32-28-28" or "64x1000" as ints. */
final class Dims {
    private Dims() {
    }

    /** The numbers of {@code shape} between {@code separator}s ("-" or "x"). */
    static int[] parse(String shape, String separator) {
        String[] p = shape.split(separator);
        int[] d = new int[p.length];
        for (int i = 0; i < p.length; i++) {
            d[i] = Integer.parseInt(p[i].trim());
        }
        return d;
    }
}

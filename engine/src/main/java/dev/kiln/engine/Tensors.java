package dev.kiln.engine;

/**
 * Creating tensors: constants, ranges, Java arrays and seeded random numbers. Shapes are given
 * last as varargs; the dtype is F32 unless a method takes one.
 *
 * <pre>{@code
 * Tensor x = Tensors.of(new float[] {1, 2, 3, 4}, 2, 2);
 * Tensor n = Tensors.randn(new Generator(7), 64, 784);
 * Tensor y = Tensors.of(new long[] {3, 1}, 2);          // I64 labels
 * }</pre>
 */
public final class Tensors {
    private Tensors() {
    }

    private static Backend cpu() {
        return Backends.of(Device.CPU);
    }

    public static Tensor zeros(int... shape) {
        return zeros(DType.F32, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return cpu().zeros(dtype, shape.clone());
    }

    public static Tensor ones(int... shape) {
        return full(DType.F32, 1, shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return full(dtype, 1, shape);
    }

    public static Tensor full(double value, int... shape) {
        return full(DType.F32, value, shape);
    }

    public static Tensor full(DType dtype, double value, int... shape) {
        Tensor t = zeros(dtype, shape);
        if (value != 0) {
            cpu().fill(t, value);
        }
        return t;
    }

    /** Zeros with the shape, dtype and device of {@code t}. */
    public static Tensor zerosLike(Tensor t) {
        return t.backend().zeros(t.dtype(), t.shapeRef());
    }

    /** Ones with the shape, dtype and device of {@code t}. */
    public static Tensor onesLike(Tensor t) {
        Tensor o = zerosLike(t);
        o.backend().fill(o, 1);
        return o;
    }

    /** A 0-d tensor (shape {@code []}). */
    public static Tensor scalar(double value) {
        return scalar(DType.F32, value);
    }

    public static Tensor scalar(DType dtype, double value) {
        return full(dtype, value);
    }

    /** 0, 1, ..., n-1 as I64. */
    public static Tensor arange(int n) {
        long[] v = new long[Math.max(n, 0)];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return of(v, v.length);
    }

    /** start, start+step, ... below end (above end for a negative step). */
    public static Tensor arange(DType dtype, double start, double end, double step) {
        if (step == 0 || Double.isNaN(step)) {
            throw new IllegalArgumentException("arange: expected a non-zero step, got " + step);
        }
        int n = (int) Math.max(0, Math.ceil((end - start) / step));
        Tensor t = zeros(dtype, n);
        HeapStorage h = (HeapStorage) t.storage();
        for (int i = 0; i < n; i++) {
            h.set(i, start + i * step);
        }
        return t;
    }

    public static Tensor of(float[] data, int... shape) {
        return cpu().fromArray(DType.F32, shape.clone(), data);
    }

    public static Tensor of(double[] data, int... shape) {
        return cpu().fromArray(DType.F64, shape.clone(), data);
    }

    public static Tensor of(long[] data, int... shape) {
        return cpu().fromArray(DType.I64, shape.clone(), data);
    }

    public static Tensor of(int[] data, int... shape) {
        return cpu().fromArray(DType.I32, shape.clone(), data);
    }

    /** I8 data (quantized values); use {@link #ofBool} for masks. */
    public static Tensor of(byte[] data, int... shape) {
        return cpu().fromArray(DType.I8, shape.clone(), data);
    }

    public static Tensor ofBool(boolean[] data, int... shape) {
        byte[] b = new byte[data.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (data[i] ? 1 : 0);
        }
        return cpu().fromArray(DType.BOOL, shape.clone(), b);
    }

    /** A 1-D F32 tensor of the given values. */
    public static Tensor vector(float... data) {
        return of(data, data.length);
    }

    /** Uniform in [0, 1). */
    public static Tensor rand(Generator g, int... shape) {
        return uniform(g, DType.F32, 0, 1, shape);
    }

    /** Standard normal. */
    public static Tensor randn(Generator g, int... shape) {
        return normal(g, DType.F32, 0, 1, shape);
    }

    /** Uniform in [lo, hi). */
    public static Tensor uniform(Generator g, DType dtype, double lo, double hi, int... shape) {
        requireFloating("uniform", dtype);
        if (!(hi >= lo)) {
            throw new IllegalArgumentException("uniform: expected lo <= hi, got [" + lo + ", " + hi + ")");
        }
        Tensor t = zeros(dtype, shape);
        HeapStorage h = (HeapStorage) t.storage();
        int n = t.numel();
        if (dtype == DType.F32) {
            float[] a = h.f32();
            for (int i = 0; i < n; i++) {
                a[i] = (float) (lo + (hi - lo) * g.nextDouble());
            }
        } else {
            double[] a = h.f64();
            for (int i = 0; i < n; i++) {
                a[i] = lo + (hi - lo) * g.nextDouble();
            }
        }
        return t;
    }

    /** Normal with the given mean and standard deviation. */
    public static Tensor normal(Generator g, DType dtype, double mean, double std, int... shape) {
        requireFloating("normal", dtype);
        if (!(std >= 0)) {
            throw new IllegalArgumentException("normal: expected std >= 0, got " + std);
        }
        Tensor t = zeros(dtype, shape);
        HeapStorage h = (HeapStorage) t.storage();
        int n = t.numel();
        for (int i = 0; i < n; i++) {
            h.set(i, mean + std * g.nextGaussian());
        }
        return t;
    }

    static void requireFloating(String op, DType dt) {
        if (!dt.isFloating()) {
            throw new IllegalArgumentException(op + ": expected a floating dtype (F32 or F64), got " + dt);
        }
    }
}

package dev.kiln.engine;

/**
 * CPU storage: one JVM heap array, {@code float[]} for F32, {@code double[]} for F64,
 * {@code int[]} for I32, {@code long[]} for I64 and {@code byte[]} for I8 and BOOL.
 */
public final class HeapStorage implements Storage {
    private final DType dtype;
    private final Object array;
    private final int length;

    private HeapStorage(DType dtype, Object array, int length) {
        this.dtype = dtype;
        this.array = array;
        this.length = length;
    }

    /** A zero-filled buffer of {@code n} elements. */
    public static HeapStorage allocate(DType dtype, int n) {
        Object a = switch (dtype) {
            case F32 -> new float[n];
            case F64 -> new double[n];
            case I32 -> new int[n];
            case I64 -> new long[n];
            case I8, BOOL -> new byte[n];
        };
        return new HeapStorage(dtype, a, n);
    }

    /** Wraps (does not copy) an array; its component type must match {@code dtype}. */
    public static HeapStorage wrap(DType dtype, Object array) {
        int n = switch (dtype) {
            case F32 -> array instanceof float[] f ? f.length : -1;
            case F64 -> array instanceof double[] d ? d.length : -1;
            case I32 -> array instanceof int[] i ? i.length : -1;
            case I64 -> array instanceof long[] l ? l.length : -1;
            case I8, BOOL -> array instanceof byte[] b ? b.length : -1;
        };
        if (n < 0) {
            throw new IllegalArgumentException("HeapStorage: dtype " + dtype + " needs a "
                    + arrayName(dtype) + ", got " + (array == null ? "null" : array.getClass().getSimpleName()));
        }
        return new HeapStorage(dtype, array, n);
    }

    private static String arrayName(DType d) {
        return switch (d) {
            case F32 -> "float[]";
            case F64 -> "double[]";
            case I32 -> "int[]";
            case I64 -> "long[]";
            case I8, BOOL -> "byte[]";
        };
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    /** The backing array (float[] for F32). */
    public float[] f32() {
        return (float[]) array;
    }

    /** The backing array (double[] for F64). */
    public double[] f64() {
        return (double[]) array;
    }

    /** The backing array (int[] for I32). */
    public int[] i32() {
        return (int[]) array;
    }

    /** The backing array (long[] for I64). */
    public long[] i64() {
        return (long[]) array;
    }

    /** The backing array (byte[] for I8 and BOOL). */
    public byte[] bytes() {
        return (byte[]) array;
    }

    /** The backing array, whatever its type. */
    public Object array() {
        return array;
    }

    /** Reads element {@code i} as a double. */
    public double get(int i) {
        return switch (dtype) {
            case F32 -> ((float[]) array)[i];
            case F64 -> ((double[]) array)[i];
            case I32 -> ((int[]) array)[i];
            case I64 -> ((long[]) array)[i];
            case I8, BOOL -> ((byte[]) array)[i];
        };
    }

    /** Writes element {@code i} from a double (rounded/truncated to the dtype). */
    public void set(int i, double v) {
        switch (dtype) {
            case F32 -> ((float[]) array)[i] = (float) v;
            case F64 -> ((double[]) array)[i] = v;
            case I32 -> ((int[]) array)[i] = (int) v;
            case I64 -> ((long[]) array)[i] = (long) v;
            case I8 -> ((byte[]) array)[i] = (byte) v;
            case BOOL -> ((byte[]) array)[i] = (byte) (v != 0 ? 1 : 0);
        }
    }

    /** Reads element {@code i} as a long (exact for integer dtypes). */
    public long getLong(int i) {
        return switch (dtype) {
            case I64 -> ((long[]) array)[i];
            case I32 -> ((int[]) array)[i];
            case I8, BOOL -> ((byte[]) array)[i];
            case F32 -> (long) ((float[]) array)[i];
            case F64 -> (long) ((double[]) array)[i];
        };
    }
}

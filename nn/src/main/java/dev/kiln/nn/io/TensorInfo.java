package dev.kiln.nn.io;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header: its name, stored dtype, shape and byte range in the
 * data buffer ({@code begin} inclusive, {@code end} exclusive, counted from the end of the header).
 */
public record TensorInfo(String name, SafetensorsDType dtype, int[] shape, long begin, long end) {
    public TensorInfo {
        shape = shape.clone();
    }

    /** The shape (a copy; a scalar has shape {@code []}). */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements (the product of the shape, 1 for a scalar). */
    public long numel() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** Number of bytes in the data buffer. */
    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return ((name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape)) * 31 + Long.hashCode(begin);
    }

    @Override
    public String toString() {
        return name + ": " + dtype + " " + Arrays.toString(shape) + " at [" + begin + ", " + end + ")";
    }
}

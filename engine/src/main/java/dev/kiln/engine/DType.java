package dev.kiln.engine;

/** Element types of a tensor. */
public enum DType {
    /** 32-bit float, the default for data and parameters. */
    F32(4, true),
    /** 64-bit float, used for gradient checks. */
    F64(8, true),
    /** 32-bit signed int. */
    I32(4, false),
    /** 64-bit signed int: labels and indices. */
    I64(8, false),
    /** 8-bit signed int: quantized data. */
    I8(1, false),
    /** Boolean stored as one byte (0 or 1): results of comparisons, masks. */
    BOOL(1, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for F32 and F64. */
    public boolean isFloating() {
        return floating;
    }
}

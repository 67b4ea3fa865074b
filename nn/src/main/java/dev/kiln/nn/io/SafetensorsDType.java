package dev.kiln.nn.io;

import dev.kiln.engine.DType;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The element types the safetensors format defines, in the reference implementation's order
 * (which is also its layout rank: it writes tensors by descending dtype, then by name).
 *
 * <p>Kiln reads {@code F32, F64, I32, I64, I8, BOOL} as the same dtype, and widens three more on
 * read: {@code F16} and {@code BF16} to {@code F32} (pretrained weights are often stored that way)
 * and {@code U8} to {@code I32} (every value 0..255 kept). The rest are accepted in a header (their
 * sizes are checked) but {@link SafetensorsFile#tensor} refuses to materialize them.
 */
public enum SafetensorsDType {
    BOOL(8, DType.BOOL),
    F4(4, null),
    F6_E2M3(6, null),
    F6_E3M2(6, null),
    U8(8, DType.I32),
    I8(8, DType.I8),
    F8_E5M2(8, null),
    F8_E4M3(8, null),
    F8_E8M0(8, null),
    F8_E4M3FNUZ(8, null),
    F8_E5M2FNUZ(8, null),
    I16(16, null),
    U16(16, null),
    F16(16, DType.F32),
    BF16(16, DType.F32),
    I32(32, DType.I32),
    U32(32, null),
    F32(32, DType.F32),
    C64(64, null),
    F64(64, DType.F64),
    I64(64, DType.I64),
    U64(64, null);

    private final int bits;
    private final DType kiln;

    SafetensorsDType(int bits, DType kiln) {
        this.bits = bits;
        this.kiln = kiln;
    }

    /** Width of one element in bits (BOOL is stored as a byte). */
    public int bits() {
        return bits;
    }

    /** True when Kiln can read tensors of this type. */
    public boolean readable() {
        return kiln != null;
    }

    /** True when reading converts the values to a wider Kiln dtype (F16, BF16, U8). */
    public boolean widened() {
        return kiln != null && !kiln.name().equals(name());
    }

    /** The Kiln dtype a tensor of this type is read as. */
    public DType kilnDType() {
        if (kiln == null) {
            throw new UnsupportedOperationException("safetensors dtype " + this + ": expected one Kiln reads ("
                    + list(true) + "), got " + this);
        }
        return kiln;
    }

    /** The safetensors dtype Kiln writes for {@code d} (every Kiln dtype has one of the same name). */
    public static SafetensorsDType of(DType d) {
        return valueOf(d.name());
    }

    /** The dtype named {@code s} in a header, or null when the format defines no such name. */
    static SafetensorsDType parse(String s) {
        for (SafetensorsDType t : values()) {
            if (t.name().equals(s)) {
                return t;
            }
        }
        return null;
    }

    /** The names of the dtypes, all or only the readable ones, comma separated. */
    static String list(boolean readableOnly) {
        return Arrays.stream(values()).filter(t -> !readableOnly || t.readable()).map(Enum::name)
                .collect(Collectors.joining(", "));
    }
}

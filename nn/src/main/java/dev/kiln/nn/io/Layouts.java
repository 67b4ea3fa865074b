package dev.kiln.nn.io;

import dev.kiln.engine.DType;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian, unaligned element layouts of the file side, and the native ones of Kiln's heap arrays. */
final class Layouts {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Layouts() {
    }

    /** The file-side (little-endian) layout of one element of {@code d}. */
    static ValueLayout file(DType d) {
        return switch (d) {
            case F32 -> F32;
            case F64 -> F64;
            case I32 -> I32;
            case I64 -> I64;
            case I8, BOOL -> ValueLayout.JAVA_BYTE;
        };
    }

    /** The layout of one element of {@code d} in its heap array (native order). */
    static ValueLayout heap(DType d) {
        return switch (d) {
            case F32 -> ValueLayout.JAVA_FLOAT;
            case F64 -> ValueLayout.JAVA_DOUBLE;
            case I32 -> ValueLayout.JAVA_INT;
            case I64 -> ValueLayout.JAVA_LONG;
            case I8, BOOL -> ValueLayout.JAVA_BYTE;
        };
    }
}

package dev.kiln.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import dev.kiln.engine.Tensor;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** F16 and BF16 are widened to F32 and U8 to I32 on read; values checked against hand-decoded bit patterns. */
class WidenedDTypeTest {
    @TempDir
    Path dir;

    private Tensor readOne(String dtype, byte[] data, int n) throws Exception {
        String json = "{\"t\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + n + "],\"data_offsets\":[0," + data.length + "]}}";
        try (SafetensorsFile f = Safetensors.read(RawFiles.write(dir, dtype + ".safetensors", json, data))) {
            return f.tensor("t");
        }
    }

    private static void assertBits(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(expected[i])) {
                assertTrue(Float.isNaN(actual[i]), "element " + i + ": expected NaN, got " + actual[i]);
            } else {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                        "element " + i + ": expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    @Test
    void halfPrecisionIncludingSubnormalsInfinitiesAndNaN() throws Exception {
        int[] bits = {0x0000, 0x8000, 0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0400, 0x0001, 0x03FF, 0x8001, 0x7C00, 0xFC00, 0x7E00, 0x7C01};
        float[] expected = {
            0f, -0f, 1f, -2f,
            1365f / 4096,                   // 0x3555: (1 + 341/1024) * 2^-2
            65504f,                         // the largest half
            Math.scalb(1f, -14),            // the smallest normal
            Math.scalb(1f, -24),            // the smallest subnormal
            Math.scalb(1023f, -24),         // the largest subnormal
            -Math.scalb(1f, -24),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.NaN};
        Tensor t = readOne("F16", RawFiles.u16(bits), bits.length);
        assertEquals(DType.F32, t.dtype());
        assertBits(expected, t.toFloatArray());
    }

    @Test
    void bfloat16IncludingSubnormalsInfinitiesAndNaN() throws Exception {
        int[] bits = {0x3F80, 0xC040, 0x4049, 0x0080, 0x0001, 0x007F, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0x8000};
        float[] expected = {
            1f, -3f,
            3.140625f,                      // 0x4049: (1 + 73/128) * 2
            Math.scalb(1f, -126),           // the smallest normal
            Math.scalb(1f, -133),           // the smallest subnormal: mantissa bit 16 of a float
            Math.scalb(127f, -133),         // the largest subnormal
            Math.scalb(255f, 120),          // the largest bfloat16: (2 - 2^-7) * 2^127
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, -0f};
        Tensor t = readOne("BF16", RawFiles.u16(bits), bits.length);
        assertEquals(DType.F32, t.dtype());
        assertBits(expected, t.toFloatArray());
    }

    @Test
    void unsignedBytesKeepTheirValuesAsI32AndBoolBytesAreNormalized() throws Exception {
        Tensor u8 = readOne("U8", new byte[] {0, 1, 127, (byte) 128, (byte) 255}, 5);
        assertEquals(DType.I32, u8.dtype());
        assertArrayEquals(new long[] {0, 1, 127, 128, 255}, u8.toLongArray());
        Tensor bool = readOne("BOOL", new byte[] {0, 1, 2, (byte) 255}, 4);
        assertEquals(DType.BOOL, bool.dtype());
        assertArrayEquals(new long[] {0, 1, 1, 1}, bool.toLongArray());
    }

    @Test
    void theWideningIsVisibleInTheHeaderBeforeLoading() throws Exception {
        String json = "{\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}";
        try (SafetensorsFile f = Safetensors.read(RawFiles.write(dir, "h.safetensors", json, RawFiles.u16(0x3C00)))) {
            assertEquals(SafetensorsDType.F16, f.dtype("h"));
            assertTrue(f.dtype("h").widened());
            assertEquals(DType.F32, f.dtype("h").kilnDType());
            assertEquals(1.0, f.tensor("h").item());
        }
    }
}

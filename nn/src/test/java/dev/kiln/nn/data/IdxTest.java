package dev.kiln.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path dir;

    /** An IDX file: the magic, the dims, then the body. */
    static byte[] idx(int magic, int[] dims, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + body.length);
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(body);
        return b.array();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(data);
        }
        return bos.toByteArray();
    }

    private Path file(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 37 + 11);
        }
        return b;
    }

    @Test
    void readsRawAndGzipAndScalesPixelsTo01() throws IOException {
        byte[] body = bytes(2 * 3 * 4);
        byte[] raw = idx(Idx.IMAGES_MAGIC, new int[] {2, 3, 4}, body);
        for (Path p : new Path[] {file("raw.idx", raw), file("packed.idx", gzip(raw)), file("raw-named.gz", raw)}) {
            Idx.Images img = Idx.readImages(p);
            assertEquals(2, img.count());
            assertEquals(3, img.rows());
            assertEquals(4, img.cols());
            for (int i = 0; i < body.length; i++) {
                assertEquals((body[i] & 0xFF) / 255f, img.pixels()[i], p + " pixel " + i);
            }
        }
        byte[] labels = idx(Idx.LABELS_MAGIC, new int[] {3}, new byte[] {9, 0, (byte) 200});
        assertArrayEquals(new long[] {9, 0, 200}, Idx.readLabels(file("l.gz", gzip(labels))));
        assertArrayEquals(new long[] {9, 0, 200}, Idx.readLabels(file("l", labels)));
    }

    @Test
    void writerRoundTripsExactly() throws IOException {
        int count = 5;
        byte[] body = bytes(count * 28 * 28);
        Idx.Images img = Idx.readImages(file("src", idx(Idx.IMAGES_MAGIC, new int[] {count, 28, 28}, body)));
        long[] labels = {0, 9, 3, 255, 4};
        for (boolean gz : new boolean[] {false, true}) {
            Path ip = dir.resolve("images-" + gz);
            Path lp = dir.resolve("labels-" + gz);
            Idx.writeImages(ip, img, gz);
            Idx.writeLabels(lp, labels, gz);
            byte[] written = Files.readAllBytes(ip);
            assertEquals(gz, written[0] == 0x1f && written[1] == (byte) 0x8b);
            Idx.Images back = Idx.readImages(ip);
            assertArrayEquals(img.pixels(), back.pixels());
            assertEquals(28, back.rows());
            assertArrayEquals(labels, Idx.readLabels(lp));
            if (!gz) {
                assertArrayEquals(idx(Idx.IMAGES_MAGIC, new int[] {count, 28, 28}, body), written);
            }
            InMemoryDataset ds = Idx.readDataset(ip, lp);
            assertArrayEquals(new int[] {1, 28, 28}, ds.sampleShape());
            assertEquals(count, ds.size());
            assertEquals(255, ds.label(3));
        }
        assertThrows(IllegalArgumentException.class, () -> Idx.writeLabels(dir.resolve("bad"), new long[] {256}, false));
        assertThrows(IllegalArgumentException.class,
                () -> Idx.writeImages(dir.resolve("bad"), new Idx.Images(new float[] {1.5f}, 1, 1, 1), false));
    }

    private void assertMalformed(String expectedProblem, Path p, boolean images) {
        var e = assertThrows(MalformedDataException.class, () -> {
            if (images) {
                Idx.readImages(p);
            } else {
                Idx.readLabels(p);
            }
        });
        assertEquals(p + ": " + expectedProblem, e.getMessage());
        assertEquals(p.toString(), e.source());
    }

    @Test
    void badMagicIsNamed() throws IOException {
        byte[] labels = idx(Idx.LABELS_MAGIC, new int[] {2}, new byte[2]);
        byte[] images = idx(Idx.IMAGES_MAGIC, new int[] {1, 1, 1}, new byte[1]);
        assertMalformed("bad magic: expected 0x00000803 (unsigned-byte images, 3 dimensions), got 0x00000801 (a label file)",
                file("train-labels-idx1-ubyte.gz", gzip(labels)), true);
        assertMalformed("bad magic: expected 0x00000801 (unsigned-byte labels, 1 dimension), got 0x00000803 (an image file)",
                file("imgs", images), false);
        assertMalformed("bad magic: expected 0x00000803 (unsigned-byte images, 3 dimensions), got 0x89504e47",
                file("photo.png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0}), true);
        assertMalformed("bad magic: expected 0x00000801 (unsigned-byte labels, 1 dimension), got 0x00000d01",
                file("floats", idx(0x00000D01, new int[] {1}, new byte[4])), false);
    }

    @Test
    void truncatedFilesSayHowMuchWasMissing() throws IOException {
        byte[] short10 = idx(Idx.IMAGES_MAGIC, new int[] {2, 3, 3}, bytes(10));
        assertMalformed("truncated: expected 18 bytes of pixel data, got 10", file("short", short10), true);
        assertMalformed("truncated: expected 18 bytes of pixel data, got 10", file("short.gz", gzip(short10)), true);
        assertMalformed("truncated: expected 5 bytes of label data, got 4",
                file("labels", idx(Idx.LABELS_MAGIC, new int[] {5}, new byte[4])), false);
        assertMalformed("truncated header: expected 3 dimensions, got 1",
                file("header", Arrays.copyOf(idx(Idx.IMAGES_MAGIC, new int[] {2, 3, 3}, new byte[0]), 10)), true);
        assertMalformed("too short for an IDX header (expected magic 0x00000801, unsigned-byte labels, 1 dimension)",
                file("empty", new byte[0]), false);
    }

    @Test
    void extraBytesAreRejected() throws IOException {
        assertMalformed("expected 3 bytes of label data, got 5 (2 bytes after the end)",
                file("long", idx(Idx.LABELS_MAGIC, new int[] {3}, new byte[5])), false);
    }

    @Test
    void corruptGzipIsNamed() throws IOException {
        byte[] gz = gzip(idx(Idx.IMAGES_MAGIC, new int[] {4, 28, 28}, bytes(4 * 784)));
        Path p = file("cut.gz", Arrays.copyOf(gz, gz.length / 2));
        var e = assertThrows(MalformedDataException.class, () -> Idx.readImages(p));
        assertTrue(e.getMessage().startsWith(p + ": truncated or corrupt gzip data: "), e.getMessage());
        assertTrue(e.getCause() instanceof IOException);
    }

    @Test
    void absurdDimensionsAreRejectedBeforeAllocating() throws IOException {
        String limits = " (expected count >= 0, 1 <= rows, cols <= 16384, fewer than 2^31 pixels in all)";
        assertMalformed("absurd dimensions 10 x 0 x 28" + limits,
                file("zero", idx(Idx.IMAGES_MAGIC, new int[] {10, 0, 28}, new byte[0])), true);
        assertMalformed("absurd dimensions 4294967295 x 28 x 28" + limits,
                file("neg", idx(Idx.IMAGES_MAGIC, new int[] {-1, 28, 28}, new byte[0])), true);
        assertMalformed("absurd dimensions 3000000 x 1000 x 1000" + limits,
                file("huge", idx(Idx.IMAGES_MAGIC, new int[] {3_000_000, 1000, 1000}, new byte[16])), true);
        assertMalformed("absurd label count 4294967294",
                file("negl", idx(Idx.LABELS_MAGIC, new int[] {-2}, new byte[0])), false);
        assertMalformed("truncated: expected 2000000000 bytes of label data, got 3",
                file("bigl", idx(Idx.LABELS_MAGIC, new int[] {2_000_000_000}, new byte[3])), false);
    }

    @Test
    void imageAndLabelCountsMustAgree() throws IOException {
        Path images = file("train-images-idx3-ubyte.gz", gzip(idx(Idx.IMAGES_MAGIC, new int[] {3, 2, 2}, new byte[12])));
        Path labels = file("train-labels-idx1-ubyte.gz", gzip(idx(Idx.LABELS_MAGIC, new int[] {2}, new byte[2])));
        var e = assertThrows(MalformedDataException.class, () -> Idx.readDataset(images, labels));
        assertEquals(images + ": 3 images, but its label file " + labels + " has 2 labels", e.getMessage());
    }
}

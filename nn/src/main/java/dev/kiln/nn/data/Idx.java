package dev.kiln.nn.data;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * The IDX format of MNIST and Fashion-MNIST: unsigned-byte images ({@code 0x00000803}: count, rows,
 * columns) and labels ({@code 0x00000801}: count), big-endian, raw or gzip-compressed (told apart by
 * the gzip magic {@code 1f 8b}, not by the file name). Malformed files are rejected with a
 * {@link MalformedDataException} naming the file and the problem, before any allocation of the
 * size a header claims.
 *
 * <pre>{@code
 * Idx.Images img = Idx.readImages(Path.of("train-images-idx3-ubyte.gz"));   // pixels / 255
 * long[] labels = Idx.readLabels(Path.of("train-labels-idx1-ubyte.gz"));
 * InMemoryDataset ds = Idx.readDataset(imagesPath, labelsPath);             // [1, 28, 28] samples
 * }</pre>
 */
public final class Idx {
    /** Magic of an unsigned-byte image file with 3 dimensions. */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic of an unsigned-byte label file with 1 dimension. */
    public static final int LABELS_MAGIC = 0x00000801;
    /** Largest accepted image side; anything larger is taken for a corrupt header. */
    public static final int MAX_SIDE = 1 << 14;

    private Idx() {
    }

    /**
     * Images as floats in [0, 1] (each byte divided by 255 in float32, as torchvision's
     * {@code ToTensor}), row-major {@code [count, rows, cols]}.
     *
     * @param pixels {@code count * rows * cols} values
     */
    public record Images(float[] pixels, int count, int rows, int cols) {
        public Images {
            if (count < 0 || rows < 1 || cols < 1 || (long) count * rows * cols != pixels.length) {
                throw new IllegalArgumentException("Images: " + count + " images of " + rows + "x" + cols + " need "
                        + (long) count * rows * cols + " pixels, got " + pixels.length);
            }
        }
    }

    /** Reads an image file. */
    public static Images readImages(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return readImages(in, file.toString());
        }
    }

    /** Reads an image file from a stream (to its end, then closes it); {@code source} names it in errors. */
    public static Images readImages(InputStream raw, String source) throws IOException {
        try (InputStream in = open(raw)) {
            int[] dims = header(in, source, IMAGES_MAGIC, "unsigned-byte images, 3 dimensions");
            int count = dims[0];
            int rows = dims[1];
            int cols = dims[2];
            if (count < 0 || rows < 1 || cols < 1 || rows > MAX_SIDE || cols > MAX_SIDE
                    || (long) count * rows * cols > Integer.MAX_VALUE - 8) {
                throw new MalformedDataException(source, "absurd dimensions " + Integer.toUnsignedString(count) + " x "
                        + Integer.toUnsignedString(rows) + " x " + Integer.toUnsignedString(cols)
                        + " (expected count >= 0, 1 <= rows, cols <= " + MAX_SIDE + ", fewer than 2^31 pixels in all)");
            }
            byte[] bytes = body(in, source, count * rows * cols, "pixel data");
            float[] pixels = new float[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                pixels[i] = (bytes[i] & 0xFF) / 255f;
            }
            return new Images(pixels, count, rows, cols);
        } catch (ZipException | EOFException e) {
            throw corrupt(source, e);
        }
    }

    /** Reads a label file. */
    public static long[] readLabels(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return readLabels(in, file.toString());
        }
    }

    /** Reads a label file from a stream (to its end, then closes it); {@code source} names it in errors. */
    public static long[] readLabels(InputStream raw, String source) throws IOException {
        try (InputStream in = open(raw)) {
            int count = header(in, source, LABELS_MAGIC, "unsigned-byte labels, 1 dimension")[0];
            if (count < 0 || count > Integer.MAX_VALUE - 8) {
                throw new MalformedDataException(source, "absurd label count " + Integer.toUnsignedString(count));
            }
            byte[] bytes = body(in, source, count, "label data");
            long[] labels = new long[count];
            for (int i = 0; i < count; i++) {
                labels[i] = bytes[i] & 0xFF;
            }
            return labels;
        } catch (ZipException | EOFException e) {
            throw corrupt(source, e);
        }
    }

    private static MalformedDataException corrupt(String source, IOException e) {
        return new MalformedDataException(source, "truncated or corrupt gzip data: " + e.getMessage(), e);
    }

    /**
     * An image file and its label file as one dataset of {@code [1, rows, cols]} samples; the counts
     * must agree.
     */
    public static InMemoryDataset readDataset(Path images, Path labels) throws IOException {
        Images img = readImages(images);
        long[] lab = readLabels(labels);
        return dataset(img, lab, images.toString(), labels.toString());
    }

    /** Pairs images and labels read from sources named {@code imagesSource} and {@code labelsSource}. */
    static InMemoryDataset dataset(Images img, long[] labels, String imagesSource, String labelsSource)
            throws MalformedDataException {
        if (img.count() != labels.length) {
            throw new MalformedDataException(imagesSource, img.count() + " images, but its label file " + labelsSource
                    + " has " + labels.length + " labels");
        }
        return InMemoryDataset.adopt(img.pixels(), new int[] {1, img.rows(), img.cols()}, labels);
    }

    /** Writes images, each pixel {@code round(255 * p)} for p in [0, 1]; gzip-compressed when {@code gzip}. */
    public static void writeImages(Path file, Images images, boolean gzip) throws IOException {
        float[] p = images.pixels();
        byte[] bytes = new byte[p.length];
        for (int i = 0; i < p.length; i++) {
            if (!(p[i] >= 0 && p[i] <= 1)) {
                throw new IllegalArgumentException("writeImages: expected pixels in [0, 1], got " + p[i] + " at " + i);
            }
            bytes[i] = (byte) Math.round(p[i] * 255f);
        }
        write(file, gzip, IMAGES_MAGIC, new int[] {images.count(), images.rows(), images.cols()}, bytes);
    }

    /** Writes labels, each in [0, 255]; gzip-compressed when {@code gzip}. */
    public static void writeLabels(Path file, long[] labels, boolean gzip) throws IOException {
        byte[] bytes = new byte[labels.length];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] > 255) {
                throw new IllegalArgumentException("writeLabels: expected labels in [0, 255], got " + labels[i] + " at " + i);
            }
            bytes[i] = (byte) labels[i];
        }
        write(file, gzip, LABELS_MAGIC, new int[] {labels.length}, bytes);
    }

    private static void write(Path file, boolean gzip, int magic, int[] dims, byte[] body) throws IOException {
        try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(file));
             OutputStream os = gzip ? new GZIPOutputStream(raw) : raw;
             DataOutputStream out = new DataOutputStream(os)) {
            out.writeInt(magic);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(body);
        }
    }

    /** The stream, decompressed if it starts with the gzip magic. */
    private static InputStream open(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        return b0 == 0x1f && b1 == 0x8b ? new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16) : in;
    }

    private static int[] header(InputStream in, String source, int magic, String what) throws IOException {
        int got;
        try {
            got = readInt(in);
        } catch (EOFException e) {
            throw new MalformedDataException(source, "too short for an IDX header (expected magic 0x"
                    + String.format("%08x", magic) + ", " + what + ")");
        }
        if (got != magic) {
            throw new MalformedDataException(source, "bad magic: expected 0x" + String.format("%08x", magic) + " (" + what
                    + "), got 0x" + String.format("%08x", got) + describe(got));
        }
        int[] dims = new int[magic & 0xFF];
        for (int d = 0; d < dims.length; d++) {
            try {
                dims[d] = readInt(in);
            } catch (EOFException e) {
                throw new MalformedDataException(source, "truncated header: expected " + dims.length + " dimensions, got " + d);
            }
        }
        return dims;
    }

    private static String describe(int magic) {
        if (magic == IMAGES_MAGIC) {
            return " (an image file)";
        }
        if (magic == LABELS_MAGIC) {
            return " (a label file)";
        }
        return "";
    }

    /** Exactly {@code n} bytes, growing the buffer only as data arrives, then nothing more. */
    private static byte[] body(InputStream in, String source, int n, String what) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length != n) {
            throw new MalformedDataException(source, "truncated: expected " + n + " bytes of " + what + ", got " + bytes.length);
        }
        long extra = 0;
        byte[] sink = new byte[8192];
        for (int r; (r = in.read(sink)) > 0; ) {
            extra += r;
        }
        if (extra > 0) {
            throw new MalformedDataException(source, "expected " + n + " bytes of " + what + ", got " + (n + extra)
                    + " (" + extra + " bytes after the end)");
        }
        return bytes;
    }

    private static int readInt(InputStream in) throws IOException {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException();
            }
            v = (v << 8) | b;
        }
        return v;
    }
}

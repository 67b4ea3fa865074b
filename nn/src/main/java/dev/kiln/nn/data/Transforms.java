package dev.kiln.nn.data;

import dev.kiln.engine.Generator;
import java.util.Arrays;
import java.util.List;

/**
 * The standard sample transforms, with torchvision's semantics: {@code normalize} as
 * {@code Normalize(mean, std)}, {@code randomCrop} as {@code RandomCrop(size, padding)} (zero
 * padding) and {@code horizontalFlip} as {@code RandomHorizontalFlip(p)}. Samples are
 * {@code [C, H, W]} images (or any shape whose first dimension is the channel, for normalize).
 *
 * <pre>{@code
 * Transform train = Transforms.compose(Transforms.randomCrop(28, 4), Transforms.horizontalFlip(0.5),
 *         Transforms.normalize(0.2860, 0.3530));
 * }</pre>
 */
public final class Transforms {
    private Transforms() {
    }

    /** {@code x = (x - mean) / std} over the whole sample, in float32 as torchvision. */
    public static Transform normalize(double mean, double std) {
        return normalize(new double[] {mean}, new double[] {std});
    }

    /**
     * {@code x[c] = (x[c] - mean[c]) / std[c]} for each channel {@code c}, the first dimension of
     * the sample ({@code C} of {@code [C, H, W]}, or the feature of a {@code [F]} row); arrays of
     * length 1 apply to every channel.
     */
    public static Transform normalize(double[] mean, double[] std) {
        if (mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("normalize: expected mean and std of the same non-zero length, got "
                    + mean.length + " and " + std.length);
        }
        float[] m = new float[mean.length];
        float[] s = new float[std.length];
        for (int c = 0; c < m.length; c++) {
            m[c] = (float) mean[c];
            s[c] = (float) std[c];
            if (s[c] == 0 || !Float.isFinite(s[c]) || !Float.isFinite(m[c])) {
                throw new IllegalArgumentException("normalize: expected finite mean and non-zero finite std, got mean "
                        + Arrays.toString(mean) + ", std " + Arrays.toString(std));
            }
        }
        return new Normalize(m, s);
    }

    /** Square {@link #randomCrop(int, int, int)}. */
    public static Transform randomCrop(int size, int padding) {
        return randomCrop(size, size, padding);
    }

    /**
     * Pads the last two dimensions by {@code padding} zeros on every side, then crops a
     * {@code height x width} window at a uniformly random position (top first, then left).
     */
    public static Transform randomCrop(int height, int width, int padding) {
        if (height < 1 || width < 1 || padding < 0) {
            throw new IllegalArgumentException("randomCrop: expected size >= 1 and padding >= 0, got size ["
                    + height + ", " + width + "], padding " + padding);
        }
        return new RandomCrop(height, width, padding);
    }

    /** Mirrors the last dimension with probability {@code p}. */
    public static Transform horizontalFlip(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("horizontalFlip: expected a probability in [0, 1], got " + p);
        }
        return new HorizontalFlip(p);
    }

    /** The transforms applied in order, drawing from the same generator. */
    public static Transform compose(Transform... transforms) {
        for (int i = 0; i < transforms.length; i++) {
            if (transforms[i] == null) {
                throw new IllegalArgumentException("compose: transform " + i + " is null");
            }
        }
        return new Compose(List.of(transforms));
    }

    static int numel(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private record Normalize(float[] mean, float[] std) implements Transform {
        @Override
        public int[] outputShape(int[] shape) {
            if (mean.length != 1 && (shape.length == 0 || shape[0] != mean.length)) {
                throw new IllegalArgumentException("normalize: " + mean.length + " channel means need a sample whose first"
                        + " dimension is " + mean.length + ", got shape " + Arrays.toString(shape));
            }
            return shape.clone();
        }

        @Override
        public void apply(float[] buf, int off, int[] shape, Generator g) {
            int n = numel(shape);
            int channels = mean.length == 1 ? 1 : shape[0];
            int per = n / channels;
            for (int c = 0; c < channels; c++) {
                float m = mean[c];
                float s = std[c];
                for (int i = off + c * per, end = i + per; i < end; i++) {
                    buf[i] = (buf[i] - m) / s;
                }
            }
        }

        @Override
        public String toString() {
            return "normalize(mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + ")";
        }
    }

    private record RandomCrop(int height, int width, int padding) implements Transform {
        @Override
        public int[] outputShape(int[] shape) {
            if (shape.length < 2) {
                throw new IllegalArgumentException("randomCrop: expected a sample with at least 2 dimensions [..., H, W], got "
                        + Arrays.toString(shape));
            }
            int r = shape.length;
            long ph = shape[r - 2] + 2L * padding;
            long pw = shape[r - 1] + 2L * padding;
            if (ph < height || pw < width) {
                throw new IllegalArgumentException("randomCrop: crop size [" + height + ", " + width
                        + "] is larger than the padded input [" + ph + ", " + pw + "] of sample shape " + Arrays.toString(shape));
            }
            int[] out = shape.clone();
            out[r - 2] = height;
            out[r - 1] = width;
            return out;
        }

        @Override
        public void apply(float[] buf, int off, int[] shape, Generator g) {
            int r = shape.length;
            int h = shape[r - 2];
            int w = shape[r - 1];
            int top = g.nextInt(h + 2 * padding - height + 1);
            int left = g.nextInt(w + 2 * padding - width + 1);
            int dy = top - padding;
            int dx = left - padding;
            int channels = numel(shape) / (h * w);
            if (h == height && w == width) {
                for (int c = 0; c < channels; c++) {
                    shiftInPlace(buf, off + c * h * w, h, w, dy, dx);
                }
                return;
            }
            float[] out = new float[channels * height * width];
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < height; y++) {
                    copyRow(buf, off + c * h * w, h, w, y + dy, dx, out, (c * height + y) * width, width);
                }
            }
            System.arraycopy(out, 0, buf, off, out.length);
        }

        /** Row {@code y} of the result is source row {@code y + dy} shifted by {@code dx}, zeros outside. */
        private static void shiftInPlace(float[] buf, int base, int h, int w, int dy, int dx) {
            int step = dy > 0 ? 1 : -1;
            for (int y = dy > 0 ? 0 : h - 1; y >= 0 && y < h; y += step) {
                copyRow(buf, base, h, w, y + dy, dx, buf, base + y * w, w);
            }
        }

        /** dst[x] = src[sy][x + dx] for x in [0, outW), 0 where outside the source (overlap-safe within a row). */
        private static void copyRow(float[] src, int base, int h, int w, int sy, int dx, float[] dst, int dstOff, int outW) {
            if (sy < 0 || sy >= h) {
                Arrays.fill(dst, dstOff, dstOff + outW, 0f);
                return;
            }
            int x0 = Math.min(outW, Math.max(0, -dx));
            int x1 = Math.max(x0, Math.min(outW, w - dx));
            System.arraycopy(src, base + sy * w + x0 + dx, dst, dstOff + x0, x1 - x0);
            Arrays.fill(dst, dstOff, dstOff + x0, 0f);
            Arrays.fill(dst, dstOff + x1, dstOff + outW, 0f);
        }

        @Override
        public String toString() {
            return "randomCrop(size=[" + height + ", " + width + "], padding=" + padding + ")";
        }
    }

    private record HorizontalFlip(double p) implements Transform {
        @Override
        public int[] outputShape(int[] shape) {
            if (shape.length < 1) {
                throw new IllegalArgumentException("horizontalFlip: expected a sample with at least 1 dimension, got []");
            }
            return shape.clone();
        }

        @Override
        public void apply(float[] buf, int off, int[] shape, Generator g) {
            if (!(g.nextDouble() < p)) {
                return;
            }
            int w = shape[shape.length - 1];
            for (int row = off, end = off + numel(shape); row < end; row += w) {
                for (int i = row, j = row + w - 1; i < j; i++, j--) {
                    float t = buf[i];
                    buf[i] = buf[j];
                    buf[j] = t;
                }
            }
        }

        @Override
        public String toString() {
            return "horizontalFlip(p=" + p + ")";
        }
    }

    private record Compose(List<Transform> transforms) implements Transform {
        @Override
        public void apply(float[] buf, int off, int[] shape, Generator g) {
            int[] s = shape;
            for (Transform t : transforms) {
                t.apply(buf, off, s, g);
                s = t.outputShape(s);
            }
        }

        @Override
        public int[] outputShape(int[] shape) {
            int[] s = shape.clone();
            for (Transform t : transforms) {
                s = t.outputShape(s);
            }
            return s;
        }

        @Override
        public int bufferSize(int[] shape) {
            int room = numel(shape);
            int[] s = shape;
            for (Transform t : transforms) {
                room = Math.max(room, t.bufferSize(s));
                s = t.outputShape(s);
            }
            return room;
        }

        @Override
        public String toString() {
            return "compose" + transforms;
        }
    }
}

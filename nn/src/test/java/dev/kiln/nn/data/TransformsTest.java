package dev.kiln.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.Generator;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TransformsTest {
    private static final float[] IMG = {1, 2, 3, 4, 5, 6, 7, 8, 9};

    /** A seed whose generator draws {@code first} then {@code second} from nextInt(bound). */
    private static long seedDrawing(int bound, int first, int second) {
        for (long s = 0; ; s++) {
            Generator g = new Generator(s);
            if (g.nextInt(bound) == first && g.nextInt(bound) == second) {
                return s;
            }
        }
    }

    /** The crop at (top, left) of a [c, h, w] image zero-padded by p, by padding then slicing. */
    private static float[] reference(float[] img, int c, int h, int w, int p, int top, int left, int oh, int ow) {
        int ph = h + 2 * p;
        int pw = w + 2 * p;
        float[] padded = new float[c * ph * pw];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    padded[(ch * ph + y + p) * pw + x + p] = img[(ch * h + y) * w + x];
                }
            }
        }
        float[] out = new float[c * oh * ow];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    out[(ch * oh + y) * ow + x] = padded[(ch * ph + y + top) * pw + x + left];
                }
            }
        }
        return out;
    }

    private static float[] applyAt(Transform t, float[] sample, int[] shape, long seed, int off, int room) {
        float[] buf = new float[off + room + 2];
        Arrays.fill(buf, -7);
        System.arraycopy(sample, 0, buf, off, sample.length);
        t.apply(buf, off, shape, new Generator(seed));
        int n = Transforms.numel(t.outputShape(shape));
        for (int i = 0; i < off; i++) {
            assertEquals(-7, buf[i], "wrote before the sample at " + i);
        }
        for (int i = off + room; i < buf.length; i++) {
            assertEquals(-7, buf[i], "wrote past the sample's room at " + i);
        }
        return Arrays.copyOfRange(buf, off, off + n);
    }

    @Test
    void randomCropHandCases() {
        int[] shape = {1, 3, 3};
        Transform crop = Transforms.randomCrop(3, 1);
        float[][] expected = {
            {0, 0, 0, 0, 1, 2, 0, 4, 5},
            {0, 0, 0, 1, 2, 3, 4, 5, 6},
            {0, 0, 0, 2, 3, 0, 5, 6, 0},
            {0, 1, 2, 0, 4, 5, 0, 7, 8},
            {1, 2, 3, 4, 5, 6, 7, 8, 9},
            {2, 3, 0, 5, 6, 0, 8, 9, 0},
            {0, 4, 5, 0, 7, 8, 0, 0, 0},
            {4, 5, 6, 7, 8, 9, 0, 0, 0},
            {5, 6, 0, 8, 9, 0, 0, 0, 0},
        };
        for (int top = 0; top < 3; top++) {
            for (int left = 0; left < 3; left++) {
                float[] got = applyAt(crop, IMG, shape, seedDrawing(3, top, left), 4, 9);
                assertArrayEquals(expected[3 * top + left], got, "top " + top + ", left " + left);
            }
        }
    }

    @Test
    void randomCropMatchesPadThenSliceOnEveryOffset() {
        int c = 2;
        int h = 4;
        int w = 5;
        float[] img = new float[c * h * w];
        for (int i = 0; i < img.length; i++) {
            img[i] = i + 1;
        }
        int[] shape = {c, h, w};
        int[][] cases = {{4, 5, 2}, {2, 3, 0}, {3, 3, 1}, {6, 7, 1}, {8, 9, 2}};
        for (int[] cs : cases) {
            int oh = cs[0];
            int ow = cs[1];
            int p = cs[2];
            Transform crop = Transforms.randomCrop(oh, ow, p);
            assertArrayEquals(new int[] {c, oh, ow}, crop.outputShape(shape));
            int room = crop.bufferSize(shape);
            assertEquals(Math.max(c * h * w, c * oh * ow), room);
            for (long seed = 0; seed < 40; seed++) {
                Generator g = new Generator(seed);
                int top = g.nextInt(h + 2 * p - oh + 1);
                int left = g.nextInt(w + 2 * p - ow + 1);
                float[] got = applyAt(crop, img, shape, seed, 3, room);
                assertArrayEquals(reference(img, c, h, w, p, top, left, oh, ow), got,
                        "size " + oh + "x" + ow + " padding " + p + " at (" + top + ", " + left + ")");
            }
        }
    }

    @Test
    void randomCropRejectsACropLargerThanThePaddedImage() {
        var e = assertThrows(IllegalArgumentException.class, () -> Transforms.randomCrop(6, 1).outputShape(new int[] {1, 3, 3}));
        assertEquals("randomCrop: crop size [6, 6] is larger than the padded input [5, 5] of sample shape [1, 3, 3]",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Transforms.randomCrop(2, 0).outputShape(new int[] {9}));
        assertThrows(IllegalArgumentException.class, () -> Transforms.randomCrop(0, 1));
        assertThrows(IllegalArgumentException.class, () -> Transforms.randomCrop(2, -1));
    }

    @Test
    void horizontalFlipMirrorsEveryRow() {
        float[] got = applyAt(Transforms.horizontalFlip(1), new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new int[] {2, 2, 2}, 0, 1, 8);
        assertArrayEquals(new float[] {2, 1, 4, 3, 6, 5, 8, 7}, got);
        float[] odd = applyAt(Transforms.horizontalFlip(1), IMG, new int[] {1, 3, 3}, 0, 0, 9);
        assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4, 9, 8, 7}, odd);
        assertArrayEquals(IMG, applyAt(Transforms.horizontalFlip(0), IMG, new int[] {1, 3, 3}, 0, 0, 9));
    }

    @Test
    void horizontalFlipHappensWithProbabilityP() {
        Transform flip = Transforms.horizontalFlip(0.3);
        int flipped = 0;
        for (long seed = 0; seed < 2000; seed++) {
            float[] buf = {1, 2};
            flip.apply(buf, 0, new int[] {1, 1, 2}, new Generator(seed));
            if (buf[0] == 2) {
                flipped++;
            }
        }
        assertTrue(flipped > 520 && flipped < 680, "flipped " + flipped + " of 2000 with p = 0.3");
        assertThrows(IllegalArgumentException.class, () -> Transforms.horizontalFlip(1.5));
    }

    @Test
    void normalizeScalarAndPerChannel() {
        float[] got = applyAt(Transforms.normalize(0.5, 0.25), new float[] {0, 0.5f, 1, 0.75f}, new int[] {1, 2, 2}, 0, 2, 4);
        assertArrayEquals(new float[] {-2, 0, 2, 1}, got);
        Transform perChannel = Transforms.normalize(new double[] {1, 2}, new double[] {2, 4});
        float[] pc = applyAt(perChannel, new float[] {1, 3, 2, 10}, new int[] {2, 1, 2}, 0, 0, 4);
        assertArrayEquals(new float[] {0, 1, 0, 2}, pc);
        float[] row = applyAt(perChannel, new float[] {5, 6}, new int[] {2}, 0, 0, 2);
        assertArrayEquals(new float[] {2, 1}, row);
    }

    @Test
    void normalizeIsFloat32AsTorchvision() {
        float x = 0.1f;
        float[] got = applyAt(Transforms.normalize(0.2860, 0.3530), new float[] {x}, new int[] {1}, 0, 0, 1);
        assertEquals((x - 0.2860f) / 0.3530f, got[0]);
    }

    @Test
    void normalizeValidatesItsArguments() {
        assertEquals("normalize: 3 channel means need a sample whose first dimension is 3, got shape [1, 28, 28]",
                assertThrows(IllegalArgumentException.class, () -> Transforms.normalize(new double[3], new double[] {1, 1, 1})
                        .outputShape(new int[] {1, 28, 28})).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Transforms.normalize(0, 0));
        assertThrows(IllegalArgumentException.class, () -> Transforms.normalize(new double[] {0, 0}, new double[] {1}));
    }

    @Test
    void composeAppliesInOrderAndTracksShapes() {
        Transform t = Transforms.compose(Transforms.horizontalFlip(1), Transforms.normalize(1, 2), Transforms.randomCrop(2, 0));
        int[] shape = {1, 3, 3};
        assertArrayEquals(new int[] {1, 2, 2}, t.outputShape(shape));
        assertEquals(9, t.bufferSize(shape));
        long seed = 5;
        Generator g = new Generator(seed);
        g.nextDouble();
        int top = g.nextInt(2);
        int left = g.nextInt(2);
        float[] flippedNormalized = {1, 0.5f, 0, 2.5f, 2, 1.5f, 4, 3.5f, 3};
        float[] expected = reference(flippedNormalized, 1, 3, 3, 0, top, left, 2, 2);
        assertArrayEquals(expected, applyAt(t, IMG, shape, seed, 1, 9));
        Transform grow = Transforms.compose(Transforms.randomCrop(5, 1), Transforms.randomCrop(3, 0));
        assertEquals(25, grow.bufferSize(shape));
        assertThrows(IllegalArgumentException.class, () -> Transforms.compose(Transforms.horizontalFlip(1), null));
    }
}

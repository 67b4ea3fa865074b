package dev.kiln.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    private static final Path DEBIAN = Path.of("/usr/share/datasets/fashion-mnist");

    @TempDir
    Path dir;

    private static long[] classCounts(Dataset ds) {
        long[] counts = new long[10];
        for (int i = 0; i < ds.size(); i++) {
            counts[(int) ds.label(i)]++;
        }
        return counts;
    }

    private static long[] filled(long v) {
        long[] a = new long[10];
        Arrays.fill(a, v);
        return a;
    }

    @Test
    void embeddedSubsetIsBalancedAndScaled() {
        Split s = FashionMnist.embedded();
        assertEquals(10_000, s.train().size());
        assertEquals(2_000, s.test().size());
        assertArrayEquals(new int[] {1, 28, 28}, s.train().sampleShape());
        assertArrayEquals(filled(1000), classCounts(s.train()));
        assertArrayEquals(filled(200), classCounts(s.test()));
        float[] x = ((InMemoryDataset) s.train()).data();
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        double sum = 0;
        for (float v : x) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
        }
        assertEquals(0f, min);
        assertEquals(1f, max);
        double mean = sum / x.length;
        assertTrue(Math.abs(mean - 0.286) < 0.01, "mean pixel " + mean + ", Fashion-MNIST's is 0.286");
        assertEquals(10, FashionMnist.CLASSES.size());
        assertEquals("Ankle boot", FashionMnist.CLASSES.get(9));
    }

    @Test
    void fullFindsDebiansPackage() throws IOException {
        Assumptions.assumeTrue(Files.isRegularFile(DEBIAN.resolve("train-images-idx3-ubyte.gz")),
                "Debian's dataset-fashion-mnist is not installed");
        Split full = FashionMnist.full(null);
        assertEquals(60_000, full.train().size());
        assertEquals(10_000, full.test().size());
        assertArrayEquals(filled(6000), classCounts(full.train()));
        assertArrayEquals(filled(1000), classCounts(full.test()));
        Split embedded = FashionMnist.embedded();
        assertContainedIn(embedded.train(), full.train());
        assertContainedIn(embedded.test(), full.test());
    }

    /** Every sample of {@code part} (its first 200) is a sample of {@code whole} with the same label. */
    private static void assertContainedIn(Dataset part, Dataset whole) {
        int n = whole.sampleSize();
        Map<Integer, Integer> byHash = new HashMap<>();
        float[] buf = new float[n];
        for (int i = 0; i < whole.size(); i++) {
            whole.copySample(i, buf, 0);
            byHash.put(Arrays.hashCode(buf), i);
        }
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < Math.min(200, part.size()); i++) {
            part.copySample(i, a, 0);
            Integer j = byHash.get(Arrays.hashCode(a));
            assertTrue(j != null, "embedded sample " + i + " is not in the full set");
            whole.copySample(j, b, 0);
            assertArrayEquals(b, a);
            assertEquals(whole.label(j), part.label(i));
        }
    }

    @Test
    void fullReadsRawFilesFromAGivenDirectory() throws IOException {
        long[] labels = {3, 1, 4};
        Idx.Images img = new Idx.Images(new float[3 * 28 * 28], 3, 28, 28);
        Idx.writeImages(dir.resolve("train-images-idx3-ubyte"), img, false);
        Idx.writeLabels(dir.resolve("train-labels-idx1-ubyte"), labels, false);
        Idx.writeImages(dir.resolve("t10k-images-idx3-ubyte.gz"), img, true);
        Idx.writeLabels(dir.resolve("t10k-labels-idx1-ubyte.gz"), labels, true);
        Split s = FashionMnist.full(dir);
        assertArrayEquals(labels, ((InMemoryDataset) s.train()).labels());
        assertArrayEquals(labels, ((InMemoryDataset) s.test()).labels());
    }

    @Test
    void missingFilesAreListed() throws IOException {
        Idx.writeLabels(dir.resolve("train-labels-idx1-ubyte.gz"), new long[] {1}, true);
        var e = assertThrows(FileNotFoundException.class, () -> FashionMnist.full(dir));
        assertEquals(dir + ": expected the four Fashion-MNIST files " + FashionMnist.FILES + " (each raw or .gz), missing"
                + " [train-images-idx3-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]]; get them from"
                + " https://github.com/zalandoresearch/fashion-mnist or install Debian's dataset-fashion-mnist", e.getMessage());
    }

    @Test
    void countsThatDisagreeNameBothFiles() throws IOException {
        Idx.writeImages(dir.resolve("train-images-idx3-ubyte.gz"), new Idx.Images(new float[2], 2, 1, 1), true);
        Idx.writeLabels(dir.resolve("train-labels-idx1-ubyte.gz"), new long[] {1}, true);
        Idx.writeImages(dir.resolve("t10k-images-idx3-ubyte.gz"), new Idx.Images(new float[1], 1, 1, 1), true);
        Idx.writeLabels(dir.resolve("t10k-labels-idx1-ubyte.gz"), new long[] {1}, true);
        var e = assertThrows(MalformedDataException.class, () -> FashionMnist.full(dir));
        assertEquals(dir.resolve("train-images-idx3-ubyte.gz") + ": 2 images, but its label file "
                + dir.resolve("train-labels-idx1-ubyte.gz") + " has 1 labels", e.getMessage());
    }

    @Test
    void searchPathStartsWithDebiansDirectory() {
        assertEquals(DEBIAN, FashionMnist.searchDirs().getFirst());
        assertEquals(Path.of(System.getProperty("user.home"), ".kiln", "data", "fashion-mnist"),
                FashionMnist.searchDirs().getLast());
    }
}

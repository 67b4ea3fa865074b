package dev.kiln.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.engine.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    /** n images of shape [1, 3, 3]: pixel k of sample i is i + k / 100, label i % 7. */
    static InMemoryDataset images(int n) {
        float[] data = new float[9 * n];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 9; k++) {
                data[9 * i + k] = i + k / 100f;
            }
            labels[i] = i % 7;
        }
        return new InMemoryDataset(data, new int[] {1, 3, 3}, labels);
    }

    /** The sample index of each row of every batch, read back from pixel 0. */
    static List<Integer> indices(Iterable<Batch> epoch) {
        List<Integer> out = new ArrayList<>();
        for (Batch b : epoch) {
            float[] x = b.x().toFloatArray();
            for (int j = 0; j < b.size(); j++) {
                out.add(Math.round(x[j * 9]));
            }
        }
        return out;
    }

    @Test
    void batchesHoldTheSamplesInOrderWithASmallerLastBatch() {
        DataLoader loader = DataLoader.builder(images(10)).batchSize(4).build();
        assertEquals(3, loader.batchesPerEpoch());
        List<Batch> batches = new ArrayList<>();
        loader.iterator(0).forEachRemaining(batches::add);
        assertEquals(3, batches.size());
        int[] sizes = batches.stream().mapToInt(Batch::size).toArray();
        assertArrayEquals(new int[] {4, 4, 2}, sizes);
        Batch last = batches.get(2);
        assertArrayEquals(new int[] {2, 1, 3, 3}, last.x().shape());
        assertEquals(DType.F32, last.x().dtype());
        assertEquals(DType.I64, last.y().dtype());
        assertArrayEquals(new int[] {2}, last.y().shape());
        float[] x = last.x().toFloatArray();
        for (int k = 0; k < 9; k++) {
            assertEquals(8 + k / 100f, x[k]);
            assertEquals(9 + k / 100f, x[9 + k]);
        }
        assertArrayEquals(new long[] {8 % 7, 9 % 7}, last.y().toLongArray());
        assertArrayEquals(new long[] {0, 1, 2, 3}, batches.get(0).y().toLongArray());
    }

    @Test
    void dropLastDropsOnlyAnIncompleteBatch() {
        DataLoader drop = DataLoader.builder(images(10)).batchSize(4).dropLast(true).build();
        assertEquals(2, drop.batchesPerEpoch());
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), indices(drop.epoch(0)));
        DataLoader exact = DataLoader.builder(images(8)).batchSize(4).dropLast(true).build();
        assertEquals(2, exact.batchesPerEpoch());
        assertEquals(0, DataLoader.builder(images(3)).batchSize(4).dropLast(true).build().batchesPerEpoch());
        assertEquals(1, DataLoader.builder(images(3)).batchSize(4).build().batchesPerEpoch());
    }

    @Test
    void iteratorEndsWithNoSuchElement() {
        BatchIterator it = DataLoader.builder(images(3)).batchSize(2).build().iterator(0);
        it.next();
        it.next();
        assertFalse(it.hasNext());
        var e = assertThrows(NoSuchElementException.class, it::next);
        assertEquals("DataLoader: epoch 0 has only 2 batches", e.getMessage());
    }

    @Test
    void shuffleIsSeededPerEpochAndReproducible() {
        DataLoader a = DataLoader.builder(images(50)).batchSize(8).shuffle(true).seed(11).build();
        DataLoader b = DataLoader.builder(images(50)).batchSize(8).shuffle(true).seed(11).build();
        List<Integer> a0 = indices(a);
        List<Integer> a1 = indices(a);
        assertEquals(a0, indices(b));
        assertEquals(a1, indices(b));
        assertEquals(a0, indices(a.epoch(0)));
        assertNotEquals(a0, a1, "epochs 0 and 1 give the same order");
        for (List<Integer> order : List.of(a0, a1)) {
            List<Integer> sorted = new ArrayList<>(order);
            sorted.sort(null);
            assertEquals(indices(DataLoader.builder(images(50)).batchSize(8).build()), sorted);
        }
        assertNotEquals(a0, indices(DataLoader.builder(images(50)).batchSize(8).shuffle(true).seed(12).build()));
        assertNotEquals(sortedCopy(a0), a0, "shuffle left the order unchanged");
    }

    private static List<Integer> sortedCopy(List<Integer> l) {
        List<Integer> s = new ArrayList<>(l);
        s.sort(null);
        return s;
    }

    @Test
    void prefetchGivesTheSameBatchesAsLoadingInline() {
        Transform aug = Transforms.compose(Transforms.randomCrop(3, 1), Transforms.horizontalFlip(0.5));
        for (int epoch = 0; epoch < 3; epoch++) {
            List<Batch> inline = new ArrayList<>();
            List<Batch> ahead = new ArrayList<>();
            DataLoader.builder(images(37)).batchSize(5).shuffle(true).seed(3).transforms(aug).build()
                    .iterator(epoch).forEachRemaining(inline::add);
            DataLoader.builder(images(37)).batchSize(5).shuffle(true).seed(3).transforms(aug).prefetch(2).build()
                    .iterator(epoch).forEachRemaining(ahead::add);
            assertEquals(inline.size(), ahead.size());
            for (int k = 0; k < inline.size(); k++) {
                assertArrayEquals(inline.get(k).x().toFloatArray(), ahead.get(k).x().toFloatArray(), "batch " + k);
                assertArrayEquals(inline.get(k).y().toLongArray(), ahead.get(k).y().toLongArray(), "batch " + k);
            }
        }
    }

    @Test
    void randomTransformsDependOnSeedEpochAndSampleNotOnOrder() {
        Transform flip = Transforms.horizontalFlip(0.5);
        float[] e0 = DataLoader.builder(images(40)).batchSize(40).seed(5).transforms(flip).build()
                .iterator(0).next().x().toFloatArray();
        float[] e0again = DataLoader.builder(images(40)).batchSize(40).seed(5).transforms(flip).build()
                .iterator(0).next().x().toFloatArray();
        float[] e1 = DataLoader.builder(images(40)).batchSize(40).seed(5).transforms(flip).build()
                .iterator(1).next().x().toFloatArray();
        assertArrayEquals(e0, e0again);
        assertFalse(Arrays.equals(e0, e1), "epochs 0 and 1 flipped the same samples");
        int flipped = 0;
        for (int i = 0; i < 40; i++) {
            if (e0[9 * i] != i + 0f) {
                flipped++;
            }
        }
        assertTrue(flipped > 5 && flipped < 35, "flipped " + flipped + " of 40 with p = 0.5");
    }

    @Test
    void transformsThatChangeTheShapeSetTheBatchShape() {
        DataLoader smaller = DataLoader.builder(images(4)).batchSize(4).transforms(Transforms.randomCrop(2, 0)).build();
        assertArrayEquals(new int[] {1, 2, 2}, smaller.sampleShape());
        assertArrayEquals(new int[] {4, 1, 2, 2}, smaller.iterator(0).next().x().shape());
        DataLoader larger = DataLoader.builder(images(4)).batchSize(3).transforms(Transforms.randomCrop(5, 1)).build();
        Batch b = larger.iterator(0).next();
        assertArrayEquals(new int[] {3, 1, 5, 5}, b.x().shape());
        float[] x = b.x().toFloatArray();
        for (int j = 0; j < 3; j++) {
            assertEquals(j + 0.04f, x[25 * j + 12], "the centre of sample " + j);
        }
        var e = assertThrows(IllegalArgumentException.class,
                () -> DataLoader.builder(images(4)).transforms(Transforms.normalize(new double[] {0, 0}, new double[] {1, 1})).build());
        assertTrue(e.getMessage().contains("got shape [1, 3, 3]"), e.getMessage());
    }

    @Test
    void closingTheIteratorStopsTheWorker() throws InterruptedException {
        DataLoader loader = DataLoader.builder(images(200)).batchSize(2).prefetch(1).build();
        BatchIterator it = loader.iterator(0);
        it.next();
        Thread worker = it.workerThread();
        assertTrue(worker.isDaemon());
        it.close();
        worker.join(5000);
        assertFalse(worker.isAlive(), "the prefetch thread outlived close()");
        assertFalse(it.hasNext());
    }

    @Test
    void abandoningTheIteratorStopsTheWorker() throws InterruptedException {
        DataLoader loader = DataLoader.builder(images(200)).batchSize(2).prefetch(1).build();
        Thread worker = takeOneAndDrop(loader);
        for (int i = 0; i < 100 && worker.isAlive(); i++) {
            System.gc();
            worker.join(100);
        }
        assertFalse(worker.isAlive(), "the prefetch thread outlived its abandoned iterator");
    }

    private static Thread takeOneAndDrop(DataLoader loader) {
        BatchIterator it = loader.iterator(0);
        it.next();
        assertTrue(it.workerThread().isAlive());
        return it.workerThread();
    }

    @Test
    void anEpochReadToTheEndLeavesNoThread() throws InterruptedException {
        BatchIterator it = DataLoader.builder(images(9)).batchSize(2).prefetch(3).build().iterator(0);
        Thread worker = it.workerThread();
        int batches = 0;
        while (it.hasNext()) {
            it.next();
            batches++;
        }
        assertEquals(5, batches);
        worker.join(5000);
        assertFalse(worker.isAlive());
    }

    @Test
    void workerErrorsSurfaceInTheCallerWithTheirCause() {
        RuntimeException boom = new IllegalStateException("disk on fire");
        Dataset failing = new Dataset() {
            private final InMemoryDataset inner = images(10);

            @Override
            public int size() {
                return inner.size();
            }

            @Override
            public int[] sampleShape() {
                return inner.sampleShape();
            }

            @Override
            public void copySample(int i, float[] dst, int off) {
                if (i == 5) {
                    throw boom;
                }
                inner.copySample(i, dst, off);
            }

            @Override
            public long label(int i) {
                return inner.label(i);
            }
        };
        BatchIterator it = DataLoader.builder(failing).batchSize(2).prefetch(2).build().iterator(0);
        assertEquals(2, it.next().size());
        assertEquals(2, it.next().size());
        var e = assertThrows(IllegalStateException.class, it::next);
        assertSame(boom, e.getCause());
        assertEquals("DataLoader: building batch 2 of epoch 0 failed in the prefetch thread: "
                + "java.lang.IllegalStateException: disk on fire", e.getMessage());
        assertFalse(it.hasNext());
        BatchIterator inline = DataLoader.builder(failing).batchSize(2).build().iterator(0);
        inline.next();
        inline.next();
        assertSame(boom, assertThrows(IllegalStateException.class, inline::next));
    }

    @Test
    void settingsAreValidated() {
        var b = DataLoader.builder(images(2));
        assertEquals("DataLoader: expected batchSize >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> b.batchSize(0)).getMessage());
        assertEquals("DataLoader: expected prefetch >= 0 batches, got -1",
                assertThrows(IllegalArgumentException.class, () -> b.prefetch(-1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(null));
        assertThrows(IllegalArgumentException.class, () -> b.build().iterator(-1));
    }
}

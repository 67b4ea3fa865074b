package dev.kiln.nn.data;

import dev.kiln.engine.DType;
import dev.kiln.engine.Generator;
import dev.kiln.engine.HeapStorage;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Batches of a {@link Dataset}, as PyTorch's {@code DataLoader}: each pass ({@code for} loop, or
 * {@link #iterator()}) is one epoch of {@link #batchesPerEpoch()} batches; the last one is smaller
 * unless {@code dropLast}. A batch's samples are written straight into the one {@code float[]}
 * behind its {@code x} tensor.
 *
 * <p>Everything random is fixed by the seed: with {@code shuffle}, the order of epoch {@code e} is
 * a permutation drawn from {@code (seed, e)}, and the transforms of sample {@code i} in epoch
 * {@code e} draw from a generator seeded by {@code (seed, e, i)}. The same seed therefore gives the
 * same batches run after run, with or without prefetch, whatever the thread timing.
 *
 * <p>With {@code prefetch(n)} (n &gt; 0) a background daemon thread builds up to {@code n} batches
 * ahead, so loading overlaps the caller's compute. An error in that thread is thrown from
 * {@code next()} in the caller's thread, with the original error as its cause. Leaving a loop early
 * is fine: the thread stops when the iterator is closed, or once the iterator is garbage.
 *
 * <pre>{@code
 * DataLoader train = DataLoader.builder(split.train()).batchSize(64).shuffle(true).seed(42)
 *         .transforms(Transforms.randomCrop(28, 4)).prefetch(2).build();
 * for (int epoch = 0; epoch < 10; epoch++) {
 *     for (Batch b : train) {                        // epoch 0, 1, 2, ... in turn
 *         Tensor loss = Losses.crossEntropy(model.forward(b.x()), b.y());
 *     }
 * }
 * }</pre>
 */
public final class DataLoader implements Iterable<Batch> {
    private static final long SHUFFLE_STREAM = 0x5348_5546_464CL;
    private static final long SAMPLE_STREAM = 0x5341_4D50_4C45L;

    private final Dataset dataset;
    private final int size;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final long seed;
    private final Transform transform;
    private final int prefetch;
    private final int[] inShape;
    private final int[] outShape;
    private final int outSize;
    private final int workSize;
    private final AtomicInteger nextEpoch = new AtomicInteger();

    private DataLoader(Builder b) {
        this.dataset = b.dataset;
        this.size = dataset.size();
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.dropLast = b.dropLast;
        this.seed = b.seed;
        this.transform = b.transforms.length == 0 ? null
                : b.transforms.length == 1 ? b.transforms[0] : Transforms.compose(b.transforms);
        this.prefetch = b.prefetch;
        this.inShape = dataset.sampleShape();
        this.outShape = transform == null ? inShape.clone() : transform.outputShape(inShape);
        this.outSize = Transforms.numel(outShape);
        this.workSize = transform == null ? outSize : Math.max(outSize, transform.bufferSize(inShape));
        if (dataset.sampleSize() != Transforms.numel(inShape)) {
            throw new IllegalArgumentException("DataLoader: the dataset's sampleSize() " + dataset.sampleSize()
                    + " disagrees with its sample shape " + Arrays.toString(inShape));
        }
    }

    /** A builder for a loader over {@code dataset}; defaults as PyTorch: batch 1, no shuffle, keep the last batch. */
    public static Builder builder(Dataset dataset) {
        if (dataset == null) {
            throw new IllegalArgumentException("DataLoader: expected a dataset, got null");
        }
        return new Builder(dataset);
    }

    /** Number of batches in one epoch. */
    public int batchesPerEpoch() {
        return dropLast ? size / batchSize : (size + batchSize - 1) / batchSize;
    }

    public Dataset dataset() {
        return dataset;
    }

    public int batchSize() {
        return batchSize;
    }

    /** The shape of one sample of a batch, after the transforms (a copy). */
    public int[] sampleShape() {
        return outShape.clone();
    }

    /** The next epoch: the first call gives epoch 0, the next epoch 1, and so on. */
    @Override
    public BatchIterator iterator() {
        return iterator(nextEpoch.getAndIncrement());
    }

    /** The batches of epoch {@code epoch} (e.g. to resume at a given epoch); does not move the epoch counter. */
    public BatchIterator iterator(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("DataLoader: expected an epoch >= 0, got " + epoch);
        }
        return new BatchIterator(this, epoch, batchesPerEpoch(), prefetch);
    }

    /** Epoch {@code epoch} as an {@link Iterable}, for a {@code for} loop. */
    public Iterable<Batch> epoch(int epoch) {
        return () -> iterator(epoch);
    }

    /** The sample order of an epoch: identity, or a permutation drawn from (seed, epoch). */
    int[] order(int epoch) {
        int[] order = new int[size];
        Arrays.setAll(order, i -> i);
        if (shuffle) {
            new Generator(mixSeed(seed, SHUFFLE_STREAM, epoch)).shuffle(order);
        }
        return order;
    }

    /** Builds batch {@code k} of an epoch whose sample order is {@code order}. */
    Batch batch(int[] order, int epoch, int k) {
        int start = k * batchSize;
        int b = Math.min(batchSize, order.length - start);
        int[] shape = new int[outShape.length + 1];
        shape[0] = b;
        System.arraycopy(outShape, 0, shape, 1, outShape.length);
        Tensor x = Tensors.zeros(DType.F32, shape);
        Tensor y = Tensors.zeros(DType.I64, b);
        float[] xs = ((HeapStorage) x.storage()).f32();
        long[] ys = ((HeapStorage) y.storage()).i64();
        float[] scratch = workSize > outSize ? new float[workSize] : null;
        for (int j = 0; j < b; j++) {
            int i = order[start + j];
            ys[j] = dataset.label(i);
            if (scratch == null) {
                dataset.copySample(i, xs, j * outSize);
                if (transform != null) {
                    transform.apply(xs, j * outSize, inShape, sampleGenerator(epoch, i));
                }
            } else {
                dataset.copySample(i, scratch, 0);
                transform.apply(scratch, 0, inShape, sampleGenerator(epoch, i));
                System.arraycopy(scratch, 0, xs, j * outSize, outSize);
            }
        }
        return new Batch(x, y);
    }

    private Generator sampleGenerator(int epoch, int index) {
        return new Generator(mixSeed(mixSeed(seed, SAMPLE_STREAM, epoch), SAMPLE_STREAM, index));
    }

    private static long mixSeed(long seed, long stream, long value) {
        long z = seed + 0x9E3779B97F4A7C15L * (stream + 1) + value * 0xD1B54A32D192ED03L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return "DataLoader[" + size + " samples, batch " + batchSize + ", " + batchesPerEpoch() + " batches/epoch"
                + (shuffle ? ", shuffle seed " + seed : "") + (dropLast ? ", dropLast" : "")
                + (transform != null ? ", " + transform : "") + (prefetch > 0 ? ", prefetch " + prefetch : "") + "]";
    }

    /** Settings of a {@link DataLoader}. */
    public static final class Builder {
        private final Dataset dataset;
        private int batchSize = 1;
        private boolean shuffle;
        private boolean dropLast;
        private long seed;
        private Transform[] transforms = new Transform[0];
        private int prefetch;

        private Builder(Dataset dataset) {
            this.dataset = dataset;
        }

        /** Samples per batch (default 1). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("DataLoader: expected batchSize >= 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** Reshuffle the samples every epoch (default false). */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /** Drop the last batch when it is smaller than the batch size (default false). */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** The seed of the shuffling and of the random transforms (default 0). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Transforms applied to every sample, in order (default none). */
        public Builder transforms(Transform... transforms) {
            for (int i = 0; i < transforms.length; i++) {
                if (transforms[i] == null) {
                    throw new IllegalArgumentException("DataLoader: transform " + i + " is null");
                }
            }
            this.transforms = transforms.clone();
            return this;
        }

        /** Batches a background thread builds ahead; 0 (the default) loads in the caller's thread. */
        public Builder prefetch(int batches) {
            if (batches < 0) {
                throw new IllegalArgumentException("DataLoader: expected prefetch >= 0 batches, got " + batches);
            }
            this.prefetch = batches;
            return this;
        }

        /** The loader; checks that the transforms accept the dataset's sample shape. */
        public DataLoader build() {
            return new DataLoader(this);
        }
    }
}

package dev.kiln.nn.data;

import java.lang.ref.Cleaner;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The batches of one epoch of a {@link DataLoader}. With prefetch, a daemon thread builds batches
 * ahead into a bounded queue; {@link #close()} stops it at once (a loop left early may also just
 * drop the iterator: the thread then stops once the iterator is garbage-collected). Use from one
 * thread.
 */
public final class BatchIterator implements Iterator<Batch>, AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final DataLoader loader;
    private final int epoch;
    private final int count;
    private final int[] order;
    private final Worker worker;
    private final Cleaner.Cleanable cleanable;
    private int next;

    BatchIterator(DataLoader loader, int epoch, int count, int prefetch) {
        this.loader = loader;
        this.epoch = epoch;
        this.count = count;
        this.order = loader.order(epoch);
        if (prefetch > 0 && count > 0) {
            this.worker = new Worker(loader, order, epoch, count, prefetch);
            Thread t = Thread.ofPlatform().daemon().name("kiln-data-loader-" + THREADS.incrementAndGet()).unstarted(worker);
            worker.thread = t;
            this.cleanable = CLEANER.register(this, worker::stop);
            t.start();
        } else {
            this.worker = null;
            this.cleanable = null;
        }
    }

    /** The epoch these batches belong to. */
    public int epoch() {
        return epoch;
    }

    @Override
    public boolean hasNext() {
        return next < count;
    }

    /**
     * The next batch. With prefetch, an error raised while building it is thrown here as an
     * {@link IllegalStateException} whose cause is the original error; the iterator is then done.
     */
    @Override
    public Batch next() {
        if (next >= count) {
            throw new NoSuchElementException("DataLoader: epoch " + epoch + " has only " + count + " batches");
        }
        int k = next++;
        if (worker == null) {
            return loader.batch(order, epoch, k);
        }
        Object item;
        try {
            item = worker.queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("DataLoader: interrupted while waiting for batch " + k + " of epoch " + epoch, e);
        }
        if (item instanceof Failure f) {
            close();
            throw new IllegalStateException("DataLoader: building batch " + f.batch() + " of epoch " + epoch
                    + " failed in the prefetch thread: " + f.cause(), f.cause());
        }
        if (next == count) {
            close();
        }
        return (Batch) item;
    }

    /** Ends the epoch here and stops the prefetch thread, if any; further {@code hasNext()} is false. */
    @Override
    public void close() {
        next = count;
        if (cleanable != null) {
            cleanable.clean();
        }
    }

    /** The prefetch thread, or null without prefetch (for tests). */
    Thread workerThread() {
        return worker == null ? null : worker.thread;
    }

    private record Failure(int batch, Throwable cause) {
    }

    /** Builds the epoch's batches into the queue; holds no reference to its iterator, so that it can be collected. */
    private static final class Worker implements Runnable {
        private final DataLoader loader;
        private final int[] order;
        private final int epoch;
        private final int count;
        private final BlockingQueue<Object> queue;
        private volatile boolean stopped;
        private Thread thread;

        Worker(DataLoader loader, int[] order, int epoch, int count, int capacity) {
            this.loader = loader;
            this.order = order;
            this.epoch = epoch;
            this.count = count;
            this.queue = new ArrayBlockingQueue<>(capacity);
        }

        @Override
        public void run() {
            try {
                for (int k = 0; k < count && !stopped; k++) {
                    Object item;
                    try {
                        item = loader.batch(order, epoch, k);
                    } catch (Throwable t) {
                        queue.put(new Failure(k, t));
                        return;
                    }
                    queue.put(item);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void stop() {
            stopped = true;
            thread.interrupt();
        }
    }
}

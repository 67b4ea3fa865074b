package dev.kiln.cli;

import dev.kiln.nn.data.Dataset;
import dev.kiln.nn.data.FashionMnist;
import dev.kiln.nn.data.Split;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where {@code kiln train} takes Fashion-MNIST from: {@code embedded} (the subset shipped in the
 * jar), {@code full} (the full set where Debian's dataset-fashion-mnist installs it) or a folder
 * holding the four IDX files.
 */
final class DataSource {
    /** Fashion-MNIST's pixel mean and standard deviation over the training set (pixels in [0, 1]). */
    static final double MEAN = 0.2860;
    static final double STD = 0.3530;

    private DataSource() {
    }

    /** The train/test split named by {@code spec}. */
    static Split load(String spec) {
        if (spec.equals("embedded")) {
            return FashionMnist.embedded();
        }
        Path dir = spec.equals("full") ? null : Path.of(spec);
        if (dir != null && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--data: expected embedded, full or a folder with the Fashion-MNIST IDX files, got '"
                    + spec + "' (no such folder)");
        }
        try {
            return FashionMnist.full(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("--data " + spec + ": " + e.getMessage(), e);
        }
    }

    /** The first {@code n} samples of {@code d} (all of it when {@code n} is null or not smaller). */
    static Dataset head(Dataset d, Integer n) {
        if (n == null || n >= d.size()) {
            return d;
        }
        if (n < 1) {
            throw new IllegalArgumentException("expected a sample count >= 1, got " + n);
        }
        return new Head(d, n);
    }

    private record Head(Dataset base, int size) implements Dataset {
        @Override
        public int[] sampleShape() {
            return base.sampleShape();
        }

        @Override
        public void copySample(int i, float[] dst, int off) {
            base.copySample(check(i), dst, off);
        }

        @Override
        public long label(int i) {
            return base.label(check(i));
        }

        private int check(int i) {
            if (i < 0 || i >= size) {
                throw new IndexOutOfBoundsException("sample " + i + " of a dataset of " + size);
            }
            return i;
        }
    }
}

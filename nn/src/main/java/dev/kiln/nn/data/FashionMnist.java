package dev.kiln.nn.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; Zalando Research, MIT license): 28x28 grayscale
 * images of 10 clothing classes, as {@code [1, 28, 28]} samples scaled to [0, 1].
 *
 * <p>{@link #embedded()} is a balanced subset shipped inside Kiln (10,000 training images, 1,000
 * per class, from the official training set; 2,000 test images, 200 per class, from the official
 * test set; see {@code LICENSE-fashion-mnist.txt} next to the files). {@link #full(Path)} reads
 * the full set (60,000 + 10,000) from the four standard files, gzip-compressed or raw.
 *
 * <pre>{@code
 * Split data = FashionMnist.full(null);        // Debian's dataset-fashion-mnist, $KILN_DATA, ~/.kiln/data
 * Split small = FashionMnist.embedded();       // no download needed
 * String name = FashionMnist.CLASSES.get((int) small.test().label(0));
 * }</pre>
 */
public final class FashionMnist {
    /** The class names, by label. */
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    /** The standard file names (without {@code .gz}): training images, training labels, test images, test labels. */
    public static final List<String> FILES = List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");

    private static final String RESOURCES = "/dev/kiln/nn/data/fashion-mnist/";
    private static final Path DEBIAN = Path.of("/usr/share/datasets/fashion-mnist");

    private FashionMnist() {
    }

    /** The subset shipped in Kiln's nn jar: 10,000 training and 2,000 test images, balanced. */
    public static Split embedded() {
        try {
            return new Split(resource(FILES.get(0), FILES.get(1)), resource(FILES.get(2), FILES.get(3)));
        } catch (IOException e) {
            throw new UncheckedIOException("FashionMnist.embedded: the subset in the nn jar cannot be read", e);
        }
    }

    /**
     * The full set from {@code dir}, or when {@code dir} is null from the first of
     * {@link #searchDirs()} that holds all four files.
     */
    public static Split full(Path dir) throws IOException {
        if (dir != null) {
            return read(dir);
        }
        List<Path> dirs = searchDirs();
        for (Path d : dirs) {
            if (!find(d).contains(null)) {
                return read(d);
            }
        }
        throw new FileNotFoundException(notFound(dirs));
    }

    /**
     * Where {@code full(null)} looks, in order: {@code /usr/share/datasets/fashion-mnist} (Debian's
     * {@code dataset-fashion-mnist} package), {@code $KILN_DATA/fashion-mnist} when the variable is
     * set, and {@code ~/.kiln/data/fashion-mnist}.
     */
    public static List<Path> searchDirs() {
        List<Path> dirs = new ArrayList<>();
        dirs.add(DEBIAN);
        String env = System.getenv("KILN_DATA");
        if (env != null && !env.isBlank()) {
            dirs.add(Path.of(env, "fashion-mnist"));
        }
        dirs.add(Path.of(System.getProperty("user.home"), ".kiln", "data", "fashion-mnist"));
        return dirs;
    }

    private static Split read(Path dir) throws IOException {
        List<Path> files = find(dir);
        if (files.contains(null)) {
            List<String> missing = new ArrayList<>();
            for (int i = 0; i < FILES.size(); i++) {
                if (files.get(i) == null) {
                    missing.add(FILES.get(i) + "[.gz]");
                }
            }
            throw new FileNotFoundException(dir + ": expected the four Fashion-MNIST files " + FILES
                    + " (each raw or .gz), missing " + missing + "; get them from"
                    + " https://github.com/zalandoresearch/fashion-mnist or install Debian's dataset-fashion-mnist");
        }
        return new Split(Idx.readDataset(files.get(0), files.get(1)), Idx.readDataset(files.get(2), files.get(3)));
    }

    /** The path of each of {@link #FILES} in {@code dir} (the .gz one when both exist), null where missing. */
    private static List<Path> find(Path dir) {
        List<Path> found = new ArrayList<>();
        for (String name : FILES) {
            Path gz = dir.resolve(name + ".gz");
            Path raw = dir.resolve(name);
            found.add(Files.isRegularFile(gz) ? gz : Files.isRegularFile(raw) ? raw : null);
        }
        return found;
    }

    private static String notFound(List<Path> dirs) {
        return "Fashion-MNIST not found: looked for " + FILES + " (each raw or .gz) in " + dirs
                + ". Install Debian's package (apt-get install dataset-fashion-mnist), or put the four files from"
                + " https://github.com/zalandoresearch/fashion-mnist in one of those directories, or pass the directory"
                + " (or use FashionMnist.embedded(), the subset shipped in Kiln)";
    }

    private static InMemoryDataset resource(String images, String labels) throws IOException {
        String imagesName = RESOURCES + images + ".gz";
        String labelsName = RESOURCES + labels + ".gz";
        Idx.Images img;
        long[] lab;
        try (InputStream in = open(imagesName)) {
            img = Idx.readImages(in, "classpath:" + imagesName);
        }
        try (InputStream in = open(labelsName)) {
            lab = Idx.readLabels(in, "classpath:" + labelsName);
        }
        return Idx.dataset(img, lab, "classpath:" + imagesName, "classpath:" + labelsName);
    }

    private static InputStream open(String name) throws IOException {
        InputStream in = FashionMnist.class.getResourceAsStream(name);
        if (in == null) {
            throw new FileNotFoundException("classpath:" + name + " is missing from the nn jar");
        }
        return in;
    }
}

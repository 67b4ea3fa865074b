package dev.kiln.nn.layers;

import dev.kiln.engine.Generator;
import dev.kiln.nn.Module;
import java.util.List;

/**
 * The reference models for 28x28 single-channel images with 10 classes (Fashion-MNIST), with
 * PyTorch-compatible state-dict keys.
 *
 * <pre>{@code
 * Module model = Models.byName("lenet5", new Generator(42));   // features.0.weight, ..., classifier.4.bias
 * }</pre>
 */
public final class Models {
    /** The names {@link #byName} accepts. */
    public static final List<String> NAMES = List.of("mlp", "lenet5", "cnn");

    private Models() {
    }

    /**
     * MLP 784-300-100-10 (266,610 parameters): {@code Sequential(Flatten, Linear(784, 300), ReLU,
     * Linear(300, 100), ReLU, Linear(100, 10))}, keys {@code 1.weight} ... {@code 5.bias}.
     */
    public static Sequential mlp(Generator g) {
        return new Sequential(new Flatten(), new Linear(784, 300, g), new ReLU(), new Linear(300, 100, g), new ReLU(),
                new Linear(100, 10, g));
    }

    /** LeNet-5 (61,706 parameters). */
    public static LeNet5 lenet5(Generator g) {
        return new LeNet5(g);
    }

    /** The small VGG-style CNN with 32 and 64 channels. */
    public static SmallVgg smallVgg(Generator g) {
        return smallVgg(32, 64, g);
    }

    /** The small VGG-style CNN with {@code c1} and {@code c2} channels. */
    public static SmallVgg smallVgg(int c1, int c2, Generator g) {
        return new SmallVgg(c1, c2, g);
    }

    /** {@code "mlp"}, {@code "lenet5"} or {@code "cnn"} (the small VGG). */
    public static Module byName(String name, Generator g) {
        return switch (name) {
            case "mlp" -> mlp(g);
            case "lenet5" -> lenet5(g);
            case "cnn" -> smallVgg(g);
            default -> throw new IllegalArgumentException("Models.byName: expected one of " + NAMES + ", got '" + name + "'");
        };
    }
}

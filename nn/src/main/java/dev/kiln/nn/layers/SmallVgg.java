package dev.kiln.nn.layers;

import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/**
 * A small VGG-style network with batch norm for 28x28 single-channel images: {@code features} = two
 * blocks of (conv 3x3, batch norm, relu) x 2 then max-pool 2, with {@code c1} and {@code c2}
 * channels; {@code classifier} = dropout 0.25, linear {@code c2*7*7 -> 256}, relu, dropout 0.5,
 * linear 256 -> 10. Input {@code [N, 1, 28, 28]}, output logits {@code [N, 10]}.
 */
public final class SmallVgg extends Module {
    private final int c1;
    private final int c2;
    private final Sequential features;
    private final Sequential classifier;

    public SmallVgg(int c1, int c2, Generator g) {
        this.c1 = c1;
        this.c2 = c2;
        this.features = register("features", new Sequential(
                new Conv2d(1, c1, 3, 1, 1, g), new BatchNorm2d(c1), new ReLU(),
                new Conv2d(c1, c1, 3, 1, 1, g), new BatchNorm2d(c1), new ReLU(), new MaxPool2d(2),
                new Conv2d(c1, c2, 3, 1, 1, g), new BatchNorm2d(c2), new ReLU(),
                new Conv2d(c2, c2, 3, 1, 1, g), new BatchNorm2d(c2), new ReLU(), new MaxPool2d(2)));
        this.classifier = register("classifier", new Sequential(
                new Dropout(0.25, g), new Linear(c2 * 7 * 7, 256, g), new ReLU(), new Dropout(0.5, g), new Linear(256, 10, g)));
    }

    public Sequential features() {
        return features;
    }

    public Sequential classifier() {
        return classifier;
    }

    @Override
    public Tensor forward(Tensor x) {
        return classifier.forward(features.forward(x).flatten(1, -1));
    }

    @Override
    protected String describe() {
        return "SmallVgg(" + c1 + ", " + c2 + ")";
    }
}

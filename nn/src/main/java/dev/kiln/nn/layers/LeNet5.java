package dev.kiln.nn.layers;

import dev.kiln.engine.Generator;
import dev.kiln.engine.Tensor;
import dev.kiln.nn.Module;

/**
 * LeNet-5 for 28x28 single-channel images (61,706 parameters): {@code features} = conv 5x5 (1 -> 6,
 * padding 2), relu, max-pool 2, conv 5x5 (6 -> 16), relu, max-pool 2; {@code classifier} = linear
 * 400 -> 120 -> 84 -> 10 with relu between. Input {@code [N, 1, 28, 28]}, output logits {@code [N, 10]}.
 */
public final class LeNet5 extends Module {
    private final Sequential features;
    private final Sequential classifier;

    public LeNet5(Generator g) {
        this.features = register("features", new Sequential(
                new Conv2d(1, 6, 5, 1, 2, g), new ReLU(), new MaxPool2d(2),
                new Conv2d(6, 16, 5, 1, 0, g), new ReLU(), new MaxPool2d(2)));
        this.classifier = register("classifier", new Sequential(
                new Linear(400, 120, g), new ReLU(), new Linear(120, 84, g), new ReLU(), new Linear(84, 10, g)));
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
        return "LeNet5";
    }
}

package dev.kiln.cli;

import dev.kiln.engine.Generator;
import dev.kiln.nn.Module;
import dev.kiln.nn.layers.Models;
import java.util.Locale;

/** The models the commands build, by their command-line names. */
enum ModelKind {
    MLP, LENET5, CNN;

    /** A freshly initialised model drawn from {@code g}. */
    Module create(Generator g) {
        return Models.byName(toString(), g);
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}

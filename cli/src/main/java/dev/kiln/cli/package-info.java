/**
 * The {@code kiln} command line (picocli): {@code kiln train} trains a model on Fashion-MNIST and
 * writes a checkpoint and a metrics log; {@code kiln compare-torch} measures Kiln's training
 * throughput against PyTorch's on the same model, side by side. The build packs it with its
 * dependencies into {@code cli/target/kiln.jar}; {@code ./kiln} at the repository root builds
 * that jar when needed and runs it with the JVM flags Kiln needs.
 *
 * <pre>{@code
 * ./kiln train --model lenet5 --epochs 10 --schedule cosine --out runs/lenet5
 * ./kiln compare-torch --model mlp --threads 2
 * }</pre>
 */
package dev.kiln.cli;

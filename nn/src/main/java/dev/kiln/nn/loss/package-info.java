/**
 * Loss functions with PyTorch's semantics ({@code torch.nn.functional}): cross-entropy with class
 * weights, label smoothing and an ignore index, NLL, MSE, L1, smooth L1, BCE with logits and KL
 * divergence, each with a {@link dev.kiln.nn.loss.Reduction}. They compose engine ops, so their
 * gradients come from autograd.
 *
 * <pre>{@code
 * Tensor loss = Losses.crossEntropy(model.forward(x), y);                 // y: I64 class indices
 * loss.backward();
 * Tensor kd = Losses.klDiv(student.logSoftmax(1), teacher.softmax(1), Reduction.BATCHMEAN);
 * }</pre>
 */
package dev.kiln.nn.loss;

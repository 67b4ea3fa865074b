/**
 * Optimizers, learning-rate schedules and gradient clipping with PyTorch's update rules and
 * defaults: {@link dev.kiln.nn.optim.SGD} (momentum, dampening, Nesterov, L2 weight decay),
 * {@link dev.kiln.nn.optim.Adam} (optionally AMSGrad) and {@link dev.kiln.nn.optim.AdamW}
 * (decoupled weight decay), over {@link dev.kiln.nn.optim.ParamGroup}s with per-group options; the
 * schedules {@link dev.kiln.nn.optim.StepLR}, {@link dev.kiln.nn.optim.MultiStepLR},
 * {@link dev.kiln.nn.optim.CosineAnnealingLR}, {@link dev.kiln.nn.optim.LinearWarmup} and
 * {@link dev.kiln.nn.optim.OneCycleLR}; and {@link dev.kiln.nn.optim.GradClip}. Updates run in place
 * with gradient recording disabled, through one fused loop per parameter for contiguous CPU F32
 * tensors; the optimizer state can be saved and restored to resume training.
 *
 * <pre>{@code
 * Optimizer opt = new SGD(model.parameters(), 0.1, 0.9, 5e-4, true);
 * LrScheduler sched = new LinearWarmup(500, 0.01, new CosineAnnealingLR(opt, steps - 500, 0.0));
 * for (Batch b : loader) {
 *     opt.zeroGrad();
 *     Losses.crossEntropy(model.forward(b.x()), b.y()).backward();
 *     GradClip.clipGradNorm(model.parameters(), 5.0);
 *     opt.step();
 *     sched.step();
 * }
 * }</pre>
 */
package dev.kiln.nn.optim;

package dev.kiln.nn.optim;

/**
 * A learning-rate schedule driving the groups of an {@link Optimizer}, as PyTorch's
 * {@code lr_scheduler}: creating one sets the learning rates of its step 0, and each
 * {@link #step()} moves to the next step. Whether a step is an iteration or an epoch is the
 * caller's choice; step it after {@code optimizer.step()}.
 *
 * <pre>{@code
 * LrScheduler sched = new CosineAnnealingLR(opt, epochs, 0.0);
 * for (int e = 0; e < epochs; e++) {
 *     trainOneEpoch(opt);
 *     sched.step();
 * }
 * }</pre>
 */
public interface LrScheduler {
    /** Advances one step and sets the groups' learning rates. */
    void step();

    /** The current learning rate of the optimizer's first group. */
    double lr();
}

package dev.kiln.nn.train;

import dev.kiln.nn.optim.LrScheduler;
import dev.kiln.nn.optim.Optimizer;

/**
 * Makes the learning-rate schedule of a fit once its optimizer exists; {@code totalSteps} is the
 * number of times the trainer will step it (iterations of the whole fit, or epochs).
 *
 * <pre>{@code
 * SchedulerFactory cosine = (opt, steps) -> new CosineAnnealingLR(opt, steps, 0.0);
 * }</pre>
 */
@FunctionalInterface
public interface SchedulerFactory {
    LrScheduler create(Optimizer optimizer, int totalSteps);
}

/**
 * The training loop and what it reports: {@link dev.kiln.nn.train.Trainer} runs epochs of
 * forward, loss, backward, clipping and optimizer/schedule steps, evaluates on a test loader,
 * stops early and keeps the best checkpoint; {@link dev.kiln.nn.train.ProgressBar} draws progress
 * on a terminal (one plain line per epoch elsewhere), {@link dev.kiln.nn.train.MetricsLog} writes
 * one JSON object per epoch, and {@link dev.kiln.nn.train.History} keeps every
 * {@link dev.kiln.nn.train.EpochRecord}.
 *
 * <pre>{@code
 * History h = Trainer.builder()
 *         .epochs(5)
 *         .optimizer(params -> new SGD(params, 0.05, 0.9, 0.0, false))
 *         .bestCheckpoint(Path.of("out/model.safetensors"))
 *         .metricsLog(Path.of("out/metrics.jsonl"))
 *         .build()
 *         .fit(model, trainLoader, testLoader);
 * System.out.println(h.last().testAccuracy());
 * }</pre>
 */
package dev.kiln.nn.train;

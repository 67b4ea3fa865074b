/**
 * Measuring Kiln against its peers. {@link dev.kiln.bench.Report} runs Kiln, OpenBLAS (through
 * JavaCPP, off-heap buffers) and PyTorch (a Debian python3-torch worker process) on the same cases,
 * interleaved in one run, and prints rates, percent of the measured peak and ratios; the JMH
 * benchmarks are in {@code dev.kiln.bench.jmh}.
 *
 * <pre>
 * env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./kiln bench --threads 1,2
 * </pre>
 */
package dev.kiln.bench;

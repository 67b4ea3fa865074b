/**
 * JMH benchmarks of Kiln's kernels and layers at standard shapes. Warm-up is long (5 x 2 s) on
 * purpose: until C2 compiles them, Vector API loops run in the interpreter at a tiny fraction of
 * their speed (a 256^3 GEMM takes seconds), so short warm-ups measure the compiler, not the kernel.
 * Run them from the built jar:
 *
 * <pre>
 * ./mvnw -q -DskipTests package -pl bench -am
 * java -cp 'bench/target/kiln-bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*' org.openjdk.jmh.Main GemmBench -p n=1024
 * </pre>
 */
package dev.kiln.bench.jmh;

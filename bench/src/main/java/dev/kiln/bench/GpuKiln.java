package dev.kiln.bench;

import dev.kiln.engine.Device;
import dev.kiln.engine.Functional;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Grad;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.SparseCsr;
import dev.kiln.kernels.cuda.CudaBlas;
import dev.kiln.kernels.cuda.CudaDevice;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Kiln's side of the GPU report: sets a case up on the device and times its kernels with CUDA events. */
final class GpuKiln implements AutoCloseable {
    private final CudaDevice dev;
    private final List<Long> blocks = new ArrayList<>();
    private final SplittableRandom rnd = new SplittableRandom(0);

    GpuKiln(CudaDevice dev) {
        this.dev = dev;
    }

    /**
     * Median milliseconds per call over {@code rounds} blocks of {@code reps} calls, after a warm-up
     * of {@code reps} calls. Engine-level cases (conv) allocate their results per call: a collection
     * before each round (untimed) hands the previous round's blocks back to the caching allocator, so
     * the timed calls reuse cached blocks instead of calling cuMemAlloc.
     */
    double time(GpuCase c, int reps, int rounds) {
        Runnable call = setUp(c);
        for (int i = 0; i < reps; i++) {
            call.run();
        }
        dev.synchronize();
        double[] ms = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            collect();
            ms[r] = dev.timeMillis(() -> {
                for (int i = 0; i < reps; i++) {
                    call.run();
                }
            }) / reps;
        }
        Arrays.sort(ms);
        return ms[rounds / 2];
    }

    /** Runs the GC so that unreachable device tensors return their blocks (their Cleaners run shortly after). */
    static void collect() {
        System.gc();
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Runnable setUp(GpuCase c) {
        int[] d = c.dims();
        return switch (c.kind()) {
            case "gemm_fp32", "gemm_tf32", "gemm_bf16" -> {
                CudaBlas.Precision p = c.kind().equals("gemm_fp32") ? CudaBlas.Precision.FP32
                        : c.kind().equals("gemm_tf32") ? CudaBlas.Precision.TF32 : CudaBlas.Precision.BF16;
                long a = floats((long) d[0] * d[2]);
                long b = floats((long) d[2] * d[1]);
                long y = alloc(4L * d[0] * d[1]);
                CudaBlas.GemmShape s = CudaBlas.GemmShape.of(d[0], d[1], d[2], false, false);
                yield () -> CudaBlas.gemm(dev, p, y, a, b, 0, CudaBlas.Bias.NONE, false, s);
            }
            case "int8" -> {
                long a = bytes((long) d[0] * d[2]);
                long b = bytes((long) d[1] * d[2]);
                long y = alloc(4L * d[0] * d[1]);
                yield () -> CudaBlas.gemmInt8(dev, y, d[1], a, d[2], b, d[2], 0, 0, 1, 0, 1f, 0, d[0], d[1], d[2], true);
            }
            case "conv_fp32", "conv_tf32" -> conv(c);
            case "spmm" -> spmm(d[0], d[1], d[2], d[3] / 100.0);
            default -> throw new IllegalArgumentException("GpuKiln: unknown case kind " + c.kind());
        };
    }

    private Runnable conv(GpuCase c) {
        int[] d = c.dims();
        if (c.kind().equals("conv_tf32") != "tf32".equals(System.getProperty("kiln.cuda.matmul"))) {
            throw new IllegalStateException("conv cases run in the precision of -Dkiln.cuda.matmul (read once per JVM)");
        }
        Generator g = new Generator(1);
        Device cuda = Device.cuda(dev.ordinal());
        Tensor x = Tensors.randn(g, d[0], d[1], d[2], d[3]).to(cuda);
        Tensor w = Tensors.randn(g, d[4], d[1], d[5], d[5]).to(cuda);
        Tensor b = Tensors.randn(g, d[4]).to(cuda);
        int[] one = {1};
        int[] pad = {d[6]};
        return () -> {
            try (var ng = Grad.disabled()) {
                Functional.conv2d(x, w, b, one, pad, one, 1);
            }
        };
    }

    private Runnable spmm(int m, int k, int n, double sparsity) {
        float[] dense = new float[m * k];
        for (int i = 0; i < dense.length; i++) {
            dense[i] = rnd.nextDouble() < sparsity ? 0f : (float) rnd.nextGaussian();
        }
        SparseCsr s = SparseCsr.fromDense(dense, 0, m, k, 0f);
        long rowPtr = put(MemorySegment.ofArray(s.rowPtr()), 4L * s.rowPtr().length);
        long colIdx = put(MemorySegment.ofArray(s.colIdx()), 4L * s.colIdx().length);
        long values = put(MemorySegment.ofArray(s.values()), 4L * s.values().length);
        long x = floats((long) k * n);
        long y = alloc(4L * m * n);
        return () -> CudaBlas.spmmCsr(dev, y, n, rowPtr, colIdx, values, x, n, m, n, false);
    }

    private long alloc(long bytes) {
        long a = dev.allocator().allocate(Math.max(1, bytes));
        blocks.add(a);
        return a;
    }

    private long put(MemorySegment host, long bytes) {
        long a = alloc(bytes);
        dev.copyToDevice(a, host, bytes);
        return a;
    }

    private long floats(long n) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return put(MemorySegment.ofArray(v), 4L * n);
    }

    private long bytes(long n) {
        byte[] v = new byte[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (byte) (rnd.nextInt(256) - 128);
        }
        return put(MemorySegment.ofArray(v), n);
    }

    /** Releases this case's buffers and hands all cached device memory back (the PyTorch peer runs next). */
    @Override
    public void close() {
        dev.synchronize();
        for (long b : blocks) {
            dev.allocator().release(b);
        }
        blocks.clear();
        collect();
        dev.allocator().emptyCache();
    }
}

package dev.kiln.kernels.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The GPU kernels built by nvcc (src/main/cuda, one fatbin per .cu file) as resources of the
 * kernels jar, under {@code dev/kiln/kernels/cuda/NAME.fatbin}. A build made without nvcc has
 * none, and {@link #available()} says so.
 */
public final class Fatbin {
    static final String FOLDER = "/dev/kiln/kernels/cuda/";
    /** The modules the Java side loads (one per .cu file). */
    public static final java.util.List<String> MODULES = java.util.List.of("elementwise", "reduce", "softmax", "gemm",
            "gemm_tc", "igemm", "conv", "pool", "spmm", "optim", "index");

    private Fatbin() {
    }

    /** True when this build holds the GPU kernels. */
    public static boolean available() {
        return Fatbin.class.getResource(FOLDER + "elementwise.fatbin") != null;
    }

    /** The image of module {@code name}, copied into native memory that lives as long as the JVM. */
    public static MemorySegment load(String name) {
        try (InputStream in = Fatbin.class.getResourceAsStream(FOLDER + name + ".fatbin")) {
            if (in == null) {
                throw new CudaUnavailableException("CUDA is unavailable: this build of Kiln has no GPU kernel module '" + name
                        + "' (it was built without nvcc)");
            }
            byte[] bytes = in.readAllBytes();
            MemorySegment image = Arena.global().allocate(bytes.length + 1L, 64);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, image, 0, bytes.length);
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException("Fatbin: cannot read " + FOLDER + name + ".fatbin", e);
        }
    }
}

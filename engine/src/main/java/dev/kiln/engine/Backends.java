package dev.kiln.engine;

/** Finds the backend of a device and moves tensors between devices. */
public final class Backends {
    private Backends() {
    }

    /**
     * The backend computing on {@code d}.
     *
     * @throws dev.kiln.kernels.cuda.CudaUnavailableException for a CUDA device that cannot be used
     *         here (no driver, no such GPU, or a build without GPU kernels), with one sentence saying why
     */
    public static Backend of(Device d) {
        if (d.type() == Device.Type.CPU) {
            return CpuBackend.INSTANCE;
        }
        return CudaBackend.of(d);
    }

    /** A copy of {@code t} on {@code d} (dense, not recorded). */
    static Tensor transfer(Tensor t, Device d) {
        if (t.device().equals(d)) {
            return t;
        }
        if (t.device().type() == Device.Type.CPU) {
            return CudaBackend.of(d).upload(t);
        }
        Tensor host = CudaBackend.of(t.device()).download(t);
        return d.type() == Device.Type.CPU ? host : CudaBackend.of(d).upload(host);
    }
}

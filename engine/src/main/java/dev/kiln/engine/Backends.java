package dev.kiln.engine;

/** Finds the backend of a device and moves tensors between devices. */
public final class Backends {
    private Backends() {
    }

    /** The backend computing on {@code d}. */
    public static Backend of(Device d) {
        if (d.type() == Device.Type.CPU) {
            return CpuBackend.INSTANCE;
        }
        throw new UnsupportedOperationException("device " + d + ": no CUDA backend is available in this build; use Device.CPU");
    }

    static Tensor transfer(Tensor t, Device d) {
        throw new UnsupportedOperationException("to(" + d + "): cannot move a tensor from " + t.device() + " to " + d
                + ": no CUDA backend is available in this build");
    }
}

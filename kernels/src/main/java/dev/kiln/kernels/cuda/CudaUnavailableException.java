package dev.kiln.kernels.cuda;

/**
 * The CUDA device cannot be used here: no NVIDIA driver library, no GPU, or a build without the
 * GPU kernels. The message is one sentence saying which; everything on the CPU keeps working.
 */
public final class CudaUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}

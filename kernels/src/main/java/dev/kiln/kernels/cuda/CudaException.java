package dev.kiln.kernels.cuda;

/**
 * A CUDA driver call failed: names the call and the driver's error (name, number and text), e.g.
 * {@code cuMemAlloc(1073741824 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory}.
 */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int code;
    private final String errorName;

    public CudaException(String call, int code, String errorName, String errorText) {
        super(call + " failed: " + errorName + " (" + code + "): " + errorText);
        this.call = call;
        this.code = code;
        this.errorName = errorName;
    }

    /** The driver call with its main arguments, e.g. {@code cuMemAlloc(4096 bytes)}. */
    public String call() {
        return call;
    }

    /** The CUresult value. */
    public int code() {
        return code;
    }

    /** The CUresult's name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }
}

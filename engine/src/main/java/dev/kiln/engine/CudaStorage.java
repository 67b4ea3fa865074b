package dev.kiln.engine;

import dev.kiln.kernels.cuda.CudaDevice;
import dev.kiln.kernels.cuda.CudaException;
import dev.kiln.kernels.cuda.DeviceAllocator;
import java.lang.ref.Cleaner;

/**
 * CUDA storage: a block of device memory from the device's caching allocator. When no tensor
 * refers to it any more the block goes back to the allocator's cache (a Cleaner action that only
 * does bookkeeping, no driver call); work already enqueued on the device's one stream that reads
 * it stays ordered before any later reuse.
 */
public final class CudaStorage implements Storage {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final int CUDA_ERROR_OUT_OF_MEMORY = 2;

    private final DType dtype;
    private final int length;
    private final Device device;
    private final CudaDevice cuda;
    private final long address;

    private record Release(DeviceAllocator allocator, long address) implements Runnable {
        @Override
        public void run() {
            allocator.release(address);
        }
    }

    private CudaStorage(DType dtype, int length, Device device, CudaDevice cuda, long address) {
        this.dtype = dtype;
        this.length = length;
        this.device = device;
        this.cuda = cuda;
        this.address = address;
    }

    /** Uninitialized device memory for {@code n} elements. */
    static CudaStorage allocate(CudaDevice cuda, Device device, DType dtype, int n) {
        long bytes = Math.max(1L, (long) n * dtype.byteSize());
        long a;
        try {
            a = cuda.allocator().allocate(bytes);
        } catch (CudaException e) {
            if (e.code() != CUDA_ERROR_OUT_OF_MEMORY) {
                throw e;
            }
            a = allocateAfterCollecting(cuda, bytes, e);
        }
        CudaStorage s = new CudaStorage(dtype, n, device, cuda, a);
        CLEANER.register(s, new Release(cuda.allocator(), a));
        return s;
    }

    /** Device memory is invisible to the GC: collect unreachable tensors so their blocks return, then retry. */
    private static long allocateAfterCollecting(CudaDevice cuda, long bytes, CudaException first) {
        for (int attempt = 0; attempt < 5; attempt++) {
            System.gc();
            try {
                Thread.sleep(20L << attempt);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw first;
            }
            cuda.allocator().emptyCache();
            try {
                return cuda.allocator().allocate(bytes);
            } catch (CudaException again) {
                if (again.code() != CUDA_ERROR_OUT_OF_MEMORY) {
                    throw again;
                }
            }
        }
        throw first;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public Device device() {
        return device;
    }

    /** The GPU this storage lives on. */
    public CudaDevice cuda() {
        return cuda;
    }

    /** Device address of element 0. */
    public long address() {
        return address;
    }

    /** Device address of element {@code i}. */
    public long address(int i) {
        return address + (long) i * dtype.byteSize();
    }
}

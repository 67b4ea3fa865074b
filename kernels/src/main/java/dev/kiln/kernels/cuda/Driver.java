package dev.kiln.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CUDA driver API ({@code libcuda.so.1}) bound with the FFM linker: one method per call, each
 * checking the CUresult and throwing a {@link CudaException} that names the call and the error.
 * Handles (contexts, streams, events, modules, functions) are raw addresses as {@code long};
 * device pointers are {@code long}. Copies between device memory and heap arrays use critical
 * downcalls, which read and write the Java array in place (no staging copy).
 *
 * <p>The library is {@code libcuda.so.1} from the system's library path, or the file named by the
 * system property {@code kiln.cuda.driver}. {@link #get()} throws {@link CudaUnavailableException}
 * when it cannot be loaded.
 */
public final class Driver {
    /** Name of the system property that points at another driver library file. */
    public static final String LIBRARY_PROPERTY = "kiln.cuda.driver";

    private static final Linker LINKER = Linker.nativeLinker();
    private static volatile Driver instance;
    private static volatile CudaUnavailableException failure;

    private final SymbolLookup lib;
    private final MethodHandle cuInit, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName, cuDeviceGetAttribute,
            cuDeviceTotalMem, cuDevicePrimaryCtxRetain, cuCtxSetCurrent, cuCtxSynchronize, cuStreamCreate,
            cuStreamDestroy, cuStreamSynchronize, cuEventCreate, cuEventRecord, cuEventSynchronize,
            cuEventElapsedTime, cuEventDestroy, cuMemAlloc, cuMemFree, cuMemAllocHost, cuMemFreeHost,
            cuMemcpyHtoD, cuMemcpyDtoH, cuMemcpyHtoDHeap, cuMemcpyDtoHHeap, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync,
            cuMemcpyDtoDAsync, cuMemsetD8Async, cuMemsetD32Async, cuMemGetInfo, cuModuleLoadData, cuModuleGetFunction, cuLaunchKernel,
            cuGetErrorName, cuGetErrorString, cuDriverGetVersion;

    private Driver(SymbolLookup lib) {
        this.lib = lib;
        cuInit = h("cuInit", JAVA_INT);
        cuDriverGetVersion = h("cuDriverGetVersion", ADDRESS);
        cuDeviceGetCount = h("cuDeviceGetCount", ADDRESS);
        cuDeviceGet = h("cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = h("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceGetAttribute = h("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceTotalMem = h("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRetain = h("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuCtxSetCurrent = h("cuCtxSetCurrent", ADDRESS);
        cuCtxSynchronize = h("cuCtxSynchronize");
        cuStreamCreate = h("cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamDestroy = h("cuStreamDestroy_v2", ADDRESS);
        cuStreamSynchronize = h("cuStreamSynchronize", ADDRESS);
        cuEventCreate = h("cuEventCreate", ADDRESS, JAVA_INT);
        cuEventRecord = h("cuEventRecord", ADDRESS, ADDRESS);
        cuEventSynchronize = h("cuEventSynchronize", ADDRESS);
        cuEventElapsedTime = find("cuEventElapsedTime_v2").isPresent()
                ? h("cuEventElapsedTime_v2", ADDRESS, ADDRESS, ADDRESS) : h("cuEventElapsedTime", ADDRESS, ADDRESS, ADDRESS);
        cuEventDestroy = h("cuEventDestroy_v2", ADDRESS);
        cuMemAlloc = h("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        cuMemFree = h("cuMemFree_v2", JAVA_LONG);
        cuMemAllocHost = h("cuMemAllocHost_v2", ADDRESS, JAVA_LONG);
        cuMemFreeHost = h("cuMemFreeHost", ADDRESS);
        cuMemcpyHtoD = h("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
        cuMemcpyDtoH = h("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        cuMemcpyHtoDHeap = critical("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
        cuMemcpyDtoHHeap = critical("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        cuMemcpyHtoDAsync = h("cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
        cuMemcpyDtoHAsync = h("cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemcpyDtoDAsync = h("cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemsetD8Async = h("cuMemsetD8Async", JAVA_LONG, ValueLayout.JAVA_BYTE, JAVA_LONG, ADDRESS);
        cuMemsetD32Async = h("cuMemsetD32Async", JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
        cuMemGetInfo = h("cuMemGetInfo_v2", ADDRESS, ADDRESS);
        cuModuleLoadData = h("cuModuleLoadData", ADDRESS, ADDRESS);
        cuModuleGetFunction = h("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        cuLaunchKernel = h("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        cuGetErrorName = h("cuGetErrorName", JAVA_INT, ADDRESS);
        cuGetErrorString = h("cuGetErrorString", JAVA_INT, ADDRESS);
    }

    private Optional<MemorySegment> find(String name) {
        return lib.find(name);
    }

    private MethodHandle h(String name, MemoryLayout... args) {
        MemorySegment fn = find(name).orElseThrow(() -> new CudaUnavailableException(
                "CUDA is unavailable: the driver library has no " + name + " (an NVIDIA driver older than CUDA 12?)"));
        return LINKER.downcallHandle(fn, FunctionDescriptor.of(JAVA_INT, args));
    }

    private MethodHandle critical(String name, MemoryLayout... args) {
        MemorySegment fn = find(name).orElseThrow();
        return LINKER.downcallHandle(fn, FunctionDescriptor.of(JAVA_INT, args), Linker.Option.critical(true));
    }

    /**
     * The bound driver, loaded and initialized ({@code cuInit}) on first use.
     *
     * @throws CudaUnavailableException when the library cannot be loaded or cuInit fails (no GPU)
     */
    public static Driver get() {
        Driver d = instance;
        if (d != null) {
            return d;
        }
        synchronized (Driver.class) {
            if (instance != null) {
                return instance;
            }
            if (failure != null) {
                throw failure;
            }
            try {
                instance = load();
                return instance;
            } catch (CudaUnavailableException e) {
                failure = e;
                throw e;
            }
        }
    }

    /** True when the driver loads and initializes (a GPU may still be missing: see {@link #deviceCount()}). */
    public static boolean isLoadable() {
        try {
            get();
            return true;
        } catch (CudaUnavailableException e) {
            return false;
        }
    }

    private static Driver load() {
        String path = System.getProperty(LIBRARY_PROPERTY);
        return open(path == null || path.isBlank() ? null : java.nio.file.Path.of(path));
    }

    /**
     * A new binding of the driver library at {@code library} (the system's libcuda.so.1 when
     * null), initialized; not the shared one of {@link #get()} (tests bind a stand-in this way).
     */
    static Driver open(java.nio.file.Path library) {
        String path = library == null ? null : library.toString();
        SymbolLookup lib;
        try {
            lib = path != null ? SymbolLookup.libraryLookup(library, Arena.global())
                    : SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            throw new CudaUnavailableException("CUDA is unavailable: the NVIDIA driver library "
                    + (path != null ? path : "libcuda.so.1") + " could not be loaded (no NVIDIA driver on this machine)");
        }
        Driver d = new Driver(lib);
        int rc = d.call(d.cuInit, 0);
        if (rc != 0) {
            throw new CudaUnavailableException("CUDA is unavailable: cuInit failed with " + d.errorName(rc)
                    + " (" + d.errorString(rc) + "), so there is no usable GPU");
        }
        return d;
    }

    // ------------------------------------------------------------------ errors

    /** The CUresult's name, e.g. CUDA_ERROR_OUT_OF_MEMORY (or "CUresult N" if the driver does not know it). */
    public String errorName(int code) {
        return errorText(cuGetErrorName, code, "CUresult " + code);
    }

    /** The driver's description of a CUresult. */
    public String errorString(int code) {
        return errorText(cuGetErrorString, code, "unknown error");
    }

    private String errorText(MethodHandle h, int code, String fallback) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            if (call(h, code, p) != 0) {
                return fallback;
            }
            MemorySegment s = p.get(ADDRESS, 0);
            return s.equals(MemorySegment.NULL) ? fallback : s.reinterpret(4096).getString(0);
        }
    }

    private int call(MethodHandle h, Object... args) {
        try {
            return (int) h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("CUDA driver downcall failed", t);
        }
    }

    /** Runs a call and throws {@link CudaException} naming {@code what} unless it returns CUDA_SUCCESS. */
    private void check(String what, MethodHandle h, Object... args) {
        int rc = call(h, args);
        if (rc != 0) {
            throw new CudaException(what, rc, errorName(rc), errorString(rc));
        }
    }

    // ------------------------------------------------------------------ devices and contexts

    public int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check("cuDriverGetVersion", cuDriverGetVersion, p);
            return p.get(JAVA_INT, 0);
        }
    }

    public int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check("cuDeviceGetCount", cuDeviceGetCount, p);
            return p.get(JAVA_INT, 0);
        }
    }

    /** The CUdevice of ordinal {@code ordinal}. */
    public int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check("cuDeviceGet(" + ordinal + ")", cuDeviceGet, p, ordinal);
            return p.get(JAVA_INT, 0);
        }
    }

    public String deviceName(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(256);
            check("cuDeviceGetName(" + dev + ")", cuDeviceGetName, p, 256, dev);
            return p.getString(0);
        }
    }

    /** A CUdevice_attribute value (e.g. 16 multiprocessor count, 75/76 compute capability major/minor). */
    public int attribute(int dev, int attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check("cuDeviceGetAttribute(" + attribute + ", " + dev + ")", cuDeviceGetAttribute, p, attribute, dev);
            return p.get(JAVA_INT, 0);
        }
    }

    public long totalMemory(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuDeviceTotalMem(" + dev + ")", cuDeviceTotalMem, p, dev);
            return p.get(JAVA_LONG, 0);
        }
    }

    /** {free, total} bytes of the current context's device. */
    public long[] memoryInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(JAVA_LONG);
            MemorySegment t = a.allocate(JAVA_LONG);
            check("cuMemGetInfo", cuMemGetInfo, f, t);
            return new long[] {f.get(JAVA_LONG, 0), t.get(JAVA_LONG, 0)};
        }
    }

    /** Retains the device's primary context (the one the runtime API and PyTorch share). */
    public long primaryContextRetain(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuDevicePrimaryCtxRetain(" + dev + ")", cuDevicePrimaryCtxRetain, p, dev);
            return p.get(ADDRESS, 0).address();
        }
    }

    /** Makes {@code ctx} current on the calling thread. */
    public void setCurrent(long ctx) {
        check("cuCtxSetCurrent", cuCtxSetCurrent, MemorySegment.ofAddress(ctx));
    }

    public void contextSynchronize() {
        check("cuCtxSynchronize", cuCtxSynchronize);
    }

    // ------------------------------------------------------------------ streams and events

    /** A new stream; flags 1 = CU_STREAM_NON_BLOCKING. */
    public long streamCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuStreamCreate", cuStreamCreate, p, flags);
            return p.get(ADDRESS, 0).address();
        }
    }

    public void streamDestroy(long stream) {
        check("cuStreamDestroy", cuStreamDestroy, MemorySegment.ofAddress(stream));
    }

    public void streamSynchronize(long stream) {
        check("cuStreamSynchronize", cuStreamSynchronize, MemorySegment.ofAddress(stream));
    }

    /** A new event; flags 0 = default (timing enabled). */
    public long eventCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuEventCreate", cuEventCreate, p, flags);
            return p.get(ADDRESS, 0).address();
        }
    }

    public void eventRecord(long event, long stream) {
        check("cuEventRecord", cuEventRecord, MemorySegment.ofAddress(event), MemorySegment.ofAddress(stream));
    }

    public void eventSynchronize(long event) {
        check("cuEventSynchronize", cuEventSynchronize, MemorySegment.ofAddress(event));
    }

    /** Milliseconds between two recorded (and completed) events. */
    public float eventElapsedMillis(long start, long end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_FLOAT);
            check("cuEventElapsedTime", cuEventElapsedTime, p, MemorySegment.ofAddress(start), MemorySegment.ofAddress(end));
            return p.get(JAVA_FLOAT, 0);
        }
    }

    public void eventDestroy(long event) {
        check("cuEventDestroy", cuEventDestroy, MemorySegment.ofAddress(event));
    }

    // ------------------------------------------------------------------ memory

    /** Device memory of {@code bytes} bytes; the returned address is 256-byte aligned. */
    public long memAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuMemAlloc(" + bytes + " bytes)", cuMemAlloc, p, bytes);
            return p.get(JAVA_LONG, 0);
        }
    }

    public void memFree(long dptr) {
        check("cuMemFree(0x" + Long.toHexString(dptr) + ")", cuMemFree, dptr);
    }

    /** Page-locked host memory of {@code bytes} bytes (for asynchronous copies). */
    public MemorySegment memAllocHost(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuMemAllocHost(" + bytes + " bytes)", cuMemAllocHost, p, bytes);
            return p.get(ADDRESS, 0).reinterpret(bytes);
        }
    }

    public void memFreeHost(MemorySegment host) {
        check("cuMemFreeHost", cuMemFreeHost, host);
    }

    /** Synchronous copy of {@code bytes} bytes from host memory (native or a heap array segment) to the device. */
    public void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        check("cuMemcpyHtoD(" + bytes + " bytes)", src.isNative() ? cuMemcpyHtoD : cuMemcpyHtoDHeap, dst, src, bytes);
    }

    /** Synchronous copy of {@code bytes} bytes from the device to host memory (native or a heap array segment). */
    public void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        check("cuMemcpyDtoH(" + bytes + " bytes)", dst.isNative() ? cuMemcpyDtoH : cuMemcpyDtoHHeap, dst, src, bytes);
    }

    /** Asynchronous copy from pinned host memory to the device on {@code stream}. */
    public void memcpyHtoDAsync(long dst, MemorySegment pinnedSrc, long bytes, long stream) {
        requireNative("cuMemcpyHtoDAsync", pinnedSrc);
        check("cuMemcpyHtoDAsync(" + bytes + " bytes)", cuMemcpyHtoDAsync, dst, pinnedSrc, bytes, MemorySegment.ofAddress(stream));
    }

    /** Asynchronous copy from the device to pinned host memory on {@code stream}. */
    public void memcpyDtoHAsync(MemorySegment pinnedDst, long src, long bytes, long stream) {
        requireNative("cuMemcpyDtoHAsync", pinnedDst);
        check("cuMemcpyDtoHAsync(" + bytes + " bytes)", cuMemcpyDtoHAsync, pinnedDst, src, bytes, MemorySegment.ofAddress(stream));
    }

    public void memcpyDtoDAsync(long dst, long src, long bytes, long stream) {
        check("cuMemcpyDtoDAsync(" + bytes + " bytes)", cuMemcpyDtoDAsync, dst, src, bytes, MemorySegment.ofAddress(stream));
    }

    /** Sets {@code bytes} bytes at {@code dst} to {@code value} on {@code stream}. */
    public void memsetD8Async(long dst, byte value, long bytes, long stream) {
        check("cuMemsetD8Async(" + bytes + " bytes)", cuMemsetD8Async, dst, value, bytes, MemorySegment.ofAddress(stream));
    }

    /** Sets {@code count} 32-bit words at {@code dst} to {@code value} on {@code stream}. */
    public void memsetD32Async(long dst, int value, long count, long stream) {
        check("cuMemsetD32Async(" + count + " words)", cuMemsetD32Async, dst, value, count, MemorySegment.ofAddress(stream));
    }

    private static void requireNative(String op, MemorySegment s) {
        if (!s.isNative()) {
            throw new IllegalArgumentException(op + ": expected pinned (native) host memory, got a heap segment");
        }
    }

    // ------------------------------------------------------------------ modules and launches

    /** Loads a module from a fatbin, cubin or PTX image held in native memory. */
    public long moduleLoadData(MemorySegment image, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuModuleLoadData(" + name + ")", cuModuleLoadData, p, image);
            return p.get(ADDRESS, 0).address();
        }
    }

    public long moduleGetFunction(long module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuModuleGetFunction(" + name + ")", cuModuleGetFunction, p, MemorySegment.ofAddress(module), a.allocateFrom(name));
            return p.get(ADDRESS, 0).address();
        }
    }

    /**
     * Launches {@code function} on {@code stream}; {@code params} is an array of pointers to the
     * argument values (see {@link Launch}).
     */
    public void launch(String name, long function, int[] grid, int[] block, int sharedBytes, long stream, MemorySegment params) {
        int rc = call(cuLaunchKernel, MemorySegment.ofAddress(function), grid[0], grid[1], grid[2], block[0], block[1], block[2],
                sharedBytes, MemorySegment.ofAddress(stream), params, MemorySegment.NULL);
        if (rc != 0) {
            throw new CudaException("cuLaunchKernel(" + name + ", grid " + grid[0] + "x" + grid[1] + "x" + grid[2] + ", block "
                    + block[0] + "x" + block[1] + "x" + block[2] + ")", rc, errorName(rc), errorString(rc));
        }
    }
}

package dev.kiln.kernels.cuda;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One GPU as Kiln uses it: its primary context, one stream that all of Kiln's work on it is
 * ordered on, a caching allocator, and the GPU kernels loaded from the fatbins on first use.
 * {@link #get(int)} checks everything once and fails with one clear sentence when the device
 * cannot be used ({@link CudaUnavailableException}).
 *
 * <pre>{@code
 * CudaDevice dev = CudaDevice.get(0);
 * long x = dev.allocator().allocate(4L * n);
 * dev.copyToDevice(x, MemorySegment.ofArray(data), 4L * n);
 * }</pre>
 */
public final class CudaDevice {
    private static final ConcurrentHashMap<Integer, CudaDevice> DEVICES = new ConcurrentHashMap<>();
    private static final int ATTR_SM_COUNT = 16;
    private static final int ATTR_CC_MAJOR = 75;
    private static final int ATTR_CC_MINOR = 76;

    private final Driver driver;
    private final int ordinal;
    private final String name;
    private final int ccMajor;
    private final int ccMinor;
    private final int smCount;
    private final long totalMemory;
    private final long context;
    private final long stream;
    private final DeviceAllocator allocator;
    private final ConcurrentHashMap<String, Long> modules = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> functions = new ConcurrentHashMap<>();
    private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> false);
    /** Largest host-to-device copy staged through pinned memory. */
    static final long STAGING_BYTES = 16L << 20;
    /** Pinned staging buffers in the ring (allocated on first use). */
    static final int STAGING_SLOTS = 4;
    private static final int DISABLE_TIMING = 2;
    private final MemorySegment[] staging = new MemorySegment[STAGING_SLOTS];
    private final long[] stagingEvents = new long[STAGING_SLOTS];
    private int nextSlot;
    private final java.util.function.Function<String, MemorySegment> images;

    private CudaDevice(Driver driver, int ordinal, java.util.function.Function<String, MemorySegment> images) {
        this.driver = driver;
        this.ordinal = ordinal;
        this.images = images;
        int dev = driver.device(ordinal);
        this.name = driver.deviceName(dev);
        this.ccMajor = driver.attribute(dev, ATTR_CC_MAJOR);
        this.ccMinor = driver.attribute(dev, ATTR_CC_MINOR);
        this.smCount = driver.attribute(dev, ATTR_SM_COUNT);
        this.totalMemory = driver.totalMemory(dev);
        this.context = driver.primaryContextRetain(dev);
        driver.setCurrent(context);
        bound.set(true);
        this.stream = driver.streamCreate(0);
        this.allocator = new DeviceAllocator(new DeviceAllocator.Backing() {
            @Override
            public long allocate(long bytes) {
                bind();
                return driver.memAlloc(bytes);
            }

            @Override
            public void free(long address) {
                bind();
                driver.memFree(address);
            }
        });
    }

    /**
     * CUDA device {@code ordinal}, opened on first use.
     *
     * @throws CudaUnavailableException when there is no driver, no such GPU, or no GPU kernels in this build
     */
    public static CudaDevice get(int ordinal) {
        CudaDevice d = DEVICES.get(ordinal);
        if (d != null) {
            return d;
        }
        synchronized (DEVICES) {
            d = DEVICES.get(ordinal);
            if (d == null) {
                d = open(ordinal);
                DEVICES.put(ordinal, d);
            }
            return d;
        }
    }

    private static CudaDevice open(int ordinal) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("CudaDevice: expected a device ordinal >= 0, got " + ordinal);
        }
        Driver driver = Driver.get();
        int count = driver.deviceCount();
        if (count == 0) {
            throw new CudaUnavailableException("CUDA is unavailable: the NVIDIA driver is installed but reports no GPU");
        }
        if (ordinal >= count) {
            throw new CudaUnavailableException("CUDA device cuda:" + ordinal + " is unavailable: this machine has " + count
                    + " GPU" + (count == 1 ? "" : "s") + " (cuda:0" + (count > 1 ? " .. cuda:" + (count - 1) : "") + ")");
        }
        if (!Fatbin.available()) {
            throw new CudaUnavailableException("CUDA is unavailable: this build of Kiln has no GPU kernels (nvcc was not found "
                    + "when it was built; rebuild with nvcc on the PATH or KILN_NVCC set)");
        }
        return new CudaDevice(driver, ordinal, Fatbin::load);
    }

    /** A device over a given driver binding and module images, outside the shared registry (for tests). */
    static CudaDevice open(Driver driver, int ordinal, java.util.function.Function<String, MemorySegment> images) {
        return new CudaDevice(driver, ordinal, images);
    }

    /**
     * Whether CUDA device {@code ordinal} can be used; never throws.
     */
    public static boolean isAvailable(int ordinal) {
        return unavailableReason(ordinal) == null;
    }

    /** Why CUDA device {@code ordinal} cannot be used (the exception's sentence), or null when it can. */
    public static String unavailableReason(int ordinal) {
        try {
            get(ordinal);
            return null;
        } catch (CudaUnavailableException e) {
            return e.getMessage();
        }
    }

    /** Makes this device's context current on the calling thread (once per thread). */
    void bind() {
        if (!bound.get()) {
            driver.setCurrent(context);
            bound.set(true);
        }
    }

    Driver driver() {
        return driver;
    }

    public int ordinal() {
        return ordinal;
    }

    public String name() {
        return name;
    }

    /** Compute capability as major * 10 + minor (90 for an H100). */
    public int computeCapability() {
        return ccMajor * 10 + ccMinor;
    }

    public int multiprocessors() {
        return smCount;
    }

    public long totalMemory() {
        return totalMemory;
    }

    /** The stream all of Kiln's work on this device is enqueued on. */
    public long stream() {
        return stream;
    }

    public DeviceAllocator allocator() {
        return allocator;
    }

    /** Waits until all work enqueued on this device's stream has finished. */
    public void synchronize() {
        bind();
        driver.streamSynchronize(stream);
    }

    /** Handle of kernel {@code kernel} in module {@code module}, loading the module on first use. */
    long function(String module, String kernel) {
        String key = module + "/" + kernel;
        Long f = functions.get(key);
        if (f != null) {
            return f;
        }
        bind();
        long m = modules.computeIfAbsent(module, k -> driver.moduleLoadData(images.apply(k), k + ".fatbin"));
        long fn = driver.moduleGetFunction(m, kernel);
        functions.put(key, fn);
        return fn;
    }

    void launch(String name, long function, int[] grid, int[] block, int sharedBytes, MemorySegment params) {
        bind();
        driver.launch(name, function, grid, block, sharedBytes, stream, params);
    }

    /**
     * Copies {@code bytes} bytes of host memory (native or a heap array segment) to the device,
     * ordered after the queued work. Up to {@link #STAGING_BYTES} the data goes through one of
     * {@link #STAGING_SLOTS} pinned staging buffers and an asynchronous copy on the stream, so the
     * caller returns at once and can prepare the next batch while the GPU works; a slot is reused
     * once the copy that last used it has completed (an event). Larger copies are synchronous.
     */
    public void copyToDevice(long dst, MemorySegment src, long bytes) {
        bind();
        if (bytes > STAGING_BYTES) {
            synchronize();
            driver.memcpyHtoD(dst, src, bytes);
            return;
        }
        synchronized (staging) {
            int i = nextSlot;
            nextSlot = (nextSlot + 1) % STAGING_SLOTS;
            if (staging[i] == null) {
                staging[i] = driver.memAllocHost(STAGING_BYTES);
                stagingEvents[i] = driver.eventCreate(DISABLE_TIMING);
            } else {
                driver.eventSynchronize(stagingEvents[i]);
            }
            MemorySegment.copy(src, 0, staging[i], 0, bytes);
            driver.memcpyHtoDAsync(dst, staging[i], bytes, stream);
            driver.eventRecord(stagingEvents[i], stream);
        }
    }

    /** Copies {@code bytes} bytes from the device to host memory once the queued work has finished. */
    public void copyToHost(MemorySegment dst, long src, long bytes) {
        bind();
        synchronize();
        driver.memcpyDtoH(dst, src, bytes);
    }

    /** Enqueues a device-to-device copy. */
    public void copyOnDevice(long dst, long src, long bytes) {
        bind();
        driver.memcpyDtoDAsync(dst, src, bytes, stream);
    }

    /** Enqueues setting {@code bytes} bytes at {@code dst} to zero. */
    public void zero(long dst, long bytes) {
        bind();
        driver.memsetD8Async(dst, (byte) 0, bytes, stream);
    }

    /** Enqueues setting {@code count} floats at {@code dst} to {@code value} (no host synchronization). */
    public void fill(long dst, float value, long count) {
        bind();
        driver.memsetD32Async(dst, Float.floatToRawIntBits(value), count, stream);
    }

    /** Page-locked host memory of {@code bytes} bytes. */
    public PinnedBuffer pinned(long bytes) {
        bind();
        return new PinnedBuffer(this, driver.memAllocHost(bytes));
    }

    /** Milliseconds of GPU time taken by {@code work} (its launches on this device's stream), timed with events. */
    public double timeMillis(Runnable work) {
        bind();
        long start = driver.eventCreate(0);
        long end = driver.eventCreate(0);
        try {
            driver.eventRecord(start, stream);
            work.run();
            driver.eventRecord(end, stream);
            driver.eventSynchronize(end);
            return driver.eventElapsedMillis(start, end);
        } finally {
            driver.eventDestroy(start);
            driver.eventDestroy(end);
        }
    }

    @Override
    public String toString() {
        return "cuda:" + ordinal + " (" + name + ", sm_" + computeCapability() + ", " + smCount + " SMs, "
                + (totalMemory >> 20) + " MiB)";
    }
}

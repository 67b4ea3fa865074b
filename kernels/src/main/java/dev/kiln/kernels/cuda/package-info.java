/**
 * The CUDA side of the kernels: a Panama FFM binding of the CUDA driver API ({@link
 * dev.kiln.kernels.cuda.Driver}, no JNI, no CUDA toolkit at run time), a device with its stream,
 * caching allocator and pinned buffers ({@link dev.kiln.kernels.cuda.CudaDevice}), kernel launches
 * ({@link dev.kiln.kernels.cuda.Launch}) and typed wrappers of Kiln's own GPU kernels, which nvcc
 * builds from {@code src/main/cuda} into fatbin resources ({@link dev.kiln.kernels.cuda.Fatbin}).
 * Without a driver, a GPU or the fatbins, {@link dev.kiln.kernels.cuda.CudaDevice#get} throws a
 * {@link dev.kiln.kernels.cuda.CudaUnavailableException} with one sentence saying why.
 *
 * <pre>{@code
 * CudaDevice dev = CudaDevice.get(0);
 * long a = dev.allocator().allocate(4L * m * k), b = ..., c = ...;
 * CudaBlas.gemm(dev, CudaBlas.Precision.TF32, c, a, b, 0, CudaBlas.Bias.NONE, false,
 *               CudaBlas.GemmShape.of(m, n, k, false, false));
 * dev.synchronize();
 * }</pre>
 */
package dev.kiln.kernels.cuda;

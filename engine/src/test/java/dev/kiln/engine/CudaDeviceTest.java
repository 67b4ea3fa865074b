package dev.kiln.engine;

import dev.kiln.kernels.cuda.CudaDevice;
import dev.kiln.kernels.cuda.CudaUnavailableException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Asking for the CUDA device where it cannot be used fails with one clear sentence; the CPU keeps working. */
class CudaDeviceTest {
    @Test
    void cudaWithoutAGpuFailsWithOneSentenceAndTheCpuStillWorks() {
        assumeFalse(CudaDevice.isAvailable(0), "a usable GPU is present");
        Tensor x = Tensors.of(new float[] {1, 2, 3}, 3);
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> x.to(Device.cuda(0)));
        assertEquals(CudaDevice.unavailableReason(0), e.getMessage());
        assertThrows(CudaUnavailableException.class, () -> Backends.of(Device.parse("cuda")));
        assertArrayEquals(new float[] {2, 4, 6}, x.mul(2).toFloatArray());
    }

    @Test
    void aCpuScalarMixesWithTensorsOfAnyDevice() {
        Tensor x = Tensors.of(new float[] {1, 2}, 2);
        assertArrayEquals(new float[] {3, 4}, x.add(Tensors.scalar(2)).toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> Tensors.ones(2).add(Tensors.ones(1).reshape(1)).neg()
                .add(Tensors.ones(3)));
    }
}

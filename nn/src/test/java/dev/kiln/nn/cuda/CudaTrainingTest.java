package dev.kiln.nn.cuda;

import dev.kiln.engine.DType;
import dev.kiln.engine.Device;
import dev.kiln.engine.Generator;
import dev.kiln.engine.Grad;
import dev.kiln.engine.Tensor;
import dev.kiln.engine.Tensors;
import dev.kiln.kernels.cuda.CudaDevice;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.data.Batch;
import dev.kiln.nn.data.DataLoader;
import dev.kiln.nn.data.Dataset;
import dev.kiln.nn.data.FashionMnist;
import dev.kiln.nn.data.Split;
import dev.kiln.nn.layers.Models;
import dev.kiln.nn.loss.Losses;
import dev.kiln.nn.optim.Adam;
import dev.kiln.nn.optim.AdamW;
import dev.kiln.nn.optim.Optimizer;
import dev.kiln.nn.optim.SGD;
import dev.kiln.nn.train.Trainer;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Training on the GPU (skipped, and reported as skipped, without a usable one): the fused
 * optimizer kernels against the CPU's fused loops, and LeNet-5 trained for one epoch on the
 * embedded Fashion-MNIST subset on the GPU and on the CPU from the same initial weights.
 */
class CudaTrainingTest {
    private static Device gpu() {
        String reason = CudaDevice.unavailableReason(0);
        assumeTrue(reason == null, reason);
        return Device.cuda(0);
    }

    @Test
    void fusedOptimizerKernelsMatchTheCpu() {
        Device d = gpu();
        Map<String, Function<List<Parameter>, Optimizer>> configs = Map.of(
                "sgd", ps -> new SGD(ps, 0.05),
                "sgd momentum nesterov wd", ps -> new SGD(ps, 0.05, 0.9, 0.01, true),
                "adam L2", ps -> new Adam(ps, 0.01, 0.9, 0.99, 1e-8, 0.1),
                "adam amsgrad", ps -> new Adam(ps, 0.01, 0.5, 0.6, 1e-6, 0, true),
                "adamw", ps -> new AdamW(ps, 0.01, 0.9, 0.999, 1e-8, 0.2, true));
        for (var c : configs.entrySet()) {
            for (int n : new int[] {1, 7, 257, 4099}) {
                float[] cpu = run(c.getValue(), Device.CPU, n);
                float[] gpu = run(c.getValue(), d, n);
                for (int i = 0; i < n; i++) {
                    assertEquals(cpu[i], gpu[i], 1e-6 + 1e-6 * Math.abs(cpu[i]), c.getKey() + " n=" + n + " index " + i);
                }
            }
        }
    }

    private static float[] run(Function<List<Parameter>, Optimizer> make, Device d, int n) {
        Parameter p = new Parameter(Tensors.randn(new Generator(3), n));
        p.to(d);
        Optimizer opt = make.apply(List.of(p));
        for (int t = 0; t < 5; t++) {
            p.get().setGrad(Tensors.randn(new Generator(50 + t), n).to(d));
            opt.step();
        }
        return p.get().toFloatArray();
    }

    @Test
    void lenet5TrainsOneEpochOnTheGpuAsOnTheCpu() {
        Device d = gpu();
        Split data = FashionMnist.embedded();
        double cpu = trainOneEpoch(Device.CPU, data);
        double gpu = trainOneEpoch(d, data);
        assertTrue(gpu > 0.70, "GPU accuracy after one epoch " + gpu + " (CPU " + cpu + ")");
        assertTrue(Math.abs(gpu - cpu) < 0.03, "GPU accuracy " + gpu + " outside the CPU's band " + cpu + " +- 0.03");
    }

    @Test
    void trainerMovesTheModelAndBatchesToTheGpu() {
        Device d = gpu();
        Split data = FashionMnist.embedded();
        double[] acc = new double[2];
        for (int i = 0; i < 2; i++) {
            Module model = Models.mlp(new Generator(2));
            Trainer t = Trainer.builder().device(i == 0 ? Device.CPU : d).optimizer(ps -> new Adam(ps, 1e-3, 0.9, 0.999, 1e-8, 0))
                    .quiet().build();
            DataLoader train = DataLoader.builder(data.train()).batchSize(128).shuffle(true).seed(3).build();
            DataLoader test = DataLoader.builder(data.test()).batchSize(500).build();
            acc[i] = t.fit(model, train, test).last().testAccuracy();
            assertEquals(i == 0 ? Device.CPU : d, model.parameters().get(0).get().device());
        }
        assertTrue(Math.abs(acc[0] - acc[1]) < 0.03, "MLP one epoch: CPU " + acc[0] + ", GPU " + acc[1]);
    }

    private static double trainOneEpoch(Device d, Split data) {
        Module model = Models.lenet5(new Generator(1));
        model.to(d);
        Optimizer opt = new SGD(model.parameters(), 0.05, 0.9, 0, false);
        DataLoader train = DataLoader.builder(data.train()).batchSize(64).shuffle(true).seed(7).build();
        model.train(true);
        for (Batch b : train.epoch(0)) {
            opt.zeroGrad();
            Tensor loss = Losses.crossEntropy(model.forward(b.x().to(d)), b.y().to(d));
            loss.backward();
            opt.step();
        }
        return accuracy(model, data.test(), d);
    }

    private static double accuracy(Module model, Dataset test, Device d) {
        model.eval();
        long right = 0;
        DataLoader loader = DataLoader.builder(test).batchSize(500).build();
        try (var ng = Grad.disabled()) {
            for (Batch b : loader.epoch(0)) {
                Tensor pred = model.forward(b.x().to(d)).argmax(1, false);
                right += (long) pred.eq(b.y().to(d)).to(DType.F32).sum().item();
            }
        }
        return (double) right / test.size();
    }
}

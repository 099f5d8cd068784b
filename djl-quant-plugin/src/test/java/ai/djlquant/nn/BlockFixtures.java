package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.quant.AffineQuantizer;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;

/** Float blocks, calibration and forward helpers shared by the block tests. */
final class BlockFixtures {

    private BlockFixtures() {}

    static Linear linear(NDManager m, long in, long out, boolean bias) {
        Linear l = Linear.builder().setUnits(out).optBias(bias).build();
        l.initialize(m, DataType.FLOAT32, new Shape(1, in));
        if (bias) {
            // DJL initialises biases to zero; a real one tests the bias path
            l.getParameters().get("bias").getArray().addi(m.randomNormal(new Shape(out)).mul(0.1));
        }
        return l;
    }

    /** {in, out, groups, k, stride, pad, dilation}. */
    static Conv2d conv2d(NDManager m, int[] c, boolean bias) {
        Conv2d conv =
                Conv2d.builder()
                        .setKernelShape(new Shape(c[3], c[3]))
                        .setFilters(c[1])
                        .optGroups(c[2])
                        .optStride(new Shape(c[4], c[4]))
                        .optPadding(new Shape(c[5], c[5]))
                        .optDilation(new Shape(c[6], c[6]))
                        .optBias(bias)
                        .build();
        conv.initialize(m, DataType.FLOAT32, new Shape(1, c[0], 16, 16));
        if (bias) {
            conv.getParameters()
                    .get("bias")
                    .getArray()
                    .addi(m.randomNormal(new Shape(c[1])).mul(0.1));
        }
        return conv;
    }

    static Conv1d conv1d(NDManager m, int in, int out, int k, int stride, int pad, int dil) {
        Conv1d conv =
                Conv1d.builder()
                        .setKernelShape(new Shape(k))
                        .setFilters(out)
                        .optStride(new Shape(stride))
                        .optPadding(new Shape(pad))
                        .optDilation(new Shape(dil))
                        .build();
        conv.initialize(m, DataType.FLOAT32, new Shape(1, in, 32));
        return conv;
    }

    /** Static activation parameters from a calibration batch, at the backend's exact width. */
    static QuantParams calibrate(NDArray sample) {
        QuantScheme s = QuantScheme.uint8Activation(Int8Backends.get().getActivationBits());
        return AffineQuantizer.fromRange(s, sample.min().getFloat(), sample.max().getFloat());
    }

    static NDArray run(Block b, NDManager m, NDArray x) {
        NDList out = b.forward(new ParameterStore(m, false), new NDList(x), false);
        return out.singletonOrThrow();
    }
}

package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.transformer.TransformerEncoderBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Randomly initialised models and calibration batches for the quantizer's tests. */
final class TestModels {

    private TestModels() {}

    /** Conv-BN-ReLU. */
    static SequentialBlock convBnRelu(int channels, int stride) {
        return new SequentialBlock()
                .add(
                        Conv2d.builder()
                                .setKernelShape(new Shape(3, 3))
                                .optStride(new Shape(stride, stride))
                                .optPadding(new Shape(1, 1))
                                .setFilters(channels)
                                .build())
                .add(BatchNorm.builder().build())
                .add(Activation.reluBlock());
    }

    /** A residual unit: Parallel(main, shortcut) summed, then ReLU. */
    static Block residual(int channels, int stride, boolean project) {
        SequentialBlock main =
                new SequentialBlock()
                        .add(
                                Conv2d.builder()
                                        .setKernelShape(new Shape(3, 3))
                                        .optStride(new Shape(stride, stride))
                                        .optPadding(new Shape(1, 1))
                                        .setFilters(channels)
                                        .optBias(false)
                                        .build())
                        .add(BatchNorm.builder().optEpsilon(2e-5f).build())
                        .add(Activation::relu)
                        .add(
                                Conv2d.builder()
                                        .setKernelShape(new Shape(3, 3))
                                        .optPadding(new Shape(1, 1))
                                        .setFilters(channels)
                                        .build())
                        .add(BatchNorm.builder().build());
        Block shortcut =
                project
                        ? new SequentialBlock()
                                .add(
                                        Conv2d.builder()
                                                .setKernelShape(new Shape(1, 1))
                                                .optStride(new Shape(stride, stride))
                                                .setFilters(channels)
                                                .build())
                                .add(BatchNorm.builder().build())
                        : Blocks.identityBlock();
        ParallelBlock sum =
                new ParallelBlock(
                        l ->
                                new NDList(
                                        l.get(0).singletonOrThrow().add(l.get(1).singletonOrThrow())),
                        Arrays.asList(main, shortcut));
        return new SequentialBlock().add(sum).add(Activation.reluBlock());
    }

    /** A small residual CNN for (N, 3, 16, 16) input, with a 1x1 stride-2 projection. */
    static Block residualCnn() {
        return new SequentialBlock()
                .add(convBnRelu(16, 1))
                .add(residual(16, 1, false))
                .add(residual(32, 2, true))
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(32).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(10).build());
    }

    /** Two transformer encoder layers on (N, 8, 32) input, then a Linear head. */
    static Block transformer() {
        return new SequentialBlock()
                .add(new TransformerEncoderBlock(32, 4, 64, 0f, Activation::relu))
                .add(new TransformerEncoderBlock(32, 4, 64, 0f, Activation::gelu))
                .add(Linear.builder().setUnits(5).build());
    }

    /** A model around a block, initialised for one input shape, BatchNorm statistics random. */
    static Model model(Block block, Shape input) {
        Model model = Model.newInstance("test-" + block.getClass().getSimpleName());
        model.setBlock(block);
        model.getNDManager().getEngine().setRandomSeed(5);
        block.initialize(model.getNDManager(), DataType.FLOAT32, input);
        randomiseStatistics(block, model.getNDManager());
        return model;
    }

    /** Gives every BatchNorm and bias non-trivial values, seeded. */
    static void randomiseStatistics(Block block, NDManager manager) {
        manager.getEngine().setRandomSeed(7);
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray a = p.getValue().getArray();
            String name = p.getKey();
            if (name.endsWith("runningMean") || name.endsWith("beta") || name.endsWith("bias")) {
                a.addi(manager.randomNormal(0, 0.2f, a.getShape(), DataType.FLOAT32));
            } else if (name.endsWith("runningVar") || name.endsWith("gamma")) {
                a.muli(manager.randomUniform(0.5f, 1.5f, a.getShape(), DataType.FLOAT32));
            }
        }
    }

    /** Seeded random normal batches. */
    static List<NDList> batches(NDManager manager, int count, Shape shape) {
        manager.getEngine().setRandomSeed(11);
        List<NDList> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(new NDList(manager.randomNormal(shape)));
        }
        return out;
    }

    /** Runs the model's block in inference mode. */
    static NDArray run(Model model, NDArray x) {
        NDList out =
                model.getBlock()
                        .forward(new ParameterStore(model.getNDManager(), false), new NDList(x), false);
        return out.singletonOrThrow();
    }
}

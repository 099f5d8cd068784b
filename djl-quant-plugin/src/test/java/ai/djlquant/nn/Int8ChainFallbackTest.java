package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.quant.FusedActivation;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * An int8 chain where oneDNN is not available (its own JVM with {@code
 * -Dai.djlquant.kernel.backend=reference}, as {@link QuantizedBlocksFallbackTest}): the chain
 * declines (its forward returns null) and the chained block runs the layers one by one, so its
 * output equals the plain block's bit for bit: Linear chains and convolution chains through
 * single-layer wrappers, and
 * through a max pooling.
 */
class Int8ChainFallbackTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(17);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    @Test
    void withoutANativeBackendTheChainRunsTheLayersOneByOne() {
        Assertions.assertFalse(Int8Backends.get().isNative());
        SequentialBlock plain = new SequentialBlock();
        List<QuantizedLinear> links = new ArrayList<>();
        NDArray calib = manager.randomNormal(new Shape(64, 32));
        for (long[] kn : new long[][] {{32, 24}, {24, 8}}) {
            Linear f = BlockFixtures.linear(manager, kn[0], kn[1], true);
            QuantizedLinear q =
                    QuantizedLinear.builder()
                            .setFloatBlock(f)
                            .optActivationParams(BlockFixtures.calibrate(calib))
                            .optFusedActivation(FusedActivation.RELU)
                            .build();
            links.add(q);
            plain.add(q);
            plain.add(Blocks.identityBlock());
            calib = FusedActivation.RELU.apply(BlockFixtures.run(f, manager, calib));
        }
        plain.removeLastBlock();
        plain.initialize(manager, DataType.FLOAT32, new Shape(1, 32));
        ChainedSequentialBlock chained =
                new ChainedSequentialBlock(plain, ChainedSequentialBlock.findRuns(plain));
        Assertions.assertEquals(1, chained.getRuns().size());
        NDArray x = manager.randomNormal(new Shape(5, 32));
        Assertions.assertNull(
                new Int8Chain(links).forward(new ParameterStore(manager, false), new NDList(x)));
        Assertions.assertArrayEquals(
                BlockFixtures.run(plain, manager, x).toFloatArray(),
                BlockFixtures.run(chained, manager, x).toFloatArray());
    }

    @Test
    void withoutANativeBackendAConvolutionChainRunsTheLayersOneByOne() {
        Assertions.assertFalse(Int8Backends.get().isNative());
        // Seq(Seq(conv1x1, id), Seq(depthwise 3x3 stride 2, id), conv1x1): an inverted residual
        SequentialBlock plain = new SequentialBlock();
        List<QuantizedConv2d> links = new ArrayList<>();
        NDArray calib = manager.randomNormal(new Shape(8, 4, 10, 10));
        int[][] convs = {{4, 12, 1, 1, 1, 0, 1}, {12, 12, 12, 3, 2, 1, 1}, {12, 4, 1, 1, 1, 0, 1}};
        for (int i = 0; i < convs.length; i++) {
            FusedActivation act = i < 2 ? FusedActivation.RELU6 : FusedActivation.NONE;
            Conv2d f = BlockFixtures.conv2d(manager, convs[i], true);
            QuantizedConv2d q =
                    QuantizedConv2d.builder()
                            .setFloatBlock(f)
                            .optActivationParams(BlockFixtures.calibrate(calib))
                            .optFusedActivation(act)
                            .build();
            links.add(q);
            plain.add(i < 2 ? new SequentialBlock().add(q).add(Blocks.identityBlock()) : q);
            calib = act.apply(BlockFixtures.run(f, manager, calib));
        }
        plain.initialize(manager, DataType.FLOAT32, new Shape(1, 4, 10, 10));
        ChainedSequentialBlock chained =
                new ChainedSequentialBlock(plain, ChainedSequentialBlock.findRuns(plain));
        Assertions.assertEquals(List.of(new ChainRun(0, 3)), chained.getRuns());
        NDArray x = manager.randomNormal(new Shape(3, 4, 10, 10));
        Assertions.assertNull(
                new Int8Chain(links).forward(new ParameterStore(manager, false), new NDList(x)));
        Assertions.assertArrayEquals(
                BlockFixtures.run(plain, manager, x).toFloatArray(),
                BlockFixtures.run(chained, manager, x).toFloatArray());
    }

    @Test
    void withoutANativeBackendAChainThroughAPoolingRunsTheBlocksOneByOne() {
        Assertions.assertFalse(Int8Backends.get().isNative());
        // Seq(Seq(conv3x3, id, id), maxPool2d 3x3 stride 2 padding 1 ceil, conv3x3): the CNN's
        // convolutions with a pooling between them that runs on bytes where the chain runs
        SequentialBlock plain = new SequentialBlock();
        List<QuantizedConv2d> links = new ArrayList<>();
        NDArray calib = manager.randomNormal(new Shape(8, 3, 9, 9));
        Block pool =
                Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), true);
        int[][] convs = {{3, 8, 1, 3, 1, 1, 1}, {8, 4, 1, 3, 1, 1, 1}};
        for (int i = 0; i < convs.length; i++) {
            FusedActivation act = i == 0 ? FusedActivation.RELU : FusedActivation.NONE;
            Conv2d f = BlockFixtures.conv2d(manager, convs[i], true);
            QuantizedConv2d q =
                    QuantizedConv2d.builder()
                            .setFloatBlock(f)
                            .optActivationParams(BlockFixtures.calibrate(calib))
                            .optFusedActivation(act)
                            .build();
            links.add(q);
            calib = act.apply(BlockFixtures.run(f, manager, calib));
            if (i == 0) {
                plain.add(
                        new SequentialBlock()
                                .add(q)
                                .add(Blocks.identityBlock())
                                .add(Blocks.identityBlock()));
                plain.add(pool);
                calib = BlockFixtures.run(pool, manager, calib);
            } else {
                plain.add(q);
            }
        }
        plain.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 9, 9));
        ChainedSequentialBlock chained =
                new ChainedSequentialBlock(plain, ChainedSequentialBlock.findRuns(plain));
        Assertions.assertEquals(List.of(new ChainRun(0, 3)), chained.getRuns());
        NDArray x = manager.randomNormal(new Shape(3, 3, 9, 9));
        MaxPoolStep step = new MaxPoolStep(DjlMaxPool.identify(pool));
        Assertions.assertNull(
                new Int8Chain(links, List.of(List.of(step)))
                        .forward(new ParameterStore(manager, false), new NDList(x)));
        NDArray got = BlockFixtures.run(chained, manager, x);
        Assertions.assertEquals(new Shape(3, 4, 5, 5), got.getShape());
        Assertions.assertArrayEquals(
                BlockFixtures.run(plain, manager, x).toFloatArray(), got.toFloatArray());
    }
}

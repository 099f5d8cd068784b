package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
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
 * Int8 chains of Conv2d layers ({@link ChainedSequentialBlock}, {@link Int8Chain}) on an inverted
 * residual's main branch as folding and fusion leave it, {@code Seq(Seq(conv1x1, id, id),
 * Seq(dw3x3 stride s, id, id), conv1x1, id)}: the chained output equals the layers run one by one
 * bit for bit (NCHW input and a channels-last view as input, batch 1 and 32, strides 1 and 2,
 * depthwise), the chain itself runs on the native backend, and the formation rules for
 * single-layer wrappers and kinds.
 */
class ConvChainTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(2468);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    /** A float conv and the calibration activations that reach it. */
    private static QuantizedConv2d int8Conv(
            int[] c, NDArray[] calib, FusedActivation act, boolean dynamic) {
        Conv2d f = BlockFixtures.conv2d(manager, c, true);
        QuantizedConv2d.Builder b = QuantizedConv2d.builder().setFloatBlock(f);
        if (dynamic) {
            b.optDynamic();
        } else {
            b.optActivationParams(BlockFixtures.calibrate(calib[0]));
        }
        QuantizedConv2d q = b.optFusedActivation(act).build();
        calib[0] = act.apply(BlockFixtures.run(f, manager, calib[0]));
        return q;
    }

    /** What folding a BatchNorm and fusing a ReLU6 leave of Seq(conv, bn, relu6). */
    private static SequentialBlock wrapper(Block layer) {
        return new SequentialBlock()
                .add(layer)
                .add(Blocks.identityBlock())
                .add(Blocks.identityBlock());
    }

    /**
     * An inverted residual's main branch: 1x1 expansion (ReLU6), depthwise 3x3 with the stride
     * (ReLU6), 1x1 projection, folded BN; the expansion's mode as given.
     */
    private static SequentialBlock mainBranch(int in, int hidden, int out, int stride, boolean dynamicHead) {
        NDArray[] calib = {manager.randomNormal(new Shape(16, in, 10, 10))};
        SequentialBlock main = new SequentialBlock();
        main.add(wrapper(int8Conv(new int[] {in, hidden, 1, 1, 1, 0, 1}, calib, FusedActivation.RELU6, dynamicHead)));
        main.add(wrapper(int8Conv(new int[] {hidden, hidden, hidden, 3, stride, 1, 1}, calib, FusedActivation.RELU6, false)));
        main.add(int8Conv(new int[] {hidden, out, 1, 1, 1, 0, 1}, calib, FusedActivation.NONE, false));
        main.add(Blocks.identityBlock()); // where the BatchNorm was
        main.initialize(manager, DataType.FLOAT32, new Shape(1, in, 10, 10));
        return main;
    }

    @Test
    void aChainedMainBranchEqualsItsLayersRunOneByOne() {
        for (boolean dynamicHead : new boolean[] {false, true}) {
            for (int stride : new int[] {1, 2}) {
                SequentialBlock plain = mainBranch(8, 24, 8, stride, dynamicHead);
                List<ChainRun> runs = ChainedSequentialBlock.findRuns(plain);
                Assertions.assertEquals(List.of(new ChainRun(0, 3)), runs);
                ChainedSequentialBlock chained = new ChainedSequentialBlock(plain, runs);
                for (int n : new int[] {1, 32}) {
                    NDArray nchw = manager.randomNormal(new Shape(n, 8, 10, 10));
                    // the same values as a channels-last view, as an int8 conv's output is
                    NDArray view = nchw.transpose(0, 2, 3, 1).duplicate().transpose(0, 3, 1, 2);
                    for (NDArray x : new NDArray[] {nchw, view}) {
                        String what =
                                "stride " + stride + ", dynamic head " + dynamicHead + ", N=" + n
                                        + (x == view ? ", channels-last input" : "");
                        float[] want = BlockFixtures.run(plain, manager, x).toFloatArray();
                        NDArray got = BlockFixtures.run(chained, manager, x);
                        long hw = stride == 1 ? 10 : 5;
                        Assertions.assertEquals(new Shape(n, 8, hw, hw), got.getShape(), what);
                        Assertions.assertArrayEquals(want, got.toFloatArray(), what);
                        NDList direct =
                                new Int8Chain(layers(plain))
                                        .forward(new ParameterStore(manager, false), new NDList(x));
                        if (Int8Backends.get().isNative()) {
                            // the chain itself ran (forward gives null where it would not)
                            Assertions.assertNotNull(direct, what);
                            Assertions.assertArrayEquals(
                                    want, direct.singletonOrThrow().toFloatArray(), what);
                        } else {
                            Assertions.assertNull(direct, what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aDynamicLinkBreaksTheChainAndTheHeadMayBeDynamic() {
        SequentialBlock dynHead = mainBranch(4, 8, 4, 1, true);
        Assertions.assertEquals(
                List.of(new ChainRun(0, 3)), ChainedSequentialBlock.findRuns(dynHead));

        NDArray[] calib = {manager.randomNormal(new Shape(16, 4, 10, 10))};
        SequentialBlock dynMiddle = new SequentialBlock();
        dynMiddle.add(wrapper(int8Conv(new int[] {4, 8, 1, 1, 1, 0, 1}, calib, FusedActivation.RELU6, false)));
        dynMiddle.add(wrapper(int8Conv(new int[] {8, 8, 8, 3, 1, 1, 1}, calib, FusedActivation.RELU6, true)));
        dynMiddle.add(int8Conv(new int[] {8, 4, 1, 1, 1, 0, 1}, calib, FusedActivation.NONE, false));
        // the dynamic depthwise cannot read bytes: it ends the first run and heads the next
        Assertions.assertEquals(
                List.of(new ChainRun(1, 3)), ChainedSequentialBlock.findRuns(dynMiddle));
        IllegalArgumentException e =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () -> new ChainedSequentialBlock(dynMiddle, List.of(new ChainRun(0, 3))));
        Assertions.assertTrue(e.getMessage().contains("02SequentialBlock"), e.getMessage());
    }

    @Test
    void onlySingleLayerPlainWrappersAreLinks() {
        NDArray[] calib = {manager.randomNormal(new Shape(16, 4, 10, 10))};
        QuantizedConv2d a = int8Conv(new int[] {4, 8, 1, 1, 1, 0, 1}, calib, FusedActivation.RELU, false);
        QuantizedConv2d b = int8Conv(new int[] {8, 8, 8, 3, 1, 1, 1}, calib, FusedActivation.RELU, false);
        QuantizedConv2d c = int8Conv(new int[] {8, 4, 1, 1, 1, 0, 1}, calib, FusedActivation.NONE, false);

        Assertions.assertSame(a, ChainedSequentialBlock.layerOf(wrapper(a)));
        Assertions.assertSame(a, ChainedSequentialBlock.layerOf(wrapper(wrapper(a))));
        Assertions.assertSame(a, ChainedSequentialBlock.layerOf(a));
        // two layers
        Assertions.assertNull(
                ChainedSequentialBlock.layerOf(new SequentialBlock().add(a).add(b)));
        // a layer and something that is not a pass-through (an unfused ReLU)
        Assertions.assertNull(
                ChainedSequentialBlock.layerOf(
                        new SequentialBlock().add(a).add(Activation.reluBlock())));
        // no layer at all
        Assertions.assertNull(
                ChainedSequentialBlock.layerOf(new SequentialBlock().add(Blocks.identityBlock())));
        // a subclass may run its children otherwise
        Assertions.assertNull(
                ChainedSequentialBlock.layerOf(new SequentialBlock() {}.add(a)));
        // intermediate outputs are more than the layer's output
        SequentialBlock intermediate = wrapper(a);
        intermediate.setReturnIntermediate(true);
        Assertions.assertNull(ChainedSequentialBlock.layerOf(intermediate));

        SequentialBlock withPair = new SequentialBlock();
        withPair.add(new SequentialBlock().add(a).add(b)); // not a link: no chain head
        withPair.add(c);
        Assertions.assertEquals(List.of(), ChainedSequentialBlock.findRuns(withPair));

        SequentialBlock withRelu = new SequentialBlock();
        withRelu.add(new SequentialBlock().add(a).add(Activation.reluBlock()));
        withRelu.add(wrapper(b));
        withRelu.add(c);
        // the first child is no link; the run starts at the second
        Assertions.assertEquals(
                List.of(new ChainRun(1, 3)), ChainedSequentialBlock.findRuns(withRelu));
        IllegalArgumentException e =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () -> new ChainedSequentialBlock(withRelu, List.of(new ChainRun(0, 3))));
        Assertions.assertTrue(e.getMessage().contains("01SequentialBlock"), e.getMessage());
    }

    @Test
    void aLinearAfterAConvolutionEndsTheRun() {
        NDArray[] calib = {manager.randomNormal(new Shape(16, 4, 10, 10))};
        QuantizedConv2d a = int8Conv(new int[] {4, 8, 1, 1, 1, 0, 1}, calib, FusedActivation.RELU, false);
        QuantizedConv2d b = int8Conv(new int[] {8, 8, 1, 1, 1, 0, 1}, calib, FusedActivation.RELU, false);
        NDArray flat = calib[0].reshape(16, -1).get(":, :10");
        QuantizedLinear l1 =
                QuantizedLinear.builder()
                        .setFloatBlock(BlockFixtures.linear(manager, 10, 6, true))
                        .optActivationParams(BlockFixtures.calibrate(flat))
                        .build();
        QuantizedLinear l2 =
                QuantizedLinear.builder()
                        .setFloatBlock(BlockFixtures.linear(manager, 6, 3, true))
                        .optActivationParams(BlockFixtures.calibrate(flat))
                        .build();
        SequentialBlock mixed = new SequentialBlock().add(a).add(b).add(l1).add(l2);
        Assertions.assertEquals(
                List.of(new ChainRun(0, 2), new ChainRun(2, 4)),
                ChainedSequentialBlock.findRuns(mixed));
        Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> new ChainedSequentialBlock(mixed, List.of(new ChainRun(0, 3))));
        Assertions.assertThrows(IllegalArgumentException.class, () -> new Int8Chain(List.of(b, l1)));
    }

    private static List<Block> layers(SequentialBlock b) {
        List<Block> out = new ArrayList<>();
        for (Block k : b.getChildren().values()) {
            Block layer = ChainedSequentialBlock.layerOf(k);
            if (layer != null) {
                out.add(layer);
            }
        }
        return out;
    }
}

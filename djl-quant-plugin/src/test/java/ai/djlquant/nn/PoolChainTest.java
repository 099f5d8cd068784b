package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.kernel.MaxPool2dGeometry;
import ai.djlquant.quant.FusedActivation;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * Int8 chains through DJL's max pooling ({@link MaxPoolStep}, {@link DjlMaxPool}): on the
 * reference CNN's shape as folding and fusion leave it, {@code Seq(Seq(conv, id, id), maxPool2d
 * 2x2, Seq(conv, id, id), maxPool2d 2x2, flatten, Linear, id, Linear)}, all of it forms one chain
 * with the poolings and the flatten on the uint8 bytes, and its output equals the blocks run one
 * by one bit for bit (batch 1 and 32); so do odd sizes, strides, padding and ceil mode; the rule
 * that recognises the pooling, and the ones that keep a pooling out of a chain's ends.
 */
class PoolChainTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(1357);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    /** A static int8 conv (3x3, padding 1) fed by {@code calib[0]}, which it advances. */
    private static QuantizedConv2d int8Conv(int in, int out, NDArray[] calib, FusedActivation act) {
        Conv2d f = BlockFixtures.conv2d(manager, new int[] {in, out, 1, 3, 1, 1, 1}, true);
        QuantizedConv2d q =
                QuantizedConv2d.builder()
                        .setFloatBlock(f)
                        .optActivationParams(BlockFixtures.calibrate(calib[0]))
                        .optFusedActivation(act)
                        .build();
        calib[0] = act.apply(BlockFixtures.run(f, manager, calib[0]));
        return q;
    }

    private static QuantizedLinear int8Linear(long in, long out, NDArray[] calib, FusedActivation act) {
        var f = BlockFixtures.linear(manager, in, out, true);
        QuantizedLinear q =
                QuantizedLinear.builder()
                        .setFloatBlock(f)
                        .optActivationParams(BlockFixtures.calibrate(calib[0]))
                        .optFusedActivation(act)
                        .build();
        calib[0] = act.apply(BlockFixtures.run(f, manager, calib[0]));
        return q;
    }

    /** What folding a BatchNorm and fusing a ReLU leave of Seq(conv, bn, relu). */
    private static SequentialBlock wrapper(Block layer) {
        return new SequentialBlock()
                .add(layer)
                .add(Blocks.identityBlock())
                .add(Blocks.identityBlock());
    }

    /** The reference CNN's shape with random weights, 1x28x28 input, quantized as the quantizer leaves it. */
    private static SequentialBlock cnn() {
        NDArray[] calib = {manager.randomNormal(new Shape(16, 1, 28, 28))};
        Block pool1 = Pool.maxPool2dBlock(new Shape(2, 2));
        Block pool2 = Pool.maxPool2dBlock(new Shape(2, 2));
        SequentialBlock net = new SequentialBlock();
        net.add(wrapper(int8Conv(1, 8, calib, FusedActivation.RELU)));
        net.add(pool1);
        calib[0] = BlockFixtures.run(pool1, manager, calib[0]);
        net.add(wrapper(int8Conv(8, 16, calib, FusedActivation.RELU)));
        net.add(pool2);
        calib[0] = BlockFixtures.run(pool2, manager, calib[0]).reshape(16, -1);
        net.add(Blocks.batchFlattenBlock());
        net.add(int8Linear(16 * 7 * 7, 32, calib, FusedActivation.RELU));
        net.add(Blocks.identityBlock()); // where the ReLU was
        net.add(int8Linear(32, 10, calib, FusedActivation.NONE));
        net.initialize(manager, DataType.FLOAT32, new Shape(1, 1, 28, 28));
        return net;
    }

    @Test
    void theWholeCnnIsOneChainThroughItsPoolingsAndFlattenBitForBit() {
        SequentialBlock plain = cnn();
        List<ChainRun> runs = ChainedSequentialBlock.findRuns(plain);
        // conv1 -> pool -> conv2 -> pool -> flatten -> Linear -> Linear
        Assertions.assertEquals(List.of(new ChainRun(0, 8)), runs);
        ChainedSequentialBlock chained = new ChainedSequentialBlock(plain, runs);
        for (int n : new int[] {1, 32}) {
            NDArray x = manager.randomNormal(new Shape(n, 1, 28, 28));
            float[] want = BlockFixtures.run(plain, manager, x).toFloatArray();
            NDArray got = BlockFixtures.run(chained, manager, x);
            Assertions.assertEquals(new Shape(n, 10), got.getShape());
            Assertions.assertArrayEquals(want, got.toFloatArray(), "N=" + n);
            assertTheChainRan(plain, 0, 8, x);
            assertTheChainRan(plain, 0, 3, x); // conv1 -> pool -> conv2 alone
        }
    }

    /**
     * Runs children [from, to) of {@code plain} one by one and as the chain itself, which must run
     * where the backend is native (its forward gives null where it would not).
     */
    private static void assertTheChainRan(SequentialBlock plain, int from, int to, NDArray x) {
        ChainedSequentialBlock chained = new ChainedSequentialBlock(plain, List.of(new ChainRun(from, to)));
        SequentialBlock part = new SequentialBlock();
        for (int i = from; i < to; i++) {
            part.add(plain.getChildren().valueAt(i));
        }
        float[] want = BlockFixtures.run(part, manager, x).toFloatArray();
        Int8Chain chain = chainOf(chained, from, to);
        NDList direct = chain.forward(new ParameterStore(manager, false), new NDList(x));
        if (Int8Backends.get().isNative()) {
            Assertions.assertNotNull(direct);
            Assertions.assertArrayEquals(want, direct.singletonOrThrow().toFloatArray());
        } else {
            Assertions.assertNull(direct);
        }
    }

    /** The chain children [from, to) form, with their steps (as the chained block builds it). */
    private static Int8Chain chainOf(SequentialBlock b, int from, int to) {
        List<Block> kids = b.getChildren().values();
        List<Block> layers = new java.util.ArrayList<>();
        List<List<GridStep>> steps = new java.util.ArrayList<>();
        for (int i = from; i < to; i++) {
            Block layer = ChainedSequentialBlock.layerOf(kids.get(i));
            if (layer != null) {
                layers.add(layer);
                steps.add(new java.util.ArrayList<>());
            } else {
                MaxPool2dGeometry g = DjlMaxPool.identify(kids.get(i));
                if (g != null) {
                    steps.get(steps.size() - 1).add(new MaxPoolStep(g));
                } else if (DjlBatchFlatten.identify(kids.get(i))) {
                    steps.get(steps.size() - 1).add(new FlattenStep());
                }
            }
        }
        steps.remove(steps.size() - 1);
        Int8Chain c = new Int8Chain(layers, steps);
        for (int i = 0; i < c.size() - 1; i++) {
            Assertions.assertEquals(steps.get(i).toString(), c.stepsAfter(i).toString());
        }
        return c;
    }

    /** conv -> pool -> conv on an input of {@code size}, the pooling as given. */
    private static SequentialBlock convPoolConv(int size, Block pool) {
        NDArray[] calib = {manager.randomNormal(new Shape(16, 3, size, size))};
        SequentialBlock net = new SequentialBlock();
        net.add(wrapper(int8Conv(3, 8, calib, FusedActivation.RELU)));
        net.add(pool);
        calib[0] = BlockFixtures.run(pool, manager, calib[0]);
        net.add(Blocks.identityBlock());
        net.add(int8Conv(8, 6, calib, FusedActivation.NONE));
        net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, size, size));
        return net;
    }

    @Test
    void oddSizesStridesPaddingAndCeilModeChainBitForBit() {
        Object[][] cases = {
            // input size, pooling, its geometry, pooled size
            {7, Pool.maxPool2dBlock(new Shape(2, 2)), new MaxPool2dGeometry(2, 2, 2, 2, 0, 0, false), 3},
            {7, Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)),
                new MaxPool2dGeometry(3, 3, 2, 2, 1, 1, false), 4},
            {8, Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), true),
                new MaxPool2dGeometry(3, 3, 2, 2, 1, 1, true), 5},
            // ceil mode's last window would start in the padding: PyTorch drops it
            {5, Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2), new Shape(1, 1), true),
                new MaxPool2dGeometry(2, 2, 2, 2, 1, 1, true), 3},
            {7, Pool.maxPool2dBlock(new Shape(2, 3), new Shape(1, 2), new Shape(0, 1), true),
                new MaxPool2dGeometry(2, 3, 1, 2, 0, 1, true), 6},
        };
        for (Object[] c : cases) {
            int size = (Integer) c[0];
            Block pool = (Block) c[1];
            String what = c[2] + " on " + size + "x" + size;
            Assertions.assertEquals(c[2], DjlMaxPool.identify(pool), what);
            SequentialBlock plain = convPoolConv(size, pool);
            List<ChainRun> runs = ChainedSequentialBlock.findRuns(plain);
            Assertions.assertEquals(List.of(new ChainRun(0, 4)), runs, what);
            ChainedSequentialBlock chained = new ChainedSequentialBlock(plain, runs);
            for (int n : new int[] {1, 32}) {
                NDArray x = manager.randomNormal(new Shape(n, 3, size, size));
                float[] want = BlockFixtures.run(plain, manager, x).toFloatArray();
                NDArray got = BlockFixtures.run(chained, manager, x);
                int pooled = (Integer) c[3];
                long ow = c[2].equals(new MaxPool2dGeometry(2, 3, 1, 2, 0, 1, true)) ? 4 : pooled;
                Assertions.assertEquals(new Shape(n, 6, pooled, ow), got.getShape(), what);
                Assertions.assertArrayEquals(want, got.toFloatArray(), what + ", N=" + n);
                assertTheChainRan(plain, 0, 4, x);
            }
        }
    }

    @Test
    void theProbesTellAWrongGeometryApart() {
        LambdaBlock pool =
                (LambdaBlock)
                        Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), true);
        Assertions.assertTrue(DjlMaxPool.agrees(pool, new MaxPool2dGeometry(3, 3, 2, 2, 1, 1, true)));
        for (MaxPool2dGeometry wrong :
                new MaxPool2dGeometry[] {
                    new MaxPool2dGeometry(3, 3, 2, 2, 1, 1, false), // floor mode
                    new MaxPool2dGeometry(3, 3, 2, 2, 0, 0, true), // no padding
                    new MaxPool2dGeometry(2, 2, 2, 2, 1, 1, true), // another kernel
                    new MaxPool2dGeometry(3, 3, 1, 1, 1, 1, true), // another stride
                    new MaxPool2dGeometry(3, 3, 2, 3, 1, 1, true), // one axis differs
                }) {
            Assertions.assertFalse(DjlMaxPool.agrees(pool, wrong), wrong.toString());
        }
        // a padding of zeros (not minus infinity) would show on the probes' negative values
        LambdaBlock zeroPadded =
                LambdaBlock.singleton(
                        a -> Pool.maxPool2d(a.pad(new Shape(1, 1, 1, 1), 0), new Shape(3, 3),
                                new Shape(2, 2), new Shape(0, 0), true),
                        "maxPool2d");
        Assertions.assertFalse(DjlMaxPool.agrees(zeroPadded, new MaxPool2dGeometry(3, 3, 2, 2, 1, 1, true)));
    }

    @Test
    void aPoolingIsNeverAChainsFirstOrLastChild() {
        NDArray[] calib = {manager.randomNormal(new Shape(16, 3, 12, 12))};
        SequentialBlock b = new SequentialBlock();
        Block first = Pool.maxPool2dBlock(new Shape(2, 2), new Shape(1, 1));
        b.add(first);
        calib[0] = BlockFixtures.run(first, manager, calib[0]);
        b.add(int8Conv(3, 8, calib, FusedActivation.RELU));
        b.add(int8Conv(8, 8, calib, FusedActivation.RELU));
        b.add(Pool.maxPool2dBlock(new Shape(2, 2)));
        b.add(Blocks.identityBlock());
        b.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 12, 12));
        Assertions.assertEquals(List.of(new ChainRun(1, 3)), ChainedSequentialBlock.findRuns(b));
        for (ChainRun r : new ChainRun[] {new ChainRun(0, 3), new ChainRun(1, 4), new ChainRun(1, 5)}) {
            IllegalArgumentException e =
                    Assertions.assertThrows(
                            IllegalArgumentException.class,
                            () -> new ChainedSequentialBlock(b, List.of(r)),
                            r.toString());
            Assertions.assertTrue(
                    e.getMessage().contains("cannot be in an int8 chain"), e.getMessage());
        }
        // the pooling between Linear layers is no step: bytes between them are not images
        Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> new Int8Chain(
                        List.of(b.getChildren().valueAt(1), b.getChildren().valueAt(2)),
                        List.of(List.of(new MaxPoolStep(new MaxPool2dGeometry(2, 2, 2, 2, 0, 0, false))),
                                List.of())));
    }

    @Test
    void aPoolingThatIsNotRecognisedEndsTheChain() {
        // named maxPool2d, max pooling indeed, but not Pool's lambda: its parameters are unknown
        Block ownLambda =
                LambdaBlock.singleton(a -> Pool.maxPool2d(a, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false), "maxPool2d");
        // Pool's, but another pooling; and a max pooling under another name
        Block avg = Pool.avgPool2dBlock(new Shape(2, 2));
        Block renamed = new LambdaBlock(a -> new NDList(Pool.maxPool2d(a.singletonOrThrow(), new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false)), "pool");
        Block global = Pool.globalMaxPool2dBlock();
        for (Block pool : new Block[] {ownLambda, avg, renamed}) {
            Assertions.assertNull(DjlMaxPool.identify(pool), pool.toString());
            SequentialBlock plain = convPoolConv(8, pool);
            Assertions.assertEquals(List.of(), ChainedSequentialBlock.findRuns(plain), pool.toString());
            IllegalArgumentException e =
                    Assertions.assertThrows(
                            IllegalArgumentException.class,
                            () -> new ChainedSequentialBlock(plain, List.of(new ChainRun(0, 4))));
            Assertions.assertTrue(e.getMessage().contains("02"), e.getMessage());
        }
        Assertions.assertNull(DjlMaxPool.identify(global));
        Assertions.assertNotNull(DjlMaxPool.identify(Pool.maxPool2dBlock(new Shape(2, 2))));
    }
}

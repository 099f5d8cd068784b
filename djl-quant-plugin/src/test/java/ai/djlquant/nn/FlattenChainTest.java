package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djlquant.quant.FusedActivation;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Int8 chains from convolutions into Linear layers through DJL's batch flatten ({@link
 * FlattenStep}, {@link DjlBatchFlatten}): the byte reorder, the chained output equal to the blocks
 * run one by one bit for bit (with and without a pooling before the flatten, a dynamic head, batch
 * 1 and 32), and the rules: which flatten is recognised, a dynamic Linear after it, a flatten first
 * or last, a convolution after a Linear. ({@code PoolChainTest} chains the whole reference CNN.)
 */
class FlattenChainTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(8642);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    private static QuantizedConv2d int8Conv(int in, int out, NDArray[] calib, boolean dynamic) {
        Conv2d f = BlockFixtures.conv2d(manager, new int[] {in, out, 1, 3, 1, 1, 1}, true);
        QuantizedConv2d.Builder b =
                QuantizedConv2d.builder().setFloatBlock(f).optFusedActivation(FusedActivation.RELU);
        if (dynamic) {
            b.optDynamic();
        } else {
            b.optActivationParams(BlockFixtures.calibrate(calib[0]));
        }
        calib[0] = FusedActivation.RELU.apply(BlockFixtures.run(f, manager, calib[0]));
        return b.build();
    }

    private static QuantizedLinear int8Linear(long in, long out, NDArray[] calib, boolean dynamic) {
        Linear f = BlockFixtures.linear(manager, in, out, true);
        QuantizedLinear.Builder b = QuantizedLinear.builder().setFloatBlock(f);
        if (dynamic) {
            b.optDynamic();
        } else {
            b.optActivationParams(BlockFixtures.calibrate(calib[0]));
        }
        calib[0] = BlockFixtures.run(f, manager, calib[0]);
        return b.build();
    }

    /** conv [-> pool] -> flatten -> Linear -> Linear on 3x6x6 input. */
    private static SequentialBlock convFlattenLinear(boolean pool, boolean dynamicHead, boolean dynamicLinear) {
        NDArray[] calib = {manager.randomNormal(new Shape(16, 3, 6, 6))};
        SequentialBlock net = new SequentialBlock();
        net.add(int8Conv(3, 8, calib, dynamicHead));
        long features = 8 * 6 * 6;
        if (pool) {
            Block p = Pool.maxPool2dBlock(new Shape(2, 2));
            net.add(p);
            calib[0] = BlockFixtures.run(p, manager, calib[0]);
            features = 8 * 3 * 3;
        }
        Block flatten = Blocks.batchFlattenBlock();
        net.add(flatten);
        calib[0] = BlockFixtures.run(flatten, manager, calib[0]);
        net.add(int8Linear(features, 12, calib, dynamicLinear));
        net.add(int8Linear(12, 5, calib, false));
        net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 6, 6));
        return net;
    }

    @Test
    void theFlattenReordersNhwcBytesToTheFlattenedNchwOrder() {
        long[] shape = {2, 3, 2, 4};
        ByteBuffer in = ByteBuffer.allocate(48);
        for (int n = 0; n < 2; n++) {
            for (int h = 0; h < 2; h++) {
                for (int w = 0; w < 4; w++) {
                    for (int c = 0; c < 3; c++) {
                        // the byte names its NCHW index
                        in.put(((n * 2 + h) * 4 + w) * 3 + c, (byte) (((n * 3 + c) * 2 + h) * 4 + w));
                    }
                }
            }
        }
        FlattenStep f = new FlattenStep();
        Assertions.assertArrayEquals(new long[] {2, 24}, f.outputShape(shape));
        ByteBuffer out = ByteBuffer.allocate(48);
        f.forward(in, shape, out);
        for (int i = 0; i < 48; i++) {
            Assertions.assertEquals(i, out.get(i), "byte " + i);
        }
        Assertions.assertThrows(IllegalArgumentException.class, () -> f.outputShape(new long[] {2, 24}));
        Assertions.assertThrows(
                IllegalArgumentException.class, () -> f.forward(in, shape, ByteBuffer.allocate(47)));
    }

    @Test
    void aChainIntoLinearLayersEqualsTheBlocksRunOneByOne() {
        for (boolean pool : new boolean[] {false, true}) {
            for (boolean dynamicHead : new boolean[] {false, true}) {
                SequentialBlock plain = convFlattenLinear(pool, dynamicHead, false);
                int children = pool ? 5 : 4;
                List<ChainRun> runs = ChainedSequentialBlock.findRuns(plain);
                Assertions.assertEquals(List.of(new ChainRun(0, children)), runs);
                ChainedSequentialBlock chained = new ChainedSequentialBlock(plain, runs);
                for (int n : new int[] {1, 32}) {
                    NDArray x = manager.randomNormal(new Shape(n, 3, 6, 6));
                    String what = "pool " + pool + ", dynamic head " + dynamicHead + ", N=" + n;
                    float[] want = BlockFixtures.run(plain, manager, x).toFloatArray();
                    NDArray got = BlockFixtures.run(chained, manager, x);
                    Assertions.assertEquals(new Shape(n, 5), got.getShape(), what);
                    Assertions.assertArrayEquals(want, got.toFloatArray(), what);
                }
            }
        }
    }

    @Test
    void onlyDjlsOneArgumentFlattenBeforeAStaticLinearIsAStep() {
        Assertions.assertTrue(DjlBatchFlatten.identify(Blocks.batchFlattenBlock()));
        Assertions.assertFalse(DjlBatchFlatten.identify(Blocks.batchFlattenBlock(8)));
        Assertions.assertFalse(
                DjlBatchFlatten.identify(LambdaBlock.singleton(a -> a.reshape(a.getShape().get(0), -1), "batchFlatten")));
        Assertions.assertFalse(DjlBatchFlatten.identify(Blocks.identityBlock()));

        // a dynamic Linear cannot read bytes: the run is the convolution alone, i.e. none; the
        // dynamic Linear heads the head's run
        SequentialBlock dyn = convFlattenLinear(false, false, true);
        Assertions.assertEquals(List.of(new ChainRun(2, 4)), ChainedSequentialBlock.findRuns(dyn));

        NDArray[] calib = {manager.randomNormal(new Shape(16, 3, 6, 6))};
        QuantizedConv2d a = int8Conv(3, 8, calib, false);
        QuantizedConv2d b = int8Conv(8, 8, calib, false);
        NDArray flat = calib[0].reshape(16, -1);
        NDArray[] lcalib = {flat};
        QuantizedLinear l1 = int8Linear(8 * 36, 12, lcalib, false);
        QuantizedLinear l2 = int8Linear(12, 5, lcalib, false);
        // a flatten last stays out; so does one first
        SequentialBlock ends =
                new SequentialBlock().add(a).add(b).add(Blocks.batchFlattenBlock());
        Assertions.assertEquals(List.of(new ChainRun(0, 2)), ChainedSequentialBlock.findRuns(ends));
        Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> new ChainedSequentialBlock(ends, List.of(new ChainRun(0, 3))));
        // no pooling after the flatten, no convolution after a Linear, no flatten between Linears
        SequentialBlock poolAfter =
                new SequentialBlock().add(a).add(Blocks.batchFlattenBlock()).add(Pool.maxPool2dBlock(new Shape(2, 2))).add(l1);
        Assertions.assertEquals(List.of(), ChainedSequentialBlock.findRuns(poolAfter));
        SequentialBlock linearsFlatten =
                new SequentialBlock().add(l1).add(Blocks.batchFlattenBlock()).add(l2);
        Assertions.assertEquals(List.of(), ChainedSequentialBlock.findRuns(linearsFlatten));
        Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> new Int8Chain(List.of(l2, b), List.of(List.of(new FlattenStep()))));
        Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> new Int8Chain(List.of(l1, l2), List.of(List.of(new FlattenStep()))));
        Assertions.assertThrows(IllegalArgumentException.class, () -> new Int8Chain(List.of(a, l1)));
        Assertions.assertEquals(
                2, new Int8Chain(List.of(a, l1), List.of(List.of(new FlattenStep()))).size());
    }
}

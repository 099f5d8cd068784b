package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.quant.AffineQuantizer;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;
import ai.djlquant.quant.Sqnr;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Int8 chains of Linear layers ({@link ChainedSequentialBlock}, {@link Int8Chain}): the chained
 * output against the same layers run one by one (SQNR >= 35 dB on Gaussian input, batch 1 and 32,
 * ReLU / ReLU6 / none, activation grids of 7 and 8 bits, which a 7-bit backend narrows; measured
 * on the AVX-512 VNNI host: identical, bit for bit), the formation rules, and saving the same bytes
 * as the plain block.
 */
class Int8ChainTest {

    static final double MIN_SQNR_DB = 35;

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(4321);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    /** Flatten-free MLP: Linear, act, Linear, act, Linear (int8, fused), acts as pass-throughs. */
    private static SequentialBlock int8Mlp(
            long[] widths, FusedActivation act, int bits, boolean dynamicMiddle) {
        SequentialBlock seq = new SequentialBlock();
        NDArray x = manager.randomNormal(new Shape(256, widths[0]));
        for (int i = 0; i + 1 < widths.length; i++) {
            Linear f = BlockFixtures.linear(manager, widths[i], widths[i + 1], true);
            boolean tail = i + 2 == widths.length;
            FusedActivation a = tail ? FusedActivation.NONE : act;
            QuantizedLinear.Builder b = QuantizedLinear.builder().setFloatBlock(f);
            if (dynamicMiddle && i == 1) {
                b.optDynamic();
            } else {
                QuantScheme s = QuantScheme.uint8Activation(bits);
                QuantParams p =
                        AffineQuantizer.fromRange(s, x.min().getFloat(), x.max().getFloat());
                b.optActivationParams(p);
            }
            seq.add(b.optFusedActivation(a).build());
            x = a.apply(BlockFixtures.run(f, manager, x));
            if (!tail) {
                seq.add(Blocks.identityBlock()); // where the fused activation was
            }
        }
        seq.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, new Shape(1, widths[0]));
        return seq;
    }

    @Test
    void chainedLinearsMatchTheLayersRunOneByOne() {
        for (FusedActivation act : FusedActivation.values()) {
            for (int bits : new int[] {7, 8}) {
                SequentialBlock plain = int8Mlp(new long[] {784, 128, 64, 10}, act, bits, false);
                List<ChainRun> runs = ChainedSequentialBlock.findRuns(plain);
                Assertions.assertEquals(List.of(new ChainRun(0, 5)), runs, act + " " + bits);
                ChainedSequentialBlock chained = new ChainedSequentialBlock(plain, runs);
                for (int m : new int[] {1, 32}) {
                    NDArray x = manager.randomNormal(new Shape(m, 784));
                    float[] want = BlockFixtures.run(plain, manager, x).toFloatArray();
                    NDArray got = BlockFixtures.run(chained, manager, x);
                    Assertions.assertEquals(new Shape(m, 10), got.getShape());
                    double db = Sqnr.decibels(want, got.toFloatArray());
                    String what = act + ", " + bits + "-bit grids, M=" + m + ": " + db + " dB";
                    Assertions.assertTrue(db >= MIN_SQNR_DB, what);
                    if (Int8Backends.get().isNative()) {
                        // the chain itself ran (forward gives null where it would not)
                        NDList direct =
                                new Int8Chain(links(plain))
                                        .forward(new ParameterStore(manager, false), new NDList(x));
                        Assertions.assertNotNull(direct, what);
                        Assertions.assertArrayEquals(
                                got.toFloatArray(), direct.singletonOrThrow().toFloatArray(), what);
                    }
                }
            }
        }
    }

    @Test
    void aDynamicHeadChainsAsItsLayersRunOneByOne() {
        for (int m : new int[] {1, 32}) {
            SequentialBlock plain =
                    int8Mlp(new long[] {64, 48, 32, 10}, FusedActivation.RELU, 8, true);
            ChainedSequentialBlock chained =
                    new ChainedSequentialBlock(plain, ChainedSequentialBlock.findRuns(plain));
            NDArray x = manager.randomNormal(new Shape(m, 64));
            double db =
                    Sqnr.decibels(
                            BlockFixtures.run(plain, manager, x).toFloatArray(),
                            BlockFixtures.run(chained, manager, x).toFloatArray());
            Assertions.assertTrue(db >= MIN_SQNR_DB, "M=" + m + ": " + db + " dB");
            if (Int8Backends.get().isNative()) {
                Int8Chain run = new Int8Chain(links(plain).subList(1, 3)); // dynamic, static
                NDArray mid = BlockFixtures.run(plain.getChildren().valueAt(0), manager, x);
                Assertions.assertNotNull(
                        run.forward(new ParameterStore(manager, false), new NDList(mid)));
            }
        }
    }

    @Test
    void aDynamicLinkOrAFloatLayerOrAnUnfusedReluEndsARun() {
        // Q(static) id Q(dynamic) id Q(static): the dynamic layer ends the first run and heads
        // the next (it quantizes float32 itself; only a layer reading bytes must be static)
        SequentialBlock dyn = int8Mlp(new long[] {32, 24, 16, 8}, FusedActivation.RELU, 8, true);
        Assertions.assertEquals(List.of(new ChainRun(2, 5)), ChainedSequentialBlock.findRuns(dyn));

        SequentialBlock four =
                int8Mlp(new long[] {32, 24, 16, 12, 8}, FusedActivation.RELU, 8, true);
        Assertions.assertEquals(List.of(new ChainRun(2, 7)), ChainedSequentialBlock.findRuns(four));
        Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> new ChainedSequentialBlock(four, List.of(new ChainRun(0, 7))));

        List<Block> kids = new ArrayList<>(
                int8Mlp(new long[] {32, 24, 16}, FusedActivation.NONE, 8, false)
                        .getChildren().values());
        SequentialBlock withFloat = new SequentialBlock();
        withFloat.add(kids.get(0));
        withFloat.add(BlockFixtures.linear(manager, 24, 24, true));
        withFloat.add(kids.get(2));
        Assertions.assertEquals(List.of(), ChainedSequentialBlock.findRuns(withFloat));

        SequentialBlock withRelu = new SequentialBlock();
        withRelu.add(kids.get(0));
        withRelu.add(Activation.reluBlock());
        withRelu.add(kids.get(2));
        Assertions.assertEquals(List.of(), ChainedSequentialBlock.findRuns(withRelu));
        IllegalArgumentException e =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () -> new ChainedSequentialBlock(withRelu, List.of(new ChainRun(0, 3))));
        Assertions.assertTrue(e.getMessage().contains("02LambdaBlock"), e.getMessage());

        SequentialBlock direct = new SequentialBlock();
        direct.add(kids.get(0));
        direct.add(kids.get(2));
        Assertions.assertEquals(
                List.of(new ChainRun(0, 2)), ChainedSequentialBlock.findRuns(direct));
    }

    @Test
    void savesWhatThePlainBlockSavesAndLoadsAsIt() throws Exception {
        SequentialBlock plain = int8Mlp(new long[] {48, 32, 16}, FusedActivation.RELU, 8, false);
        ChainedSequentialBlock chained =
                new ChainedSequentialBlock(plain, ChainedSequentialBlock.findRuns(plain));
        Assertions.assertEquals(plain.getChildren().keys(), chained.getChildren().keys());
        byte[] want = save(plain);
        byte[] got = save(chained);
        Assertions.assertArrayEquals(want, got);
        SequentialBlock loaded = int8Mlp(new long[] {48, 32, 16}, FusedActivation.RELU, 8, false);
        loaded.loadParameters(manager, new DataInputStream(new ByteArrayInputStream(got)));
        NDArray x = manager.randomNormal(new Shape(4, 48));
        Assertions.assertArrayEquals(
                BlockFixtures.run(plain, manager, x).toFloatArray(),
                BlockFixtures.run(loaded, manager, x).toFloatArray());
    }

    @Test
    void aBlockWhoseShapesWereLoadedChains() throws Exception {
        SequentialBlock plain = int8Mlp(new long[] {48, 32, 16}, FusedActivation.RELU, 8, false);
        byte[] bytes = save(plain);
        // shapes read from the file, no input names: as a model loaded from disk has
        SequentialBlock loaded = new SequentialBlock();
        loaded.addAll(plain.getChildren().values());
        loaded.loadParameters(manager, new DataInputStream(new ByteArrayInputStream(bytes)));
        Assertions.assertThrows(IllegalArgumentException.class, loaded::describeInput);
        ChainedSequentialBlock chained =
                new ChainedSequentialBlock(loaded, ChainedSequentialBlock.findRuns(loaded));
        Assertions.assertEquals(1, chained.getRuns().size());
        Assertions.assertArrayEquals(loaded.getInputShapes(), chained.getInputShapes());
        NDArray x = manager.randomNormal(new Shape(2, 48));
        double db =
                Sqnr.decibels(
                        BlockFixtures.run(plain, manager, x).toFloatArray(),
                        BlockFixtures.run(chained, manager, x).toFloatArray());
        Assertions.assertTrue(db >= MIN_SQNR_DB, db + " dB");
    }

    private static List<QuantizedLinear> links(SequentialBlock b) {
        List<QuantizedLinear> links = new ArrayList<>();
        for (Block k : b.getChildren().values()) {
            if (k instanceof QuantizedLinear q) {
                links.add(q);
            }
        }
        return links;
    }

    private static byte[] save(Block b) throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (DataOutputStream os = new DataOutputStream(bos)) {
            b.saveParameters(os);
        }
        return bos.toByteArray();
    }
}

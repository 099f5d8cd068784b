package ai.djlquant.nn;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.translate.NoopTranslator;
import ai.djlquant.quant.QuantParams;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The int8 blocks on the backend this JVM chose (oneDNN here): accuracy against the float block
 * (SQNR >= 30 dB on Gaussian input), every convolution variant, batch 1 to 64, save and load, eight
 * threads sharing one model, and clear errors for input of the wrong shape.
 */
class QuantizedBlocksTest {

    static final double MIN_SQNR_DB = 30;

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(1234);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static void assertSqnr(NDArray want, NDArray got, String what) {
        Assertions.assertEquals(want.getShape(), got.getShape(), what);
        double db = Sqnr.decibels(want.toFloatArray(), got.toFloatArray());
        Assertions.assertTrue(db >= MIN_SQNR_DB, what + ": SQNR " + db + " dB");
    }

    @Test
    void linearMatchesFloatStaticAndDynamic() {
        for (int m : new int[] {1, 7, 64}) {
            for (long[] kn : new long[][] {{64, 32}, {300, 130}}) {
                Linear f = BlockFixtures.linear(manager, kn[0], kn[1], true);
                NDArray calib = manager.randomNormal(new Shape(256, kn[0]));
                NDArray x = manager.randomNormal(new Shape(m, kn[0]));
                NDArray want = BlockFixtures.run(f, manager, x);
                QuantizedLinear s =
                        QuantizedLinear.builder()
                                .setFloatBlock(f)
                                .optActivationParams(BlockFixtures.calibrate(calib))
                                .build();
                QuantizedLinear d = QuantizedLinear.builder().setFloatBlock(f).optDynamic().build();
                assertSqnr(want, BlockFixtures.run(s, manager, x), "static M=" + m);
                assertSqnr(want, BlockFixtures.run(d, manager, x), "dynamic M=" + m);
                Assertions.assertFalse(s.isDynamic());
                Assertions.assertTrue(d.isDynamic());
            }
        }
    }

    @Test
    void linearFusedReluAndRank3Input() {
        Linear f = BlockFixtures.linear(manager, 48, 40, true);
        NDArray x = manager.randomNormal(new Shape(3, 5, 48));
        QuantizedLinear q =
                QuantizedLinear.builder().setFloatBlock(f).optDynamic().optFusedRelu(true).build();
        NDArray want = Activation.relu(BlockFixtures.run(f, manager, x));
        NDArray got = BlockFixtures.run(q, manager, x);
        Assertions.assertEquals(new Shape(3, 5, 40), got.getShape());
        Assertions.assertEquals(0f, got.min().getFloat(), "ReLU output has no negatives");
        assertSqnr(want, got, "fused relu");
        Assertions.assertEquals(
                new Shape(3, 5, 40), q.getOutputShapes(new Shape[] {x.getShape()})[0]);
        Linear noBias = BlockFixtures.linear(manager, 48, 40, false);
        QuantizedLinear nb = QuantizedLinear.builder().setFloatBlock(noBias).optDynamic().build();
        assertSqnr(
                BlockFixtures.run(noBias, manager, x),
                BlockFixtures.run(nb, manager, x),
                "no bias");
    }

    @Test
    void linearDescribesItsInputLikeTheFloatLinear() {
        Linear f = BlockFixtures.linear(manager, 48, 40, true);
        QuantizedLinear q = QuantizedLinear.builder().setFloatBlock(f).optDynamic().build();
        Assertions.assertEquals(f.describeInput().keys(), q.describeInput().keys());
        Assertions.assertEquals(f.describeInput().values(), q.describeInput().values());
        Assertions.assertEquals(new Shape(1), q.describeInput().get(0).getValue());
    }

    /** {in, out, groups, k, stride, pad, dilation, h, w}. */
    static final int[][] CONVS = {
        {16, 32, 1, 3, 1, 1, 1, 15, 15}, // 3x3
        {16, 32, 1, 3, 2, 1, 1, 15, 13}, // stride 2, odd sizes
        {8, 16, 1, 3, 1, 2, 2, 12, 12}, // dilation 2
        {32, 48, 4, 3, 1, 1, 1, 9, 9}, // groups
        {32, 32, 32, 3, 1, 1, 1, 11, 11}, // depthwise
        {32, 32, 32, 3, 2, 1, 1, 11, 11}, // depthwise stride 2
        {64, 32, 1, 1, 1, 0, 1, 7, 7}, // 1x1
        {3, 16, 1, 5, 2, 2, 1, 17, 17}, // image stem, 5x5
        {12, 12, 3, 3, 1, 0, 1, 8, 8}, // groups of 4 channels, no padding
    };

    @Test
    void conv2dVariantsMatchFloat() {
        for (int[] c : CONVS) {
            Conv2d f = BlockFixtures.conv2d(manager, c, c[0] % 3 != 0);
            NDArray calib = manager.randomNormal(new Shape(8, c[0], c[7], c[8]));
            QuantParams act = BlockFixtures.calibrate(calib);
            QuantizedConv2d s =
                    QuantizedConv2d.builder().setFloatBlock(f).optActivationParams(act).build();
            QuantizedConv2d d = QuantizedConv2d.builder().setFloatBlock(f).optDynamic().build();
            for (int batch : new int[] {1, 5}) {
                NDArray x = manager.randomNormal(new Shape(batch, c[0], c[7], c[8]));
                NDArray want = BlockFixtures.run(f, manager, x);
                String what = s + " batch " + batch;
                assertSqnr(want, BlockFixtures.run(s, manager, x), "static " + what);
                assertSqnr(want, BlockFixtures.run(d, manager, x), "dynamic " + what);
            }
        }
    }

    @Test
    void batchesOneToSixtyFour() {
        Conv2d f = BlockFixtures.conv2d(manager, CONVS[0], true);
        QuantizedConv2d q =
                QuantizedConv2d.builder().setFloatBlock(f).optDynamic().optFusedRelu(true).build();
        Linear lf = BlockFixtures.linear(manager, 96, 24, true);
        QuantizedLinear ql =
                QuantizedLinear.builder()
                        .setFloatBlock(lf)
                        .optActivationParams(
                                BlockFixtures.calibrate(manager.randomNormal(new Shape(64, 96))))
                        .build();
        for (int batch : new int[] {1, 2, 3, 8, 9, 16, 31, 64}) {
            NDArray x = manager.randomNormal(new Shape(batch, 16, 8, 8));
            assertSqnr(
                    Activation.relu(BlockFixtures.run(f, manager, x)),
                    BlockFixtures.run(q, manager, x),
                    "conv batch " + batch);
            NDArray xl = manager.randomNormal(new Shape(batch, 96));
            assertSqnr(
                    BlockFixtures.run(lf, manager, xl),
                    BlockFixtures.run(ql, manager, xl),
                    "linear batch " + batch);
        }
    }

    @Test
    void chainedConvolutionsReadChannelsLastViewsAsIs() {
        Conv2d f1 = BlockFixtures.conv2d(manager, new int[] {8, 16, 1, 3, 1, 1, 1}, true);
        Conv2d f2 = BlockFixtures.conv2d(manager, new int[] {16, 16, 16, 3, 2, 1, 1}, true);
        QuantizedConv2d q1 =
                QuantizedConv2d.builder().setFloatBlock(f1).optDynamic().optFusedRelu(true).build();
        QuantizedConv2d q2 = QuantizedConv2d.builder().setFloatBlock(f2).optDynamic().build();
        NDArray x = manager.randomNormal(new Shape(2, 8, 13, 13));
        NDArray y1 = BlockFixtures.run(q1, manager, x);
        Assertions.assertEquals(new Shape(2, 16, 13, 13), y1.getShape());
        Assertions.assertTrue(ChannelsLastViews.isChannelsLast(y1));
        // the same values as a fresh contiguous NCHW tensor take the other path
        NDArray copy = manager.create(y1.toFloatArray(), y1.getShape());
        Assertions.assertFalse(ChannelsLastViews.isChannelsLast(copy));
        // the strides decide, not where the tensor came from
        NDArray permuted = manager.randomNormal(new Shape(2, 13, 13, 16)).transpose(0, 3, 1, 2);
        Assertions.assertTrue(ChannelsLastViews.isChannelsLast(permuted));
        Assertions.assertFalse(ChannelsLastViews.isChannelsLast(y1.transpose(0, 1, 3, 2)));
        float[] viaView = BlockFixtures.run(q2, manager, y1).toFloatArray();
        float[] viaCopy = BlockFixtures.run(q2, manager, copy).toFloatArray();
        Assertions.assertArrayEquals(viaCopy, viaView);
        assertSqnr(
                BlockFixtures.run(f2, manager, Activation.relu(BlockFixtures.run(f1, manager, x))),
                BlockFixtures.run(q2, manager, y1),
                "chain");
        // float ops downstream see an ordinary NCHW tensor
        Assertions.assertArrayEquals(copy.add(1).toFloatArray(), y1.add(1).toFloatArray());
    }

    @Test
    void conv1dMatchesFloat() {
        for (int[] c : new int[][] {{8, 16, 3, 1, 1, 1}, {8, 12, 5, 2, 2, 1}, {6, 6, 3, 1, 2, 2}}) {
            Conv1d f = BlockFixtures.conv1d(manager, c[0], c[1], c[2], c[3], c[4], c[5]);
            NDArray x = manager.randomNormal(new Shape(4, c[0], 29));
            QuantizedConv1d s =
                    QuantizedConv1d.builder()
                            .setFloatBlock(f)
                            .optActivationParams(
                                    BlockFixtures.calibrate(
                                            manager.randomNormal(new Shape(16, c[0], 29))))
                            .build();
            QuantizedConv1d d = QuantizedConv1d.builder().setFloatBlock(f).optDynamic().build();
            NDArray want = BlockFixtures.run(f, manager, x);
            assertSqnr(want, BlockFixtures.run(s, manager, x), "static " + s);
            assertSqnr(want, BlockFixtures.run(d, manager, x), "dynamic " + d);
        }
    }

    @Test
    void parametersAreInt8AndFrozen() {
        Conv2d f = BlockFixtures.conv2d(manager, CONVS[1], true);
        QuantizedConv2d q = QuantizedConv2d.builder().setFloatBlock(f).optDynamic().build();
        Assertions.assertEquals(List.of("weight", "bias"), q.getParameters().keys());
        Assertions.assertEquals(
                DataType.INT8, q.getParameters().get("weight").getArray().getDataType());
        Assertions.assertFalse(q.getParameters().get("weight").requiresGradient());
        Assertions.assertFalse(q.getParameters().get("bias").requiresGradient());
        Assertions.assertTrue(q.isInitialized());
        Assertions.assertEquals(32, q.getWeightParams().size());
        Assertions.assertTrue(
                q.getParameters()
                                .get("weight")
                                .getArray()
                                .abs()
                                .max()
                                .toType(DataType.INT32, false)
                                .getInt()
                        <= 127);
    }

    static byte[] save(Block b) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream os = new DataOutputStream(bytes)) {
            b.saveParameters(os);
        }
        return bytes.toByteArray();
    }

    static void load(Block b, byte[] saved) throws Exception {
        load(b, saved, manager);
    }

    static void load(Block b, byte[] saved, NDManager m) throws Exception {
        try (DataInputStream is = new DataInputStream(new ByteArrayInputStream(saved))) {
            b.loadParameters(m, is);
        }
    }

    @Test
    void saveAndLoadGiveBitIdenticalOutputs() throws Exception {
        Linear lf = BlockFixtures.linear(manager, 40, 24, true);
        QuantizedLinear ql =
                QuantizedLinear.builder()
                        .setFloatBlock(lf)
                        .optFusedRelu(true)
                        .optActivationParams(
                                BlockFixtures.calibrate(manager.randomNormal(new Shape(8, 40))))
                        .build();
        QuantizedLinear ql2 = QuantizedLinear.builder().setUnits(24).build();
        load(ql2, save(ql));
        NDArray x = manager.randomNormal(new Shape(3, 40));
        Assertions.assertArrayEquals(
                BlockFixtures.run(ql, manager, x).toFloatArray(),
                BlockFixtures.run(ql2, manager, x).toFloatArray());
        Assertions.assertEquals(ql.getActivationParams(), ql2.getActivationParams());
        Assertions.assertEquals(ql.getWeightParams(), ql2.getWeightParams());
        Assertions.assertTrue(ql2.isFusedRelu());

        int[] c = CONVS[3];
        Conv2d cf = BlockFixtures.conv2d(manager, c, true);
        QuantizedConv2d qc = QuantizedConv2d.builder().setFloatBlock(cf).optDynamic().build();
        QuantizedConv2d qc2 =
                QuantizedConv2d.builder()
                        .setKernelShape(new Shape(3, 3))
                        .setFilters(c[1])
                        .optGroups(c[2])
                        .optPadding(new Shape(1, 1))
                        .build();
        load(qc2, save(qc));
        NDArray xc = manager.randomNormal(new Shape(2, c[0], 9, 9));
        Assertions.assertArrayEquals(
                BlockFixtures.run(qc, manager, xc).toFloatArray(),
                BlockFixtures.run(qc2, manager, xc).toFloatArray());
        Assertions.assertTrue(qc2.isDynamic());

        Conv1d f1 = BlockFixtures.conv1d(manager, 8, 16, 3, 1, 1, 1);
        QuantizedConv1d q1 = QuantizedConv1d.builder().setFloatBlock(f1).optDynamic().build();
        QuantizedConv1d q12 =
                QuantizedConv1d.builder()
                        .setKernelShape(new Shape(3))
                        .setFilters(16)
                        .optPadding(new Shape(1))
                        .build();
        load(q12, save(q1));
        NDArray x1 = manager.randomNormal(new Shape(2, 8, 20));
        Assertions.assertArrayEquals(
                BlockFixtures.run(q1, manager, x1).toFloatArray(),
                BlockFixtures.run(q12, manager, x1).toFloatArray());
    }

    @Test
    void loadRejectsMismatchedStructureAndFloatParameters() throws Exception {
        Linear lf = BlockFixtures.linear(manager, 40, 24, true);
        QuantizedLinear ql = QuantizedLinear.builder().setFloatBlock(lf).optDynamic().build();
        Exception e =
                Assertions.assertThrows(
                        Exception.class,
                        () -> load(QuantizedLinear.builder().setUnits(25).build(), save(ql)));
        Assertions.assertTrue(e.getMessage().contains("25 units"), e.getMessage());
        Exception f =
                Assertions.assertThrows(
                        Exception.class,
                        () -> load(QuantizedLinear.builder().setUnits(24).build(), save(lf)));
        Assertions.assertTrue(f.getMessage().contains("float Linear"), f.getMessage());
        Conv2d cf = BlockFixtures.conv2d(manager, CONVS[0], true);
        QuantizedConv2d qc = QuantizedConv2d.builder().setFloatBlock(cf).optDynamic().build();
        QuantizedConv2d wrong =
                QuantizedConv2d.builder()
                        .setKernelShape(new Shape(3, 3))
                        .setFilters(32)
                        .optStride(new Shape(2, 2))
                        .optPadding(new Shape(1, 1))
                        .build();
        Exception g = Assertions.assertThrows(Exception.class, () -> load(wrong, save(qc)));
        Assertions.assertTrue(g.getMessage().contains("stride"), g.getMessage());
    }

    @Test
    void wrongRankOrChannelsFailClearly() {
        Conv2d cf = BlockFixtures.conv2d(manager, CONVS[0], true);
        QuantizedConv2d qc = QuantizedConv2d.builder().setFloatBlock(cf).optDynamic().build();
        IllegalArgumentException rank =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                BlockFixtures.run(
                                        qc, manager, manager.randomNormal(new Shape(16, 15, 15))));
        Assertions.assertTrue(rank.getMessage().startsWith("QuantizedConv2d"), rank.getMessage());
        Assertions.assertTrue(
                rank.getMessage().contains("(16, 15, 15)")
                        || rank.getMessage().contains("[16, 15, 15]"),
                rank.getMessage());
        IllegalArgumentException ch =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                BlockFixtures.run(
                                        qc,
                                        manager,
                                        manager.randomNormal(new Shape(1, 3, 15, 15))));
        Assertions.assertTrue(ch.getMessage().contains("16 input channels"), ch.getMessage());

        QuantizedLinear ql =
                QuantizedLinear.builder()
                        .setFloatBlock(BlockFixtures.linear(manager, 40, 24, true))
                        .optDynamic()
                        .build();
        IllegalArgumentException k =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                BlockFixtures.run(
                                        ql, manager, manager.randomNormal(new Shape(2, 41))));
        Assertions.assertTrue(k.getMessage().startsWith("QuantizedLinear"), k.getMessage());
        Assertions.assertTrue(k.getMessage().contains("[2, 41]"), k.getMessage());

        Assertions.assertThrows(
                IllegalArgumentException.class,
                () ->
                        QuantizedLinear.builder()
                                .setFloatBlock(Linear.builder().setUnits(3).build())
                                .optDynamic()
                                .build());
        Assertions.assertThrows(
                IllegalArgumentException.class,
                () ->
                        QuantizedLinear.builder()
                                .setFloatBlock(BlockFixtures.linear(manager, 4, 3, true))
                                .build());
    }

    @Test
    void eightThreadsSharingOneModelAgreeWithOneThread() throws Exception {
        SequentialBlock net = new SequentialBlock();
        Conv2d c1 = BlockFixtures.conv2d(manager, new int[] {3, 16, 1, 3, 1, 1, 1}, true);
        Conv2d c2 = BlockFixtures.conv2d(manager, new int[] {16, 16, 16, 3, 2, 1, 1}, true);
        Linear l = BlockFixtures.linear(manager, 16 * 8 * 8, 10, true);
        NDArray calib = manager.randomNormal(new Shape(4, 3, 16, 16));
        net.add(
                QuantizedConv2d.builder()
                        .setFloatBlock(c1)
                        .optActivationParams(BlockFixtures.calibrate(calib))
                        .optFusedRelu(true)
                        .build());
        net.add(QuantizedConv2d.builder().setFloatBlock(c2).optDynamic().build());
        net.add(Blocks.batchFlattenBlock());
        net.add(QuantizedLinear.builder().setFloatBlock(l).optDynamic().build());
        try (Model model = Model.newInstance("int8-shared")) {
            model.setBlock(net);
            int inputs = 16;
            List<float[]> xs = new ArrayList<>();
            List<float[]> want = new ArrayList<>();
            try (Predictor<NDList, NDList> p = model.newPredictor(new NoopTranslator())) {
                for (int i = 0; i < inputs; i++) {
                    NDArray x = manager.randomNormal(new Shape(1 + i % 4, 3, 16, 16));
                    xs.add(x.toFloatArray());
                    want.add(p.predict(new NDList(x)).singletonOrThrow().toFloatArray());
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int offset = t;
                    done.add(
                            pool.submit(
                                    () -> {
                                        int checked = 0;
                                        try (Predictor<NDList, NDList> p =
                                                        model.newPredictor(new NoopTranslator());
                                                NDManager local = NDManager.newBaseManager()) {
                                            for (int round = 0; round < 3; round++) {
                                                for (int j = 0; j < inputs; j++) {
                                                    int i = (j + offset) % inputs;
                                                    NDArray x =
                                                            local.create(
                                                                    xs.get(i),
                                                                    new Shape(
                                                                            1 + i % 4, 3, 16, 16));
                                                    float[] got =
                                                            p.predict(new NDList(x))
                                                                    .singletonOrThrow()
                                                                    .toFloatArray();
                                                    Assertions.assertArrayEquals(
                                                            want.get(i), got, "input " + i);
                                                    checked++;
                                                }
                                            }
                                        }
                                        return checked;
                                    }));
                }
                int total = 0;
                for (Future<Integer> f : done) {
                    total += f.get();
                }
                Assertions.assertEquals(8 * 3 * inputs, total);
            } finally {
                pool.shutdownNow();
            }
        }
    }
}

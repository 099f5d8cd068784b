package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.transformer.ScaledDotProductAttentionBlock;
import ai.djl.util.Pair;
import ai.djlquant.plan.SqnrMeter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.List;

/**
 * Accuracy recovery: cross-layer equalization and SmoothQuant leave the float model's outputs
 * unchanged within float rounding, bias correction removes a known mean shift, a failure in any of
 * them leaves the model as it was, and the report shows each technique's SQNRs.
 */
class RecoveryTest {

    /** Float rounding of one rescale per weight: the outputs within 1e-5 of the largest. */
    private static final double FLOAT_BOUND = 1e-5;

    /** A MobileNetV2-style net for (N, 4, 12, 12): two inverted residual blocks, ReLU6. */
    static Block mobileNetLike() {
        return new SequentialBlock()
                .add(convBnAct(16, 3, 1, 1, true))
                .add(inverted(16, 16, 1, 2)) // stride 2, no residual: into a ParallelBlock next
                .add(inverted(16, 24, 4, 1)) // no residual: its bottleneck feeds the next expansion
                .add(inverted(24, 32, 4, 2))
                .add(inverted(32, 32, 4, 1)) // residual
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(10).build());
    }

    private static Block inverted(int in, int out, int t, int stride) {
        SequentialBlock main = new SequentialBlock();
        int hidden = in * t;
        if (t != 1) {
            main.add(convBnAct(hidden, 1, 1, 1, true));
        }
        main.add(convBnAct(hidden, 3, stride, hidden, true))
                .add(convBnAct(out, 1, 1, 1, false));
        if (stride != 1 || in != out) {
            return main;
        }
        return new ParallelBlock(
                l -> new NDList(l.get(0).singletonOrThrow().add(l.get(1).singletonOrThrow())),
                Arrays.asList(main, Blocks.identityBlock()));
    }

    private static SequentialBlock convBnAct(int c, int k, int stride, int groups, boolean relu6) {
        SequentialBlock s =
                new SequentialBlock()
                        .add(
                                Conv2d.builder()
                                        .setKernelShape(new Shape(k, k))
                                        .optStride(new Shape(stride, stride))
                                        .optPadding(new Shape(k / 2, k / 2))
                                        .optGroups(groups)
                                        .setFilters(c)
                                        .optBias(false)
                                        .build())
                        .add(BatchNorm.builder().build());
        return relu6 ? s.add(Activation.relu6Block()) : s;
    }

    /** Linear -> ReLU -> Linear -> Linear (two exact pairs, a chain) for (N, 16). */
    static Block mlp() {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(32).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(24).build())
                .add(Linear.builder().setUnits(10).build());
    }

    /** A pre-norm transformer layer for (N, 6, 16), as the reference ViT builds them. */
    static Block preNorm() {
        Block attention =
                new SequentialBlock()
                        .add(LayerNorm.builder().axis(2).build())
                        .add(
                                ScaledDotProductAttentionBlock.builder()
                                        .setEmbeddingSize(16)
                                        .setHeadCount(2)
                                        .optAttentionProbsDropoutProb(0f)
                                        .build());
        Block ff =
                new SequentialBlock()
                        .add(LayerNorm.builder().axis(2).build())
                        .add(Linear.builder().setUnits(32).build())
                        .add(Activation.geluBlock())
                        .add(Linear.builder().setUnits(16).build());
        return new SequentialBlock().add(residual(attention)).add(residual(ff))
                .add(LambdaMean.block())
                .add(Linear.builder().setUnits(5).build());
    }

    private static Block residual(Block b) {
        return new ParallelBlock(
                l -> new NDList(l.get(0).singletonOrThrow().add(l.get(1).singletonOrThrow())),
                Arrays.asList(b, Blocks.identityBlock()));
    }

    /** Mean over tokens. */
    private static final class LambdaMean {
        static Block block() {
            return ai.djl.nn.LambdaBlock.singleton(x -> x.mean(new int[] {1}), "meanOverTokens");
        }
    }

    /** Makes a few LayerNorm output channels outliers (gamma 30), as trained transformers have. */
    static void outlierChannels(Block block) {
        for (Pair<String, ai.djl.nn.Parameter> p : block.getParameters()) {
            if (p.getKey().endsWith("gamma") && p.getValue().getArray().getShape().dimension() == 1) {
                NDArray g = p.getValue().getArray();
                float[] v = g.toFloatArray();
                if (v.length == 16) {
                    v[3] = 30f;
                    v[11] = -20f;
                    g.set(v);
                }
            }
        }
    }

    private static double maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    private static void assertWithinFloatRounding(NDArray want, NDArray got) {
        double bound = FLOAT_BOUND * want.abs().max().getFloat();
        double diff = maxAbsDiff(want, got);
        assertTrue(diff <= bound, "max |diff| " + diff + " over the bound " + bound);
        SqnrMeter m = new SqnrMeter();
        m.add(want, got);
        assertTrue(m.decibels() > 100, "SQNR " + m.decibels());
    }

    @Test
    void equalizationKeepsTheFloatOutputsAndFindsOnlyTheExactPairs() {
        try (Model model = TestModels.model(mobileNetLike(), new Shape(1, 4, 12, 12))) {
            NDManager m = model.getNDManager();
            NDArray x = m.randomNormal(new Shape(4, 4, 12, 12));
            ModelSnapshot snapshot = ModelSnapshot.of(model, x);
            ModelEdit edit = new ModelEdit(model);
            ai.djlquant.transform.BlockTree tree = edit.currentTree();
            List<Candidate> candidates = Candidate.findAll(tree, TestConfigs.bySqnr().getModeRules());
            Folding.Result folded = Folding.fold(edit, tree, candidates, true);
            NDArray before = TestModels.run(model, x);
            Equalization.Result r = Equalization.equalize(edit, folded.layers(), folded.passThrough(), m);
            NDArray after = TestModels.run(model, x);
            // every ReLU6 pair (stem -> depthwise, expansion -> depthwise, depthwise ->
            // projection: 8) is left alone; the bottlenecks of the first two blocks feed the next
            // block's expansion directly (2 pairs); the third's feeds a residual sum (none)
            assertEquals(2, r.pairs().size(), r.note());
            assertTrue(r.note().contains("8 with ReLU6 between"), r.note());
            assertEquals(4, r.affected().size());
            assertWithinFloatRounding(before, after);
            assertNotEquals(0.0, maxAbsDiff(before, after), "the weights did change");
            edit.discard();
            snapshot.assertUnchanged(model, x);
        }
    }

    @Test
    void equalizationThroughReluAndAlongAChainKeepsTheFloatOutputs() {
        try (Model model = TestModels.model(mlp(), new Shape(1, 16))) {
            NDManager m = model.getNDManager();
            // uneven output channels, what equalization is for
            NDArray w = model.getBlock().getChildren().get(0).getValue()
                    .getParameters().get("weight").getArray();
            w.muli(m.linspace(0.01f, 5f, 32).reshape(32, 1));
            NDArray x = m.randomNormal(new Shape(8, 16));
            ModelSnapshot snapshot = ModelSnapshot.of(model, x);
            ModelEdit edit = new ModelEdit(model);
            ai.djlquant.transform.BlockTree tree = edit.currentTree();
            Folding.Result folded =
                    Folding.fold(edit, tree, Candidate.findAll(tree, TestConfigs.bySqnr().getModeRules()), true);
            NDArray before = TestModels.run(model, x);
            Equalization.Result r = Equalization.equalize(edit, folded.layers(), folded.passThrough(), m);
            assertEquals(2, r.pairs().size(), r.note());
            assertTrue(r.pairs().get(0).endsWith("(through ReLU)"), r.pairs().toString());
            assertEquals(3, r.affected().size());
            assertWithinFloatRounding(before, TestModels.run(model, x));
            edit.discard();
            snapshot.assertUnchanged(model, x);
        }
    }

    @Test
    void smoothQuantKeepsTheFloatOutputsAndScalesQueryKeyValueTogether() {
        try (Model model = TestModels.model(preNorm(), new Shape(1, 6, 16))) {
            outlierChannels(model.getBlock());
            NDManager m = model.getNDManager();
            List<NDList> cal = TestModels.batches(m, 4, new Shape(8, 6, 16));
            NDArray x = m.randomNormal(new Shape(4, 6, 16));
            ModelSnapshot snapshot = ModelSnapshot.of(model, x);
            ModelEdit edit = new ModelEdit(model);
            ai.djlquant.transform.BlockTree tree = edit.currentTree();
            Folding.Result folded =
                    Folding.fold(edit, tree, Candidate.findAll(tree, TestConfigs.bySqnr().getModeRules()), true);
            NDArray before = TestModels.run(model, x);
            try (NDManager kept = m.newSubManager()) {
                Smoothing.Result r =
                        Smoothing.smooth(
                                edit, model, CalibrationData.fromBatches(cal), 32, TestConfigs.bySqnr(), 0.5,
                                folded.layers(), folded.passThrough(), kept);
                // query, key and value after the first LayerNorm, the first feed-forward Linear
                assertEquals(4, r.affected().size(), r.note());
                assertTrue(r.note().contains("2 LayerNorm(s)"), r.note());
            }
            assertWithinFloatRounding(before, TestModels.run(model, x));
            edit.discard();
            snapshot.assertUnchanged(model, x);
        }
    }

    @Test
    void biasCorrectionRemovesAKnownMeanShift() {
        // inputs with mean 4: per-tensor weight rounding error times that mean is a mean output
        // shift (W_q - W) E[x] of known sign per channel; correction must remove most of it
        Block block = new SequentialBlock().add(Linear.builder().setUnits(8).optBias(false).build());
        try (Model model = TestModels.model(block, new Shape(1, 64))) {
            List<NDList> cal = meanShiftCase(model, block);
            NDArray w = block.getChildren().get(0).getValue().getParameters().get("weight").getArray();
            NDArray all = ai.djl.ndarray.NDArrays.concat(new NDList(cal.stream().map(NDList::head).toList()));
            NDArray fp32 = TestModels.run(model, all);
            double[] shift = new double[2];
            double[] sqnr = new double[2];
            for (int on = 0; on < 2; on++) {
                try (Model copy = TestModels.model(
                        new SequentialBlock().add(Linear.builder().setUnits(8).optBias(false).build()),
                        new Shape(1, 64))) {
                    copy.getBlock().getChildren().get(0).getValue().getParameters().get("weight")
                            .getArray().set(w.toFloatArray());
                    QuantizationReport r =
                            Quantizer.quantize(
                                    copy,
                                    CalibrationData.fromBatches(cal),
                                    TestConfigs.builder()
                                            .optWeightGranularity(ai.djlquant.quant.Granularity.PER_TENSOR)
                                            .optDefaultMode(ai.djlquant.plan.QuantizationMode.STATIC)
                                            .optBiasCorrection(on == 1)
                                            .build());
                    NDArray y = TestModels.run(copy, all);
                    double[] mean = y.sub(fp32).toType(DataType.FLOAT64, false).mean(new int[] {0}).toDoubleArray();
                    for (double v : mean) {
                        shift[on] += Math.abs(v) / mean.length;
                    }
                    SqnrMeter meter = new SqnrMeter();
                    meter.add(fp32, y);
                    sqnr[on] = meter.decibels();
                    if (on == 1) {
                        assertEquals(1, r.getRecovery().size());
                        QuantizationReport.Recovery bc = r.getRecovery().get(0);
                        assertEquals("bias correction", bc.technique());
                        assertEquals(1, bc.layers().size());
                        assertTrue(bc.wholeAfterDb() > bc.wholeBeforeDb(), bc.toString());
                    }
                }
            }
            assertTrue(shift[0] > 1e-3, "the uncorrected block has a mean shift: " + shift[0]);
            assertTrue(shift[1] < 0.2 * shift[0], "corrected " + shift[1] + " vs " + shift[0]);
            assertTrue(sqnr[1] > sqnr[0], "SQNR " + sqnr[1] + " vs " + sqnr[0]);
        }
    }

    @Test
    void biasCorrectionNeverChangesTheLayersMode() {
        // the known mean shift again, under AUTO with the floor set between the uncorrected and
        // the corrected static SQNR (dynamic rounds as the uncorrected static does): judged on
        // the corrected SQNR the layer would turn static; the plan must be the one made without
        // correction (fp32, both int8 choices under the floor), correction or not
        Block block = new SequentialBlock().add(Linear.builder().setUnits(8).optBias(false).build());
        try (Model model = TestModels.model(block, new Shape(1, 64))) {
            List<NDList> cal = meanShiftCase(model, block);
            float[] weight =
                    block.getChildren().get(0).getValue().getParameters().get("weight").getArray()
                            .toFloatArray();
            QuantizationReport corrected = quantizeMeanShift(weight, cal, true, 0);
            QuantizationReport.LayerChange change = corrected.getRecovery().get(0).layers().get(0);
            double dynamicDb = corrected.getLayers().get(0).getDynamicSqnrDb();
            assertTrue(change.afterDb() > change.beforeDb() + 2, change.toString());
            assertTrue(dynamicDb < change.afterDb() - 2, "dynamic " + dynamicDb + ", " + change);
            double floor = (Math.max(change.beforeDb(), dynamicDb) + change.afterDb()) / 2;
            QuantizationReport off = quantizeMeanShift(weight, cal, false, floor);
            QuantizationReport on = quantizeMeanShift(weight, cal, true, floor);
            assertEquals(ai.djlquant.plan.QuantizationMode.FP32, off.getLayers().get(0).getMode());
            assertEquals(off.getLayers().get(0).getMode(), on.getLayers().get(0).getMode());
        }
    }

    /**
     * Scales the Linear's weight rows from 0.05 to 3 (one per-tensor scale: the small rows round
     * coarsely) and returns four calibration batches of inputs with mean 4.
     */
    private static List<NDList> meanShiftCase(Model model, Block block) {
        NDManager m = model.getNDManager();
        NDArray w = block.getChildren().get(0).getValue().getParameters().get("weight").getArray();
        w.muli(m.linspace(0.05f, 3f, 8).reshape(8, 1));
        m.getEngine().setRandomSeed(3);
        List<NDList> cal = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            cal.add(new NDList(m.randomNormal(4f, 1f, new Shape(32, 64), DataType.FLOAT32)));
        }
        return cal;
    }

    private static QuantizationReport quantizeMeanShift(
            float[] weight, List<NDList> cal, boolean correct, double floorDb) {
        try (Model copy = TestModels.model(
                new SequentialBlock().add(Linear.builder().setUnits(8).optBias(false).build()),
                new Shape(1, 64))) {
            copy.getBlock().getChildren().get(0).getValue().getParameters().get("weight")
                    .getArray().set(weight);
            return Quantizer.quantize(
                    copy,
                    CalibrationData.fromBatches(cal),
                    TestConfigs.builder()
                            .optWeightGranularity(ai.djlquant.quant.Granularity.PER_TENSOR)
                            .optAutoFloor(floorDb)
                            .optBiasCorrection(correct)
                            .build());
        }
    }

    @Test
    void biasCorrectionThatLowersTheWholeModelIsTakenBack() {
        // DJL's post-norm encoders: each layer's correction raises its own SQNR, yet together
        // they lower the whole model's (measured 21.78 -> 21.63 dB before the gate); the gate
        // must give back exactly the uncorrected model
        float[][] outputs = new float[2][];
        double[] whole = new double[2];
        try (NDManager data = NDManager.newBaseManager()) {
            data.getEngine().setRandomSeed(7);
            List<NDList> cal = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                cal.add(new NDList(data.randomNormal(new Shape(8, 8, 32))));
            }
            NDArray probe = data.randomNormal(new Shape(4, 8, 32));
            for (int on = 0; on < 2; on++) {
                try (Model model = TestModels.model(TestModels.transformer(), new Shape(1, 8, 32))) {
                    QuantizationReport r =
                            Quantizer.quantize(
                                    model,
                                    CalibrationData.fromBatches(cal),
                                    TestConfigs.builder()
                                            .optDefaultMode(ai.djlquant.plan.QuantizationMode.STATIC)
                                            .optBiasCorrection(on == 1)
                                            .build());
                    outputs[on] = TestModels.run(model, probe).toFloatArray();
                    whole[on] = r.getWholeModelSqnrDb();
                    if (on == 1) {
                        QuantizationReport.Recovery bc = r.getRecovery().get(0);
                        assertTrue(bc.note().contains("reverted"), bc.note());
                        assertEquals(bc.wholeBeforeDb(), bc.wholeAfterDb(), 0.0);
                        for (QuantizationReport.LayerChange c : bc.layers()) {
                            assertEquals(c.beforeDb(), c.afterDb(), 0.0, c.toString());
                        }
                    }
                }
            }
            assertEquals(whole[0], whole[1], 0.0);
            assertArrayEquals(outputs[0], outputs[1]);
        }
    }

    @Test
    void reportShowsEachTechniqueBeforeAndAfter() {
        try (Model model = TestModels.model(mlp(), new Shape(1, 16))) {
            NDManager m = model.getNDManager();
            List<NDList> cal = TestModels.batches(m, 4, new Shape(16, 16));
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(cal),
                            TestConfigs.builder()
                                    .optCrossLayerEqualization(true)
                                    .optBiasCorrection(true)
                                    .build());
            assertEquals(2, r.getRecovery().size());
            QuantizationReport.Recovery cle = r.getRecovery().get(0);
            assertEquals("cross-layer equalization", cle.technique());
            assertEquals(3, cle.layers().size());
            assertFalse(Double.isNaN(cle.wholeBeforeDb()));
            assertFalse(Double.isNaN(cle.wholeAfterDb()));
            // the kept run is the last one: its whole-model SQNR is the report's
            assertEquals(r.getWholeModelSqnrDb(), r.getRecovery().get(1).wholeAfterDb(), 0.0);
            assertEquals(cle.wholeAfterDb(), r.getRecovery().get(1).wholeBeforeDb(), 0.0);
            for (QuantizationReport.LayerChange c : cle.layers()) {
                assertFalse(Double.isNaN(c.beforeDb()), c.toString());
                assertFalse(Double.isNaN(c.afterDb()), c.toString());
            }
            String table = r.toTable();
            assertTrue(table.contains("recovery: cross-layer equalization: whole model"), table);
            assertTrue(table.contains("recovery: bias correction"), table);
            String json = r.toJson();
            assertTrue(json.contains("\"recovery\""), json);
            assertTrue(json.contains("\"wholeBeforeDb\""), json);
            assertTrue(json.contains("\"beforeDb\""), json);
            assertTrue(r.toHtml().contains("cross-layer equalization"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"equalize", "smooth", "bias correction 00SequentialBlock/02Linear", "measure"})
    void aFailureInARecoveryStepLeavesTheModelAsItWas(String step) {
        try (Model model = TestModels.model(preNorm(), new Shape(1, 6, 16))) {
            NDManager m = model.getNDManager();
            List<NDList> cal = TestModels.batches(m, 4, new Shape(8, 6, 16));
            NDArray x = m.randomNormal(new Shape(4, 6, 16));
            ModelSnapshot snapshot = ModelSnapshot.of(model, x);
            String[] reached = {null};
            StepHooks hooks =
                    s -> {
                        if (s.startsWith(step.split(" 00")[0]) && reached[0] == null) {
                            reached[0] = s;
                            throw new IllegalStateException("injected failure at " + s);
                        }
                    };
            IllegalStateException e =
                    assertThrows(
                            IllegalStateException.class,
                            () ->
                                    Quantizer.quantize(
                                            model,
                                            CalibrationData.fromBatches(cal),
                                            TestConfigs.builder()
                                                    .optCrossLayerEqualization(true)
                                                    .optSmoothQuant(0.5)
                                                    .optBiasCorrection(true)
                                                    .build(),
                                            hooks));
            assertTrue(e.getMessage().startsWith("injected failure at "), e.getMessage());
            snapshot.assertUnchanged(model, x);
        }
    }

    @Test
    void smoothQuantAlphaOutsideTheOpenIntervalIsRefused() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> QuantizationConfig.builder().optSmoothQuant(1.0));
        assertTrue(e.getMessage().contains("alpha"), e.getMessage());
    }
}

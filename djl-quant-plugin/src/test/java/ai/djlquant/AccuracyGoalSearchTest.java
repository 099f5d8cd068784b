package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djlquant.nn.QuantizedBlock;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The accuracy goal's search loop with metrics whose value is known in advance (the real-model
 * case, a fragile layer found and restored on Fashion-MNIST, is {@code AccuracyGoalTest} in the
 * examples): which trials run, which one the model ends as, and what a bad metric does.
 */
class AccuracyGoalSearchTest {

    private static Model threeLayers() {
        SequentialBlock b =
                new SequentialBlock()
                        .add(Linear.builder().setUnits(48).build())
                        .add(Activation.reluBlock())
                        .add(Linear.builder().setUnits(32).build())
                        .add(Activation.reluBlock())
                        .add(Linear.builder().setUnits(10).build());
        return TestModels.model(b, new Shape(1, 40));
    }

    private static List<NDList> cal(Model model) {
        return TestModels.batches(model.getNDManager(), 4, new Shape(8, 40));
    }

    /** The number of int8 blocks in the model's tree now. */
    private static int int8Blocks(Model model) {
        int n = 0;
        for (BlockNode node : BlockTree.walk(model.getBlock()).getNodes()) {
            if (node.getBlock() instanceof QuantizedBlock) {
                n++;
            }
        }
        return n;
    }

    private static QuantizationReport quantize(Model model, AccuracyGoal goal) {
        return Quantizer.quantize(
                model,
                CalibrationData.fromBatches(cal(model)),
                TestConfigs.builder().optAccuracyGoal(goal).build());
    }

    @Test
    void layersAreRestoredUntilTheGoalHolds() {
        try (Model model = threeLayers()) {
            // the metric: minus the number of int8 layers, so each restore wins back 1
            AccuracyGoal goal =
                    AccuracyGoal.of("minus int8 layers", m -> -int8Blocks(m), 1.5);
            QuantizationReport r = quantize(model, goal);
            QuantizationReport.GoalResult g = r.getAccuracyGoal();
            assertEquals(0.0, g.fp32().value());
            assertEquals(3, g.trials().size(), r.toTable());
            assertEquals(-3.0, g.trials().get(0).value());
            assertEquals(List.of(), g.trials().get(0).restoredToFp32());
            assertEquals(-2.0, g.trials().get(1).value());
            assertEquals(-1.0, g.trials().get(2).value());
            assertTrue(g.met());
            assertEquals(2, g.chosenTrial());
            assertEquals(1, int8Blocks(model), "the model is the chosen trial");
            assertEquals(2, r.count(QuantizationMode.FP32), r.toTable());
            assertEquals(g.sensitivityOrder().subList(0, 2), g.chosen().restoredToFp32());
            for (String path : g.chosen().restoredToFp32()) {
                LayerReport l = r.getLayer(path);
                assertTrue(l.getReason().startsWith("FP32 by the accuracy goal: restored in trial 2"), l.toString());
                assertNull(l.getFusedRelu(), "a restored layer's ReLU is back: " + l);
            }
            assertTrue(g.ranking().startsWith("the whole model's output SQNR with only that layer int8"));
            assertTrue(r.getWarnings().isEmpty(), r.getWarnings().toString());
            assertTrue(r.toTable().contains("accuracy goal: minus int8 layers at most 1.5000 below"), r.toTable());
        }
    }

    @Test
    void aGoalMetByTheInt8ModelRunsNoTrial() {
        try (Model model = threeLayers()) {
            AtomicInteger calls = new AtomicInteger();
            QuantizationReport r =
                    quantize(model, AccuracyGoal.of("constant", m -> calls.incrementAndGet() * 0.0, 0));
            assertEquals(2, calls.get(), "fp32 and the int8 model");
            assertEquals(1, r.getAccuracyGoal().trials().size());
            assertTrue(r.getAccuracyGoal().met());
            assertEquals(3, int8Blocks(model));
        }
    }

    @Test
    void aGoalThatCannotBeMetKeepsTheBestModelAndSaysSo() {
        try (Model model = threeLayers()) {
            AtomicInteger calls = new AtomicInteger();
            // 1 on fp32, then 0.2 once two layers are restored, 0 otherwise: never within 0.5
            AccuracyGoal goal =
                    AccuracyGoal.of(
                                    "made up",
                                    m -> calls.getAndIncrement() == 0 ? 1 : int8Blocks(m) == 1 ? 0.2 : 0,
                                    0.5)
                            .withMaxTrials(2);
            QuantizationReport r = quantize(model, goal);
            QuantizationReport.GoalResult g = r.getAccuracyGoal();
            assertFalse(g.met());
            assertEquals(3, g.trials().size(), "trial 0 and the budget of 2");
            assertEquals(2, g.chosenTrial(), "the best one");
            assertEquals(1, int8Blocks(model));
            assertEquals(1, r.getWarnings().size(), r.getWarnings().toString());
            assertTrue(
                    r.getWarnings().get(0).startsWith(
                            "the accuracy goal was not met: made up is 0.8000 below fp32 1.0000, the"
                                    + " goal allows 0.5000 (missed by 0.3000) after 2 trial(s)"),
                    r.getWarnings().get(0));
        }
    }

    @Test
    void aMetricThatFailsOrGivesNanChangesNothing() {
        for (int failAt = 0; failAt < 3; failAt++) {
            for (boolean nan : new boolean[] {false, true}) {
                try (Model model = threeLayers()) {
                    NDArray x = model.getNDManager().randomNormal(new Shape(3, 40));
                    ModelSnapshot before = ModelSnapshot.of(model, x);
                    AtomicInteger calls = new AtomicInteger();
                    int at = failAt;
                    AccuracyGoal goal =
                            AccuracyGoal.of(
                                    "flaky",
                                    m -> {
                                        if (calls.getAndIncrement() == at) {
                                            if (nan) {
                                                return Double.NaN;
                                            }
                                            throw new IllegalStateException("validation broke");
                                        }
                                        return -int8Blocks(m);
                                    },
                                    0.5);
                    IllegalArgumentException e =
                            assertThrows(IllegalArgumentException.class, () -> quantize(model, goal));
                    String which =
                            at == 0 ? "the fp32 model" : at == 1 ? "the int8 model" : "trial 1";
                    assertTrue(e.getMessage().startsWith("the accuracy goal's metric 'flaky' "), e.getMessage());
                    assertTrue(e.getMessage().contains(which), e.getMessage());
                    before.assertUnchanged(model, x);
                }
            }
        }
    }

    @Test
    void aDjlDatasetAndEvaluatorAreAMetric() {
        try (Model model = threeLayers()) {
            NDArray data = model.getNDManager().randomNormal(new Shape(24, 40));
            NDArray labels = model.getNDManager().randomInteger(0, 10, new Shape(24), ai.djl.ndarray.types.DataType.INT64);
            ArrayDataset validation =
                    new ArrayDataset.Builder()
                            .setData(data)
                            .optLabels(labels)
                            .setSampling(8, false)
                            .build();
            QuantizationReport r = quantize(model, AccuracyGoal.of(validation, new Accuracy(), 1.0));
            QuantizationReport.GoalResult g = r.getAccuracyGoal();
            assertEquals("Accuracy", g.metric());
            assertTrue(g.higherIsBetter());
            assertTrue(g.fp32().value() >= 0 && g.fp32().value() <= 1, g.toString());
            assertTrue(g.met(), "a drop of at most 1 always holds for an accuracy");
        }
    }

    @Test
    void badGoalsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> AccuracyGoal.of("m", m -> 1, -0.1));
        assertThrows(IllegalArgumentException.class, () -> AccuracyGoal.of("m", m -> 1, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> AccuracyGoal.of("m", m -> 1, 0).withMaxTrials(-1));
        assertThrows(
                IllegalArgumentException.class,
                () -> QuantizationConfig.builder().optAccuracyGoal(m -> 1, -1).build());
        AccuracyGoal loss = AccuracyGoal.of("loss", m -> 1, 0.1).lowerIsBetter();
        assertFalse(loss.isHigherBetter());
        assertEquals(0.5, loss.drop(1.0, 1.5), 1e-12);
    }
}

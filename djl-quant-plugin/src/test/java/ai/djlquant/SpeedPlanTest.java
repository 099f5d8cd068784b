package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.plan.SpeedComparison;

import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * The speed-aware plan on the real engine: what is timed, at which batch sizes, what the report
 * carries, and that a failure while timing changes nothing. Which layers end int8 depends on this
 * host's speed and load, so no test here asserts a mode chosen for speed or a time; the rule that
 * turns timings into modes is tested on made-up timings ({@code plan.SpeedRuleTest}).
 */
class SpeedPlanTest {

    private static Model mlp() {
        SequentialBlock b =
                new SequentialBlock()
                        .add(Linear.builder().setUnits(96).build())
                        .add(Activation.reluBlock())
                        .add(Linear.builder().setUnits(10).build());
        return TestModels.model(b, new Shape(1, 64));
    }

    private static void assertPositive(SpeedComparison c) {
        assertTrue(c.fp32Micros() > 0 && c.int8Micros() > 0 && c.speedup() > 0, c.toString());
        assertTrue(c.rounds() >= 3, c.toString());
    }

    @Test
    void theDefaultObjectiveTimesEveryAutoLayerAndTheModelAtOneAndTheCalibrationBatch() {
        try (Model model = mlp()) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 4, new Shape(8, 64));
            QuantizationReport r =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(cal), QuantizationConfig.defaults());
            QuantizationReport.Speed s = r.getSpeed();
            assertEquals(Objective.BALANCED, s.objective());
            assertEquals(List.of(1, 8), s.servingBatchSizes());
            for (LayerReport l : r.getLayers()) {
                assertEquals(2, l.getSpeeds().size(), l.toString());
                assertEquals(1, l.getSpeeds().get(0).batchSize());
                assertEquals(8, l.getSpeeds().get(1).batchSize());
                l.getSpeeds().forEach(SpeedPlanTest::assertPositive);
                if (l.getMode() == QuantizationMode.FP32) {
                    assertTrue(l.getReason().startsWith("AUTO (BALANCED): "), l.toString());
                    // which of SpeedRule's two reasons depends on this host's timing noise
                    assertTrue(
                            l.getReason().contains("slower than fp32 at batch")
                                    || l.getReason().contains("not measurably faster than fp32"),
                            l.toString());
                }
            }
            if (r.count(QuantizationMode.FP32) < 2) {
                assertEquals(2, s.model().size(), r.toTable());
                s.model().forEach(SpeedPlanTest::assertPositive);
            } else {
                assertEquals("no layer is int8", s.unmeasured());
            }
            assertTrue(r.toTable().contains("speed: objective BALANCED"), r.toTable());
            assertTrue(r.toJson().contains("\"speed\""));
        }
    }

    @Test
    void servingBatchSizesLargerThanWhatWasKeptAreMadeFromItsRows() {
        try (Model model = mlp()) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(4, 64));
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(cal),
                            QuantizationConfig.builder()
                                    .optObjective(Objective.LATENCY)
                                    .optServingBatchSizes(50, 3)
                                    .build());
            assertEquals(List.of(3, 50), r.getSpeed().servingBatchSizes());
            for (LayerReport l : r.getLayers()) {
                assertEquals(3, l.getSpeeds().get(0).batchSize());
                assertEquals(50, l.getSpeeds().get(1).batchSize());
                if (l.getMode() == QuantizationMode.FP32) {
                    assertTrue(l.getReason().startsWith("AUTO (LATENCY): "), l.toString());
                }
            }
        }
    }

    @Test
    void sizeAndForcedModesTimeNoLayer() {
        try (Model model = mlp()) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(8, 64));
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(cal),
                            QuantizationConfig.builder()
                                    .optObjective(Objective.SIZE)
                                    .optMode("03Linear", QuantizationMode.DYNAMIC)
                                    .build());
            assertEquals(2, r.count(QuantizationMode.STATIC) + r.count(QuantizationMode.DYNAMIC));
            for (LayerReport l : r.getLayers()) {
                assertTrue(l.getSpeeds().isEmpty(), l.toString());
            }
            assertEquals(2, r.getSpeed().model().size(), "the model is timed under SIZE too");
        }
        try (Model model = mlp()) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(8, 64));
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(cal),
                            QuantizationConfig.builder()
                                    .optMode("**", QuantizationMode.STATIC)
                                    .optTimeModel(false)
                                    .build());
            assertEquals(2, r.count(QuantizationMode.STATIC), r.toTable());
            for (LayerReport l : r.getLayers()) {
                assertTrue(l.getSpeeds().isEmpty(), l.toString());
            }
            assertTrue(r.getSpeed().model().isEmpty());
            assertEquals("model timing is off (optTimeModel)", r.getSpeed().unmeasured());
        }
    }

    @Test
    void aFailureWhileTimingChangesNothing() {
        for (String step : new String[] {"time 01Linear", "plan check", "time model"}) {
            try (Model model = mlp()) {
                List<NDList> cal = TestModels.batches(model.getNDManager(), 2, new Shape(8, 64));
                NDArray x = model.getNDManager().randomNormal(new Shape(5, 64));
                ModelSnapshot before = ModelSnapshot.of(model, x);
                assertThrows(
                        IllegalStateException.class,
                        () ->
                                Quantizer.quantize(
                                        model,
                                        CalibrationData.fromBatches(cal),
                                        QuantizationConfig.builder()
                                                .optObjective(Objective.LATENCY)
                                                .build(),
                                        s -> {
                                            if (s.equals(step)) {
                                                throw new IllegalStateException("injected");
                                            }
                                        }),
                        step);
                before.assertUnchanged(model, x);
            }
        }
    }

    @Test
    void aSlowerModelIsAWarning() {
        SpeedComparison slower =
                SpeedComparison.of(1, new double[] {50, 50, 50}, new double[] {100, 100, 100}, 10);
        SpeedComparison faster =
                SpeedComparison.of(32, new double[] {100, 100, 100}, new double[] {50, 50, 50}, 10);
        List<String> w =
                Reporting.warnings(
                        new QuantizationReport.Speed(
                                Objective.BALANCED, List.of(1, 32), List.of(slower, faster), null));
        assertEquals(1, w.size());
        assertTrue(
                w.get(0).startsWith(
                        "THE INT8 MODEL IS SLOWER THAN FP32 on this host at batch 1: fp32 50.0 us,"
                                + " int8 100 us (0.50x)"),
                w.get(0));
        assertTrue(
                Reporting.warnings(
                                new QuantizationReport.Speed(
                                        Objective.BALANCED, List.of(32), List.of(faster), null))
                        .isEmpty());
    }

    @Test
    void badServingBatchSizesAreRefused() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> QuantizationConfig.builder().optServingBatchSizes(1, 0).build());
        assertEquals("servingBatchSizes must each be from 1 to 4096, got 0.", e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> QuantizationConfig.builder().optServingBatchSizes().build());
        assertThrows(
                IllegalArgumentException.class,
                () -> QuantizationConfig.builder().optObjective(null).build());
    }
}

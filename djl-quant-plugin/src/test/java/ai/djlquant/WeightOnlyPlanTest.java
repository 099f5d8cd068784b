package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.QuantizationMode;

import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * Weight-only modes in the plan: AUTO measures an offered weight-only block and keeps it only with
 * the timings that justify it (which mode wins depends on this host's speed and load, so the test
 * asserts the decision's consistency, not a mode); SIZE never offers it; configurations that cannot
 * hold are refused naming the cause; the words parse.
 */
class WeightOnlyPlanTest {

    private static Model mlp() {
        SequentialBlock b =
                new SequentialBlock()
                        .add(Linear.builder().setUnits(128).build())
                        .add(Activation.reluBlock())
                        .add(Linear.builder().setUnits(10).build());
        return TestModels.model(b, new Shape(1, 64));
    }

    @Test
    void autoMeasuresTheOfferedWeightOnlyBlockAndKeepsItOnlyWithItsTimings() {
        try (Model model = mlp()) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 4, new Shape(8, 64));
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(cal),
                            QuantizationConfig.builder()
                                    .optAutoWeightOnly(QuantizationMode.WEIGHT_INT8)
                                    .optServingBatchSizes(1)
                                    .optTimeModel(false)
                                    .build());
            for (LayerReport l : r.getLayers()) {
                assertTrue(l.getWeightOnlySqnrDb() > 30, l.getPath() + ": " + l.getWeightOnlySqnrDb() + " " + l.getMode() + " " + l.getReason());
                if (l.getMode() == QuantizationMode.WEIGHT_INT8) {
                    assertTrue(l.getReason().startsWith("AUTO (BALANCED): "), l.getReason());
                    assertEquals(1, l.getSpeeds().size(), l.toString());
                    assertTrue(l.getReason().contains("w8"), l.getReason());
                    assertEquals("w8", l.getWeightFormat());
                    assertEquals(null, l.getFusedRelu());
                } else {
                    assertEquals(null, l.getWeightFormat());
                }
            }
        }
    }

    @Test
    void sizeNeverOffersWeightOnly() {
        try (Model model = mlp()) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 4, new Shape(8, 64));
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromBatches(cal),
                            TestConfigs.builder().optAutoWeightOnly(QuantizationMode.WEIGHT_INT4_G64).build());
            for (LayerReport l : r.getLayers()) {
                assertFalse(l.getMode().isWeightOnly(), l.toString());
                assertTrue(Double.isNaN(l.getWeightOnlySqnrDb()), l.toString());
            }
        }
    }

    @Test
    void configurationsThatCannotHoldAreRefused() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> QuantizationConfig.builder().optMode(Conv2d.class, QuantizationMode.WEIGHT_INT8).build());
        assertTrue(e.getMessage().contains("Conv2d has no weight-only mode"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> QuantizationConfig.builder().optAutoWeightOnly(QuantizationMode.STATIC).build());
        assertTrue(e.getMessage().contains("weight-only mode"), e.getMessage());
        assertEquals(Objective.BALANCED, QuantizationConfig.defaults().getObjective());
        assertEquals(null, QuantizationConfig.defaults().getAutoWeightOnly());
    }

    @Test
    void wordsAndNamesParse() {
        for (QuantizationMode m : QuantizationMode.values()) {
            assertEquals(m, QuantizationMode.fromWord(m.word()));
            assertEquals(m, QuantizationMode.fromWord(m.name().toLowerCase(java.util.Locale.ROOT)));
        }
        assertEquals(64, QuantizationMode.fromWord("w4g64m").groupSize());
        assertFalse(QuantizationMode.fromWord("W4G64M").symmetricWeights());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> QuantizationMode.fromWord("w3"));
        assertTrue(e.getMessage().contains("'w3' is not a mode: auto, static"), e.getMessage());
    }
}

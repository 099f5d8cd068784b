package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.nn.norm.BatchNorm;
import ai.djlquant.observe.EntropyEstimator;
import ai.djlquant.observe.MinMaxEstimator;
import ai.djlquant.observe.MinMaxObserver;
import ai.djlquant.observe.PerChannelMinMaxObserver;
import ai.djlquant.quant.Granularity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class QuantizationConfigTest {

    private static String fails(Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }

    @Test
    void defaults() {
        QuantizationConfig c = QuantizationConfig.defaults();
        assertEquals(QuantizationConfig.DEFAULT_CALIBRATION_SAMPLES, c.getCalibrationSamples());
        assertFalse(c.isExactSamples());
        assertEquals(Granularity.PER_CHANNEL, c.getWeightGranularity());
        assertTrue(c.isFoldBatchNorm() && c.isFuseRelu() && c.isReleaseFloatWeights());
        assertTrue(QuantizationConfig.builder().optCalibrationSamples(7).build().isExactSamples());
    }

    @Test
    void everyBadValueIsNamed() {
        assertEquals(
                "calibrationSamples must be at least 1, got 0.",
                fails(() -> QuantizationConfig.builder().optCalibrationSamples(0).build()));
        assertEquals(
                "rangeEstimator entropy needs a HistogramObserver, but activationObserver makes a"
                        + " MinMaxObserver.",
                fails(
                        () ->
                                QuantizationConfig.builder()
                                        .optActivationObserver(MinMaxObserver::new)
                                        .optRangeEstimator(new EntropyEstimator())
                                        .build()));
        assertEquals(
                "rangeEstimator min-max needs a per-tensor range observer, but"
                        + " activationObserver makes a PerChannelMinMaxObserver.",
                fails(
                        () ->
                                QuantizationConfig.builder()
                                        .optActivationObserver(
                                                () ->
                                                        PerChannelMinMaxObserver.builder()
                                                                .setAxis(1)
                                                                .build())
                                        .optRangeEstimator(new MinMaxEstimator())
                                        .build()));
        assertEquals(
                "activationObserver made a null observer.",
                fails(() -> QuantizationConfig.builder().optActivationObserver(() -> null).build()));
        assertEquals(
                "rangeEstimator must not be null.",
                fails(() -> QuantizationConfig.builder().optRangeEstimator(null).build()));
        assertEquals(
                "weightGranularity must be PER_CHANNEL (the only granularity the int8 blocks take"
                        + " so far), got PER_TENSOR.",
                fails(
                        () ->
                                QuantizationConfig.builder()
                                        .optWeightGranularity(Granularity.PER_TENSOR)
                                        .build()));
        assertEquals(
                "modeByType: BatchNorm is not a quantizable layer type (Linear, Conv1d, Conv2d).",
                fails(
                        () ->
                                QuantizationConfig.builder()
                                        .optMode(BatchNorm.class, ai.djlquant.plan.QuantizationMode.FP32)
                                        .build()));
        assertEquals(
                "modeByPath: a path pattern must not be empty.",
                fails(
                        () ->
                                QuantizationConfig.builder()
                                        .optMode("", ai.djlquant.plan.QuantizationMode.FP32)
                                        .build()));
        assertEquals(
                "exclude needs a pattern, got null.",
                fails(() -> QuantizationConfig.builder().optExclude(null).build()));
        assertEquals(
                "autoMarginDb must be finite and non-negative, got -1.0.",
                fails(() -> QuantizationConfig.builder().optAutoMargin(-1).build()));
        assertEquals(
                "autoFloorDb must be finite, got NaN.",
                fails(() -> QuantizationConfig.builder().optAutoFloor(Double.NaN).build()));
        assertEquals(
                "planSampleBytes must be positive, got 0.",
                fails(() -> QuantizationConfig.builder().optPlanSampleBytes(0).build()));
        assertEquals(
                "planMaxSamples must be at least 1, got 0.",
                fails(() -> QuantizationConfig.builder().optPlanMaxSamples(0).build()));
    }
}

package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djlquant.nn.QuantizedLinear;
import ai.djlquant.observe.EntropyEstimator;
import ai.djlquant.observe.HistogramObserver;
import ai.djlquant.observe.MinMaxEstimator;
import ai.djlquant.observe.MinMaxObserver;
import ai.djlquant.observe.Observer;
import ai.djlquant.observe.PercentileEstimator;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.quant.Granularity;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

class QuantizationConfigTest {

    private static String fails(Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }

    /**
     * What the defaults do, as the README documents them: AUTO picks STATIC for a well-behaved
     * Linear, its activation range is the 99.99th percentile of a 2048-bin histogram of all the
     * calibration samples (the source has fewer than the default 512), weights get one scale per
     * output channel.
     */
    @Test
    void defaultConfigCalibratesWithPercentileOnAHistogram() {
        SequentialBlock b =
                new SequentialBlock()
                        .add(Linear.builder().setUnits(48).build())
                        .add(Linear.builder().setUnits(16).build());
        try (Model model = TestModels.model(b, new Shape(1, 64))) {
            List<NDList> cal = TestModels.batches(model.getNDManager(), 16, new Shape(8, 64));
            HistogramObserver seen = HistogramObserver.builder().optBins(2048).build();
            for (NDList batch : cal) {
                seen.update(batch.singletonOrThrow());
            }

            QuantizationReport r =
                    Quantizer.quantize(
                            model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());

            LayerReport first = r.getLayer("01Linear");
            assertEquals(QuantizationMode.STATIC, first.getMode(), first.toString());
            assertTrue(first.getReason().startsWith("AUTO"), first.getReason());
            assertEquals(16 * 8, r.getCalibrationSamples());
            QuantizedLinear q = (QuantizedLinear) model.getBlock().getChildren().get(0).getValue();
            QuantParams expected =
                    PercentileEstimator.builder()
                            .optPercentile(99.99)
                            .build()
                            .estimate(seen, QuantScheme.uint8Activation(r.getActivationBits()));
            assertEquals(expected, q.getActivationParams());
            assertEquals(Granularity.PER_CHANNEL, q.getWeightParams().getScheme().getGranularity());
            assertEquals(48, q.getWeightParams().getScales().length);
        }
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
                        + " activationObserver makes a NoRangeObserver.",
                fails(
                        () ->
                                QuantizationConfig.builder()
                                        .optActivationObserver(NoRangeObserver::new)
                                        .optRangeEstimator(new MinMaxEstimator())
                                        .build()));
        assertEquals(
                "activationObserver made a null observer.",
                fails(() -> QuantizationConfig.builder().optActivationObserver(() -> null).build()));
        assertEquals(
                "rangeEstimator must not be null.",
                fails(() -> QuantizationConfig.builder().optRangeEstimator(null).build()));
        assertEquals(
                "weightGranularity must be PER_CHANNEL or PER_TENSOR, got null.",
                fails(() -> QuantizationConfig.builder().optWeightGranularity(null).build()));
        assertEquals(
                "optMode(Class, QuantizationMode): BatchNorm is not a quantizable layer type (Linear, Conv1d, Conv2d).",
                fails(
                        () ->
                                QuantizationConfig.builder()
                                        .optMode(BatchNorm.class, QuantizationMode.FP32)
                                        .build()));
        assertEquals(
                "optMode(String, QuantizationMode): a path pattern must not be empty.",
                fails(
                        () ->
                                QuantizationConfig.builder()
                                        .optMode("", QuantizationMode.FP32)
                                        .build()));
        assertEquals(
                "optExclude(String) needs a pattern, got null.",
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

    @Test
    void messagesNameTheMethodsThatExist() {
        assertEquals(
                "optMode(Class, QuantizationMode) needs a layer type and a mode, got null and"
                        + " FP32.",
                fails(
                        () ->
                                QuantizationConfig.builder()
                                        .optMode(
                                                (Class<? extends Block>) null,
                                                QuantizationMode.FP32)
                                        .build()));
        assertEquals(
                "optMode(String, QuantizationMode) needs a pattern and a mode, got ** and null.",
                fails(() -> QuantizationConfig.builder().optMode("**", null).build()));
    }

    /** An observer with counts but no range, as a user's own observer may be. */
    private static final class NoRangeObserver implements Observer {
        @Override
        public void update(NDArray x) {}

        @Override
        public long getCount() {
            return 0;
        }

        @Override
        public long getNonFiniteCount() {
            return 0;
        }
    }
}

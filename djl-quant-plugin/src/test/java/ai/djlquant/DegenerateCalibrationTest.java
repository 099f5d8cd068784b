package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * Calibration data that cannot stand for real inputs must not pass silently (issue 15, item 5):
 * all zeros, a constant, one value of 1e30 per batch, and 10% NaN, on the residual CNN. Each
 * quantizes (the model is usable) and the report says what is wrong, naming the layer; real-looking
 * data gets none of these warnings.
 */
class DegenerateCalibrationTest {

    private static final Shape BATCH = new Shape(8, 3, 16, 16);

    private static QuantizationReport quantize(BiFunction<NDManager, Integer, NDArray> batch) {
        try (Model model = TestModels.model(TestModels.residualCnn(), new Shape(1, 3, 16, 16))) {
            List<NDList> cal = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                cal.add(new NDList(batch.apply(model.getNDManager(), i)));
            }
            return Quantizer.quantize(
                    model, CalibrationData.fromBatches(cal), TestConfigs.bySqnr());
        }
    }

    private static long warningsContaining(QuantizationReport r, String text) {
        return r.getWarnings().stream().filter(w -> w.contains(text)).count();
    }

    @Test
    void allZerosIsFlaggedAtTheFirstLayer() {
        QuantizationReport r = quantize((m, i) -> m.zeros(BATCH));
        assertTrue(
                r.getWarnings().stream()
                        .anyMatch(w -> w.startsWith("layer 01SequentialBlock/01Conv2d saw one value, 0.0,")),
                r.getWarnings().toString());
        assertTrue(r.getNotes().stream().anyMatch(n -> n.startsWith("warning: layer ")));
    }

    @Test
    void aConstantIsFlagged() {
        QuantizationReport r = quantize((m, i) -> m.full(BATCH, 0.5f));
        assertTrue(
                r.getWarnings().stream()
                        .anyMatch(w -> w.startsWith("layer 01SequentialBlock/01Conv2d saw one value, 0.5,")),
                r.getWarnings().toString());
    }

    @Test
    void oneHugeValuePerBatchIsFlagged() {
        QuantizationReport r =
                quantize(
                        (m, i) -> {
                            m.getEngine().setRandomSeed(20 + i);
                            NDArray x = m.randomNormal(BATCH);
                            x.set(new ai.djl.ndarray.index.NDIndex(i % 8, 0, 3, 5), 1e30f);
                            return x;
                        });
        assertTrue(
                r.getWarnings().stream()
                        .anyMatch(
                                w ->
                                        w.startsWith("layer 01SequentialBlock/01Conv2d: its calibration input range")
                                                && w.contains("is set by")),
                r.getWarnings().toString());
    }

    @Test
    void tenPercentNanQuantizesAndSaysSo() {
        QuantizationReport r =
                quantize(
                        (m, i) -> {
                            m.getEngine().setRandomSeed(40 + i);
                            NDArray x = m.randomNormal(BATCH);
                            NDArray nan = m.randomUniform(0f, 1f, BATCH).lt(0.1f);
                            x.set(nan, Float.NaN);
                            return x;
                        });
        LayerReport first = r.getLayer("01SequentialBlock/01Conv2d");
        assertTrue(first.getInputNonFinite() > 0.05 * BATCH.size() * 4, first.toString());
        assertTrue(
                r.getNotes().stream()
                        .anyMatch(
                                n ->
                                        n.startsWith("layer 01SequentialBlock/01Conv2d: ")
                                                && n.contains("held NaN or infinite inputs")),
                r.getNotes().toString());
    }

    @Test
    void realLookingDataGetsNoCalibrationWarning() {
        QuantizationReport r =
                quantize(
                        (m, i) -> {
                            m.getEngine().setRandomSeed(60 + i);
                            return m.randomNormal(BATCH);
                        });
        assertEquals(0, warningsContaining(r, "saw one value"), r.getWarnings().toString());
        assertEquals(0, warningsContaining(r, "is set by"), r.getWarnings().toString());
    }
}

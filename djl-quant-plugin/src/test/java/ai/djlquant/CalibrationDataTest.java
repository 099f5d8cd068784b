package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.translate.Batchifier;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

class CalibrationDataTest {

    /** A serving translator: float[] features in, scaled by 1/10 on the way, float[] out. */
    static final class Features implements Translator<float[], float[]> {
        final boolean batchify;
        int prepared;

        Features(boolean batchify) {
            this.batchify = batchify;
        }

        @Override
        public void prepare(TranslatorContext ctx) {
            prepared++;
        }

        @Override
        public NDList processInput(TranslatorContext ctx, float[] input) {
            NDArray a = ctx.getNDManager().create(input).div(10f);
            return new NDList(batchify ? a : a.expandDims(0));
        }

        @Override
        public float[] processOutput(TranslatorContext ctx, NDList list) {
            return list.head().toFloatArray();
        }

        @Override
        public Batchifier getBatchifier() {
            return batchify ? Batchifier.STACK : null;
        }
    }

    private static List<float[]> inputs(int n) {
        List<float[]> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new float[] {i, i + 1, i + 2});
        }
        return list;
    }

    /** Runs a source and returns the sample counts of its batches and their first values. */
    private static List<String> run(CalibrationData data, Model model, long limit) {
        List<String> seen = new ArrayList<>();
        data.forEach(
                model,
                model.getNDManager(),
                limit,
                (b, n) -> seen.add(n + ":" + b.head().getShape() + ":" + b.head().toFloatArray()[0]));
        return seen;
    }

    @Test
    void rawInputsGoThroughTheTranslatorInBatches() {
        try (Model model = Model.newInstance("m")) {
            Features t = new Features(true);
            CalibrationData data = CalibrationData.fromInputs(inputs(10), t, 4);
            assertEquals(10, data.count(model.getNDManager(), 100));
            assertEquals(6, data.count(model.getNDManager(), 6));
            assertEquals(
                    Arrays.asList("4:(4, 3):0.0", "2:(2, 3):0.4"), run(data, model, 6));
            assertEquals(1, t.prepared);
            Features single = new Features(false);
            assertEquals(
                    Arrays.asList("1:(1, 3):0.0", "1:(1, 3):0.1"),
                    run(CalibrationData.fromInputs(inputs(5), single, 4), model, 2));
        }
    }

    @Test
    void datasetsAreCutToTheLimit() {
        try (Model model = Model.newInstance("m")) {
            NDManager m = model.getNDManager();
            ArrayDataset ds =
                    new ArrayDataset.Builder()
                            .setData(m.arange(30f).reshape(10, 3))
                            .optLabels(m.zeros(new Shape(10)))
                            .setSampling(4, false)
                            .build();
            CalibrationData data = CalibrationData.fromDataset(ds);
            assertEquals(10, data.count(m, 100));
            assertEquals(Arrays.asList("4:(4, 3):0.0", "2:(2, 3):12.0"), run(data, model, 6));
        }
    }

    @Test
    void batchesStayTheCallers() {
        try (Model model = Model.newInstance("m")) {
            NDManager m = model.getNDManager();
            List<NDList> batches = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                batches.add(new NDList(m.ones(new Shape(4, 2)).mul(i)));
            }
            CalibrationData data = CalibrationData.fromBatches(batches);
            assertEquals(12, data.count(m, 100));
            assertEquals(Arrays.asList("4:(4, 2):0.0", "2:(2, 2):1.0"), run(data, model, 6));
            assertEquals(8f, batches.get(1).head().sum().getFloat(), "not closed, not changed");
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    CalibrationData.fromBatches(
                                                    Arrays.asList(batches.get(0), new NDList()))
                                            .count(m, 100));
            assertEquals(
                    "calibration batch 1 is empty (an NDList with no arrays).", e.getMessage());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> CalibrationData.fromInputs(inputs(1), new Features(true), 0));
        }
    }

    @Test
    void quantizesThroughTheServingTranslator() {
        SequentialBlock b =
                new SequentialBlock()
                        .add(Linear.builder().setUnits(8).build())
                        .add(Linear.builder().setUnits(2).build());
        try (Model model = TestModels.model(b, new Shape(1, 3))) {
            QuantizationReport r =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromInputs(inputs(40), new Features(true), 16),
                            QuantizationConfig.builder().optCalibrationSamples(33).build());
            assertEquals(33, r.getCalibrationSamples());
            assertTrue(r.toTable().contains("33 samples in 3 batches from 40 inputs through"
                    + " Features (batches of 16)"), r.toTable());
            // the observer saw the translator's output (inputs / 10): range [0, 3.4]
            assertEquals("[0.000, 3.400]", r.getLayer("01Linear").getInputRange());
        }
    }
}

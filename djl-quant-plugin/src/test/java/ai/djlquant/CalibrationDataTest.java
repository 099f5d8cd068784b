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
                42,
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
                    Arrays.asList("4:(4, 3):0.0", "4:(4, 3):0.4", "2:(2, 3):0.8"),
                    run(data, model, 10));
            assertEquals(1, t.prepared);
            // more inputs than used: a random subset, in order
            List<String> some = run(data, model, 6);
            assertEquals(2, some.size());
            assertTrue(some.get(0).startsWith("4:(4, 3):") && some.get(1).startsWith("2:(2, 3):"));
            Features single = new Features(false);
            assertEquals(
                    Arrays.asList("1:(1, 3):0.0", "1:(1, 3):0.1"),
                    run(CalibrationData.fromInputs(inputs(2), single, 4), model, 2));
        }
    }

    @Test
    void randomSubsetsAreUniformOrderedAndSeeded() {
        List<Long> a = CalibrationData.randomSubset(1000, 100, 42);
        assertEquals(a, CalibrationData.randomSubset(1000, 100, 42));
        assertTrue(!a.equals(CalibrationData.randomSubset(1000, 100, 43)));
        for (int i = 1; i < a.size(); i++) {
            assertTrue(a.get(i - 1) < a.get(i));
        }
        // a class-sorted folder of 10 x 100 images: every class gets a share of 100 draws
        int[] perClass = new int[10];
        for (long i : a) {
            perClass[(int) (i / 100)]++;
        }
        for (int c : perClass) {
            assertTrue(c >= 3, Arrays.toString(perClass));
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
            assertEquals(Arrays.asList("4:(4, 3):0.0", "4:(4, 3):12.0", "2:(2, 3):24.0"),
                    run(data, model, 10));
            List<String> some = run(data, model, 6);
            assertEquals(2, some.size());
            assertTrue(some.get(1).startsWith("2:(2, 3):"), some.toString());
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
                            TestConfigs.builder().optCalibrationSamples(33).build());
            assertEquals(33, r.getCalibrationSamples());
            assertTrue(r.toTable().contains("33 samples in 3 batches from 40 inputs through"
                    + " Features (batches of 16)"), r.toTable());
            // the observer saw the translator's output (inputs / 10, so at most 4.1, not 41)
            String range = r.getLayer("01Linear").getInputRange();
            float hi = Float.parseFloat(range.substring(range.indexOf(',') + 1, range.length() - 1));
            assertTrue(hi > 3 && hi <= 4.1f, range);
        }
    }
}

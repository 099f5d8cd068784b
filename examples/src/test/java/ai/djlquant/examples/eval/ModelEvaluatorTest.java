package ai.djlquant.examples.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.util.Progress;
import ai.djlquant.examples.TestData;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.models.ReferenceModel;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

class ModelEvaluatorTest {

    @Test
    void percentilesAreNearestRank() {
        long[] nanos = new long[10];
        for (int i = 0; i < nanos.length; i++) {
            nanos[9 - i] = (i + 1) * 1_000_000L;
        }
        LatencyStats s = LatencyStats.of(32, nanos);
        assertEquals(32, s.getBatchSize());
        assertEquals(10, s.getIterations());
        assertEquals(5.0, s.getMedianMs(), 1e-9);
        assertEquals(9.0, s.getP90Ms(), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> LatencyStats.of(1, new long[0]));
    }

    @Test
    void theAccuracyPassReportsItsProgress() throws Exception {
        IdxDataset test = IdxDataset.builder().setDirectory(TestData.testDir()).build();
        List<String> messages = new ArrayList<>();
        long[] last = {-1, 0};
        Progress progress =
                new Progress() {
                    @Override
                    public void reset(String message, long max, String trailing) {
                        messages.add(message);
                        last[1] = max;
                    }

                    @Override
                    public void start(long initial) {}

                    @Override
                    public void end() {}

                    @Override
                    public void increment(long n) {}

                    @Override
                    public void update(long value, String message) {
                        last[0] = value;
                    }
                };
        ModelEvaluator evaluator =
                ModelEvaluator.builder()
                        .setTestSet(test)
                        .setTranslator(FashionMnist.newTranslator())
                        .optLimit(300)
                        .optMeasureLatency(false)
                        .optProgress(progress)
                        .build();
        try (ZooModel<Image, Classifications> model =
                ReferenceModel.MLP.load(TestData.modelsDir())) {
            evaluator.evaluate("mlp fp32", model);
        }
        assertEquals(List.of("Evaluating"), messages);
        assertEquals(300, last[1]);
        assertEquals(299, last[0]);
    }

    @Test
    void measuresAccuracyAndBothLatencies() throws Exception {
        IdxDataset test = IdxDataset.builder().setDirectory(TestData.testDir()).build();
        ModelEvaluator evaluator =
                ModelEvaluator.builder()
                        .setTestSet(test)
                        .setTranslator(FashionMnist.newTranslator())
                        .optLimit(500)
                        .optBatchSizes(1, 8)
                        .optWarmup(4)
                        .optIterations(20, 5)
                        .build();
        EvaluationResult r;
        try (ZooModel<Image, Classifications> model =
                ReferenceModel.MLP.load(TestData.modelsDir())) {
            r = evaluator.evaluate("mlp fp32", model);
        }
        assertEquals(500, r.getSamples());
        assertEquals((double) r.getCorrect() / 500, r.getTop1(), 1e-12);
        assertTrue(r.getTop1() > 0.8, "mlp top-1 on 500 images: " + r.getTop1());
        assertEquals(2, r.getPredictorLatency().size());
        assertEquals(2, r.getForwardLatency().size());
        for (LatencyStats s : r.getPredictorLatency()) {
            assertTrue(s.getMedianMs() > 0 && s.getP90Ms() >= s.getMedianMs());
        }
        assertEquals(8, r.getForwardLatency().get(1).getBatchSize());
        assertEquals(5, r.getForwardLatency().get(1).getIterations());
        assertEquals(20, r.getForwardLatency().get(0).getIterations());
        assertTrue(r.getTorchThreads() >= 1);
        // 784*256+256 + 256*128+128 + 128*10+10 float32 parameters
        assertEquals(4 * 235_146L, r.getParameterBytes());

        String row = r.toTableRow();
        assertTrue(row.startsWith("mlp fp32"), row);
        assertTrue(row.contains(" 941 kB"), row);
        assertEquals(4, row.split(" ms", -1).length - 1, row);
        assertTrue(EvaluationResult.tableHeader(1, 8).contains("forward b8"));

        JsonObject json = JsonParser.parseString(r.toJson()).getAsJsonObject();
        assertEquals(r.getTop1(), json.get("top1").getAsDouble(), 1e-12);
        assertEquals(2, json.getAsJsonArray("forward").size());
        assertEquals(
                r.getPredictorLatency().get(0).getMedianMs(),
                json.getAsJsonArray("predictor")
                        .get(0)
                        .getAsJsonObject()
                        .get("medianMs")
                        .getAsDouble(),
                1e-12);
    }
}

package ai.djlquant.examples.quantize;

import ai.djl.Model;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.translate.TranslateException;
import ai.djl.translate.Translator;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.eval.EvaluationResult;
import ai.djlquant.examples.eval.ModelEvaluator;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * fp32 and int8 latency side by side in one run, with the evaluation harness's measurements
 * ({@code Block.forward} on a preprocessed batch, and the {@code Predictor} with its translator).
 *
 * <p>The two models are timed in alternating rounds (fp32 then int8, then int8 then fp32, ...),
 * and each number is the lowest median over the rounds: on a machine shared with other work, a
 * burst of load then slows one round of one model instead of deciding the ratio.
 */
public final class LatencyComparison {

    private final List<Row> rows;

    private LatencyComparison(List<Row> rows) {
        this.rows = rows;
    }

    /** The medians at one batch size. */
    public static final class Row {

        private final int batch;
        private double fp32Forward = Double.MAX_VALUE;
        private double int8Forward = Double.MAX_VALUE;
        private double fp32Predictor = Double.MAX_VALUE;
        private double int8Predictor = Double.MAX_VALUE;

        Row(int batch) {
            this.batch = batch;
        }

        /**
         * Returns the batch size.
         *
         * @return the batch size
         */
        public int getBatch() {
            return batch;
        }

        /**
         * Returns the fp32 model's median forward milliseconds per batch.
         *
         * @return milliseconds
         */
        public double getFp32ForwardMs() {
            return fp32Forward;
        }

        /**
         * Returns the int8 model's median forward milliseconds per batch.
         *
         * @return milliseconds
         */
        public double getInt8ForwardMs() {
            return int8Forward;
        }

        /**
         * Returns the fp32 model's median predictor milliseconds per call.
         *
         * @return milliseconds
         */
        public double getFp32PredictorMs() {
            return fp32Predictor;
        }

        /**
         * Returns the int8 model's median predictor milliseconds per call.
         *
         * @return milliseconds
         */
        public double getInt8PredictorMs() {
            return int8Predictor;
        }

        /**
         * Returns fp32 / int8 forward time (above 1: int8 is faster).
         *
         * @return the ratio
         */
        public double getForwardSpeedup() {
            return fp32Forward / int8Forward;
        }

        /**
         * Returns fp32 / int8 predictor time (above 1: int8 is faster).
         *
         * @return the ratio
         */
        public double getPredictorSpeedup() {
            return fp32Predictor / int8Predictor;
        }
    }

    /**
     * Measures both models.
     *
     * @param fp32 the float model
     * @param int8 the quantized model
     * @param data the images the calls cycle through
     * @param translator the translator of the predictor measurements
     * @param batchSizes the batch sizes
     * @param iterations timed calls at batch 1 (a fifth of them, at least 5, at larger batches)
     * @param rounds the rounds per model
     * @return the medians
     * @throws TranslateException if the translator fails
     * @throws java.io.IOException if the data cannot be prepared
     */
    public static LatencyComparison measure(
            Model fp32,
            Model int8,
            IdxDataset data,
            Translator<Image, Classifications> translator,
            int[] batchSizes,
            int iterations,
            int rounds)
            throws TranslateException, java.io.IOException {
        int batched = Math.max(5, iterations / 5);
        ModelEvaluator ev =
                ModelEvaluator.builder()
                        .setTestSet(data)
                        .setTranslator(translator)
                        .optBatchSizes(batchSizes)
                        .optWarmup(Math.max(5, iterations / 5))
                        .optIterations(iterations, batched)
                        .optLimit(100)
                        .build();
        List<Row> rows = new ArrayList<>();
        for (int b : batchSizes) {
            rows.add(new Row(b));
        }
        for (int r = 0; r < rounds; r++) {
            boolean fp32First = r % 2 == 0;
            EvaluationResult first = ev.evaluate("first", fp32First ? fp32 : int8);
            EvaluationResult second = ev.evaluate("second", fp32First ? int8 : fp32);
            EvaluationResult f = fp32First ? first : second;
            EvaluationResult q = fp32First ? second : first;
            for (int i = 0; i < rows.size(); i++) {
                Row row = rows.get(i);
                row.fp32Forward =
                        Math.min(row.fp32Forward, f.getForwardLatency().get(i).getMedianMs());
                row.int8Forward =
                        Math.min(row.int8Forward, q.getForwardLatency().get(i).getMedianMs());
                row.fp32Predictor =
                        Math.min(row.fp32Predictor, f.getPredictorLatency().get(i).getMedianMs());
                row.int8Predictor =
                        Math.min(row.int8Predictor, q.getPredictorLatency().get(i).getMedianMs());
            }
        }
        return new LatencyComparison(rows);
    }

    /**
     * Returns one row per batch size.
     *
     * @return the rows
     */
    public List<Row> getRows() {
        return Collections.unmodifiableList(rows);
    }
}

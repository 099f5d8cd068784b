package ai.djlquant.examples.eval;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.translate.Pipeline;
import ai.djl.translate.TranslateException;
import ai.djl.translate.Translator;
import ai.djl.util.Pair;
import ai.djl.util.Progress;
import ai.djlquant.ProgressSink;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.IdxDataset;

import java.util.ArrayList;
import java.util.List;

/**
 * The evaluation harness: top-1 accuracy of a model on a labelled test split, and its latency per
 * batch, for any DJL {@link Model} (float or quantized: only its {@link Block} and a translator are
 * used).
 *
 * <ul>
 *   <li>Accuracy: every test image goes, as a DJL {@link Image} made from the IDX bytes, through a
 *       {@link Predictor} with the given translator (batches of {@value #ACCURACY_BATCH}); a hit is
 *       a best class equal to the image's class name.
 *   <li>Predictor latency: {@code predict(image)} at batch 1, {@code batchPredict(images)} at
 *       larger batches, translator included.
 *   <li>Forward latency: {@code block.forward(store, batch, false)} on a batch already preprocessed
 *       with {@link FashionMnist#newPipeline()}, translator excluded.
 * </ul>
 *
 * <p>Each latency is timed per call with {@link System#nanoTime()} after warm-up calls, and
 * summarised as median and 90th percentile. The images cycle through the test split so that calls
 * do not see the same input.
 */
public final class ModelEvaluator {

    /** Images per predictor call when measuring accuracy. */
    public static final int ACCURACY_BATCH = 100;

    private final IdxDataset testSet;
    private final Translator<Image, Classifications> translator;
    private final int[] batchSizes;
    private final int warmup;
    private final int iterationsBatch1;
    private final int iterationsBatched;
    private final boolean measureLatency;
    private final int limit;
    private final Progress progress;

    private ModelEvaluator(Builder builder) {
        this.testSet = builder.testSet;
        this.translator = builder.translator;
        this.batchSizes = builder.batchSizes.clone();
        this.warmup = builder.warmup;
        this.iterationsBatch1 = builder.iterationsBatch1;
        this.iterationsBatched = builder.iterationsBatched;
        this.measureLatency = builder.measureLatency;
        this.progress = builder.progress;
        this.limit = builder.limit;
    }

    /**
     * Creates a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the batch sizes latency is measured at.
     *
     * @return the batch sizes
     */
    public int[] getBatchSizes() {
        return batchSizes.clone();
    }

    /**
     * Returns a one-line description of the threads this JVM and PyTorch use.
     *
     * @return e.g. "PyTorch intra-op threads 2 (ai.djl.pytorch.num_threads unset), 2 processors"
     */
    public static String threadInfo() {
        String property = System.getProperty("ai.djl.pytorch.num_threads");
        return "PyTorch intra-op threads "
                + torchThreads()
                + " (ai.djl.pytorch.num_threads "
                + (property == null ? "unset" : "=" + property)
                + "), Runtime.availableProcessors() "
                + Runtime.getRuntime().availableProcessors();
    }

    /**
     * Returns PyTorch's intra-op thread count (loading the engine first if needed).
     *
     * @return the thread count
     */
    public static int torchThreads() {
        Engine.getEngine("PyTorch");
        return JniUtils.getNumThreads();
    }

    /**
     * Evaluates a model.
     *
     * @param name the name the result is shown under
     * @param model the model (its block must be initialised, e.g. loaded)
     * @return accuracy and latency
     * @throws TranslateException if the translator fails on an image
     */
    public EvaluationResult evaluate(String name, Model model) throws TranslateException {
        int samples = (int) Math.min(testSet.size(), limit);
        int correct = 0;
        List<LatencyStats> predictorLatency = new ArrayList<>();
        List<LatencyStats> forwardLatency = new ArrayList<>();
        ProgressSink bar = new ProgressSink(progress, "Evaluating", samples);
        try (Predictor<Image, Classifications> predictor = model.newPredictor(translator)) {
            for (int from = 0; from < samples; from += ACCURACY_BATCH) {
                int to = Math.min(samples, from + ACCURACY_BATCH);
                bar.advance(to - from);
                List<Classifications> out = predictor.batchPredict(images(from, to - from));
                for (int i = from; i < to; i++) {
                    String expected = FashionMnist.CLASS_NAMES.get(testSet.getLabel(i));
                    if (expected.equals(out.get(i - from).best().getClassName())) {
                        correct++;
                    }
                }
            }
            bar.end();
            if (measureLatency) {
                for (int b : batchSizes) {
                    predictorLatency.add(timePredictor(predictor, b));
                }
            }
        }
        if (measureLatency) {
            for (int b : batchSizes) {
                forwardLatency.add(timeForward(model, b));
            }
        }
        return new EvaluationResult(
                name,
                samples,
                correct,
                parameterBytes(model.getBlock()),
                torchThreads(),
                Runtime.getRuntime().availableProcessors(),
                predictorLatency,
                forwardLatency);
    }

    /**
     * Returns the bytes of all parameters of a block: elements times the width of their data type.
     *
     * @param block an initialised block
     * @return bytes
     */
    public static long parameterBytes(Block block) {
        long bytes = 0;
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray array = p.getValue().getArray();
            bytes += array.size() * array.getDataType().getNumOfBytes();
        }
        return bytes;
    }

    private LatencyStats timePredictor(Predictor<Image, Classifications> predictor, int batch)
            throws TranslateException {
        int iterations = iterations(batch);
        long[] nanos = new long[iterations];
        int next = 0;
        for (int i = -warmupCalls(batch); i < iterations; i++) {
            List<Image> inputs = images(next, batch);
            next = (next + batch) % (int) (testSet.size() - batch);
            long start = System.nanoTime();
            if (batch == 1) {
                predictor.predict(inputs.get(0));
            } else {
                predictor.batchPredict(inputs);
            }
            long elapsed = System.nanoTime() - start;
            if (i >= 0) {
                nanos[i] = elapsed;
            }
        }
        return LatencyStats.of(batch, nanos);
    }

    private LatencyStats timeForward(Model model, int batch) {
        int iterations = iterations(batch);
        long[] nanos = new long[iterations];
        Block block = model.getBlock();
        Pipeline pipeline = FashionMnist.newPipeline();
        try (NDManager manager = model.getNDManager().newSubManager()) {
            ParameterStore store = new ParameterStore(manager, false);
            // a few distinct batches, preprocessed before the clock starts, used in turn
            int distinct = (int) Math.min(8, testSet.size() / batch);
            NDList[] inputs = new NDList[distinct];
            for (int k = 0; k < distinct; k++) {
                NDArray raw = testSet.rawImages(manager, k * batch, batch);
                inputs[k] = pipeline.transform(new NDList(raw));
            }
            for (int i = -warmupCalls(batch); i < iterations; i++) {
                NDList input = inputs[Math.floorMod(i, distinct)];
                try (NDManager scope = manager.newSubManager()) {
                    // intermediates land in the input's manager: borrow it per call, then free them
                    input.tempAttach(scope);
                    long start = System.nanoTime();
                    block.forward(store, input, false);
                    long elapsed = System.nanoTime() - start;
                    if (i >= 0) {
                        nanos[i] = elapsed;
                    }
                }
            }
        }
        return LatencyStats.of(batch, nanos);
    }

    private int iterations(int batch) {
        return batch == 1 ? iterationsBatch1 : iterationsBatched;
    }

    private int warmupCalls(int batch) {
        return batch == 1 ? warmup : Math.max(1, warmup / 4);
    }

    private List<Image> images(int from, int count) {
        List<Image> list = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            list.add(testSet.getImage(from + i));
        }
        return list;
    }

    /** Builds a {@link ModelEvaluator}. */
    public static final class Builder {

        private IdxDataset testSet;
        private Translator<Image, Classifications> translator;
        private int[] batchSizes = {1, 32};
        private int warmup = 40;
        private int iterationsBatch1 = 300;
        private int iterationsBatched = 60;
        private boolean measureLatency = true;
        private Progress progress;
        private int limit = Integer.MAX_VALUE;

        Builder() {}

        /**
         * Sets the labelled test split (prepared or not; it is prepared on build).
         *
         * @param testSet the test split
         * @return this builder
         */
        public Builder setTestSet(IdxDataset testSet) {
            this.testSet = testSet;
            return this;
        }

        /**
         * Sets the translator the predictor uses (normally {@link FashionMnist#newTranslator()}).
         *
         * @param translator the translator
         * @return this builder
         */
        public Builder setTranslator(Translator<Image, Classifications> translator) {
            this.translator = translator;
            return this;
        }

        /**
         * Sets the batch sizes latency is measured at (default 1 and 32).
         *
         * @param batchSizes the batch sizes
         * @return this builder
         */
        public Builder optBatchSizes(int... batchSizes) {
            this.batchSizes = batchSizes.clone();
            return this;
        }

        /**
         * Sets the warm-up calls before timing at batch 1 (a quarter of them at larger batches).
         *
         * @param warmup the number of untimed calls
         * @return this builder
         */
        public Builder optWarmup(int warmup) {
            this.warmup = warmup;
            return this;
        }

        /**
         * Sets the timed calls at batch 1 and at larger batches.
         *
         * @param batch1 timed calls at batch 1 (default 300)
         * @param batched timed calls at each larger batch size (default 60)
         * @return this builder
         */
        public Builder optIterations(int batch1, int batched) {
            this.iterationsBatch1 = batch1;
            this.iterationsBatched = batched;
            return this;
        }

        /**
         * Sets the progress listener of the accuracy pass (default: DJL's ProgressBar once the
         * pass has run for two seconds, as the quantizer's steps show it).
         *
         * @param progress the listener
         * @return this builder
         */
        public Builder optProgress(Progress progress) {
            this.progress = progress;
            return this;
        }

        /**
         * Sets whether latency is measured at all (default true); accuracy always is.
         *
         * @param measureLatency false to measure accuracy only
         * @return this builder
         */
        public Builder optMeasureLatency(boolean measureLatency) {
            this.measureLatency = measureLatency;
            return this;
        }

        /**
         * Evaluates accuracy on the first {@code limit} test images only (default: all).
         *
         * @param limit the number of images
         * @return this builder
         */
        public Builder optLimit(int limit) {
            this.limit = limit;
            return this;
        }

        /**
         * Builds the evaluator, preparing the test split.
         *
         * @return the evaluator
         * @throws java.io.IOException if the test split cannot be read
         */
        public ModelEvaluator build() throws java.io.IOException {
            if (testSet == null || translator == null) {
                throw new IllegalArgumentException("the test set and the translator must be set");
            }
            for (int b : batchSizes) {
                if (b < 1) {
                    throw new IllegalArgumentException("batch sizes must be positive, got " + b);
                }
            }
            if (warmup < 0 || iterationsBatch1 < 1 || iterationsBatched < 1 || limit < 1) {
                throw new IllegalArgumentException(
                        "warm-up, iterations and limit must be positive");
            }
            testSet.prepare();
            return new ModelEvaluator(this);
        }
    }
}

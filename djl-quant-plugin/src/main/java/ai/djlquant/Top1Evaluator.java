package ai.djlquant;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.translate.TranslateException;
import ai.djl.translate.Translator;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Top-1 accuracy of a classifier on labelled inputs, through a Predictor with the serving
 * translator: what a user measures before and after quantizing, and the metric of an {@link
 * AccuracyGoal} ({@link #goal(double)}). A prediction is a hit when the best class's position in
 * the classifier's class list ({@link Classifications#getClassNames()}, the translator's synset)
 * is the input's label.
 *
 * @param <I> the input type
 */
public final class Top1Evaluator<I> {

    /**
     * One measurement.
     *
     * @param samples the inputs predicted
     * @param correct the hits
     */
    public record Result(long samples, long correct) {

        /**
         * Returns the fraction of hits.
         *
         * @return top-1 in [0, 1], 0 if there were no samples
         */
        public double top1() {
            return samples == 0 ? 0 : (double) correct / samples;
        }
    }

    private final List<I> inputs;
    private final List<Integer> labels;
    private final Translator<I, Classifications> translator;
    private final int batchSize;
    private final String description;

    private Top1Evaluator(
            List<I> inputs,
            List<Integer> labels,
            Translator<I, Classifications> translator,
            int batchSize,
            String description) {
        this.inputs = inputs;
        this.labels = labels;
        this.translator = translator;
        this.batchSize = batchSize;
        this.description = description;
    }

    /**
     * Evaluates on inputs with their labels.
     *
     * @param inputs the inputs
     * @param labels the label of each input: its class's position in the classifier's class list
     * @param translator the serving translator
     * @param batchSize inputs per predictor call
     * @param <I> the input type
     * @return the evaluator
     * @throws IllegalArgumentException if the lists differ in length or the batch size is below 1
     */
    public static <I> Top1Evaluator<I> of(
            List<I> inputs,
            List<Integer> labels,
            Translator<I, Classifications> translator,
            int batchSize) {
        Objects.requireNonNull(translator, "translator");
        if (inputs.size() != labels.size()) {
            throw new IllegalArgumentException(
                    "inputs and labels differ in length: "
                            + inputs.size()
                            + " inputs, "
                            + labels.size()
                            + " labels.");
        }
        checkBatch(batchSize);
        return new Top1Evaluator<>(
                List.copyOf(inputs),
                List.copyOf(labels),
                translator,
                batchSize,
                inputs.size() + " inputs");
    }

    /**
     * Evaluates on a folder of class sub-folders: the images of the {@code k}-th sub-folder in
     * name order have label {@code k} (so name the folders in the classifier's class order, e.g.
     * {@code 0-tshirt}, {@code 1-trouser}). Images are read as their batch is predicted.
     *
     * @param dir the folder
     * @param translator the serving translator
     * @param batchSize images per predictor call
     * @return the evaluator
     * @throws IllegalArgumentException naming the folder if it is missing, holds no images, or
     *     holds images outside class sub-folders
     */
    public static Top1Evaluator<Image> ofImageFolder(
            Path dir, Translator<Image, Classifications> translator, int batchSize) {
        Objects.requireNonNull(translator, "translator");
        checkBatch(batchSize);
        ImageFolder images = ImageFolder.of(dir, "test");
        List<Integer> labels = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            int label = images.label(i);
            if (label < 0) {
                throw new IllegalArgumentException(
                        "the test image folder "
                                + dir
                                + " holds images outside class sub-folders (the first: image "
                                + i
                                + " in path order); put each class's images in a sub-folder.");
            }
            labels.add(label);
        }
        return new Top1Evaluator<>(
                images,
                List.copyOf(labels),
                translator,
                batchSize,
                images.size() + " images in " + images.classes().size() + " classes of " + dir);
    }

    private static void checkBatch(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        }
    }

    /**
     * Returns the number of labelled inputs.
     *
     * @return the count
     */
    public int size() {
        return inputs.size();
    }

    /**
     * Describes the data, e.g. {@code 1000 images in 10 classes of calibration-data/test}.
     *
     * @return the description
     */
    public String describe() {
        return description;
    }

    /**
     * Measures the model's top-1 on every input.
     *
     * @param model the model (fp32 or quantized)
     * @return the hits and samples
     * @throws TranslateException if the translator or the model fails
     */
    public Result evaluate(Model model) throws TranslateException {
        return evaluate(model, inputs.size());
    }

    /**
     * Measures the model's top-1 on the first {@code limit} inputs.
     *
     * @param model the model (fp32 or quantized)
     * @param limit the most inputs to predict
     * @return the hits and samples
     * @throws TranslateException if the translator or the model fails
     */
    public Result evaluate(Model model, int limit) throws TranslateException {
        int n = Math.min(limit, inputs.size());
        long correct = 0;
        try (Predictor<I, Classifications> p = model.newPredictor(translator)) {
            for (int from = 0; from < n; from += batchSize) {
                int to = Math.min(n, from + batchSize);
                List<Classifications> out = p.batchPredict(inputs.subList(from, to));
                for (int i = from; i < to; i++) {
                    Classifications c = out.get(i - from);
                    if (c.getClassNames().indexOf(c.best().getClassName()) == labels.get(i)) {
                        correct++;
                    }
                }
            }
        }
        return new Result(n, correct);
    }

    /**
     * Returns an accuracy goal on this top-1: at most {@code maxDrop} (a fraction: 0.01 is one
     * point) below the fp32 model's.
     *
     * @param maxDrop the largest acceptable drop
     * @return the goal, for {@code QuantizationConfig.builder().optAccuracyGoal(...)}
     */
    public AccuracyGoal goal(double maxDrop) {
        return AccuracyGoal.of(
                "top-1 on " + description,
                model -> {
                    try {
                        return evaluate(model).top1();
                    } catch (TranslateException e) {
                        throw new IllegalStateException(
                                "top-1 on " + description + " failed: " + e.getMessage(), e);
                    }
                },
                maxDrop);
    }
}

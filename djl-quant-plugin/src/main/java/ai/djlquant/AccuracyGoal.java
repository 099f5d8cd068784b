package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.evaluator.Evaluator;
import ai.djl.training.loss.Loss;
import ai.djl.translate.TranslateException;

import java.io.IOException;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * What the quantized model must still achieve on the user's own validation data: a metric and the
 * largest drop from its fp32 value that is acceptable. With a goal set ({@link
 * QuantizationConfig.Builder#optAccuracyGoal}), {@link Quantizer#quantize} measures the metric on
 * the fp32 model before it changes anything and on the int8 model after conversion; if the drop
 * is larger than allowed, int8 layers are restored to fp32, the most sensitive first, one more per
 * trial, until the goal holds or the trial budget is spent. The best model found is what the call
 * returns, and the report lists every trial.
 *
 * <pre>{@code
 * // top-1 on the user's validation set, at most half a point lost
 * AccuracyGoal goal = AccuracyGoal.of("top-1", model -> myTop1(model, validation), 0.005);
 * // or with a DJL Dataset and Evaluator
 * AccuracyGoal goal = AccuracyGoal.of(validationSet, new Accuracy(), 0.005);
 * }</pre>
 *
 * <p>The drop is {@code fp32 - int8} for a metric where higher is better (accuracy) and {@code
 * int8 - fp32} where lower is better (a loss; {@link #lowerIsBetter()}); the goal holds when the
 * drop is at most {@code maxDrop}, in the metric's own units.
 */
public final class AccuracyGoal {

    /** The default number of trials after the first measurement of the int8 model. */
    public static final int DEFAULT_MAX_TRIALS = 8;

    private final String name;
    private final ToDoubleFunction<Model> metric;
    private final double maxDrop;
    private final boolean higherIsBetter;
    private final int maxTrials;

    private AccuracyGoal(
            String name,
            ToDoubleFunction<Model> metric,
            double maxDrop,
            boolean higherIsBetter,
            int maxTrials) {
        this.name = Objects.requireNonNull(name, "name");
        this.metric = Objects.requireNonNull(metric, "metric");
        if (!Double.isFinite(maxDrop) || maxDrop < 0) {
            throw new IllegalArgumentException(
                    "the accuracy goal's maxDrop must be finite and non-negative, got " + maxDrop + ".");
        }
        if (maxTrials < 0) {
            throw new IllegalArgumentException(
                    "the accuracy goal's maxTrials must be non-negative, got " + maxTrials + ".");
        }
        this.maxDrop = maxDrop;
        this.higherIsBetter = higherIsBetter;
        this.maxTrials = maxTrials;
    }

    /**
     * A goal on a metric the caller computes from the model (for example top-1 through a
     * Predictor on a validation set); higher is better.
     *
     * @param name what the metric is, for the report
     * @param metric computes the metric on the model as it is when called
     * @param maxDrop the largest acceptable drop, in the metric's units, non-negative
     * @return the goal
     * @throws IllegalArgumentException if {@code maxDrop} is negative or not finite
     */
    public static AccuracyGoal of(String name, ToDoubleFunction<Model> metric, double maxDrop) {
        return new AccuracyGoal(name, metric, maxDrop, true, DEFAULT_MAX_TRIALS);
    }

    /**
     * A goal on a DJL evaluator over a dataset: each batch's data goes through the model's block,
     * and the evaluator's accumulator over all batches is the metric. A {@link Loss} is lower is
     * better; any other evaluator (such as {@code Accuracy}) higher is better.
     *
     * @param dataset the validation data, batches of the model's inputs and labels
     * @param evaluator the evaluator
     * @param maxDrop the largest acceptable drop, in the evaluator's units, non-negative
     * @return the goal
     * @throws IllegalArgumentException if {@code maxDrop} is negative or not finite
     */
    public static AccuracyGoal of(Dataset dataset, Evaluator evaluator, double maxDrop) {
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(evaluator, "evaluator");
        return new AccuracyGoal(
                evaluator.getName(),
                model -> evaluate(model, dataset, evaluator),
                maxDrop,
                !(evaluator instanceof Loss),
                DEFAULT_MAX_TRIALS);
    }

    /**
     * Returns this goal for a metric where lower is better (a loss, an error rate).
     *
     * @return the new goal
     */
    public AccuracyGoal lowerIsBetter() {
        return new AccuracyGoal(name, metric, maxDrop, false, maxTrials);
    }

    /**
     * Returns this goal with another trial budget: how many restored versions of the model are
     * measured after the first int8 one (default {@value #DEFAULT_MAX_TRIALS}; each costs one
     * evaluation of the metric).
     *
     * @param trials the budget, non-negative
     * @return the new goal
     * @throws IllegalArgumentException if the budget is negative
     */
    public AccuracyGoal withMaxTrials(int trials) {
        return new AccuracyGoal(name, metric, maxDrop, higherIsBetter, trials);
    }

    /**
     * Returns the metric's name.
     *
     * @return the name
     */
    public String getName() {
        return name;
    }

    /**
     * Returns the largest acceptable drop.
     *
     * @return the drop, in the metric's units
     */
    public double getMaxDrop() {
        return maxDrop;
    }

    /**
     * Returns whether higher values of the metric are better.
     *
     * @return true for accuracy-like metrics, false for losses
     */
    public boolean isHigherBetter() {
        return higherIsBetter;
    }

    /**
     * Returns the trial budget.
     *
     * @return the most trials after the first int8 measurement
     */
    public int getMaxTrials() {
        return maxTrials;
    }

    /**
     * Returns how much worse {@code value} is than {@code fp32} (negative if better).
     *
     * @param fp32 the fp32 model's value
     * @param value another model's value
     * @return the drop
     */
    double drop(double fp32, double value) {
        return higherIsBetter ? fp32 - value : value - fp32;
    }

    /**
     * Measures the metric on the model as it is.
     *
     * @param model the model
     * @param which which model it is, for the message ("the fp32 model", "trial 3")
     * @return the value, finite
     * @throws IllegalArgumentException if the metric throws or gives NaN or infinity
     */
    double measure(Model model, String which) {
        double v;
        try {
            v = metric.applyAsDouble(model);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    "the accuracy goal's metric '" + name + "' failed on " + which + ": " + e, e);
        }
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(
                    "the accuracy goal's metric '" + name + "' gave " + v + " on " + which
                            + "; it must give a finite number.");
        }
        return v;
    }

    private static double evaluate(Model model, Dataset dataset, Evaluator evaluator) {
        String key = "djl-quant accuracy goal";
        evaluator.addAccumulator(key);
        Block block = model.getBlock();
        try (NDManager manager = model.getNDManager().newSubManager()) {
            ParameterStore store = new ParameterStore(manager, false);
            for (Batch batch : dataset.getData(manager)) {
                try (batch) {
                    NDList out = block.forward(store, batch.getData(), false);
                    evaluator.updateAccumulator(key, batch.getLabels(), out);
                }
            }
            return evaluator.getAccumulator(key);
        } catch (IOException | TranslateException e) {
            throw new IllegalStateException("the validation dataset could not be read: " + e, e);
        } finally {
            evaluator.resetAccumulator(key);
        }
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "AccuracyGoal(" + name + ", maxDrop=" + maxDrop
                + (higherIsBetter ? "" : ", lower is better") + ", maxTrials=" + maxTrials + ")";
    }
}

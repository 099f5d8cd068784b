package ai.djlquant.examples.eval;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * What the harness measured for one model: top-1 accuracy on the test split and latency per batch,
 * printable as a table row (so an fp32 and an int8 model sit side by side) and as JSON.
 *
 * <p>Two latencies are kept apart: {@code predictor} is a {@code Predictor} call on DJL images,
 * translator included (what a user sees); {@code forward} is the bare {@code Block.forward} on an
 * already preprocessed batch (what quantization changes).
 */
public final class EvaluationResult {

    private final String model;
    private final int samples;
    private final int correct;
    private final double top1;
    private final long parameterBytes;
    private final int torchThreads;
    private final int availableProcessors;
    private final List<LatencyStats> predictor;
    private final List<LatencyStats> forward;

    /**
     * Creates a result.
     *
     * @param model the model's display name
     * @param samples the number of test images evaluated
     * @param correct how many of them the model classified correctly (top-1)
     * @param parameterBytes the bytes of all the block's parameters (their data types' widths)
     * @param torchThreads PyTorch's intra-op thread count during the run
     * @param availableProcessors the JVM's processor count
     * @param predictor latency of Predictor calls, one entry per batch size (may be empty)
     * @param forward latency of bare Block forward calls, one entry per batch size (may be empty)
     */
    public EvaluationResult(
            String model,
            int samples,
            int correct,
            long parameterBytes,
            int torchThreads,
            int availableProcessors,
            List<LatencyStats> predictor,
            List<LatencyStats> forward) {
        this.model = model;
        this.samples = samples;
        this.correct = correct;
        this.top1 = samples == 0 ? 0 : (double) correct / samples;
        this.parameterBytes = parameterBytes;
        this.torchThreads = torchThreads;
        this.availableProcessors = availableProcessors;
        this.predictor = Collections.unmodifiableList(new ArrayList<>(predictor));
        this.forward = Collections.unmodifiableList(new ArrayList<>(forward));
    }

    /**
     * Returns the model's display name.
     *
     * @return the name
     */
    public String getModel() {
        return model;
    }

    /**
     * Returns the number of test images evaluated.
     *
     * @return the sample count
     */
    public int getSamples() {
        return samples;
    }

    /**
     * Returns the number of correctly classified images.
     *
     * @return the count
     */
    public int getCorrect() {
        return correct;
    }

    /**
     * Returns the top-1 accuracy as a fraction.
     *
     * @return correct / samples
     */
    public double getTop1() {
        return top1;
    }

    /**
     * Returns the size of the block's parameters in memory: elements times data-type width, so an
     * int8 weight counts one byte.
     *
     * @return bytes
     */
    public long getParameterBytes() {
        return parameterBytes;
    }

    /**
     * Returns PyTorch's intra-op thread count during the run.
     *
     * @return the thread count
     */
    public int getTorchThreads() {
        return torchThreads;
    }

    /**
     * Returns the JVM's processor count.
     *
     * @return {@code Runtime.availableProcessors()}
     */
    public int getAvailableProcessors() {
        return availableProcessors;
    }

    /**
     * Returns the Predictor latencies (translator included), one per batch size.
     *
     * @return the latencies
     */
    public List<LatencyStats> getPredictorLatency() {
        return predictor;
    }

    /**
     * Returns the bare forward latencies (preprocessed input), one per batch size.
     *
     * @return the latencies
     */
    public List<LatencyStats> getForwardLatency() {
        return forward;
    }

    /**
     * Returns the header line matching {@link #toTableRow()} for results measured at these batch
     * sizes.
     *
     * @param batchSizes the batch sizes, in the order measured
     * @return the header (two lines: column names and a rule)
     */
    public static String tableHeader(int... batchSizes) {
        StringBuilder sb =
                new StringBuilder(
                        String.format(Locale.ROOT, "%-14s %8s %9s", "model", "top1", "params"));
        for (String kind : new String[] {"predictor", "forward"}) {
            for (int b : batchSizes) {
                sb.append(String.format(Locale.ROOT, " | %-22s", kind + " b" + b + " med/p90"));
            }
        }
        int width = sb.length();
        sb.append('\n').append("-".repeat(width));
        return sb.toString();
    }

    /**
     * Formats the result as one table row: accuracy in percent, parameter size, then median/p90
     * milliseconds per batch for every predictor and forward measurement.
     *
     * @return the row
     */
    public String toTableRow() {
        StringBuilder sb =
                new StringBuilder(
                        String.format(
                                Locale.ROOT,
                                "%-14s %7.2f%% %6.0f kB",
                                model,
                                top1 * 100,
                                parameterBytes / 1000.0));
        appendLatency(sb, predictor);
        appendLatency(sb, forward);
        return sb.toString();
    }

    private static void appendLatency(StringBuilder sb, List<LatencyStats> stats) {
        for (LatencyStats s : stats) {
            sb.append(
                    String.format(
                            Locale.ROOT, " | %8.3f / %8.3f ms", s.getMedianMs(), s.getP90Ms()));
        }
    }

    /**
     * Formats the result as pretty-printed JSON.
     *
     * @return the JSON text
     */
    public String toJson() {
        Gson gson = new GsonBuilder().setPrettyPrinting().create();
        return gson.toJson(this);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return toTableRow();
    }
}

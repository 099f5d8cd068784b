package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djlquant.nn.ForwardTap;
import ai.djlquant.observe.MinMaxObserver;
import ai.djlquant.observe.Observer;
import ai.djlquant.observe.TensorRangeObserver;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * What the calibration pass records for one layer, as its observer block calls it: the activation
 * observer (for static parameters), the range and non-finite count of its fp32 output, and a
 * uniform random sample of its input batches (reservoir sampling over every batch seen, bounded
 * in bytes and rows; at least one batch) on which the decide step then measures the layer's int8
 * choices against fp32. {@link #statistics()} gives the result as a value.
 */
final class CalibrationRecorder implements ForwardTap {

    private final ForwardTracker.Layer layer;
    private final Observer activation;
    private final MinMaxObserver output = new MinMaxObserver();
    private final ForwardTracker tracker;
    private final NDManager sampleManager;
    private final long budgetBytes;
    private final int maxRows;
    private final Random random;
    private final List<NDArray> kept = new ArrayList<>();
    private long batchesSeen;
    private int capacity = -1;
    private long calls;
    private String unsupportedInput;

    CalibrationRecorder(
            ForwardTracker.Layer layer,
            Observer activation,
            ForwardTracker tracker,
            NDManager sampleManager,
            long budgetBytes,
            int maxRows,
            long seed) {
        this.layer = layer;
        this.activation = activation;
        this.tracker = tracker;
        this.sampleManager = sampleManager;
        this.budgetBytes = budgetBytes;
        this.maxRows = maxRows;
        this.random = new Random(seed ^ layer.path().hashCode());
    }

    /** {@inheritDoc} */
    @Override
    public void beforeForward(NDList inputs) {
        tracker.enter(layer, inputs);
    }

    /** {@inheritDoc} */
    @Override
    public void afterForward(NDList inputs, NDList outputs) {
        tracker.exit(layer, outputs);
        calls++;
        NDArray x = inputs.singletonOrThrow();
        if (x.getDataType() != DataType.FLOAT32) {
            unsupportedInput = "its input is " + x.getDataType() + "; int8 layers take FLOAT32";
            return;
        }
        if (x.getShape().dimension() == 0) {
            unsupportedInput = "its input is a scalar";
            return;
        }
        activation.update(x);
        output.update(outputs.singletonOrThrow());
        sample(x);
    }

    /** Reservoir sampling over whole batches (Algorithm R), as many as the budget allows. */
    private void sample(NDArray x) {
        int n = Math.toIntExact(x.getShape().get(0));
        if (capacity < 0) {
            long batchBytes = Math.max(1, x.size() * 4);
            long byRows = Math.max(1, maxRows / Math.max(1, n));
            capacity = (int) Math.max(1, Math.min(byRows, budgetBytes / batchBytes));
        }
        long k = batchesSeen++;
        if (k < capacity) {
            kept.add(copy(x));
        } else {
            long j = random.nextLong(k + 1);
            if (j < capacity) {
                kept.get((int) j).close();
                kept.set((int) j, copy(x));
            }
        }
    }

    private NDArray copy(NDArray x) {
        NDArray c = x.duplicate();
        c.attach(sampleManager);
        return c;
    }

    /** What was recorded, as a value. */
    CalibrationStatistics statistics() {
        LayerReport.Range in = null;
        if (activation instanceof TensorRangeObserver o && !o.isEmpty()) {
            in = new LayerReport.Range(o.getMin(), o.getMax());
        }
        LayerReport.Range out =
                output.isEmpty() ? null : new LayerReport.Range(output.getMin(), output.getMax());
        return new CalibrationStatistics(
                activation,
                calls,
                unsupportedInput,
                activation.getNonFiniteCount(),
                output.getNonFiniteCount(),
                in,
                out);
    }

    /**
     * Hands over the kept input batches, as the calibration pass gave them to the layer (dynamic
     * quantization depends on what is in one call). The caller closes them.
     */
    List<NDArray> takeKeptBatches() {
        List<NDArray> out = new ArrayList<>(kept);
        kept.clear();
        return out;
    }

    /** Frees the kept batches. */
    void closeSamples() {
        for (NDArray r : kept) {
            r.close();
        }
        kept.clear();
    }
}

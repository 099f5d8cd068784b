package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djlquant.nn.LayerTap;
import ai.djlquant.observe.MinMaxObserver;
import ai.djlquant.observe.Observer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * What the calibration pass records for one layer: the activation observer (for static
 * parameters), the range and non-finite count of its fp32 output, and a uniform random sample of
 * its input batches (reservoir sampling over every batch seen, bounded in bytes and rows; at least
 * one batch) on which the plan then measures the layer's int8 choices against fp32.
 */
final class LayerRecorder implements LayerTap {

    private final String path;
    private final String type;
    private final Shape[] initialisedShapes;
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
    private int firstBatchRows;
    private String unsupportedInput;

    LayerRecorder(
            String path,
            String type,
            Shape[] initialisedShapes,
            Observer activation,
            ForwardTracker tracker,
            NDManager sampleManager,
            long budgetBytes,
            int maxRows,
            long seed) {
        this.path = path;
        this.type = type;
        this.initialisedShapes = initialisedShapes;
        this.activation = activation;
        this.tracker = tracker;
        this.sampleManager = sampleManager;
        this.budgetBytes = budgetBytes;
        this.maxRows = maxRows;
        this.random = new Random(seed ^ path.hashCode());
    }

    /** {@inheritDoc} */
    @Override
    public void beforeForward(NDList inputs) {
        tracker.enter(this, inputs);
    }

    /** {@inheritDoc} */
    @Override
    public void afterForward(NDList inputs, NDList outputs) {
        tracker.exit(this, outputs);
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
        if (firstBatchRows == 0) {
            firstBatchRows = n;
        }
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

    /**
     * Returns the kept input batches, as the calibration pass gave them to the layer (dynamic
     * quantization depends on what is in one call). The caller closes them.
     */
    List<NDArray> keptBatches() {
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

    String getPath() {
        return path;
    }

    String getType() {
        return type;
    }

    Shape[] getInitialisedShapes() {
        return initialisedShapes;
    }

    Observer getActivation() {
        return activation;
    }

    MinMaxObserver getOutput() {
        return output;
    }

    long getCalls() {
        return calls;
    }

    int getFirstBatchRows() {
        return firstBatchRows;
    }

    long getKeptRows() {
        long n = 0;
        for (NDArray b : kept) {
            n += b.getShape().get(0);
        }
        return n;
    }

    /** Why this layer's input cannot go through an int8 block, or null. */
    String getUnsupportedInput() {
        return unsupportedInput;
    }
}

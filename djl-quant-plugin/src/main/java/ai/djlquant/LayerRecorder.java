package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djlquant.nn.LayerTap;
import ai.djlquant.observe.MinMaxObserver;
import ai.djlquant.observe.Observer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * What the calibration pass records for one layer: the activation observer (for static
 * parameters), the range and non-finite count of its fp32 output, and a uniform random sample of
 * its input rows (reservoir sampling over every row seen, bounded in bytes and count) on which the
 * plan then measures the layer's int8 choices against fp32.
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
    private final List<NDArray> rows = new ArrayList<>();
    private long rowsSeen;
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

    private void sample(NDArray x) {
        int n = Math.toIntExact(x.getShape().get(0));
        if (firstBatchRows == 0) {
            firstBatchRows = n;
        }
        if (n == 0) {
            return;
        }
        if (capacity < 0) {
            long rowBytes = Math.max(1, x.size() / n * 4);
            capacity = (int) Math.max(1, Math.min(maxRows, budgetBytes / rowBytes));
        }
        for (int r = 0; r < n; r++) {
            long k = rowsSeen++;
            if (k < capacity) {
                rows.add(copyRow(x, r));
            } else {
                long j = random.nextLong(k + 1);
                if (j < capacity) {
                    rows.get((int) j).close();
                    rows.set((int) j, copyRow(x, r));
                }
            }
        }
    }

    private NDArray copyRow(NDArray x, int r) {
        NDArray row = x.get(r).duplicate();
        row.attach(sampleManager);
        return row;
    }

    /**
     * Returns the kept input rows as batches of at most {@code batchSize} rows, rows of the same
     * shape together. The caller closes them.
     */
    List<NDArray> sampleBatches(int batchSize) {
        Map<Shape, List<NDArray>> byShape = new LinkedHashMap<>();
        for (NDArray row : rows) {
            byShape.computeIfAbsent(row.getShape(), s -> new ArrayList<>()).add(row);
        }
        List<NDArray> batches = new ArrayList<>();
        for (List<NDArray> same : byShape.values()) {
            for (int from = 0; from < same.size(); from += batchSize) {
                int to = Math.min(same.size(), from + batchSize);
                batches.add(NDArrays.stack(new NDList(same.subList(from, to))));
            }
        }
        return batches;
    }

    /** Frees the kept rows. */
    void closeSamples() {
        for (NDArray r : rows) {
            r.close();
        }
        rows.clear();
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

    int getKeptRows() {
        return rows.size();
    }

    /** Why this layer's input cannot go through an int8 block, or null. */
    String getUnsupportedInput() {
        return unsupportedInput;
    }
}

package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * What the calibration pass records for the whole-model check: a uniform random sample of whole
 * calibration batches (Algorithm R over batches, seeded) with the fp32 model's outputs on them,
 * copied as the pass computes them, before any layer is int8. At most {@code maxSamples} rows are
 * kept (at least one batch, whatever its size); 0 keeps nothing. The kept arrays live in the
 * manager given, which the caller closes. {@link #take()} gives them as a value.
 */
final class ReferenceRecorder {

    private final NDManager manager;
    private final int maxSamples;
    private final Random random;
    private final List<NDList> inputs = new ArrayList<>();
    private final List<NDList> outputs = new ArrayList<>();
    private long batchesSeen;
    private int capacity = -1;

    /**
     * Creates a recorder.
     *
     * @param manager where the copies live
     * @param maxSamples the most rows kept, 0 for none
     * @param seed the seed of the sample
     */
    ReferenceRecorder(NDManager manager, int maxSamples, long seed) {
        this.manager = manager;
        this.maxSamples = maxSamples;
        this.random = new Random(seed ^ 0x5eedL);
    }

    /**
     * Records one calibration batch and the fp32 model's outputs on it.
     *
     * @param batch the batch as the source gave it
     * @param rows its number of samples
     * @param out the model's outputs on it
     */
    void record(NDList batch, int rows, NDList out) {
        if (maxSamples == 0) {
            return;
        }
        if (capacity < 0) {
            capacity = Math.max(1, maxSamples / Math.max(1, rows));
        }
        long k = batchesSeen++;
        if (k < capacity) {
            inputs.add(copy(batch));
            outputs.add(copy(out));
        } else {
            long j = random.nextLong(k + 1);
            if (j < capacity) {
                inputs.get((int) j).close();
                outputs.get((int) j).close();
                inputs.set((int) j, copy(batch));
                outputs.set((int) j, copy(out));
            }
        }
    }

    private NDList copy(NDList list) {
        NDList c = new NDList(list.size());
        for (NDArray a : list) {
            NDArray d = a.duplicate();
            d.attach(manager);
            c.add(d);
        }
        return c;
    }

    /**
     * Returns what was kept, as a value (the arrays stay in the recorder's manager).
     *
     * @return the kept batches and their fp32 outputs
     */
    ReferenceOutputs take() {
        long rows = 0;
        for (NDList b : inputs) {
            rows += CalibrationData.rows(b, 0);
        }
        return new ReferenceOutputs(List.copyOf(inputs), List.copyOf(outputs), rows);
    }
}

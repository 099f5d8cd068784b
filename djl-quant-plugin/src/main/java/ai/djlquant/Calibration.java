package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.Progress;

import java.util.Arrays;

/**
 * The calibrate step: runs the source's batches through the observed model, in inference mode,
 * freeing each batch's intermediates before the next. A batch the model rejects fails with a
 * message naming the batch, its shape and the layer it failed in. The caller's batches stay
 * usable: the model gets a copy of each batch's list (DJL's LSTM and GRU append their initial
 * states to the list they are given, and those arrays are freed with the batch's intermediates).
 */
final class Calibration {

    private Calibration() {}

    /**
     * Runs the pass.
     *
     * @param model the model, its block observed
     * @param data the source
     * @param samples the number of samples to run (counted before)
     * @param tracker the tracker the observed layers report to
     * @param progress the user's progress listener, or null for the default
     * @param seed the seed of the random subset of a source larger than needed
     * @param reference records batches and the model's outputs for the whole-model check
     * @return what the pass ran
     */
    static CalibrationRun run(
            Model model,
            CalibrationData data,
            long samples,
            ForwardTracker tracker,
            Progress progress,
            long seed,
            ReferenceRecorder reference) {
        long start = System.nanoTime();
        Counts counts = new Counts();
        Block root = model.getBlock();
        Shape[] expected = root.isInitialized() ? root.getInputShapes() : null;
        ProgressSink bar = new ProgressSink(progress, "Calibrating", samples);
        try (NDManager manager = model.getNDManager().newSubManager()) {
            ParameterStore store = new ParameterStore(manager, false);
            data.forEach(
                    model,
                    manager,
                    samples,
                    seed,
                    (batch, n) -> {
                        long index = counts.batches++;
                        Cancellation.check("before calibration batch " + index);
                        try (NDManager scope = manager.newSubManager()) {
                            // the batch's intermediates land in its manager: borrow it, free them
                            batch.tempAttach(scope);
                            tracker.startBatch();
                            NDList out;
                            try {
                                out = root.forward(store, new NDList(batch), false);
                            } catch (RuntimeException e) {
                                throw new IllegalArgumentException(
                                        "calibration batch "
                                                + index
                                                + " of shape "
                                                + Arrays.toString(batch.getShapes())
                                                + " failed "
                                                + tracker.whereFailed()
                                                + (expected == null
                                                        ? ""
                                                        : "; the model was initialised for input "
                                                                + Arrays.toString(expected))
                                                + ": "
                                                + e.getMessage(),
                                        e);
                            }
                            reference.record(batch, n, out);
                        }
                        counts.samples += n;
                        counts.largestBatch = Math.max(counts.largestBatch, n);
                        bar.advance(n);
                    });
        } finally {
            bar.end();
        }
        return new CalibrationRun(
                counts.samples,
                counts.batches,
                counts.largestBatch,
                (System.nanoTime() - start) / 1e9);
    }

    /** What the pass has run so far (the batch sink counts into it). */
    private static final class Counts {
        long batches;
        long samples;
        int largestBatch;
    }
}

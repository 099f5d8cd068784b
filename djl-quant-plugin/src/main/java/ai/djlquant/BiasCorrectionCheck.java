package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Bias correction's "before", after the measure step: the same model with every corrected int8
 * block swapped back for its uncorrected one (a trial of the undo log, taken back at once), its
 * whole-model SQNR on the same kept batches; then the uncorrected blocks are freed. The plan is
 * the one made with correction (a layer's mode is not decided again), so this measures what the
 * correction itself does to the model's output.
 */
final class BiasCorrectionCheck {

    /**
     * The measurement.
     *
     * @param wholeBeforeDb the whole model's SQNR with the uncorrected blocks
     * @param wholeAfterDb the whole model's SQNR as converted (the measure step's)
     * @param swapped the number of blocks swapped back for the measurement
     */
    record Result(double wholeBeforeDb, double wholeAfterDb, int swapped) {}

    private BiasCorrectionCheck() {}

    static Result measure(
            ModelEdit edit,
            Model model,
            List<DecidedLayer> decided,
            Map<String, BiasCorrection.Outcome> outcomes,
            ReferenceOutputs reference,
            NDManager kept,
            WholeModelError whole) {
        if (outcomes.isEmpty()) {
            return null;
        }
        List<Replacement> back = new ArrayList<>();
        for (DecidedLayer d : decided) {
            BiasCorrection.Outcome o = outcomes.get(d.layer().path());
            if (o != null && o.uncorrected() != null && d.finalBlock() == o.block()) {
                back.add(new Replacement(o.block(), o.uncorrected()));
            }
        }
        double before =
                back.isEmpty()
                        ? whole.sqnrDb()
                        : edit.during(back, () -> WholeModelCheck.measure(model, reference, kept)).sqnrDb();
        for (BiasCorrection.Outcome o : outcomes.values()) {
            Block u = o.uncorrected();
            if (u != null && !isFinal(u, decided)) {
                ModelEdit.release(u);
            }
        }
        return new Result(before, whole.sqnrDb(), back.size());
    }

    private static boolean isFinal(Block b, List<DecidedLayer> decided) {
        for (DecidedLayer d : decided) {
            if (d.finalBlock() == b || (d.turnedDown() != null && d.turnedDown().block() == b)) {
                return true;
            }
        }
        return false;
    }
}

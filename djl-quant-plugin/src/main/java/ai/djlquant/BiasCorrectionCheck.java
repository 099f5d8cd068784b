package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djlquant.plan.ModeDecision;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bias correction's "before", after the measure step, and its whole-model gate: the same model
 * with every corrected int8 block swapped back for its uncorrected one (a trial of the undo log),
 * its whole-model SQNR on the same kept batches. The decide step chooses each layer's mode on its
 * uncorrected SQNR, so both models have the plan the layer would get without correction, and this
 * measures what the correction itself does to the model's output.
 *
 * <p>Each correction is kept by its own layer's SQNR, but the layers' corrections add up: on some
 * models (measured: the reference CNN, post-norm transformer encoders) the whole model's SQNR
 * drops although no layer's does. So where the uncorrected model measures higher,
 *
 * <pre>
 * SQNR_whole(uncorrected) &gt; SQNR_whole(corrected)  =&gt;  every corrected block is swapped back
 * </pre>
 *
 * for good (through the edit's undo log, so a later failure still restores the fp32 model) and the
 * corrected blocks are freed; otherwise the uncorrected ones are freed.
 */
final class BiasCorrectionCheck {

    /**
     * The measurement.
     *
     * @param wholeBeforeDb the whole model's SQNR with the uncorrected blocks
     * @param wholeAfterDb the whole model's SQNR with the corrected blocks (the measure step's)
     * @param swapped the number of blocks swapped back for the measurement
     * @param reverted whether the corrections were taken back because the whole model measured
     *     lower with them
     * @param layers the decided layers as converted now (the uncorrected blocks where reverted)
     * @param whole the whole-model error of the model as converted now
     */
    record Result(
            double wholeBeforeDb,
            double wholeAfterDb,
            int swapped,
            boolean reverted,
            List<DecidedLayer> layers,
            WholeModelError whole) {}

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
        Map<Block, Block> uncorrectedOf = new IdentityHashMap<>();
        for (DecidedLayer d : decided) {
            BiasCorrection.Outcome o = outcomes.get(d.layer().path());
            if (o != null && o.uncorrected() != null && d.finalBlock() == o.block()) {
                back.add(new Replacement(o.block(), o.uncorrected()));
                uncorrectedOf.put(o.block(), o.uncorrected());
            }
        }
        WholeModelError before =
                back.isEmpty()
                        ? whole
                        : edit.during(back, () -> WholeModelCheck.measure(model, reference, kept));
        boolean revert = !back.isEmpty() && before.sqnrDb() > whole.sqnrDb();
        List<DecidedLayer> layers = decided;
        if (revert) {
            edit.apply(edit.currentTree(), back);
            layers = new ArrayList<>(decided.size());
            for (DecidedLayer d : decided) {
                Block u = uncorrectedOf.get(d.finalBlock());
                layers.add(u == null ? d : uncorrected(d, u, outcomes.get(d.layer().path())));
            }
        }
        for (BiasCorrection.Outcome o : outcomes.values()) {
            // reverted: a swapped-back layer's corrected block is the one left over
            Block unused =
                    revert && uncorrectedOf.containsKey(o.block()) ? o.block() : o.uncorrected();
            if (unused != null && !isFinal(unused, layers)) {
                ModelEdit.release(unused);
            }
        }
        return new Result(
                before.sqnrDb(),
                whole.sqnrDb(),
                back.size(),
                revert,
                layers,
                revert ? before : whole);
    }

    /** The layer with its uncorrected block, and that block's SQNR as its static SQNR. */
    private static DecidedLayer uncorrected(DecidedLayer d, Block u, BiasCorrection.Outcome o) {
        ModeDecision m = d.decision();
        ModeDecision back =
                new ModeDecision(
                        m.mode(),
                        m.reason(),
                        o.beforeDb(),
                        m.dynamicSqnr(),
                        m.speeds(),
                        m.weightOnlySqnr());
        return d.with(back, u).withTurnedDown(d.turnedDown());
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

package ai.djlquant;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.SequentialBlock;
import ai.djlquant.nn.ChainedSequentialBlock;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.SpeedComparison;
import ai.djlquant.plan.SpeedRule;
import ai.djlquant.transform.ChainTargets;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.List;

/**
 * The int8 chains step ({@link QuantizationConfig.Builder#optInt8Chains}), after the plan is
 * final: each {@link SequentialBlock} of the converted tree whose children hold runs of int8
 * Linear or Conv2d layers ({@link ChainedSequentialBlock#findRuns}) is replaced by a {@link
 * ChainedSequentialBlock} with the same children. A block of any other type is left alone, so a
 * chain never crosses a parent that is not a SequentialBlock.
 *
 * <p>Measured, not assumed: a chain computes what its layers compute one by one, so the only
 * question is speed. Under an objective that times layers, the model with every chain formed is
 * timed against the model without them, side by side at every serving batch size ({@link
 * ModelTiming#sideBySide}, the chains as a {@link ModelEdit#beginTrial trial}), and the chains
 * are kept if the objective keeps them ({@link SpeedRule#keeps}: BALANCED, not measurably slower
 * at any size; LATENCY, measurably faster at one and slower at none). Under {@link Objective#SIZE},
 * or with no calibration batch kept to time on, they are formed untimed.
 *
 * <p>Innermost blocks first, so that an outer block takes the chained inner one as its child
 * ({@link ChainTargets#replacements}); all or nothing: if one replacement cannot be made (a field
 * or container that cannot take the new block), those made are taken back, the model runs
 * unchained, and the report says why.
 */
final class Chaining {

    private Chaining() {}

    /**
     * What the step did.
     *
     * @param chains one line per chain formed: the paths of its layers
     * @param speeds the model with its chains against without them, per serving batch size (the
     *     comparison's fp32 side is the unchained model); empty if untimed
     * @param note what the timing found, or why no chain was formed although some could be; null
     *     if neither
     */
    record Result(List<String> chains, List<SpeedComparison> speeds, String note) {

        static Result off() {
            return new Result(List.of(), List.of(), null);
        }
    }

    /**
     * Where and how the chains are timed.
     *
     * @param batch the kept calibration batch the inputs are made from
     * @param sizes the serving batch sizes
     * @param timer the timer (shared with the plan check and the model timing)
     * @param manager where inputs and intermediates live
     */
    record Timing(NDList batch, List<Integer> sizes, SideBySideTimer timer, NDManager manager) {}

    /**
     * Forms the chains of the edit's current tree, untimed.
     *
     * @param edit the edit (the replacements go through its log)
     * @return the chains formed
     */
    static Result form(ModelEdit edit) {
        return form(edit, Objective.SIZE, null);
    }

    /**
     * Forms the chains of the edit's current tree and keeps them if the objective does.
     *
     * @param edit the edit (the replacements go through its log)
     * @param objective the objective
     * @param timing where to time them, or null to form them untimed
     * @return the chains formed
     */
    static Result form(ModelEdit edit, Objective objective, Timing timing) {
        List<ChainTargets.Target> targets = ChainTargets.find(edit.currentTree());
        if (targets.isEmpty()) {
            return Result.off();
        }
        List<String> lines = ChainTargets.names(targets);
        List<Replacement> steps = ChainTargets.replacements(targets);
        List<SpeedComparison> speeds = List.of();
        long start = System.nanoTime();
        try {
            if (objective.timesLayers() && timing != null) {
                speeds =
                        ModelTiming.sideBySide(
                                edit, steps, false, timing.batch(), timing.sizes(), "chained model",
                                timing.timer(), timing.manager(), new ArrayList<>());
            }
            if (!speeds.isEmpty() && !new SpeedRule(objective).keeps(speeds)) {
                return new Result(
                        List.of(),
                        speeds,
                        "int8 chains not kept (" + objective + "): the model with its " + lines.size()
                                + " chain(s) is " + (hasSlower(speeds) ? "slower than" : "not measurably faster than")
                                + " without them (" + timings(speeds) + "; timed in "
                                + seconds(start) + ").");
            }
            edit.applyAllOrNone(steps);
        } catch (IllegalArgumentException | IllegalStateException e) {
            return new Result(
                    List.of(),
                    List.of(),
                    "int8 chains not formed (the model runs unchained): " + e.getMessage());
        }
        String note =
                speeds.isEmpty()
                        ? null
                        : "int8 chains kept (" + objective + "): the model with its " + lines.size()
                                + " chain(s) against without them: " + timings(speeds) + " (timed in "
                                + seconds(start) + ").";
        return new Result(List.copyOf(lines), speeds, note);
    }

    private static String seconds(long since) {
        return String.format(java.util.Locale.ROOT, "%.1f s", (System.nanoTime() - since) / 1e9);
    }

    private static boolean hasSlower(List<SpeedComparison> speeds) {
        for (SpeedComparison c : speeds) {
            if (c.verdict() == SpeedComparison.Verdict.SLOWER) {
                return true;
            }
        }
        return false;
    }

    private static String timings(List<SpeedComparison> speeds) {
        return ModelTiming.describe(speeds, "unchained", "chained");
    }
}

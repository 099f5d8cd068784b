package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.util.Progress;
import ai.djlquant.plan.ModeDecision;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The accuracy goal's search, after convert: measures the user's metric on the int8 model and, if
 * the drop from fp32 is more than the goal allows, restores int8 layers to fp32 in order of
 * measured sensitivity, one more per trial, until the goal holds or the budget is spent.
 *
 * <p>Sensitivity of layer {@code i}: the whole model's output SQNR against fp32 with only layer
 * {@code i} int8 (every other int8 layer swapped back to fp32 for the measurement), on the
 * calibration batches kept for the whole-model check; the lowest SQNR is restored first. This
 * ranks by what the layer does to the model's output, not by its own output alone (a layer whose
 * error the rest of the model amplifies ranks high). Without kept batches, each layer's own SQNR
 * ranks it.
 *
 * <p>Trial {@code k} restores the {@code k} most sensitive layers: the metric is monotone in
 * practice, and one new layer per trial keeps each trial's cost one evaluation. A layer is
 * restored to FP32, not to DYNAMIC: AUTO chose STATIC only where the dynamic SQNR was within its
 * margin, so DYNAMIC would win back little of what the metric lost.
 *
 * <p>The model the call returns: the first trial that meets the goal (fewest layers restored);
 * if none does, the trial with the best metric (fewest layers on a tie). Every trial runs as a
 * {@link ModelEdit#beginTrial trial} and is taken back; only the chosen one is applied for good.
 */
final class GoalSearch {

    /**
     * What the search did.
     *
     * @param layers the decided layers, the restored ones now FP32
     * @param result the trials, for the report
     */
    record Outcome(List<DecidedLayer> layers, QuantizationReport.GoalResult result) {

        boolean restoredAny() {
            return !result.trials().get(result.chosenTrial()).restoredToFp32().isEmpty();
        }
    }

    private GoalSearch() {}

    /**
     * Runs the search.
     *
     * @param edit the model's edit, converted
     * @param swaps the layers' swaps
     * @param layers the decided layers as converted
     * @param goal the goal
     * @param fp32 the metric on the fp32 model, measured before any change
     * @param reference the batches kept for the whole-model check
     * @param manager where intermediates live
     * @param progress the user's progress listener, or null
     * @return the outcome
     */
    static Outcome run(
            ModelEdit edit,
            LayerSwaps swaps,
            List<DecidedLayer> layers,
            AccuracyGoal goal,
            QuantizationReport.Measurement fp32,
            ReferenceOutputs reference,
            NDManager manager,
            Progress progress) {
        Model model = edit.model();
        List<QuantizationReport.Trial> trials = new ArrayList<>();
        trials.add(trial(goal, fp32.value(), model, 0, List.of(), List.of(), edit));
        List<DecidedLayer> int8 = new ArrayList<>();
        for (DecidedLayer d : layers) {
            if (d.observed().isObserved() && d.mode() != QuantizationMode.FP32) {
                int8.add(d);
            }
        }
        List<DecidedLayer> order = List.of();
        String ranking = null;
        int budget = Math.min(goal.getMaxTrials(), int8.size());
        if (!trials.get(0).meetsGoal() && budget > 0) {
            ProgressSink bar = new ProgressSink(progress, "Goal trials", int8.size() + budget);
            try {
                Ranking r = rank(edit, swaps, int8, reference, manager, bar);
                order = r.order();
                ranking = r.how();
                for (int k = 1; k <= budget; k++) {
                    List<DecidedLayer> restored = order.subList(0, k);
                    List<Replacement> replacements = new ArrayList<>();
                    List<String> paths = new ArrayList<>();
                    for (DecidedLayer d : restored) {
                        replacements.addAll(swaps.toFloat(d));
                        paths.add(d.layer().candidate().path());
                    }
                    QuantizationReport.Trial t = trial(goal, fp32.value(), model, k, paths, replacements, edit);
                    trials.add(t);
                    bar.advance(1);
                    if (t.meetsGoal()) {
                        break;
                    }
                }
            } finally {
                bar.end();
            }
        }
        int chosen = choose(trials);
        List<String> orderPaths = new ArrayList<>();
        for (DecidedLayer d : order) {
            orderPaths.add(d.layer().candidate().path());
        }
        QuantizationReport.GoalResult result =
                new QuantizationReport.GoalResult(
                        goal.getName(),
                        goal.isHigherBetter(),
                        goal.getMaxDrop(),
                        fp32,
                        trials,
                        chosen,
                        orderPaths,
                        ranking);
        return new Outcome(apply(edit, swaps, layers, order.subList(0, chosen), result), result);
    }

    private static QuantizationReport.Trial trial(
            AccuracyGoal goal,
            double fp32,
            Model model,
            int k,
            List<String> paths,
            List<Replacement> replacements,
            ModelEdit edit) {
        long start = System.nanoTime();
        String which =
                k == 0 ? "the int8 model" : "trial " + k + " (" + k + " layer(s) restored to fp32)";
        double v = edit.during(replacements, () -> goal.measure(model, which));
        return new QuantizationReport.Trial(
                k, paths, v, goal.drop(fp32, v), goal.drop(fp32, v) <= goal.getMaxDrop(),
                (System.nanoTime() - start) / 1e9);
    }

    /** The first trial that meets the goal, else the best one (fewest restored on a tie). */
    private static int choose(List<QuantizationReport.Trial> trials) {
        int best = 0;
        for (int i = 0; i < trials.size(); i++) {
            QuantizationReport.Trial t = trials.get(i);
            if (t.meetsGoal()) {
                return i;
            }
            if (t.drop() < trials.get(best).drop()) {
                best = i;
            }
        }
        return best;
    }

    /** The int8 layers, most sensitive first, and how they were ranked. */
    private record Ranking(List<DecidedLayer> order, String how) {}

    private static Ranking rank(
            ModelEdit edit,
            LayerSwaps swaps,
            List<DecidedLayer> int8,
            ReferenceOutputs reference,
            NDManager manager,
            ProgressSink bar) {
        Map<DecidedLayer, Double> sqnr = new IdentityHashMap<>();
        String how;
        if (reference.inputs().isEmpty()) {
            how = "each layer's own output SQNR (no calibration batch was kept for the whole model)";
            for (DecidedLayer d : int8) {
                ModeDecision m = d.decision();
                sqnr.put(d, m.chosenSqnr());
                bar.advance(1);
            }
        } else {
            how = "the whole model's output SQNR with only that layer int8";
            for (DecidedLayer d : int8) {
                List<Replacement> others = new ArrayList<>();
                for (DecidedLayer o : int8) {
                    if (o != d) {
                        others.addAll(swaps.toFloat(o));
                    }
                }
                sqnr.put(
                        d,
                        edit.during(
                                others,
                                () -> WholeModelCheck.measure(edit.model(), reference, manager)
                                        .sqnrDb()));
                bar.advance(1);
            }
        }
        List<DecidedLayer> order = new ArrayList<>(int8);
        // NaN (not measurable) first: nothing says it is safe
        order.sort(
                Comparator.comparingDouble(
                        d -> Double.isNaN(sqnr.get(d)) ? Double.NEGATIVE_INFINITY : sqnr.get(d)));
        StringBuilder b = new StringBuilder(how).append(':');
        for (DecidedLayer d : order) {
            b.append(String.format(
                    Locale.ROOT, " %s %.1f dB,", d.layer().candidate().path(), sqnr.get(d)));
        }
        return new Ranking(order, b.substring(0, b.length() - 1));
    }

    /** Applies the chosen trial's restores for good and records them in the layers' decisions. */
    private static List<DecidedLayer> apply(
            ModelEdit edit,
            LayerSwaps swaps,
            List<DecidedLayer> layers,
            List<DecidedLayer> restored,
            QuantizationReport.GoalResult result) {
        if (restored.isEmpty()) {
            return layers;
        }
        List<Replacement> replacements = new ArrayList<>();
        for (DecidedLayer d : restored) {
            replacements.addAll(swaps.toFloat(d));
        }
        edit.apply(edit.currentTree(), replacements);
        QuantizationReport.Trial chosen = result.trials().get(result.chosenTrial());
        String why =
                String.format(
                        Locale.ROOT,
                        "FP32 by the accuracy goal: restored in trial %d of %d (%s %s -> %s; the"
                                + " goal: a drop of at most %s from fp32 %s)%s",
                        chosen.number(),
                        result.trials().size() - 1,
                        result.metric(),
                        num(result.trials().get(0).value()),
                        num(chosen.value()),
                        num(result.maxDrop()),
                        num(result.fp32().value()),
                        chosen.meetsGoal() ? "" : "; the goal was not met");
        Set<DecidedLayer> back = Collections.newSetFromMap(new IdentityHashMap<>());
        back.addAll(restored);
        List<DecidedLayer> out = new ArrayList<>(layers.size());
        for (DecidedLayer d : layers) {
            if (back.contains(d)) {
                ModelEdit.release(d.finalBlock());
                out.add(
                        d.with(
                                d.decision().with(QuantizationMode.FP32, why, d.decision().speeds()),
                                d.layer().floatBlock()));
            } else {
                out.add(d);
            }
        }
        return out;
    }

    static String num(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }
}

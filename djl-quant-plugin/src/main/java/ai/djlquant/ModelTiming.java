package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import ai.djlquant.plan.SpeedComparison;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The model timing, after convert: the whole int8 model against the whole fp32 model (every int8
 * layer's fp32 block put back, BatchNorms still folded) at every serving batch size, side by side
 * ({@link SideBySideTimer}), on inputs made from a calibration batch kept for the whole-model
 * check. The fp32 side is the int8 tree with its layers swapped back for the length of each of its
 * rounds ({@link ModelEdit#beginTrial}); nothing stays changed.
 */
final class ModelTiming {

    /**
     * The model's speed.
     *
     * @param speeds one comparison per serving batch size that could be timed
     * @param unmeasured why it was not timed (or not at every size), or null
     */
    record Result(List<SpeedComparison> speeds, String unmeasured) {

        static Result unmeasured(String why) {
            return new Result(List.of(), why);
        }
    }

    private ModelTiming() {}

    /**
     * Times the model.
     *
     * @param edit the model's edit, converted
     * @param swaps the layers' swaps
     * @param layers the decided layers as converted
     * @param reference the batches kept for the whole-model check
     * @param sizes the serving batch sizes
     * @param timer the timer (shared with the plan check: the model is warmed once)
     * @param manager where the inputs and intermediates live (freed here)
     * @return the speeds
     */
    static Result measure(
            ModelEdit edit,
            LayerSwaps swaps,
            List<DecidedLayer> layers,
            ReferenceOutputs reference,
            List<Integer> sizes,
            SideBySideTimer timer,
            NDManager manager) {
        if (reference.inputs().isEmpty()) {
            return Result.unmeasured("no calibration batch was kept to time it on");
        }
        List<Replacement> toFloat = swaps.allToFloat(layers);
        if (toFloat.isEmpty()) {
            return Result.unmeasured("no layer is int8");
        }
        List<Integer> skipped = new ArrayList<>();
        List<SpeedComparison> out =
                sideBySide(
                        edit, toFloat, true, reference.inputs().get(0), sizes, "model", timer, manager,
                        skipped);
        String why =
                skipped.isEmpty()
                        ? null
                        : "not timed at batch size " + skipped
                                + ": an input's first dimension is not the batch's";
        return new Result(out, why);
    }

    /**
     * The comparisons as the report's notes print them: {@code "batch 1: 971 us as planned, 848 us
     * with them int8 (1.15x); batch 32: ..."}.
     *
     * @param speeds the comparisons
     * @param first what the first side is
     * @param second what the second side is
     * @return the text
     */
    static String describe(List<SpeedComparison> speeds, String first, String second) {
        StringBuilder out = new StringBuilder();
        for (SpeedComparison c : speeds) {
            out.append(out.length() == 0 ? "" : "; ")
                    .append(String.format(
                            Locale.ROOT,
                            "batch %d: %s us %s, %s us %s (%.2fx)",
                            c.batchSize(),
                            micros(c.fp32Micros()),
                            first,
                            micros(c.int8Micros()),
                            second,
                            c.speedup()));
        }
        return out.toString();
    }

    private static String micros(double us) {
        return String.format(Locale.ROOT, us >= 100 ? "%.0f" : "%.1f", us);
    }

    /**
     * Times the tree as it is against the tree with {@code swap} in place (made for the length of
     * each of its rounds and taken back), at every size, on rows of one kept batch.
     *
     * @param edit the model's edit
     * @param swap the replacements that make the other version of the model
     * @param swappedIsFirst whether the swapped version is the comparison's first ("fp32") side
     * @param batch the kept batch the inputs are made from
     * @param sizes the batch sizes
     * @param kind what is timed, for the timer's warm-up ({@link SideBySideTimer#compare})
     * @param timer the timer
     * @param manager where the inputs and intermediates live (freed here)
     * @param skipped receives the sizes the inputs could not be made at
     * @return one comparison per size timed
     */
    static List<SpeedComparison> sideBySide(
            ModelEdit edit,
            List<Replacement> swap,
            boolean swappedIsFirst,
            NDList batch,
            List<Integer> sizes,
            String kind,
            SideBySideTimer timer,
            NDManager manager,
            List<Integer> skipped) {
        Model model = edit.model();
        List<SpeedComparison> out = new ArrayList<>();
        try (NDManager scope = manager.newSubManager()) {
            ParameterStore store = new ParameterStore(scope, false);
            for (int n : sizes) {
                NDList input = ServingBatches.rows(batch, n);
                if (input == null) {
                    skipped.add(n);
                    continue;
                }
                for (int i = 0; i < input.size(); i++) {
                    if (input.get(i) != batch.get(i)) {
                        input.get(i).attach(scope);
                    }
                }
                SideBySideTimer.Side asIs =
                        () -> SideBySideTimer.forward(model.getBlock(), store, scope, input);
                SideBySideTimer.Side swapped =
                        new SideBySideTimer.Side() {
                            private ModelEdit.Trial trial;

                            @Override
                            public void enter() {
                                trial = edit.beginTrial(swap);
                            }

                            @Override
                            public void call() {
                                SideBySideTimer.forward(model.getBlock(), store, scope, input);
                            }

                            @Override
                            public void exit() {
                                trial.close();
                            }
                        };
                out.add(
                        swappedIsFirst
                                ? timer.compare(n, swapped, asIs, kind)
                                : timer.compare(n, asIs, swapped, kind));
            }
        }
        return out;
    }
}

package ai.djlquant;

import ai.djl.ndarray.NDManager;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.SpeedComparison;
import ai.djlquant.plan.SpeedRule;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.List;

/**
 * The plan check, after convert: the layers the speed rule turned down, each timed alone, are
 * judged again in context. The model as planned (plan A) is timed against the same model with
 * those layers int8 as the accuracy rule chose them (plan B), side by side at every serving batch
 * size ({@link ModelTiming#sideBySide}, plan B as a {@link ModelEdit#beginTrial trial}). Plan B is kept if
 * the objective accepts it against plan A (BALANCED: not slower anywhere; LATENCY: faster
 * somewhere and slower nowhere), otherwise plan A.
 *
 * <p>Why: a layer timed alone pays every switch between the engine's fp32 kernels and the int8
 * kernels at its own edges; in the model those costs move, and a chain of int8 layers may win as a
 * whole where each alone does not. Measured on the reference models (2-vCPU AVX-512 VNNI host,
 * int8/fp32 GEMM ratio 4-5x): the per-layer rule alone turned 2-4 small layers per model fp32 and
 * left the whole model 0.7-0.9x as fast as with every layer int8.
 */
final class PlanCheck {

    /**
     * What the check did.
     *
     * @param layers the decided layers (the turned-down ones int8 again if plan B won)
     * @param note one sentence for the report, or null if there was nothing to check
     */
    record Result(List<DecidedLayer> layers, String note) {}

    private PlanCheck() {}

    /**
     * Runs the check.
     *
     * @param edit the model's edit, converted
     * @param swaps the layers' swaps
     * @param layers the decided layers as converted
     * @param reference the batches kept for the whole-model check (the inputs timed on)
     * @param sizes the serving batch sizes
     * @param objective the objective
     * @param timer the timer (shared with the model timing: the model is warmed once)
     * @param manager where inputs and intermediates live
     * @return the result
     */
    static Result run(
            ModelEdit edit,
            LayerSwaps swaps,
            List<DecidedLayer> layers,
            ReferenceOutputs reference,
            List<Integer> sizes,
            Objective objective,
            SideBySideTimer timer,
            NDManager manager) {
        List<Replacement> toB = new ArrayList<>();
        int turned = 0;
        for (DecidedLayer d : layers) {
            if (d.turnedDown() != null) {
                toB.addAll(swaps.toInt8(d, d.turnedDown().block()));
                turned++;
            }
        }
        if (turned == 0) {
            return new Result(layers, null);
        }
        if (reference.inputs().isEmpty()) {
            return new Result(
                    release(layers),
                    "plan check skipped: no calibration batch was kept to time the model on");
        }
        List<SpeedComparison> bVsA =
                ModelTiming.sideBySide(
                        edit, toB, false, reference.inputs().get(0), sizes, "model", timer, manager,
                        new ArrayList<>());
        String timings = ModelTiming.describe(bVsA, "as planned", "with them int8");
        boolean keepB = !bVsA.isEmpty() && new SpeedRule(objective).keeps(bVsA);
        if (!keepB) {
            return new Result(
                    release(layers),
                    "plan check: the " + turned + " layer(s) turned down for speed stay fp32; the"
                            + " model with them int8 too: " + timings);
        }
        edit.apply(edit.currentTree(), toB);
        List<DecidedLayer> out = new ArrayList<>(layers.size());
        for (DecidedLayer d : layers) {
            DecidedLayer.TurnedDown t = d.turnedDown();
            if (t == null) {
                out.add(d);
                continue;
            }
            if (d.finalBlock() != d.layer().floatBlock()) {
                ModelEdit.release(d.finalBlock()); // the other int8 mode it had gone to
            }
            String why =
                    t.decision().reason() + "; alone it lost to fp32 (" + d.decision().reason()
                            .replaceFirst("^AUTO \\([A-Z]+\\): ", "") + "), but the model is not"
                            + " slower with it int8 (plan check)";
            out.add(d.with(t.decision().with(t.decision().mode(), why, t.decision().speeds()), t.block()));
        }
        return new Result(
                out,
                "plan check: the " + turned + " layer(s) turned down for speed, each timed alone,"
                        + " are int8 again: the model is not slower with them int8 ("
                        + timings + ")");
    }

    /** Frees the turned-down blocks, the plan staying as it is. */
    private static List<DecidedLayer> release(List<DecidedLayer> layers) {
        List<DecidedLayer> out = new ArrayList<>(layers.size());
        for (DecidedLayer d : layers) {
            if (d.turnedDown() == null) {
                out.add(d);
            } else {
                ModelEdit.release(d.turnedDown().block());
                out.add(d.with(d.decision(), d.finalBlock()));
            }
        }
        return out;
    }
}

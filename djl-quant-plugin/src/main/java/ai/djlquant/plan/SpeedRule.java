package ai.djlquant.plan;

import ai.djlquant.annotations.Internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Applies the {@link Objective} to a layer the accuracy rule made int8: its int8 block is timed
 * against its fp32 block at every serving batch size and kept or turned down by the objective. If
 * the accuracy rule's mode is turned down and the other int8 mode is also accurate enough, that
 * one is timed too; if neither is kept the layer stays FP32, and the decision says at which batch
 * size int8 lost and by how much.
 *
 * <p>Timing happens only when needed: never under {@link Objective#SIZE}, never for a mode forced
 * by a rule, and the second mode only after the first was turned down.
 */
@Internal
public final class SpeedRule {

    /** Times one int8 mode of the layer against fp32. */
    @FunctionalInterface
    public interface Timer {
        /**
         * Times the layer's block in an int8 mode against its fp32 block.
         *
         * @param mode STATIC or DYNAMIC
         * @return one comparison per serving batch size
         */
        List<SpeedComparison> time(QuantizationMode mode);
    }

    private final Objective objective;

    /**
     * Creates the rule.
     *
     * @param objective the objective
     */
    public SpeedRule(Objective objective) {
        this.objective = Objects.requireNonNull(objective, "objective");
    }

    /**
     * Returns the objective.
     *
     * @return the objective
     */
    public Objective getObjective() {
        return objective;
    }

    /**
     * Returns whether a layer with this rule and accuracy decision is timed.
     *
     * @param choice the mode the rules give the layer
     * @param byAccuracy the accuracy rule's decision
     * @return whether {@link #apply} will time it
     */
    public boolean times(ModeRules.Choice choice, ModeDecision byAccuracy) {
        return objective.timesLayers()
                && choice.mode() == QuantizationMode.AUTO
                && byAccuracy.mode() != QuantizationMode.FP32;
    }

    /**
     * Decides the layer's mode from its accuracy decision and its timings.
     *
     * @param choice the mode the rules give the layer
     * @param byAccuracy the accuracy rule's decision
     * @param alternative the other int8 mode if it is accurate enough too, or null
     * @param timer times a mode
     * @return the decision, with the timings of the int8 mode it runs in (or was turned down)
     */
    public ModeDecision apply(
            ModeRules.Choice choice,
            ModeDecision byAccuracy,
            QuantizationMode alternative,
            Timer timer) {
        if (!times(choice, byAccuracy)) {
            return byAccuracy;
        }
        QuantizationMode first = byAccuracy.mode();
        List<SpeedComparison> speeds = timer.time(first);
        if (speeds.isEmpty()) {
            return byAccuracy; // nothing to time it on: the accuracy rule's choice stands
        }
        if (keeps(speeds)) {
            return byAccuracy.with(first, byAccuracy.reason(), speeds);
        }
        String lost = lost(first, speeds);
        if (alternative != null) {
            List<SpeedComparison> alt = timer.time(alternative);
            if (!alt.isEmpty() && keeps(alt)) {
                return byAccuracy.with(
                        alternative,
                        "AUTO (" + objective + "): " + lost + "; " + name(alternative)
                                + " int8 is accurate enough and is not",
                        alt);
            }
            if (!alt.isEmpty()) {
                lost += "; so is " + name(alternative) + " (" + worst(alt).describe() + ")";
            }
        }
        return byAccuracy.with(QuantizationMode.FP32, "AUTO (" + objective + "): " + lost, speeds);
    }

    /**
     * Returns whether the objective keeps an int8 version with these timings against its fp32
     * (or less int8) counterpart.
     *
     * @param speeds one comparison per serving batch size
     * @return whether the int8 side is kept
     */
    public boolean keeps(List<SpeedComparison> speeds) {
        List<SpeedComparison.Verdict> verdicts = new ArrayList<>(speeds.size());
        for (SpeedComparison s : speeds) {
            verdicts.add(s.verdict());
        }
        return objective.keepsInt8(verdicts);
    }

    /** Why a mode was turned down: the batch size where it did worst. */
    private String lost(QuantizationMode mode, List<SpeedComparison> speeds) {
        SpeedComparison w = worst(speeds);
        if (w.verdict() == SpeedComparison.Verdict.SLOWER) {
            return name(mode) + " int8 is slower than fp32 at " + w.describe();
        }
        return name(mode) + " int8 is not measurably faster than fp32 at any serving batch size"
                + " (best " + best(speeds).describe() + ")";
    }

    private static SpeedComparison worst(List<SpeedComparison> speeds) {
        SpeedComparison w = speeds.get(0);
        for (SpeedComparison s : speeds) {
            if (s.speedup() < w.speedup()) {
                w = s;
            }
        }
        return w;
    }

    private static SpeedComparison best(List<SpeedComparison> speeds) {
        SpeedComparison b = speeds.get(0);
        for (SpeedComparison s : speeds) {
            if (s.speedup() > b.speedup()) {
                b = s;
            }
        }
        return b;
    }

    private static String name(QuantizationMode mode) {
        return mode == QuantizationMode.STATIC ? "static" : "dynamic";
    }
}

package ai.djlquant.plan;

import ai.djlquant.annotations.Internal;

import java.util.Locale;

/**
 * Decides each layer's mode from the user's rules and the measured output SQNR of its two int8
 * choices, each measured with only that layer quantized, against its fp32 output, on calibration
 * inputs.
 *
 * <p>The AUTO rule, with margin {@code M} and floor {@code F} (dB):
 *
 * <ol>
 *   <li>both SQNRs below {@code F}: FP32 (int8 would cost too much accuracy here; mixed
 *       precision);
 *   <li>static SQNR at least dynamic SQNR minus {@code M}: STATIC (static is faster: no pass over
 *       the input to find its range, and the scale is folded into the kernel);
 *   <li>otherwise DYNAMIC (the input's range changes too much between inputs for one fixed grid).
 * </ol>
 *
 * <p>{@value #DEFAULT_MARGIN_DB} dB margin is half a bit (each bit of the grid is worth about 6
 * dB): static may lose half a bit of output precision for its speed, no more.
 * {@value #DEFAULT_FLOOR_DB} dB floor: an output whose quantization noise has a tenth of the
 * signal's amplitude (20 dB is 1%, 10 dB 10% of the power); the layers of our reference models
 * measure 28 to 45 dB, so a layer under the floor is an outlier worth keeping in fp32.
 *
 * <p>A weight-only mode given by a rule is taken as it is (it needs no calibrated range); AUTO
 * offers one only where the configuration names it, and the decide step keeps it only where it is
 * measured faster than the int8 mode chosen here (see {@code Decision}).
 *
 * <p>A mode forced by the user wins, except STATIC for a layer that calibration never reached
 * with a finite value (there is nothing to fix its parameters from): that layer stays FP32 and
 * the decision says so.
 */
@Internal
public final class ModeChooser {

    /** Default margin by which static may trail dynamic and still be chosen, in dB. */
    public static final double DEFAULT_MARGIN_DB = 3.0;

    /** Default floor under which neither int8 choice is taken, in dB. */
    public static final double DEFAULT_FLOOR_DB = 20.0;

    private final double marginDb;
    private final double floorDb;

    /**
     * Creates a planner.
     *
     * @param marginDb the margin, non-negative
     * @param floorDb the floor
     * @throws IllegalArgumentException if the margin is negative or either is not finite
     */
    public ModeChooser(double marginDb, double floorDb) {
        if (!Double.isFinite(marginDb) || marginDb < 0) {
            throw new IllegalArgumentException(
                    "autoMarginDb must be finite and non-negative, got " + marginDb + ".");
        }
        if (!Double.isFinite(floorDb)) {
            throw new IllegalArgumentException("autoFloorDb must be finite, got " + floorDb + ".");
        }
        this.marginDb = marginDb;
        this.floorDb = floorDb;
    }

    /**
     * Returns the margin.
     *
     * @return the margin in dB
     */
    public double getMarginDb() {
        return marginDb;
    }

    /**
     * Returns the floor.
     *
     * @return the floor in dB
     */
    public double getFloorDb() {
        return floorDb;
    }

    /**
     * Decides a layer's mode.
     *
     * @param choice the mode the rules give the layer (not an exclusion)
     * @param staticSqnr the static int8 SQNR in dB, NaN if it could not be measured
     * @param dynamicSqnr the dynamic int8 SQNR in dB, NaN if it could not be measured
     * @param unmeasured why the SQNRs could not be measured (used when one is NaN), or null
     * @return the decision
     */
    public ModeDecision decide(
            ModeRules.Choice choice, double staticSqnr, double dynamicSqnr, String unmeasured) {
        String why = unmeasured == null ? "it could not be measured" : unmeasured;
        if (choice.mode().isWeightOnly()) {
            // no activation grid to calibrate: the rule stands (the decide step measures its SQNR)
            return new ModeDecision(
                    choice.mode(),
                    choice.mode().word() + " (weight-only) by " + choice.source(),
                    staticSqnr,
                    dynamicSqnr);
        }
        switch (choice.mode()) {
            case FP32:
                return new ModeDecision(
                        QuantizationMode.FP32,
                        "FP32 by " + choice.source(),
                        staticSqnr,
                        dynamicSqnr);
            case DYNAMIC:
                return new ModeDecision(
                        QuantizationMode.DYNAMIC,
                        "DYNAMIC by " + choice.source(),
                        staticSqnr,
                        dynamicSqnr);
            case STATIC:
                if (Double.isNaN(staticSqnr)) {
                    return new ModeDecision(
                            QuantizationMode.FP32,
                            "STATIC by " + choice.source() + ", but " + why + "; left fp32",
                            staticSqnr,
                            dynamicSqnr);
                }
                return new ModeDecision(
                        QuantizationMode.STATIC,
                        "STATIC by " + choice.source(),
                        staticSqnr,
                        dynamicSqnr);
            default:
                return auto(staticSqnr, dynamicSqnr, why);
        }
    }

    private ModeDecision auto(double s, double d, String why) {
        if (Double.isNaN(s) && Double.isNaN(d)) {
            return new ModeDecision(QuantizationMode.FP32, "AUTO: " + why, s, d);
        }
        double best = Double.isNaN(s) ? d : Double.isNaN(d) ? s : Math.max(s, d);
        if (best < floorDb) {
            return new ModeDecision(
                    QuantizationMode.FP32,
                    String.format(
                            Locale.ROOT,
                            "AUTO: static %s and dynamic %s dB are both below the %.1f dB floor",
                            db(s),
                            db(d),
                            floorDb),
                    s,
                    d);
        }
        if (Double.isNaN(s)) {
            return new ModeDecision(
                    QuantizationMode.DYNAMIC, "AUTO: static not possible (" + why + ")", s, d);
        }
        if (Double.isNaN(d) || s >= d - marginDb) {
            return new ModeDecision(
                    QuantizationMode.STATIC,
                    String.format(
                            Locale.ROOT,
                            "AUTO: static %s dB is within %.1f dB of dynamic %s dB",
                            db(s),
                            marginDb,
                            db(d)),
                    s,
                    d);
        }
        return new ModeDecision(
                QuantizationMode.DYNAMIC,
                String.format(
                        Locale.ROOT,
                        "AUTO: static %s dB trails dynamic %s dB by more than %.1f dB",
                        db(s),
                        db(d),
                        marginDb),
                s,
                d);
    }

    private static String db(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f", v);
    }
}

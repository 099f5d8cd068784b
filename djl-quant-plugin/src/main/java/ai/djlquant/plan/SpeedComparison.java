package ai.djlquant.plan;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * fp32 against int8 at one batch size, timed side by side in alternating rounds (same process,
 * same threads, same inputs): the median per-round speed-up with its spread, and both sides' time
 * per call in the median round (the round whose speed-up is the median, so that the two times and
 * the speed-up agree).
 *
 * <p>Round {@code i} gives the speed-up {@code r_i = fp32_i / int8_i} (above 1: int8 faster).
 * With {@code m} the median of the {@code r_i}, {@code q1} and {@code q3} their lower and upper
 * quartiles and the tolerance {@code t} = {@value #TOLERANCE}:
 *
 * <ul>
 *   <li>{@link Verdict#FASTER} if {@code m > 1 + t} and {@code q1 > 1} (int8 won by more than
 *       {@code t} in the median round and in at least three rounds of four);
 *   <li>{@link Verdict#SLOWER} if {@code m < 1 / (1 + t)} and {@code q3 < 1};
 *   <li>otherwise {@link Verdict#WITHIN_NOISE}.
 * </ul>
 *
 * <p>Pairing the rounds makes the verdict robust to load that comes and goes: a neighbour's burst
 * slows both sides of a round alike, or, if it hits one side, moves one round's ratio and not the
 * quartiles.
 *
 * @param batchSize the batch size timed
 * @param fp32Micros microseconds per fp32 call in the median round
 * @param int8Micros microseconds per int8 call in the median round
 * @param speedup the median per-round speed-up, fp32 time over int8 time (the lower middle one
 *     for an even number of rounds)
 * @param lowQuartile the lower quartile of the per-round speed-ups
 * @param highQuartile the upper quartile of the per-round speed-ups
 * @param minSpeedup the lowest per-round speed-up
 * @param maxSpeedup the highest per-round speed-up
 * @param rounds the number of rounds
 * @param callsPerRound the fewest back-to-back calls one side made in a round (1: every call was
 *     longer than a round, so each round times a single call)
 */
public record SpeedComparison(
        int batchSize,
        double fp32Micros,
        double int8Micros,
        double speedup,
        double lowQuartile,
        double highQuartile,
        double minSpeedup,
        double maxSpeedup,
        int rounds,
        int callsPerRound) {

    /** How much faster or slower, relative, a median round must be to count: 5%. */
    public static final double TOLERANCE = 0.05;

    /** What the rounds say about int8 against fp32. */
    public enum Verdict {
        /** int8 is faster beyond noise. */
        FASTER,
        /** Neither is faster beyond noise. */
        WITHIN_NOISE,
        /** int8 is slower beyond noise. */
        SLOWER
    }

    /**
     * Makes the comparison from the rounds' times.
     *
     * @param batchSize the batch size timed
     * @param fp32Micros microseconds per fp32 call in each round
     * @param int8Micros microseconds per int8 call in each round, same length
     * @param callsPerRound the fewest calls one side made in a round
     * @return the comparison
     * @throws IllegalArgumentException if the arrays are empty, differ in length or hold a time
     *     that is not positive and finite
     */
    public static SpeedComparison of(
            int batchSize, double[] fp32Micros, double[] int8Micros, int callsPerRound) {
        if (fp32Micros.length == 0 || fp32Micros.length != int8Micros.length) {
            throw new IllegalArgumentException(
                    "need the same number of fp32 and int8 rounds, at least one; got "
                            + fp32Micros.length
                            + " and "
                            + int8Micros.length
                            + ".");
        }
        double[] ratios = new double[fp32Micros.length];
        for (int i = 0; i < ratios.length; i++) {
            if (!(fp32Micros[i] > 0) || !(int8Micros[i] > 0)
                    || Double.isInfinite(fp32Micros[i]) || Double.isInfinite(int8Micros[i])) {
                throw new IllegalArgumentException(
                        "round " + i + " has a time that is not positive and finite.");
            }
            ratios[i] = fp32Micros[i] / int8Micros[i];
        }
        Integer[] order = new Integer[ratios.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(ratios[a], ratios[b]));
        int median = order[(order.length - 1) / 2];
        return new SpeedComparison(
                batchSize,
                fp32Micros[median],
                int8Micros[median],
                ratios[median],
                quantile(ratios, 0.25),
                quantile(ratios, 0.75),
                quantile(ratios, 0),
                quantile(ratios, 1),
                ratios.length,
                callsPerRound);
    }

    /** The {@code p} quantile, linear between order statistics. */
    private static double quantile(double[] values, double p) {
        double[] s = values.clone();
        Arrays.sort(s);
        double pos = p * (s.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(s.length - 1, lo + 1);
        return s[lo] + (pos - lo) * (s[hi] - s[lo]);
    }

    /**
     * Returns what the rounds say.
     *
     * @return FASTER, SLOWER or WITHIN_NOISE
     */
    public Verdict verdict() {
        if (speedup > 1 + TOLERANCE && lowQuartile > 1) {
            return Verdict.FASTER;
        }
        if (speedup < 1 / (1 + TOLERANCE) && highQuartile < 1) {
            return Verdict.SLOWER;
        }
        return Verdict.WITHIN_NOISE;
    }

    /**
     * Describes it briefly, e.g. {@code "batch 32: fp32 812 us, int8 401 us (2.02x)"}.
     *
     * @return the description
     */
    public String describe() {
        return String.format(
                Locale.ROOT,
                "batch %d: fp32 %s us, int8 %s us (%.2fx)",
                batchSize,
                micros(fp32Micros),
                micros(int8Micros),
                speedup);
    }

    private static String micros(double us) {
        return us >= 100 ? String.format(Locale.ROOT, "%.0f", us) : String.format(Locale.ROOT, "%.1f", us);
    }

    /**
     * Returns it as a JSON-ready map.
     *
     * @return the fields by name
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batchSize", batchSize);
        m.put("fp32Micros", fp32Micros);
        m.put("int8Micros", int8Micros);
        m.put("speedup", speedup);
        m.put("speedupLowQuartile", lowQuartile);
        m.put("speedupHighQuartile", highQuartile);
        m.put("speedupMin", minSpeedup);
        m.put("speedupMax", maxSpeedup);
        m.put("rounds", rounds);
        m.put("callsPerRound", callsPerRound);
        m.put("verdict", verdict().name());
        return m;
    }
}

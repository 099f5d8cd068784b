package ai.djlquant.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djlquant.annotations.Internal;

import java.util.Arrays;
import java.util.Objects;

/**
 * Signal-to-quantization-noise ratio in decibels: {@code 10 log10(sum(ref^2) / sum((ref -
 * approx)^2))}. Higher is better; each bit of a uniform grid adds about 6 dB. The planner and the
 * range-estimator tests use it to compare choices on the same data.
 *
 * <p>Edge cases: identical inputs give {@code +Infinity} (no noise, including an all-zero
 * reference); noise on an all-zero reference gives {@code -Infinity}.
 */
@Internal
public final class Sqnr {

    private Sqnr() {}

    /**
     * The two sums SQNR is the ratio of.
     *
     * @param signal {@code sum(ref^2)}
     * @param noise {@code sum((ref - approx)^2)}
     */
    public record Powers(double signal, double noise) {}

    /**
     * Returns the SQNR of {@code approximation} against {@code reference}, summed in double.
     *
     * @param reference the reference values
     * @param approximation the approximate values, same length
     * @return the SQNR in dB
     * @throws IllegalArgumentException if the lengths differ or a value is NaN or infinite
     */
    public static double decibels(float[] reference, float[] approximation) {
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(approximation, "approximation");
        if (reference.length != approximation.length) {
            throw new IllegalArgumentException(
                    "reference has "
                            + reference.length
                            + " values but approximation has "
                            + approximation.length
                            + ".");
        }
        double signal = 0;
        double noise = 0;
        for (int i = 0; i < reference.length; i++) {
            double r = reference[i];
            double d = r - approximation[i];
            signal += r * r;
            noise += d * d;
        }
        return fromPowers(signal, noise);
    }

    /**
     * Returns the SQNR of {@code approximation} against {@code reference}, computed on the engine
     * (float64 sums).
     *
     * @param reference the reference values
     * @param approximation the approximate values, same shape
     * @return the SQNR in dB
     * @throws IllegalArgumentException if the shapes differ or a value is NaN or infinite
     */
    public static double decibels(NDArray reference, NDArray approximation) {
        Powers p = powers(reference, approximation);
        return fromPowers(p.signal(), p.noise());
    }

    /**
     * Returns the two sums SQNR is the ratio of, computed on the engine in float64: {@code
     * sum(ref^2)} and {@code sum((ref - approx)^2)}. For callers that accumulate them over many
     * batches.
     *
     * @param reference the reference values
     * @param approximation the approximate values, same shape
     * @return the signal and noise powers; not finite if a value is NaN or infinite
     * @throws IllegalArgumentException if the shapes differ
     */
    public static Powers powers(NDArray reference, NDArray approximation) {
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(approximation, "approximation");
        if (!reference.getShape().equals(approximation.getShape())) {
            throw new IllegalArgumentException(
                    "reference has shape "
                            + reference.getShape()
                            + " but approximation has shape "
                            + approximation.getShape()
                            + ".");
        }
        try (NDManager scope = reference.getManager().newSubManager()) {
            reference.tempAttach(scope);
            approximation.tempAttach(scope);
            NDArray r64 = reference.toType(DataType.FLOAT64, false);
            NDArray a64 = approximation.toType(DataType.FLOAT64, false);
            return new Powers(
                    r64.square().sum().getDouble(), r64.sub(a64).square().sum().getDouble());
        }
    }

    private static double fromPowers(double signal, double noise) {
        if (!Double.isFinite(signal) || !Double.isFinite(noise)) {
            throw new IllegalArgumentException(
                    "SQNR needs finite values (signal power "
                            + signal
                            + ", noise power "
                            + noise
                            + ").");
        }
        if (noise == 0) {
            return Double.POSITIVE_INFINITY;
        }
        return 10 * Math.log10(signal / noise);
    }

    /**
     * Returns the mean squared error between two arrays, in double.
     *
     * @param reference the reference values
     * @param approximation the approximate values, same length
     * @return the mean squared error
     * @throws IllegalArgumentException if the lengths differ or are zero
     */
    public static double meanSquaredError(float[] reference, float[] approximation) {
        if (reference.length != approximation.length || reference.length == 0) {
            throw new IllegalArgumentException(
                    "reference and approximation must have the same non-zero length, got "
                            + Arrays.asList(reference.length, approximation.length)
                            + ".");
        }
        double sum = 0;
        for (int i = 0; i < reference.length; i++) {
            double d = (double) reference[i] - approximation[i];
            sum += d * d;
        }
        return sum / reference.length;
    }
}

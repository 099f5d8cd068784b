package ai.djlquant.plan;

import ai.djl.ndarray.NDArray;
import ai.djlquant.annotations.Internal;
import ai.djlquant.quant.Sqnr;

/**
 * Accumulates the SQNR of an approximation against its reference over many batches: {@code 10
 * log10(sum ref^2 / sum (ref - approx)^2)} over all of them, the sums in float64 on the engine.
 */
@Internal
public final class SqnrMeter {

    private double signal;
    private double noise;
    private long values;

    /** Creates an empty meter. */
    public SqnrMeter() {}

    /**
     * Adds one batch.
     *
     * @param reference the reference output
     * @param approximation the approximate output, same shape
     * @throws IllegalArgumentException if the shapes differ
     */
    public void add(NDArray reference, NDArray approximation) {
        Sqnr.Powers p = Sqnr.powers(reference, approximation);
        signal += p.signal();
        noise += p.noise();
        values += reference.size();
    }

    /**
     * Returns the number of values added.
     *
     * @return the number of values
     */
    public long getValues() {
        return values;
    }

    /**
     * Returns whether NaN or infinite values reached the sums.
     *
     * @return whether the sums are not finite
     */
    public boolean isNonFinite() {
        return !Double.isFinite(signal) || !Double.isFinite(noise);
    }

    /**
     * Returns the SQNR in dB: NaN if nothing was added or the sums are not finite, +Infinity for
     * an exact approximation.
     *
     * @return the SQNR
     */
    public double decibels() {
        if (values == 0 || isNonFinite()) {
            return Double.NaN;
        }
        if (noise == 0) {
            return Double.POSITIVE_INFINITY;
        }
        return 10 * Math.log10(signal / noise);
    }
}

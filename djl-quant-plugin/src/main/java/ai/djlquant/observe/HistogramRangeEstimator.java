package ai.djlquant.observe;

import ai.djlquant.quant.AffineQuantizer;
import ai.djlquant.quant.Granularity;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;

import java.util.Objects;

/**
 * A range estimator that searches a {@link HistogramObserver}'s bins for the range to keep.
 * Symmetric schemes search the histogram of {@code |x|} for one threshold {@code t} (range {@code
 * [-t, t]}); asymmetric schemes search a low and a high end. Either way the range is then turned
 * into parameters by {@link AffineQuantizer#fromRange}, which widens it to include 0.
 */
public abstract class HistogramRangeEstimator implements RangeEstimator {

    HistogramRangeEstimator() {}

    /**
     * The range an estimator keeps.
     *
     * @param low the low end
     * @param high the high end, not below {@code low}
     */
    public record Range(float low, float high) {}

    /** A range searched for an asymmetric scheme, before it is clamped to the values seen. */
    record Bounds(double low, double high) {}

    /** {@inheritDoc} */
    @Override
    public final QuantParams estimate(Observer observer, QuantScheme scheme) {
        Range r = range(observer, scheme);
        return AffineQuantizer.fromRange(scheme, r.low(), r.high());
    }

    /**
     * Returns the range this estimator keeps, before {@link AffineQuantizer#fromRange} widens it to
     * include 0: {@code [-t, t]} for symmetric schemes.
     *
     * @param observer a non-empty histogram observer
     * @param scheme a per-tensor scheme
     * @return the range
     * @throws IllegalArgumentException if the observer is not a histogram or the scheme is not per
     *     tensor
     * @throws IllegalStateException if the observer has seen no finite value
     */
    public final Range range(Observer observer, QuantScheme scheme) {
        Objects.requireNonNull(observer, "observer");
        Objects.requireNonNull(scheme, "scheme");
        if (!(observer instanceof HistogramObserver)) {
            throw new IllegalArgumentException(
                    this
                            + " needs a HistogramObserver, got a "
                            + observer.getClass().getSimpleName()
                            + ".");
        }
        if (scheme.getGranularity() != Granularity.PER_TENSOR) {
            throw new IllegalArgumentException(
                    this + " makes per-tensor parameters, the scheme is " + scheme + ".");
        }
        HistogramObserver h = (HistogramObserver) observer;
        if (h.isEmpty()) {
            throw h.nothingSeen();
        }
        BinnedValues v = BinnedValues.of(h);
        if (scheme.isSymmetric()) {
            BinnedValues abs = v.folded(h.getBins());
            float t = (float) Math.min(symmetricThreshold(abs, scheme), abs.max);
            return new Range(-t, t);
        }
        Bounds lh = asymmetricRange(v, scheme);
        float lo = (float) Math.max(v.min, lh.low());
        float hi = (float) Math.min(v.max, lh.high());
        return new Range(lo, Math.max(lo, hi));
    }

    /** Chooses {@code t} for a symmetric scheme from the histogram of {@code |x|}. */
    abstract double symmetricThreshold(BinnedValues abs, QuantScheme scheme);

    /** Chooses the low and high ends for an asymmetric scheme. */
    abstract Bounds asymmetricRange(BinnedValues values, QuantScheme scheme);
}

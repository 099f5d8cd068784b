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

    /** {@inheritDoc} */
    @Override
    public final QuantParams estimate(Observer observer, QuantScheme scheme) {
        float[] r = range(observer, scheme);
        return AffineQuantizer.fromRange(scheme, r[0], r[1]);
    }

    /**
     * Returns the range this estimator keeps, before {@link AffineQuantizer#fromRange} widens it to
     * include 0: {@code [-t, t]} for symmetric schemes.
     *
     * @param observer a non-empty histogram observer
     * @param scheme a per-tensor scheme
     * @return {@code {low, high}}
     * @throws IllegalArgumentException if the observer is not a histogram or the scheme is not per
     *     tensor
     * @throws IllegalStateException if the observer has seen no finite value
     */
    public final float[] range(Observer observer, QuantScheme scheme) {
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
            return new float[] {-t, t};
        }
        double[] lh = asymmetricRange(v, scheme);
        float lo = (float) Math.max(v.min, lh[0]);
        float hi = (float) Math.min(v.max, lh[1]);
        return new float[] {lo, Math.max(lo, hi)};
    }

    /** Chooses {@code t} for a symmetric scheme from the histogram of {@code |x|}. */
    abstract double symmetricThreshold(BinnedValues abs, QuantScheme scheme);

    /** Chooses {@code {low, high}} for an asymmetric scheme. */
    abstract double[] asymmetricRange(BinnedValues values, QuantScheme scheme);
}

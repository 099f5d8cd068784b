package ai.djlquant.observe;

import ai.djlquant.quant.AffineQuantizer;
import ai.djlquant.quant.Granularity;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;

import java.util.Objects;

/**
 * The grid covers everything seen: the observed minimum and maximum, per tensor, from any {@link
 * TensorRangeObserver}. Nothing is clipped; one outlier stretches the grid for all values.
 */
public final class MinMaxEstimator implements RangeEstimator {

    /** Creates the estimator. */
    public MinMaxEstimator() {}

    /** {@inheritDoc} */
    @Override
    public QuantParams estimate(Observer observer, QuantScheme scheme) {
        Objects.requireNonNull(observer, "observer");
        Objects.requireNonNull(scheme, "scheme");
        if (scheme.getGranularity() == Granularity.PER_TENSOR
                && observer instanceof TensorRangeObserver) {
            TensorRangeObserver o = (TensorRangeObserver) observer;
            return AffineQuantizer.fromRange(scheme, o.getMin(), o.getMax());
        }
        throw new IllegalArgumentException(
                "min-max cannot make "
                        + scheme.getGranularity()
                        + " parameters from a "
                        + observer.getClass().getSimpleName()
                        + ".");
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "min-max";
    }
}

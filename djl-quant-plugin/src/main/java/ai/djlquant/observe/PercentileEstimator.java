package ai.djlquant.observe;

import ai.djlquant.quant.QuantScheme;

/**
 * Clips the tails so that {@code p}% of the values stay inside the range: symmetric schemes take
 * {@code t} as the {@code p}-th percentile of {@code |x|}; asymmetric schemes cut {@code (100 - p)
 * / 2}% from each tail (as ONNX Runtime). Interpolates linearly inside a histogram bin.
 *
 * <p>The share cut must exceed the outliers' share: with 0.1% outliers, {@code p = 99.99} keeps
 * them all and {@code p = 99.8} clips them.
 */
public final class PercentileEstimator extends HistogramRangeEstimator {

    private final double percentile;

    private PercentileEstimator(double percentile) {
        this.percentile = percentile;
    }

    /**
     * Creates a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the percentile.
     *
     * @return the percentile, in (50, 100]
     */
    public double getPercentile() {
        return percentile;
    }

    @Override
    double symmetricThreshold(BinnedValues abs, QuantScheme scheme) {
        return abs.quantile(percentile / 100);
    }

    @Override
    Bounds asymmetricRange(BinnedValues values, QuantScheme scheme) {
        // the same share of values is cut as for a symmetric scheme, half from each tail
        double tail = (100 - percentile) / 200;
        return new Bounds(values.quantile(tail), values.quantile(1 - tail));
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "percentile(" + percentile + ")";
    }

    /** Builds a {@link PercentileEstimator}. */
    public static final class Builder {

        private double percentile = 99.99;

        private Builder() {}

        /**
         * Sets the percentile kept, in (50, 100] (default 99.99).
         *
         * @param percentile the percentile
         * @return this builder
         */
        public Builder optPercentile(double percentile) {
            this.percentile = percentile;
            return this;
        }

        /**
         * Validates the settings and builds the estimator.
         *
         * @return the estimator
         * @throws IllegalArgumentException naming the field at fault
         */
        public PercentileEstimator build() {
            if (!(percentile > 50 && percentile <= 100)) {
                throw new IllegalArgumentException(
                        "percentile must be in (50, 100], got " + percentile + ".");
            }
            return new PercentileEstimator(percentile);
        }
    }
}

package ai.djlquant.observe;

import ai.djl.ndarray.NDArray;

import java.util.Objects;

/**
 * Exponential moving average of each batch's minimum and maximum (PyTorch's {@code
 * MovingAverageMinMaxObserver}): the first batch sets the range, each later batch moves it by
 * {@code momentum * (batchMin - min)}. Less sensitive than {@link MinMaxObserver} to one unusual
 * batch. Batches without finite values are skipped.
 */
public final class MovingAverageMinMaxObserver extends AbstractObserver
        implements TensorRangeObserver {

    private final double momentum;
    private long batches;
    private double avgMin;
    private double avgMax;

    private MovingAverageMinMaxObserver(double momentum) {
        this.momentum = momentum;
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
     * Returns the momentum.
     *
     * @return the momentum
     */
    public double getMomentum() {
        return momentum;
    }

    /**
     * Returns the number of batches with finite values seen.
     *
     * @return the number of batches
     */
    public long getBatches() {
        return batches;
    }

    @Override
    void observe(NDArray x) {
        BatchStats b = BatchStats.of(x);
        nonFinite += b.nonFinite();
        if (b.isEmpty()) {
            return;
        }
        count += b.count();
        if (batches == 0) {
            avgMin = b.min();
            avgMax = b.max();
        } else {
            avgMin += momentum * (b.min() - avgMin);
            avgMax += momentum * (b.max() - avgMax);
        }
        batches++;
    }

    /** {@inheritDoc} */
    @Override
    public float getMin() {
        requireSeen();
        return (float) avgMin;
    }

    /** {@inheritDoc} */
    @Override
    public float getMax() {
        requireSeen();
        return (float) avgMax;
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof MovingAverageMinMaxObserver)) {
            return false;
        }
        MovingAverageMinMaxObserver m = (MovingAverageMinMaxObserver) o;
        return count == m.count
                && nonFinite == m.nonFinite
                && Double.compare(momentum, m.momentum) == 0
                && batches == m.batches
                && Double.compare(avgMin, m.avgMin) == 0
                && Double.compare(avgMax, m.avgMax) == 0;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(count, nonFinite, momentum, batches, avgMin, avgMax);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "MovingAverageMinMaxObserver(momentum="
                + momentum
                + ") ["
                + avgMin
                + ", "
                + avgMax
                + "] over "
                + batches
                + " batches";
    }

    /** Builds a {@link MovingAverageMinMaxObserver}. */
    public static final class Builder {

        private double momentum = 0.01;

        private Builder() {}

        /**
         * Sets how far each batch moves the range, in (0, 1] (default 0.01, as PyTorch).
         *
         * @param momentum the momentum
         * @return this builder
         */
        public Builder optMomentum(double momentum) {
            this.momentum = momentum;
            return this;
        }

        /**
         * Validates the settings and builds an empty observer.
         *
         * @return the observer
         * @throws IllegalArgumentException naming the field at fault
         */
        public MovingAverageMinMaxObserver build() {
            if (!(momentum > 0 && momentum <= 1)) {
                throw new IllegalArgumentException(
                        "momentum must be in (0, 1], got " + momentum + ".");
            }
            return new MovingAverageMinMaxObserver(momentum);
        }
    }
}

package ai.djlquant.observe;

import ai.djl.ndarray.NDArray;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Objects;

/**
 * Exponential moving average of each batch's minimum and maximum (PyTorch's {@code
 * MovingAverageMinMaxObserver}): the first batch sets the range, each later batch moves it by
 * {@code momentum * (batchMin - min)}. Less sensitive than {@link MinMaxObserver} to one unusual
 * batch. Batches without finite values are skipped.
 *
 * <p>Merge: the average is order dependent, so {@code a.merge(b)} gives the state of one observer
 * that saw {@code a}'s batches, then {@code b}'s. It is exact in real arithmetic: a state keeps its
 * first batch's range and the factor {@code (1 - momentum)^batches}, and the merged average is
 * {@code b.avg + (1 - momentum)^b.batches * (a.avg - b.first)}. In doubles it matches the
 * sequential observer to rounding (about 1e-15 relative), not bit for bit.
 */
public final class MovingAverageMinMaxObserver extends AbstractObserver
        implements TensorRangeObserver {

    /** Version of the serialised state. */
    public static final byte VERSION = 1;

    private final double momentum;
    private long batches;
    private double avgMin;
    private double avgMax;
    private double firstMin;
    private double firstMax;

    /** {@code (1 - momentum)^batches}: how much of the state before this stream survives. */
    private double decay = 1;

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
        nonFinite += b.nonFinite;
        if (b.isEmpty()) {
            return;
        }
        count += b.count;
        if (batches == 0) {
            firstMin = b.min;
            firstMax = b.max;
            avgMin = b.min;
            avgMax = b.max;
        } else {
            avgMin += momentum * (b.min - avgMin);
            avgMax += momentum * (b.max - avgMax);
        }
        batches++;
        decay *= 1 - momentum;
    }

    /** {@inheritDoc} */
    @Override
    public void merge(Observer other) {
        MovingAverageMinMaxObserver o = sameType(other, MovingAverageMinMaxObserver.class);
        if (o.momentum != momentum) {
            throw new IllegalArgumentException(
                    "cannot merge a MovingAverageMinMaxObserver with momentum "
                            + o.momentum
                            + " into one with momentum "
                            + momentum
                            + ".");
        }
        count += o.count;
        nonFinite += o.nonFinite;
        if (o.batches == 0) {
            return;
        }
        if (batches == 0) {
            firstMin = o.firstMin;
            firstMax = o.firstMax;
            avgMin = o.avgMin;
            avgMax = o.avgMax;
        } else {
            // the average after o's batches is affine in the value they start from, with slope
            // o.decay: starting from this average instead of o's first batch shifts it by this
            avgMin = o.avgMin + o.decay * (avgMin - o.firstMin);
            avgMax = o.avgMax + o.decay * (avgMax - o.firstMax);
        }
        batches += o.batches;
        decay *= o.decay;
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

    @Override
    byte typeTag() {
        return Observers.MOVING_AVERAGE;
    }

    @Override
    byte version() {
        return VERSION;
    }

    @Override
    void writeState(DataOutputStream out) throws IOException {
        out.writeDouble(momentum);
        out.writeLong(batches);
        out.writeDouble(avgMin);
        out.writeDouble(avgMax);
        out.writeDouble(firstMin);
        out.writeDouble(firstMax);
        out.writeDouble(decay);
    }

    static MovingAverageMinMaxObserver read(DataInputStream in, byte version) throws IOException {
        Observers.checkVersion(version, VERSION, "MovingAverageMinMaxObserver");
        long count = Observers.nonNegative(in.readLong(), "count");
        long nonFinite = Observers.nonNegative(in.readLong(), "nonFiniteCount");
        MovingAverageMinMaxObserver o = builder().optMomentum(in.readDouble()).build();
        o.count = count;
        o.nonFinite = nonFinite;
        o.batches = Observers.nonNegative(in.readLong(), "batches");
        o.avgMin = in.readDouble();
        o.avgMax = in.readDouble();
        o.firstMin = in.readDouble();
        o.firstMax = in.readDouble();
        o.decay = in.readDouble();
        if ((o.batches == 0) != (o.count == 0)
                || !(o.decay >= 0 && o.decay <= 1)
                || !Double.isFinite(o.avgMin + o.avgMax + o.firstMin + o.firstMax)) {
            throw new IllegalArgumentException(
                    "MovingAverageMinMaxObserver bytes hold an invalid state.");
        }
        return o;
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
                && Double.compare(avgMax, m.avgMax) == 0
                && Double.compare(firstMin, m.firstMin) == 0
                && Double.compare(firstMax, m.firstMax) == 0
                && Double.compare(decay, m.decay) == 0;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(count, nonFinite, momentum, batches, avgMin, avgMax, decay);
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

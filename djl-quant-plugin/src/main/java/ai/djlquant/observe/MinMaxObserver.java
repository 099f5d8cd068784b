package ai.djlquant.observe;

import ai.djl.ndarray.NDArray;

import java.util.Objects;

/** Running minimum and maximum of all finite values seen (PyTorch's {@code MinMaxObserver}). */
public final class MinMaxObserver extends AbstractObserver implements TensorRangeObserver {

    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;

    /** Creates an empty observer. */
    public MinMaxObserver() {}

    @Override
    void observe(NDArray x) {
        BatchStats b = BatchStats.of(x);
        nonFinite += b.nonFinite();
        if (!b.isEmpty()) {
            count += b.count();
            min = Math.min(min, b.min());
            max = Math.max(max, b.max());
        }
    }

    /** {@inheritDoc} */
    @Override
    public float getMin() {
        requireSeen();
        return min;
    }

    /** {@inheritDoc} */
    @Override
    public float getMax() {
        requireSeen();
        return max;
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof MinMaxObserver)) {
            return false;
        }
        MinMaxObserver m = (MinMaxObserver) o;
        return count == m.count
                && nonFinite == m.nonFinite
                && Float.compare(min, m.min) == 0
                && Float.compare(max, m.max) == 0;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(count, nonFinite, min, max);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "MinMaxObserver [" + min + ", " + max + "] over " + count + " values";
    }
}

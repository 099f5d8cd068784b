package ai.djlquant.observe;

import ai.djl.ndarray.NDArray;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Objects;

/**
 * Running minimum and maximum of all finite values seen (PyTorch's {@code MinMaxObserver}). Merge
 * is exact: the minimum of minima, the maximum of maxima.
 */
public final class MinMaxObserver extends AbstractObserver implements TensorRangeObserver {

    /** Version of the serialised state. */
    public static final byte VERSION = 1;

    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;

    /** Creates an empty observer. */
    public MinMaxObserver() {}

    @Override
    void observe(NDArray x) {
        BatchStats b = BatchStats.of(x);
        nonFinite += b.nonFinite;
        if (!b.isEmpty()) {
            count += b.count;
            min = Math.min(min, b.min);
            max = Math.max(max, b.max);
        }
    }

    /** {@inheritDoc} */
    @Override
    public void merge(Observer other) {
        MinMaxObserver o = sameType(other, MinMaxObserver.class);
        count += o.count;
        nonFinite += o.nonFinite;
        min = Math.min(min, o.min);
        max = Math.max(max, o.max);
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

    @Override
    byte typeTag() {
        return Observers.MIN_MAX;
    }

    @Override
    byte version() {
        return VERSION;
    }

    @Override
    void writeState(DataOutputStream out) throws IOException {
        out.writeFloat(min);
        out.writeFloat(max);
    }

    static MinMaxObserver read(DataInputStream in, byte version) throws IOException {
        Observers.checkVersion(version, VERSION, "MinMaxObserver");
        MinMaxObserver o = new MinMaxObserver();
        o.readCounts(in);
        o.min = in.readFloat();
        o.max = in.readFloat();
        checkRange(o.count, o.min, o.max, "MinMaxObserver");
        return o;
    }

    /** Checks a deserialised range: empty and infinite, or finite and ordered. */
    static void checkRange(long count, double min, double max, String type) {
        boolean ok =
                count == 0
                        ? min == Float.POSITIVE_INFINITY && max == Float.NEGATIVE_INFINITY
                        : Double.isFinite(min) && Double.isFinite(max) && min <= max;
        if (!ok) {
            throw new IllegalArgumentException(
                    type
                            + " bytes hold an invalid range ["
                            + min
                            + ", "
                            + max
                            + "] for "
                            + count
                            + " values.");
        }
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

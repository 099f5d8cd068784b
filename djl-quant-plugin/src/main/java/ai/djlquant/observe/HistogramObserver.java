package ai.djlquant.observe;

import ai.djl.ndarray.NDArray;

import java.util.Arrays;
import java.util.Objects;

/**
 * A histogram of the finite values seen, with a fixed number of bins (default {@value
 * #DEFAULT_BINS}), for the percentile, entropy and MSE range estimators.
 *
 * <p>Bins sit on a fixed lattice: every bin is {@code [j * 2^e, (j + 1) * 2^e)} for integers {@code
 * j} and {@code e}. The histogram holds the {@code bins} consecutive lattice bins starting at the
 * one that holds the minimum, with the smallest width {@code 2^e} for which the range {@code [min,
 * max]} fits (and never finer than float resolution at the range's magnitude). So a histogram's
 * width is at most twice the finest possible, and its data spans between half and all of the bins.
 *
 * <p>When a batch falls outside, the width doubles as often as needed and neighbouring bins are
 * added in pairs: no count is lost or interpolated. Since the bin of a value at width {@code 2^e}
 * is exactly {@code floor(v / 2^e)} (a power-of-two division is exact), the state depends only on
 * the multiset of values seen, never on the order or on how they were split into batches: any
 * order of updates gives a state {@link #equals(Object) equal} (field for field, count for count)
 * to that of one observer that saw all values in one batch.
 *
 * <p>Cost of an update: two engine reductions (min and max) and one pass over a zero-copy view of
 * the tensor's memory; no copy of the tensor is made for a contiguous CPU float32 tensor.
 */
public final class HistogramObserver extends AbstractObserver implements TensorRangeObserver {

    /** Default number of bins (TensorRT's choice). */
    public static final int DEFAULT_BINS = 2048;

    /** Fewest bins allowed. */
    public static final int MIN_BINS = 16;

    /** Most bins allowed. */
    public static final int MAX_BINS = 1 << 20;

    private final int bins;
    private final long[] counts;

    /** Bin width is {@code 2^exponent}. */
    private int exponent;

    /** Lattice index of bin 0. */
    private long start;

    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;

    private HistogramObserver(int bins) {
        this.bins = bins;
        counts = new long[bins];
    }

    /**
     * Creates a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    void observe(NDArray x) {
        BatchStats b = BatchStats.of(x);
        nonFinite += b.nonFinite();
        if (b.isEmpty()) {
            return;
        }
        float newMin = Math.min(min, b.min());
        float newMax = Math.max(max, b.max());
        retarget(newMin, newMax);
        BinCounter.count(x, Math.scalb(1.0, -exponent), start, counts);
        count += b.count();
        min = newMin;
        max = newMax;
    }

    /** Moves the window to the canonical one for {@code [lo, hi]}, re-binning exactly. */
    private void retarget(float lo, float hi) {
        int e = exponentFor(lo, hi, bins);
        long s = latticeIndex(lo, e);
        if (count == 0) {
            exponent = e;
            start = s;
            return;
        }
        if (e == exponent && s == start) {
            return;
        }
        long[] old = counts.clone();
        Arrays.fill(counts, 0);
        addRebinned(old, start, exponent, e, s);
        exponent = e;
        start = s;
    }

    /** Adds counts laid out at (fromStart, fromExponent) into this window at (toExp, toStart). */
    private void addRebinned(
            long[] from, long fromStart, int fromExponent, int toExp, long toStart) {
        // width ratio 2^shift: the lattice index halves (rounding down) per doubling
        int shift = Math.min(toExp - fromExponent, 63);
        for (int k = 0; k < from.length; k++) {
            if (from[k] != 0) {
                counts[(int) (((fromStart + k) >> shift) - toStart)] += from[k];
            }
        }
    }

    /**
     * The canonical exponent for a range: the smallest {@code e} such that the lattice bins from
     * {@code floor(lo / 2^e)} to {@code floor(hi / 2^e)} number at most {@code bins}, and no finer
     * than 2^-23 of the range's magnitude (float resolution; also keeps lattice indices within
     * 2^24). It only grows as the range widens, which is what makes the state order-free.
     */
    static int exponentFor(float lo, float hi, int bins) {
        float magnitude = Math.max(Math.abs(lo), Math.abs(hi));
        int e = Math.max(Float.MIN_EXPONENT, Math.getExponent(magnitude) - 23);
        while (latticeIndex(hi, e) - latticeIndex(lo, e) + 1 > bins) {
            e++;
        }
        return e;
    }

    /** {@code floor(v / 2^e)}, exact. */
    static long latticeIndex(float v, int e) {
        return (long) Math.floor(v * Math.scalb(1.0, -e));
    }

    /**
     * Returns the number of bins.
     *
     * @return the number of bins
     */
    public int getBins() {
        return bins;
    }

    /**
     * Returns a copy of the counts; bin {@code k} covers {@code [getBinStart() + k * getBinWidth(),
     * getBinStart() + (k + 1) * getBinWidth())}.
     *
     * @return the counts
     */
    public long[] getCounts() {
        return counts.clone();
    }

    /**
     * Returns the width of a bin, a power of two.
     *
     * @return the bin width
     * @throws IllegalStateException if no finite value has been seen
     */
    public double getBinWidth() {
        requireSeen();
        return Math.scalb(1.0, exponent);
    }

    /**
     * Returns the low edge of bin 0.
     *
     * @return the low edge
     * @throws IllegalStateException if no finite value has been seen
     */
    public double getBinStart() {
        return start * getBinWidth();
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
        if (!(o instanceof HistogramObserver)) {
            return false;
        }
        HistogramObserver h = (HistogramObserver) o;
        return count == h.count
                && nonFinite == h.nonFinite
                && bins == h.bins
                && exponent == h.exponent
                && start == h.start
                && Float.compare(min, h.min) == 0
                && Float.compare(max, h.max) == 0
                && Arrays.equals(counts, h.counts);
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(count, nonFinite, bins, exponent, start, Arrays.hashCode(counts));
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "HistogramObserver("
                + bins
                + " bins) ["
                + min
                + ", "
                + max
                + "] over "
                + count
                + " values, bin width 2^"
                + exponent;
    }

    /** Builds a {@link HistogramObserver}. */
    public static final class Builder {

        private int bins = DEFAULT_BINS;

        private Builder() {}

        /**
         * Sets the number of bins (default {@value HistogramObserver#DEFAULT_BINS}, from {@value
         * HistogramObserver#MIN_BINS} to {@value HistogramObserver#MAX_BINS}).
         *
         * @param bins the number of bins
         * @return this builder
         */
        public Builder optBins(int bins) {
            this.bins = bins;
            return this;
        }

        /**
         * Validates the settings and builds an empty observer.
         *
         * @return the observer
         * @throws IllegalArgumentException naming the field at fault
         */
        public HistogramObserver build() {
            if (bins < MIN_BINS || bins > MAX_BINS) {
                throw new IllegalArgumentException(
                        "bins must be between "
                                + MIN_BINS
                                + " and "
                                + MAX_BINS
                                + ", got "
                                + bins
                                + ".");
            }
            return new HistogramObserver(bins);
        }
    }
}

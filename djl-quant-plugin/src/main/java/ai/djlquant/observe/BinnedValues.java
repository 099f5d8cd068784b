package ai.djlquant.observe;

/**
 * A histogram snapshot in the form the estimators search over: bins {@code 0..size-1} of equal
 * width from {@code lowEdge}, trimmed to the bins between the minimum and the maximum, with the
 * exact minimum and maximum.
 */
final class BinnedValues {

    final double[] counts;
    final double lowEdge;
    final double width;
    final double min;
    final double max;
    final double total;

    private BinnedValues(double[] counts, double lowEdge, double width, double min, double max) {
        this.counts = counts;
        this.lowEdge = lowEdge;
        this.width = width;
        this.min = min;
        this.max = max;
        double t = 0;
        for (double c : counts) {
            t += c;
        }
        total = t;
    }

    /** The observer's bins from the one holding the minimum to the one holding the maximum. */
    static BinnedValues of(HistogramObserver h) {
        long[] c = h.getCounts();
        int last = c.length - 1;
        while (last > 0 && c[last] == 0) {
            last--;
        }
        double[] counts = new double[last + 1];
        for (int k = 0; k <= last; k++) {
            counts[k] = c[k];
        }
        return new BinnedValues(counts, h.getBinStart(), h.getBinWidth(), h.getMin(), h.getMax());
    }

    /**
     * The distribution of {@code |x|} on at most {@code maxBins} bins. Bins are lattice-aligned, so
     * bin {@code [j w, (j+1) w)} and its mirror {@code [-(j+1) w, -j w)} fold onto one bin without
     * splitting any; when {@code [0, max|x|]} needs more bins than allowed (data far from 0),
     * neighbouring bins are merged in pairs as often as needed, again exactly.
     */
    BinnedValues folded(int maxBins) {
        long first = Math.round(lowEdge / width);
        long maxIndex = 0;
        for (int k = 0; k < counts.length; k++) {
            maxIndex = Math.max(maxIndex, foldIndex(first + k));
        }
        int shift = 0;
        while ((maxIndex >> shift) + 1 > maxBins) {
            shift++;
        }
        double[] f = new double[(int) (maxIndex >> shift) + 1];
        for (int k = 0; k < counts.length; k++) {
            f[(int) (foldIndex(first + k) >> shift)] += counts[k];
        }
        double absMax = Math.max(Math.abs(min), Math.abs(max));
        double absMin = min <= 0 && max >= 0 ? 0 : Math.min(Math.abs(min), Math.abs(max));
        return new BinnedValues(f, 0, Math.scalb(width, shift), absMin, absMax);
    }

    private static long foldIndex(long j) {
        return j >= 0 ? j : -j - 1;
    }

    int size() {
        return counts.length;
    }

    /** Low edge of bin {@code k} ({@code k = size()} gives the high edge of the last bin). */
    double edge(int k) {
        return lowEdge + k * width;
    }

    /** Centre of bin {@code k}, moved inside [min, max] for the end bins. */
    double centre(int k) {
        return Math.max(min, Math.min(max, lowEdge + (k + 0.5) * width));
    }

    /**
     * The value below which a fraction {@code q} of the values lie, interpolating linearly inside a
     * bin and clamped to [min, max].
     */
    double quantile(double q) {
        double target = q * total;
        double cumulative = 0;
        for (int k = 0; k < counts.length; k++) {
            double next = cumulative + counts[k];
            if (next >= target && counts[k] > 0) {
                double v = edge(k) + (target - cumulative) / counts[k] * width;
                return Math.max(min, Math.min(max, v));
            }
            cumulative = next;
        }
        return max;
    }

    /** Low end of a range that keeps bins from {@code a}: the minimum when nothing is cut. */
    double low(int a) {
        return a == 0 ? min : edge(a);
    }

    /** High end of a range that keeps bins up to {@code b}: the maximum when nothing is cut. */
    double high(int b) {
        return b == counts.length - 1 ? max : edge(b + 1);
    }

    /** Index of the bin holding 0, clamped to the bins present. */
    int zeroBin() {
        int z = (int) Math.floor(-lowEdge / width);
        return Math.max(0, Math.min(counts.length - 1, z));
    }
}

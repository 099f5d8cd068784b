package ai.djlquant.quant;

import java.util.Arrays;

/**
 * A sorted copy of a weight's values with prefix sums, so that the mean of any run of sorted values
 * costs O(1): one-dimensional k-means and quantile bins work on it without touching every value per
 * step.
 */
final class SortedValues {

    final float[] sorted;

    /** {@code prefix[i]} is the sum of the {@code i} smallest values. */
    final double[] prefix;

    private SortedValues(float[] sorted) {
        this.sorted = sorted;
        prefix = new double[sorted.length + 1];
        for (int i = 0; i < sorted.length; i++) {
            prefix[i + 1] = prefix[i] + sorted[i];
        }
    }

    /** Validates and sorts a copy of {@code values}. */
    static SortedValues of(float[] values, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != values.length) {
            throw new IllegalArgumentException(
                    "values has "
                            + values.length
                            + " elements but shape "
                            + Arrays.toString(shape)
                            + " needs "
                            + n
                            + ".");
        }
        if (values.length == 0) {
            throw new IllegalArgumentException("values must not be empty.");
        }
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new IllegalArgumentException(
                        "values[" + i + "] = " + values[i] + " is not finite.");
            }
        }
        float[] s = values.clone();
        Arrays.sort(s);
        return new SortedValues(s);
    }

    int size() {
        return sorted.length;
    }

    /** Mean of sorted values {@code [from, to)}; the caller ensures {@code from < to}. */
    double mean(int from, int to) {
        return (prefix[to] - prefix[from]) / (to - from);
    }

    /** Index of the first sorted value strictly greater than {@code v}. */
    int upper(double v) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] > v) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /**
     * Index of the nearest codebook entry for every value; a value exactly between two entries goes
     * to the lower one.
     */
    static byte[] assign(float[] values, float[] codebook) {
        double[] mid = new double[codebook.length - 1];
        for (int j = 0; j < mid.length; j++) {
            mid[j] = ((double) codebook[j] + codebook[j + 1]) / 2;
        }
        byte[] idx = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            // number of midpoints strictly below v
            int lo = 0;
            int hi = mid.length;
            while (lo < hi) {
                int m = (lo + hi) >>> 1;
                if (mid[m] < v) {
                    lo = m + 1;
                } else {
                    hi = m;
                }
            }
            idx[i] = (byte) lo;
        }
        return idx;
    }

    /** Checks a codebook bit width. */
    static void checkBits(int bits) {
        if (bits < 1 || bits > 8) {
            throw new IllegalArgumentException("bits must be between 1 and 8, got " + bits + ".");
        }
    }
}

package ai.djlquant.observe;

import ai.djlquant.quant.QuantScheme;

/**
 * The range whose quantized histogram loses the least information: TensorRT's entropy calibration,
 * generalised to asymmetric grids.
 *
 * <p>For a candidate range covering bins {@code [a, b]}: the reference distribution P is the
 * histogram cut to those bins, with the values outside added to the end bins (clipped values land
 * on the grid's ends); the candidate Q merges the cut histogram, without the clipped values, into
 * as many groups as the grid has levels and spreads each group's mass evenly over the bins where P
 * is non-zero. The range with the smallest Kullback-Leibler divergence KL(P || Q) wins.
 *
 * <p>Symmetric schemes search the histogram of {@code |x|} for {@code t}, with {@code qmax + 1}
 * levels on the half grid (128 for int8, as TensorRT). Asymmetric schemes use all {@code qmax -
 * qmin + 1} levels and shrink the range one bin at a time from whichever end holds fewer values (an
 * end that does not extend past 0 stays), so data after a ReLU gets TensorRT's one-sided search. A
 * histogram with fewer bins than levels cannot be searched and keeps the full range.
 */
public final class EntropyEstimator extends HistogramRangeEstimator {

    /** Probability given to a bin where Q is empty but P is not, so that KL stays finite. */
    private static final double EPSILON = 1e-12;

    /** Creates the estimator. */
    public EntropyEstimator() {}

    @Override
    double symmetricThreshold(BinnedValues abs, QuantScheme scheme) {
        int levels = scheme.qmax() + 1;
        if (abs.size() <= levels) {
            return abs.max;
        }
        double[] prefix = prefix(abs.counts);
        double best = Double.POSITIVE_INFINITY;
        int bestB = abs.size() - 1;
        for (int b = abs.size() - 1; b >= levels - 1; b--) {
            double d = divergence(abs.counts, prefix, 0, b, levels);
            if (d < best) {
                best = d;
                bestB = b;
            }
        }
        return abs.high(bestB);
    }

    @Override
    double[] asymmetricRange(BinnedValues v, QuantScheme scheme) {
        int levels = scheme.qmax() - scheme.qmin() + 1;
        if (v.size() <= levels) {
            return new double[] {v.min, v.max};
        }
        double[] prefix = prefix(v.counts);
        int z = v.zeroBin();
        int a = 0;
        int b = v.size() - 1;
        double best = divergence(v.counts, prefix, a, b, levels);
        int bestA = a;
        int bestB = b;
        while (b - a + 1 > levels) {
            boolean canLow = v.min < 0 && a < z;
            boolean canHigh = v.max > 0 && b > z;
            if (!canLow && !canHigh) {
                break;
            }
            boolean moveLow;
            if (canLow && canHigh) {
                double lowCount = v.counts[a];
                double highCount = v.counts[b];
                moveLow = lowCount < highCount || (lowCount == highCount && z - a > b - z);
            } else {
                moveLow = canLow;
            }
            if (moveLow) {
                a++;
            } else {
                b--;
            }
            double d = divergence(v.counts, prefix, a, b, levels);
            if (d < best) {
                best = d;
                bestA = a;
                bestB = b;
            }
        }
        return new double[] {v.low(bestA), v.high(bestB)};
    }

    private static double[] prefix(double[] counts) {
        double[] p = new double[counts.length + 1];
        for (int k = 0; k < counts.length; k++) {
            p[k + 1] = p[k] + counts[k];
        }
        return p;
    }

    /** KL(P || Q) for the range of bins {@code [a, b]} quantized to {@code levels} levels. */
    static double divergence(double[] counts, double[] prefix, int a, int b, int levels) {
        int m = b - a + 1;
        double left = prefix[a];
        double right = prefix[counts.length] - prefix[b + 1];
        double[] p = new double[m];
        for (int k = 0; k < m; k++) {
            p[k] = counts[a + k];
        }
        p[0] += left;
        p[m - 1] += right;
        double[] q = new double[m];
        for (int g = 0; g < levels; g++) {
            int from = (int) ((long) g * m / levels);
            int to = (int) ((long) (g + 1) * m / levels);
            double mass = prefix[a + to] - prefix[a + from];
            int nonZero = 0;
            for (int k = from; k < to; k++) {
                if (p[k] > 0) {
                    nonZero++;
                }
            }
            if (nonZero > 0) {
                for (int k = from; k < to; k++) {
                    if (p[k] > 0) {
                        q[k] = mass / nonZero;
                    }
                }
            }
        }
        double pTotal = prefix[counts.length];
        double qTotal = prefix[b + 1] - prefix[a];
        if (qTotal <= 0) {
            return Double.POSITIVE_INFINITY;
        }
        double kl = 0;
        for (int k = 0; k < m; k++) {
            if (p[k] > 0) {
                double pk = p[k] / pTotal;
                double qk = Math.max(q[k] / qTotal, EPSILON);
                kl += pk * Math.log(pk / qk);
            }
        }
        return kl;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "entropy";
    }
}

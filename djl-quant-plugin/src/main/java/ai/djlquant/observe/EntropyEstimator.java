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
 * qmin + 1} levels and search the low and high ends independently (an end that does not extend past
 * 0 stays, so data after a ReLU gets TensorRT's one-sided search): a coarse grid of about 64 by 64
 * ranges, then every range within one coarse step of the best.
 *
 * <p>Only ranges spanning at least as many bins as the grid has levels are tried (below that, Q
 * equals P and KL sees no quantization loss). A histogram with fewer bins than levels cannot be
 * searched and keeps the full range.
 */
public final class EntropyEstimator extends HistogramRangeEstimator {

    /**
     * Probability given to a bin where Q is empty but P is not, so that KL stays finite; the value
     * of the TensorRT / MXNet / ONNX Runtime implementations.
     */
    private static final double EPSILON = 1e-4;

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
    Bounds asymmetricRange(BinnedValues v, QuantScheme scheme) {
        int levels = scheme.qmax() - scheme.qmin() + 1;
        int last = v.size() - 1;
        if (last + 1 <= levels) {
            return new Bounds(v.min, v.max);
        }
        double[] prefix = prefix(v.counts);
        // an end that does not extend past 0 stays where it is
        int z = v.zeroBin();
        int aMax = v.min < 0 ? z : 0;
        int bMin = v.max > 0 ? z : last;
        // coarse grid of about 64 x 64 ranges, then every range within one coarse step of the
        // best: KL costs O(bins) per range, so the full grid of O(bins^2) ranges is too slow
        int stride = Math.max(1, Math.max(aMax + 1, last - bMin + 1) / 64);
        Cut best = new Cut(0, last, divergence(v.counts, prefix, 0, last, levels));
        best = scan(v, prefix, levels, 0, aMax, bMin, last, stride, best);
        int a0 = best.a();
        int b0 = best.b();
        best =
                scan(
                        v,
                        prefix,
                        levels,
                        Math.max(0, a0 - stride),
                        Math.min(aMax, a0 + stride),
                        Math.max(bMin, b0 - stride),
                        Math.min(last, b0 + stride),
                        1,
                        best);
        return new Bounds(v.low(best.a()), v.high(best.b()));
    }

    /** The bins {@code [a, b]} kept, and the divergence of that choice. */
    private record Cut(int a, int b, double divergence) {}

    /**
     * Tries the ranges [a, b] on a grid; returns the one of smallest divergence, {@code best} if
     * none is smaller.
     */
    private static Cut scan(
            BinnedValues v,
            double[] prefix,
            int levels,
            int aFrom,
            int aTo,
            int bFrom,
            int bTo,
            int stride,
            Cut best) {
        for (int a = aFrom; a <= aTo; a += stride) {
            for (int b = bTo; b >= bFrom; b -= stride) {
                if (b - a + 1 < levels) {
                    break;
                }
                double d = divergence(v.counts, prefix, a, b, levels);
                if (d < best.divergence()) {
                    best = new Cut(a, b, d);
                }
            }
        }
        return best;
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
        // smoothing as the reference implementations: a bin where P has mass and Q none (the end
        // bin that collects clipped values) gets probability EPSILON, taken from the others
        int empty = 0;
        for (int k = 0; k < m; k++) {
            if (p[k] > 0 && q[k] == 0) {
                empty++;
            }
        }
        double keep = (1 - empty * EPSILON) / qTotal;
        double kl = 0;
        for (int k = 0; k < m; k++) {
            if (p[k] > 0) {
                double pk = p[k] / pTotal;
                double qk = q[k] == 0 ? EPSILON : q[k] * keep;
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

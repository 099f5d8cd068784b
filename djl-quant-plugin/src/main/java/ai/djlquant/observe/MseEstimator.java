package ai.djlquant.observe;

import ai.djlquant.quant.AffineQuantizer;
import ai.djlquant.quant.QuantScheme;

/**
 * The range that minimises the expected squared quantization error over the histogram: values
 * inside the grid cost the rounding noise {@code step^2 / 12}, values beyond an end cost their
 * squared distance to it. Every range with ends on bin edges is tried (low and high ends
 * independently for asymmetric schemes), each in constant time from prefix sums.
 *
 * <p>This is the right choice when every value's error counts equally. It clips rare, far values
 * only when they are rare enough: clipping a fraction {@code f} of values at distance {@code d}
 * costs about {@code f d^2}, while keeping them costs {@code step^2 / 12} on all values; at 8 bits
 * it clips outliers when {@code f} is below roughly {@code 1e-5}, not at {@code 1e-3}.
 */
public final class MseEstimator extends HistogramRangeEstimator {

    /** Creates the estimator. */
    public MseEstimator() {}

    @Override
    double symmetricThreshold(BinnedValues abs, QuantScheme scheme) {
        Sums sums = new Sums(abs);
        double halfLevels = (scheme.qmax() - scheme.qmin()) / 2.0;
        double best = Double.POSITIVE_INFINITY;
        double bestT = abs.max;
        for (int b = abs.size() - 1; b >= 0; b--) {
            double t = abs.high(b);
            double step = Math.max(t / halfLevels, AffineQuantizer.MIN_SCALE);
            // the shorter side of the grid bounds |x| (full-range grids reach one step further
            // on the negative side)
            double end = scheme.qmax() * step;
            double err = sums.error(end + step / 2, end, -1, 0, step);
            if (err < best) {
                best = err;
                bestT = t;
            }
        }
        return bestT;
    }

    @Override
    Bounds asymmetricRange(BinnedValues v, QuantScheme scheme) {
        Sums sums = new Sums(v);
        int last = v.size() - 1;
        int z = v.zeroBin();
        int aMax = v.min < 0 ? z : 0;
        int bMin = v.max > 0 ? z : last;
        int levels = scheme.qmax() - scheme.qmin();
        double best = Double.POSITIVE_INFINITY;
        Bounds bestRange = new Bounds(v.min, v.max);
        for (int a = 0; a <= aMax; a++) {
            double lo = Math.min(v.low(a), 0);
            for (int b = last; b >= bMin; b--) {
                double hi = Math.max(v.high(b), 0);
                // the grid AffineQuantizer.fromRange builds for [lo, hi]
                double step = Math.max((hi - lo) / levels, AffineQuantizer.MIN_SCALE);
                double zp =
                        Math.max(
                                scheme.qmin(),
                                Math.min(scheme.qmax(), scheme.qmin() - Math.rint(lo / step)));
                double gridLo = (scheme.qmin() - zp) * step;
                double gridHi = (scheme.qmax() - zp) * step;
                double err = sums.error(gridHi + step / 2, gridHi, gridLo - step / 2, gridLo, step);
                if (err < best) {
                    best = err;
                    bestRange = new Bounds(v.low(a), v.high(b));
                }
            }
        }
        return bestRange;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "mse";
    }

    /** Prefix sums of count, count * centre and count * centre^2 over the bins. */
    private static final class Sums {

        private final BinnedValues v;
        private final double[] centres;
        private final double[] n;
        private final double[] s1;
        private final double[] s2;
        private final double binVariance;

        Sums(BinnedValues v) {
            this.v = v;
            int size = v.size();
            centres = new double[size];
            n = new double[size + 1];
            s1 = new double[size + 1];
            s2 = new double[size + 1];
            for (int k = 0; k < size; k++) {
                double c = v.centre(k);
                centres[k] = c;
                n[k + 1] = n[k] + v.counts[k];
                s1[k + 1] = s1[k] + v.counts[k] * c;
                s2[k + 1] = s2[k] + v.counts[k] * c * c;
            }
            // spread of values inside a bin, as if uniform
            binVariance = v.width * v.width / 12;
        }

        /**
         * Expected total squared error: bins centred above {@code clipHi} are clamped to {@code
         * gridHi}, bins centred below {@code clipLo} to {@code gridLo}, the rest round with noise
         * {@code step^2 / 12}.
         */
        double error(double clipHi, double gridHi, double clipLo, double gridLo, double step) {
            int size = centres.length;
            int above = firstAbove(clipHi);
            int below = firstAbove(clipLo); // bins [0, below) lie at or below clipLo
            if (clipLo < centres[0]) {
                below = 0;
            }
            double err = 0;
            double clipped = 0;
            if (above < size) {
                double cnt = n[size] - n[above];
                double sum = s1[size] - s1[above];
                double sq = s2[size] - s2[above];
                err += sq - 2 * gridHi * sum + gridHi * gridHi * cnt + cnt * binVariance;
                clipped += cnt;
            }
            if (below > 0) {
                int to = Math.min(below, above);
                double cnt = n[to];
                err += s2[to] - 2 * gridLo * s1[to] + gridLo * gridLo * cnt + cnt * binVariance;
                clipped += cnt;
            }
            return err + (v.total - clipped) * step * step / 12;
        }

        /** First bin whose centre is strictly above {@code x}. */
        private int firstAbove(double x) {
            int lo = 0;
            int hi = centres.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (centres[mid] > x) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            return lo;
        }
    }
}

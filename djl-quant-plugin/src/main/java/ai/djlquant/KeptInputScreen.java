package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import java.util.ArrayList;
import java.util.List;

/**
 * What a layer's kept calibration inputs look like beyond their range: how many batches held NaN
 * or infinite values (those are left out of the SQNR measurement: a dynamic int8 block refuses
 * them), and whether the range is set by a handful of values many orders beyond the rest.
 *
 * <p>An outlier range: of the non-zero finite values, at most {@link #OUTLIER_SHARE} lie within
 * a factor {@link #OUTLIER_FACTOR} of the largest magnitude. On real activations most non-zero
 * values do (a Gaussian's maximum is a few sigma); one 1e30 among normal values leaves a handful.
 * Such a range makes the static grid useless for the rest, and the SQNRs measured on the same
 * inputs look good because the outliers dominate the signal power.
 *
 * @param batches the kept batches screened
 * @param nonFiniteBatches the batches that held NaN or infinite values
 * @param nonZero the non-zero finite values of the other batches
 * @param nearMax how many of them lie within {@link #OUTLIER_FACTOR} of the largest magnitude
 * @param maxAbs the largest finite magnitude
 */
record KeptInputScreen(int batches, int nonFiniteBatches, long nonZero, long nearMax, double maxAbs) {

    /** How far below the largest magnitude a value is still "near" it. */
    static final double OUTLIER_FACTOR = 1000;

    /** The largest share of non-zero values near the maximum that still makes it an outlier. */
    static final double OUTLIER_SHARE = 1e-3;

    /** The screen of no batches. */
    static final KeptInputScreen NONE = new KeptInputScreen(0, 0, 0, 0, 0);

    /**
     * Screens kept batches and returns the screen and the batches fit to measure on (finite).
     *
     * @param kept the kept batches; those not returned are closed
     * @param finite receives the finite batches
     * @return the screen
     */
    static KeptInputScreen screen(List<NDArray> kept, List<NDArray> finite) {
        int nonFinite = 0;
        List<NDArray> ok = new ArrayList<>();
        for (NDArray x : kept) {
            if (!isFinite(x)) {
                nonFinite++;
                x.close();
            } else {
                ok.add(x);
            }
        }
        double max = 0;
        for (NDArray x : ok) {
            try (NDArray a = x.abs();
                    NDArray m = a.max()) {
                max = Math.max(max, m.getFloat());
            }
        }
        long nonZero = 0;
        long nearMax = 0;
        if (max > 0) {
            float near = (float) (max / OUTLIER_FACTOR);
            for (NDArray x : ok) {
                try (NDArray a = x.abs();
                        NDArray nz = a.gt(0f);
                        NDArray nzCount = nz.countNonzero();
                        NDArray hi = a.gt(near);
                        NDArray hiCount = hi.countNonzero()) {
                    nonZero += nzCount.toType(DataType.INT64, false).getLong();
                    nearMax += hiCount.toType(DataType.INT64, false).getLong();
                }
            }
        }
        finite.addAll(ok);
        return new KeptInputScreen(kept.size(), nonFinite, nonZero, nearMax, max);
    }

    /**
     * Tells whether an array holds only finite values (no NaN, no infinity).
     *
     * @param x the array
     * @return whether every value is finite
     */
    static boolean isFinite(NDArray x) {
        try (NDArray isNaN = x.isNaN();
                NDArray isInf = x.isInfinite();
                NDArray either = isNaN.logicalOr(isInf);
                NDArray any = either.any()) {
            return !any.getBoolean();
        }
    }

    /** Whether the range is set by a handful of values many orders beyond the rest. */
    boolean outlierRange() {
        return nearMax > 0 && nonZero > 0 && nearMax <= OUTLIER_SHARE * nonZero;
    }
}

package ai.djlquant.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

import java.util.Arrays;
import java.util.Objects;

/**
 * Parameters from ranges, the half of {@link AffineQuantizer} that turns (min, max) pairs into
 * scales and zero points; {@link AffineQuantizer} keeps the public entry points and the quantize /
 * dequantize operations.
 */
final class AffineParams {

    private AffineParams() {}

    /** One (scale, zero point) pair. */
    record Pair(float scale, int zeroPoint) {}

    /** The (min, max) of each parameter pair of a weight. */
    record Ranges(float[] mins, float[] maxs) {}

    /**
     * The pair for values in {@code [min, max]}, as {@link AffineQuantizer#fromRange} documents;
     * {@code what} names the range in messages.
     */
    static Pair forRange(QuantScheme s, float min, float max, String what) {
        if (!Float.isFinite(min) || !Float.isFinite(max)) {
            throw new IllegalArgumentException(
                    what + " [" + min + ", " + max + "] must have finite ends.");
        }
        if (min > max) {
            throw new IllegalArgumentException(
                    what + " [" + min + ", " + max + "] has min greater than max.");
        }
        // 0 must be on the grid: zero padding and ReLU zeros stay exact
        float lo = Math.min(min, 0f);
        float hi = Math.max(max, 0f);
        int qmin = s.qmin();
        int qmax = s.qmax();
        float scale;
        if (s.isSymmetric()) {
            scale = Math.max(-lo, hi) / ((qmax - qmin) / 2f);
        } else {
            float span = hi - lo;
            // float32 as PyTorch; the double fallback only for spans beyond Float.MAX_VALUE
            scale =
                    Float.isInfinite(span)
                            ? (float) (((double) hi - lo) / (qmax - qmin))
                            : span / (qmax - qmin);
        }
        scale = Math.max(scale, AffineQuantizer.MIN_SCALE);
        int zp = 0;
        if (!s.isSymmetric()) {
            zp = (int) Math.max(qmin, Math.min(qmax, qmin - Math.rint(lo / scale)));
        }
        return new Pair(scale, zp);
    }

    /** Parameters for ranges laid out as {@code paramShape}, each pair from {@link #forRange}. */
    static QuantParams fromRanges(
            QuantScheme scheme, float[] mins, float[] maxs, long[] paramShape) {
        Objects.requireNonNull(mins, "mins");
        Objects.requireNonNull(maxs, "maxs");
        if (mins.length != maxs.length) {
            throw new IllegalArgumentException(
                    "mins and maxs must have the same length, got "
                            + mins.length
                            + " and "
                            + maxs.length
                            + ".");
        }
        if (mins.length == 0) {
            throw new IllegalArgumentException("mins and maxs must not be empty.");
        }
        float[] scales = new float[mins.length];
        int[] zeroPoints = new int[mins.length];
        for (int i = 0; i < mins.length; i++) {
            Pair p = forRange(scheme, mins[i], maxs[i], "range[" + i + "]");
            scales[i] = p.scale();
            zeroPoints[i] = p.zeroPoint();
        }
        return new QuantParams(scheme, scales, zeroPoints, paramShape);
    }

    /** A weight's ranges per parameter pair, reduced on the engine. */
    static Ranges weightRanges(ParamLayout layout, NDArray weight) {
        try (NDManager scope = weight.getManager().newSubManager()) {
            weight.tempAttach(scope);
            NDArray w = weight.toType(DataType.FLOAT32, false);
            if (layout.granularity == Granularity.PER_TENSOR) {
                return new Ranges(
                        new float[] {w.min().getFloat()}, new float[] {w.max().getFloat()});
            }
            // PyTorch reduces over one axis at a time: view as [outer, dim, inner]
            NDArray v = w.reshape(layout.outer, layout.dim, layout.inner);
            return new Ranges(
                    v.min(new int[] {2}).min(new int[] {0}).toFloatArray(),
                    v.max(new int[] {2}).max(new int[] {0}).toFloatArray());
        }
    }

    /** A plain-array weight's ranges per parameter pair; a NaN makes its pair's minimum NaN. */
    static Ranges weightRanges(ParamLayout layout, float[] weight) {
        int n = layout.paramCount();
        float[] mins = new float[n];
        float[] maxs = new float[n];
        Arrays.fill(mins, Float.POSITIVE_INFINITY);
        Arrays.fill(maxs, Float.NEGATIVE_INFINITY);
        boolean[] nan = new boolean[n];
        for (int i = 0; i < weight.length; i++) {
            int k = layout.paramIndex(i);
            float v = weight[i];
            if (Float.isNaN(v)) {
                nan[k] = true;
            }
            mins[k] = Math.min(mins[k], v);
            maxs[k] = Math.max(maxs[k], v);
        }
        for (int k = 0; k < n; k++) {
            if (nan[k]) {
                mins[k] = Float.NaN;
            }
        }
        return new Ranges(mins, maxs);
    }

    /** Parameters for a weight's ranges; refuses NaN and infinite values, naming the channel. */
    static QuantParams forWeightRanges(
            QuantScheme scheme, ParamLayout layout, Ranges r, String shape) {
        float[] mins = r.mins();
        float[] maxs = r.maxs();
        for (int i = 0; i < mins.length; i++) {
            if (!Float.isFinite(mins[i]) || !Float.isFinite(maxs[i])) {
                String where =
                        scheme.getGranularity() == Granularity.PER_TENSOR ? "" : " in channel " + i;
                throw new IllegalArgumentException(
                        "weight of shape " + shape + " holds NaN or infinite values" + where + ".");
            }
        }
        return fromRanges(scheme, mins, maxs, layout.paramShape());
    }
}

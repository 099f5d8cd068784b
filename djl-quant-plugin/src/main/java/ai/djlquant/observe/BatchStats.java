package ai.djlquant.observe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Finite minimum, maximum and counts of one batch, computed with engine reductions. The common case
 * (no NaN, no infinity) costs two reductions; only a batch with non-finite values pays for a mask.
 *
 * @param min smallest finite value, or +Inf when there is none
 * @param max largest finite value, or -Inf when there is none
 * @param count number of finite values
 * @param nonFinite number of NaN and infinite values
 */
record BatchStats(float min, float max, long count, long nonFinite) {

    /**
     * Statistics of {@code x}, which must be FLOAT32 (the caller converts and owns temporaries).
     */
    static BatchStats of(NDArray x) {
        long n = x.size();
        if (n == 0) {
            return new BatchStats(Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0, 0);
        }
        float min = x.min().getFloat();
        float max = x.max().getFloat();
        // min and max propagate NaN, so two finite results mean every value is finite
        if (Float.isFinite(min) && Float.isFinite(max)) {
            return new BatchStats(min, max, n, 0);
        }
        NDArray finite = finiteMask(x);
        long count = finite.countNonzero().getLong();
        if (count == 0) {
            return new BatchStats(Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0, n);
        }
        NDArray values = x.booleanMask(finite);
        return new BatchStats(values.min().getFloat(), values.max().getFloat(), count, n - count);
    }

    boolean isEmpty() {
        return count == 0;
    }

    /** True where the value is finite (NaN fails every comparison). */
    private static NDArray finiteMask(NDArray x) {
        return x.abs().lte(Float.MAX_VALUE);
    }

    /** {@code x} as FLOAT32, in the same manager; checks that it holds numbers. */
    static NDArray asFloat(NDArray x) {
        DataType t = x.getDataType();
        if (!t.isFloating() && !t.isInteger()) {
            throw new IllegalArgumentException(
                    "an observer needs a numeric tensor, got "
                            + t
                            + " of shape "
                            + x.getShape()
                            + ".");
        }
        return x.toType(DataType.FLOAT32, false);
    }
}

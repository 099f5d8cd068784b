package ai.djlquant.torchscript;

import ai.djl.ndarray.NDArray;

import java.util.function.Supplier;

/** Conversions between the run-time values of an imported forward (numbers, 0-d tensors). */
final class ScriptValues {

    private ScriptValues() {}

    /**
     * An int value: a Long, or a one-element integer tensor ({@code ops.prim.NumToTensor} makes
     * those from sizes, and traced code passes them where ints are expected).
     *
     * @param v the value
     * @param error the exception if it is not an int
     * @return the value
     */
    static long toLong(Object v, Supplier<IllegalArgumentException> error) {
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Integer i) {
            return i;
        }
        if (v instanceof NDArray a && a.size() == 1 && a.getDataType().isInteger()) {
            return a.toType(ai.djl.ndarray.types.DataType.INT64, false).toLongArray()[0];
        }
        throw error.get();
    }
}

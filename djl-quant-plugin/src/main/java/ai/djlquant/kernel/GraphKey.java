package ai.djlquant.kernel;

import java.util.Arrays;
import java.util.List;

/**
 * What a {@link PrimitiveGraph} depends on, and so the key of a kernel's cache: the input shape,
 * how the input is quantized (static parameters are baked into the clip primitive), the memory
 * layouts of input and output, and the thread count (oneDNN fixes a primitive's thread count when
 * it creates it).
 *
 * @param shape the input shape
 * @param mode how the input becomes u8
 * @param scale the static scale (0 otherwise)
 * @param zeroPoint the static zero point (0 otherwise)
 * @param qmax the grid's largest integer (0 for {@link Mode#INTEGERS})
 * @param inputNhwc whether a convolution's input memory is channels-last
 * @param outputNhwc whether a convolution writes channels-last memory
 * @param threads the caller's thread count
 */
record GraphKey(
        List<Long> shape,
        Mode mode,
        float scale,
        int zeroPoint,
        int qmax,
        boolean inputNhwc,
        boolean outputNhwc,
        int threads) {

    /** How a graph gets its u8 input. */
    enum Mode {
        /** Already quantized u8 input, int32 output, no scales (the integer core of the tests). */
        INTEGERS,
        /** Float input, fixed scale and zero point. */
        STATIC,
        /** Float input, scale and zero point from its minimum and maximum. */
        DYNAMIC
    }

    GraphKey {
        shape = List.copyOf(shape);
    }

    /** Returns the key of a call; {@code act} null means {@link Mode#INTEGERS}. */
    static GraphKey of(
            long[] shape,
            ActivationQuantization act,
            boolean inputNhwc,
            boolean outputNhwc,
            int threads) {
        Mode mode = act == null ? Mode.INTEGERS : act.isDynamic() ? Mode.DYNAMIC : Mode.STATIC;
        boolean fixed = mode == Mode.STATIC;
        return new GraphKey(
                Arrays.stream(shape).boxed().toList(),
                mode,
                fixed ? act.getScale() : 0f,
                fixed ? act.getZeroPoint() : 0,
                act == null ? 0 : act.getQmax(),
                inputNhwc,
                outputNhwc,
                threads);
    }

    /** Whether a call has this key, without building one (the hot path of repeated calls). */
    boolean matches(long[] s, ActivationQuantization act, boolean inNhwc, boolean outNhwc, int t) {
        if (inNhwc != inputNhwc || outNhwc != outputNhwc || t != threads || !sameShape(s)) {
            return false;
        }
        if (act == null) {
            return mode == Mode.INTEGERS;
        }
        if (act.isDynamic()) {
            return mode == Mode.DYNAMIC && qmax == act.getQmax();
        }
        return mode == Mode.STATIC
                && Float.compare(scale, act.getScale()) == 0
                && zeroPoint == act.getZeroPoint()
                && qmax == act.getQmax();
    }

    private boolean sameShape(long[] s) {
        if (s.length != shape.size()) {
            return false;
        }
        for (int i = 0; i < s.length; i++) {
            if (s[i] != shape.get(i)) {
                return false;
            }
        }
        return true;
    }

    /** Returns the shape as an array. */
    long[] dims() {
        return shape.stream().mapToLong(Long::longValue).toArray();
    }
}

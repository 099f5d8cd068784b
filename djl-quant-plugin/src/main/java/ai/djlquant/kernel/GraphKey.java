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
 * @param dynamic whether scale and zero point come from each input's range
 * @param scale the static scale (0 otherwise)
 * @param zeroPoint the static zero point (0 otherwise)
 * @param qmax the grid's largest integer
 * @param inputNhwc whether a convolution's input memory is channels-last
 * @param outputNhwc whether a convolution writes channels-last memory
 * @param threads the caller's thread count
 */
record GraphKey(
        List<Long> shape,
        boolean dynamic,
        float scale,
        int zeroPoint,
        int qmax,
        boolean inputNhwc,
        boolean outputNhwc,
        int threads) {

    GraphKey {
        shape = List.copyOf(shape);
    }

    /** Returns the key of a call. */
    static GraphKey of(
            long[] shape,
            ActivationQuantization act,
            boolean inputNhwc,
            boolean outputNhwc,
            int threads) {
        boolean fixed = !act.isDynamic();
        return new GraphKey(
                Arrays.stream(shape).boxed().toList(),
                act.isDynamic(),
                fixed ? act.getScale() : 0f,
                fixed ? act.getZeroPoint() : 0,
                act.getQmax(),
                inputNhwc,
                outputNhwc,
                threads);
    }

    /** Whether a call has this key, without building one (the hot path of repeated calls). */
    boolean matches(long[] s, ActivationQuantization act, boolean inNhwc, boolean outNhwc, int t) {
        if (inNhwc != inputNhwc || outNhwc != outputNhwc || t != threads || !sameShape(s)) {
            return false;
        }
        if (act.isDynamic()) {
            return dynamic && qmax == act.getQmax();
        }
        return !dynamic
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

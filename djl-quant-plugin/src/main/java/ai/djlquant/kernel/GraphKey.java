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
 * @param inputU8 whether the input is uint8 already on the static grid
 * @param outScale the scale of the uint8 output grid (0 for float32 output)
 * @param outZeroPoint the zero point of the uint8 output grid
 * @param outQmax the largest integer of the uint8 output grid (0 for float32 output)
 */
record GraphKey(
        List<Long> shape,
        boolean dynamic,
        float scale,
        int zeroPoint,
        int qmax,
        boolean inputNhwc,
        boolean outputNhwc,
        int threads,
        boolean inputU8,
        float outScale,
        int outZeroPoint,
        int outQmax) {

    GraphKey {
        shape = List.copyOf(shape);
    }

    /** Returns the key of a float32-to-float32 call. */
    static GraphKey of(
            long[] shape,
            ActivationQuantization act,
            boolean inputNhwc,
            boolean outputNhwc,
            int threads) {
        return of(shape, act, inputNhwc, outputNhwc, threads, false, null);
    }

    /** Returns the key of a call, uint8 on either side (a null output grid: float32 output). */
    static GraphKey of(
            long[] shape,
            ActivationQuantization act,
            boolean inputNhwc,
            boolean outputNhwc,
            int threads,
            boolean inputU8,
            ActivationQuantization outGrid) {
        boolean fixed = !act.isDynamic();
        return new GraphKey(
                Arrays.stream(shape).boxed().toList(),
                act.isDynamic(),
                fixed ? act.getScale() : 0f,
                fixed ? act.getZeroPoint() : 0,
                act.getQmax(),
                inputNhwc,
                outputNhwc,
                threads,
                inputU8,
                outGrid == null ? 0f : outGrid.getScale(),
                outGrid == null ? 0 : outGrid.getZeroPoint(),
                outGrid == null ? 0 : outGrid.getQmax());
    }

    /** Whether a call has this key, without building one (the hot path of repeated calls). */
    boolean matches(long[] s, ActivationQuantization act, boolean inNhwc, boolean outNhwc, int t) {
        return matches(s, act, inNhwc, outNhwc, t, false, null);
    }

    /** Whether a call, uint8 on either side, has this key. */
    boolean matches(
            long[] s,
            ActivationQuantization act,
            boolean inNhwc,
            boolean outNhwc,
            int t,
            boolean inU8,
            ActivationQuantization outGrid) {
        if (inNhwc != inputNhwc || outNhwc != outputNhwc || t != threads || !sameShape(s)) {
            return false;
        }
        if (inU8 != inputU8 || !sameOutput(outGrid)) {
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

    /** Whether the output grid is this key's (null: float32 output). */
    boolean outputU8() {
        return outQmax > 0;
    }

    private boolean sameOutput(ActivationQuantization g) {
        if (g == null) {
            return outQmax == 0;
        }
        return Float.compare(outScale, g.getScale()) == 0
                && outZeroPoint == g.getZeroPoint()
                && outQmax == g.getQmax();
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

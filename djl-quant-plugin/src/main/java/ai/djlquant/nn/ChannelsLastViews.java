package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Tells whether an NCHW-shaped (or NCW-shaped) tensor is a view of channels-last (NHWC, NWC)
 * memory, such as the outputs of the int8 convolutions, so that the next int8 convolution reads
 * that memory as it is instead of having it copied to NCHW and transposed back.
 *
 * <p>The answer is PyTorch's own: the tensor is channels-last when it is not contiguous but its
 * permutation to {@code [N, (H,) W, C]} is ({@code Tensor.is_contiguous()} on the strides). It is a
 * property of the tensor, read without any shared state or lock, and true for any tensor laid out
 * so (PyTorch's {@code channels_last} ones too), not only for the views this package made. DJL
 * exposes no strides, so the check calls the engine's {@code torchIsContiguous}, which DJL's own
 * {@code toByteBuffer(true)} calls, through a method handle found once. Where that handle cannot be
 * found (another DJL version, another engine) every tensor reads as not channels-last: the
 * convolution then copies the view to NCHW, slower but with the same result.
 */
final class ChannelsLastViews {

    /** {@code PyTorchLibrary.LIB.torchIsContiguous(long)} bound to LIB, or null. */
    private static final MethodHandle IS_CONTIGUOUS = findIsContiguous();

    private ChannelsLastViews() {}

    /**
     * Returns whether {@code x}, shaped {@code [N, C, (H,) W]}, is channels-last memory.
     *
     * @param x the tensor
     * @return whether {@code x.transpose(0, 2, (3,) 1)} is contiguous and {@code x} is not
     */
    static boolean isChannelsLast(NDArray x) {
        if (IS_CONTIGUOUS == null || !(x instanceof PtNDArray) || x.isReleased()) {
            return false;
        }
        int rank = x.getShape().dimension();
        if (rank < 3 || isContiguous(x)) {
            return false; // contiguous NCHW (or both layouts are the same bytes): read it as is
        }
        try (NDArray nhwc = x.transpose(toNhwc(rank))) { // a view: PyTorch permutes strides only
            return isContiguous(nhwc);
        }
    }

    /**
     * The axis order that permutes {@code [N, C, (H,) W]} to {@code [N, (H,) W, C]}.
     *
     * @param rank the rank, 3 or 4
     * @return the permutation
     */
    static int[] toNhwc(int rank) {
        int[] p = new int[rank];
        p[rank - 1] = 1;
        for (int i = 2; i < rank; i++) {
            p[i - 1] = i;
        }
        return p;
    }

    /**
     * The axis order that permutes {@code [N, (H,) W, C]} back to {@code [N, C, (H,) W]}.
     *
     * @param rank the rank, 3 or 4
     * @return the permutation
     */
    static int[] toNchw(int rank) {
        int[] p = new int[rank];
        p[1] = rank - 1;
        for (int i = 2; i < rank; i++) {
            p[i] = i - 1;
        }
        return p;
    }

    /**
     * The channels-last shape of a logical {@code [N, C, (H,) W]} shape.
     *
     * @param nchw the logical shape
     * @return {@code [N, (H,) W, C]}
     */
    static long[] nhwcShape(long[] nchw) {
        int rank = nchw.length;
        long[] s = new long[rank];
        s[0] = nchw[0];
        s[rank - 1] = nchw[1];
        for (int i = 2; i < rank; i++) {
            s[i - 1] = nchw[i];
        }
        return s;
    }

    private static boolean isContiguous(NDArray x) {
        try {
            return (boolean) IS_CONTIGUOUS.invokeExact(((PtNDArray) x).getHandle().longValue());
        } catch (
                Throwable t) { // NOPMD: invokeExact declares Throwable; the native call throws none
            throw new IllegalStateException("torchIsContiguous failed", t);
        }
    }

    private static MethodHandle findIsContiguous() {
        try {
            Class<?> lib = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
            Field instance = lib.getDeclaredField("LIB");
            instance.setAccessible(true);
            Method m = lib.getDeclaredMethod("torchIsContiguous", long.class);
            m.setAccessible(true);
            return MethodHandles.lookup()
                    .unreflect(m)
                    .bindTo(instance.get(null))
                    .asType(MethodType.methodType(boolean.class, long.class));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}

package ai.djlquant.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djlquant.annotations.Internal;

import java.util.Arrays;
import java.util.Objects;

/**
 * The affine (uniform) quantization math: parameters from ranges, and quantize / dequantize of DJL
 * NDArrays and plain arrays.
 *
 * <p>The mapping is {@code q = clamp(round(x * (1 / scale)) + zeroPoint, qmin, qmax)} and back
 * {@code x' = (q - zeroPoint) * scale}, all in float32, where:
 *
 * <ul>
 *   <li>{@code 1 / scale} is computed once per parameter pair in float32, and {@code x} is
 *       multiplied by it, as PyTorch's {@code quantize_per_tensor} does (checked against PyTorch
 *       1.13 on a million values with exact ties: identical; dividing by the scale instead differs
 *       on 2% of them);
 *   <li>{@code round} is round half to even ({@link Math#rint}, {@code torch.round}), so 2.5
 *       becomes 2 and 3.5 becomes 4;
 *   <li>values are clamped to the grid, never wrapped (a plain float to int8 cast in DJL wraps:
 *       300.7 becomes 44); +Inf becomes qmax, -Inf becomes qmin and NaN becomes the zero point (the
 *       integer that stands for 0).
 * </ul>
 *
 * <p>The NDArray and the plain-array paths perform the same float32 operations in the same order
 * and give the same integers bit for bit; the NDArray path runs as whole-tensor operations on the
 * engine, never as a Java loop over the elements.
 *
 * <p>Integers are returned as {@link DataType#INT8} for signed schemes and {@link DataType#UINT8}
 * for unsigned ones, whatever the bit width (a 4-bit grid uses the values [-8, 7] of an int8). In
 * {@code byte[]} form, unsigned values are read back with {@code b & 0xFF}.
 */
@Internal
public final class AffineQuantizer {

    /**
     * The smallest scale this class produces: float32's machine epsilon, 2<sup>-23</sup>, as
     * PyTorch's observers use. A zero range gets this scale rather than a division by zero, and
     * products of two scales (the int8 kernels' output scale) stay normal floats.
     */
    public static final float MIN_SCALE = 0x1p-23f;

    private AffineQuantizer() {}

    /**
     * Returns per-tensor parameters for values in {@code [min, max]}.
     *
     * <p>The range is first widened to include 0, so that 0 is exactly representable (zero padding
     * and ReLU outputs stay exact). Then:
     *
     * <ul>
     *   <li>asymmetric: {@code scale = (max - min) / (qmax - qmin)}, {@code zeroPoint = clamp(qmin
     *       - round(min / scale), qmin, qmax)};
     *   <li>symmetric: {@code scale = max(|min|, |max|) / ((qmax - qmin) / 2)}, {@code zeroPoint =
     *       0};
     * </ul>
     *
     * and the scale is at least {@link #MIN_SCALE}, so a zero range (a constant tensor) yields a
     * valid scale.
     *
     * @param scheme a per-tensor scheme
     * @param min the smallest value to represent (finite)
     * @param max the largest value to represent (finite, not below {@code min})
     * @return the parameters
     * @throws IllegalArgumentException if the scheme is not per tensor or the range is invalid
     */
    public static QuantParams fromRange(QuantScheme scheme, float min, float max) {
        Objects.requireNonNull(scheme, "scheme");
        requireGranularity(scheme, Granularity.PER_TENSOR, "fromRange");
        AffineParams.Pair p = AffineParams.forRange(scheme, min, max, "range");
        return QuantParams.perTensor(scheme, p.scale(), p.zeroPoint());
    }

    /**
     * Returns per-channel parameters, channel {@code c} covering {@code [mins[c], maxs[c]]} as
     * {@link #fromRange} describes.
     *
     * @param scheme a per-channel scheme
     * @param mins the smallest value of each channel
     * @param maxs the largest value of each channel
     * @return the parameters
     * @throws IllegalArgumentException if the scheme is not per channel, the arrays differ in
     *     length or are empty, or a range is invalid (the message names the channel)
     */
    public static QuantParams fromChannelRanges(QuantScheme scheme, float[] mins, float[] maxs) {
        Objects.requireNonNull(scheme, "scheme");
        requireGranularity(scheme, Granularity.PER_CHANNEL, "fromChannelRanges");
        return AffineParams.fromRanges(scheme, mins, maxs, new long[] {mins.length});
    }

    /**
     * Returns parameters for a weight from its own ranges at the scheme's granularity: the whole
     * tensor or each index of the axis. The ranges are computed on the engine; only one (min, max)
     * pair per parameter comes back to Java.
     *
     * @param scheme the scheme
     * @param weight the weight, any floating-point type
     * @return the parameters
     * @throws IllegalArgumentException if the scheme does not fit the weight's shape (axis out of
     *     range) or the weight holds NaN or infinite values
     */
    public static QuantParams forWeight(QuantScheme scheme, NDArray weight) {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(weight, "weight");
        requireFloatingPoint(weight, "weight");
        ParamLayout layout = ParamLayout.of(scheme, weight.getShape().getShape());
        if (layout.elements() == 0) {
            throw new IllegalArgumentException(
                    "weight of shape " + weight.getShape() + " has no elements.");
        }
        AffineParams.Ranges r = AffineParams.weightRanges(layout, weight);
        return AffineParams.forWeightRanges(scheme, layout, r, weight.getShape().toString());
    }

    /**
     * Returns parameters for a weight held in a plain array, exactly as {@link
     * #forWeight(QuantScheme, NDArray)} computes them for the same values.
     *
     * @param scheme the scheme
     * @param weight the values in row-major order
     * @param shape the weight's shape
     * @return the parameters
     * @throws IllegalArgumentException as {@link #forWeight(QuantScheme, NDArray)}, or if the shape
     *     does not match the number of values
     */
    public static QuantParams forWeight(QuantScheme scheme, float[] weight, long[] shape) {
        Objects.requireNonNull(scheme, "scheme");
        ParamLayout layout = layoutFor(scheme, weight.length, shape, "weight");
        if (weight.length == 0) {
            throw new IllegalArgumentException(
                    "weight of shape " + Arrays.toString(shape) + " has no elements.");
        }
        AffineParams.Ranges r = AffineParams.weightRanges(layout, weight);
        return AffineParams.forWeightRanges(scheme, layout, r, Arrays.toString(shape));
    }

    /**
     * Quantizes a tensor: {@link DataType#INT8} for signed schemes, {@link DataType#UINT8} for
     * unsigned ones, same shape, computed on the engine with whole-tensor operations.
     *
     * @param x the values, any floating-point type
     * @param p the parameters, made for a tensor of {@code x}'s shape
     * @return the integers, attached to {@code x}'s manager
     * @throws IllegalArgumentException if the parameters do not fit {@code x}'s shape
     */
    public static NDArray quantize(NDArray x, QuantParams p) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(p, "p");
        requireFloatingPoint(x, "x");
        QuantScheme s = p.getScheme();
        ParamLayout layout = ParamLayout.of(s, x.getShape().getShape());
        layout.check(p);
        DataType type = s.isSigned() ? DataType.INT8 : DataType.UINT8;
        NDManager manager = x.getManager();
        if (layout.elements() == 0) {
            return manager.zeros(x.getShape(), type);
        }
        NDArray q;
        try (NDManager scope = manager.newSubManager()) {
            x.tempAttach(scope);
            Shape paramShape = new Shape(layout.paramViewShape());
            NDArray v = x.toType(DataType.FLOAT32, false);
            NDArray y = v.mul(scope.create(inverseScales(p), paramShape)).round();
            NDArray zp = scope.create(floatZeroPoints(p), paramShape);
            if (!s.isSymmetric()) {
                y = y.add(zp);
            }
            y = y.clip(s.qmin(), s.qmax());
            // clip passes NaN through and NaN has no integer; one reduction finds out cheaply
            if (Float.isNaN(y.max().getFloat())) {
                y = NDArrays.where(y.isNaN(), zp.broadcast(y.getShape()), y);
            }
            // exact: every value is now an integer inside the grid
            q = y.toType(type, false).reshape(x.getShape());
            q.attach(manager);
        }
        return q;
    }

    /**
     * Dequantizes a tensor of integers to {@link DataType#FLOAT32}: {@code (q - zeroPoint) *
     * scale}, computed on the engine.
     *
     * @param q the integers, any integer type (normally {@link DataType#INT8} or {@link
     *     DataType#UINT8} as {@link #quantize(NDArray, QuantParams)} returns them)
     * @param p the parameters, made for a tensor of {@code q}'s shape
     * @return the values, attached to {@code q}'s manager
     * @throws IllegalArgumentException if {@code q} does not hold integers or the parameters do not
     *     fit its shape
     */
    public static NDArray dequantize(NDArray q, QuantParams p) {
        Objects.requireNonNull(q, "q");
        Objects.requireNonNull(p, "p");
        DataType t = q.getDataType();
        if (!t.isInteger()) {
            throw new IllegalArgumentException("q must hold integers, got " + t + ".");
        }
        QuantScheme s = p.getScheme();
        ParamLayout layout = ParamLayout.of(s, q.getShape().getShape());
        layout.check(p);
        NDManager manager = q.getManager();
        if (layout.elements() == 0) {
            return manager.zeros(q.getShape(), DataType.FLOAT32);
        }
        NDArray x;
        try (NDManager scope = manager.newSubManager()) {
            q.tempAttach(scope);
            Shape paramShape = new Shape(layout.paramViewShape());
            NDArray v = q.toType(DataType.FLOAT32, false);
            if (!s.isSymmetric()) {
                v = v.sub(scope.create(floatZeroPoints(p), paramShape));
            }
            x = v.mul(scope.create(p.getScales(), paramShape)).reshape(q.getShape());
            x.attach(manager);
        }
        return x;
    }

    /**
     * Quantizes a plain array; same integers as {@link #quantize(NDArray, QuantParams)}.
     *
     * @param x the values in row-major order
     * @param shape the tensor's shape
     * @param p the parameters, made for a tensor of this shape
     * @return the integers (unsigned values in the low 8 bits)
     * @throws IllegalArgumentException if the shape does not match {@code x} or the parameters
     */
    public static byte[] quantize(float[] x, long[] shape, QuantParams p) {
        Objects.requireNonNull(p, "p");
        QuantScheme s = p.getScheme();
        ParamLayout layout = layoutFor(s, x.length, shape, "x");
        layout.check(p);
        float[] inv = inverseScales(p);
        float[] zp = floatZeroPoints(p);
        float qmin = s.qmin();
        float qmax = s.qmax();
        byte[] q = new byte[x.length];
        for (int i = 0; i < x.length; i++) {
            int k = layout.paramIndex(i);
            // the same float32 steps, in the same order, as the NDArray path
            float y = (float) Math.rint(x[i] * inv[k]) + zp[k];
            if (Float.isNaN(y)) {
                y = zp[k];
            }
            y = Math.max(qmin, Math.min(qmax, y));
            q[i] = (byte) (int) y;
        }
        return q;
    }

    /**
     * Dequantizes a plain array; same values as {@link #dequantize(NDArray, QuantParams)}.
     *
     * @param q the integers in row-major order (unsigned schemes: values in the low 8 bits)
     * @param shape the tensor's shape
     * @param p the parameters, made for a tensor of this shape
     * @return the values
     * @throws IllegalArgumentException if the shape does not match {@code q} or the parameters
     */
    public static float[] dequantize(byte[] q, long[] shape, QuantParams p) {
        Objects.requireNonNull(p, "p");
        QuantScheme s = p.getScheme();
        ParamLayout layout = layoutFor(s, q.length, shape, "q");
        layout.check(p);
        float[] scales = p.getScales();
        float[] zp = floatZeroPoints(p);
        boolean signed = s.isSigned();
        float[] x = new float[q.length];
        for (int i = 0; i < q.length; i++) {
            int k = layout.paramIndex(i);
            int v = signed ? q[i] : q[i] & 0xFF;
            x[i] = ((float) v - zp[k]) * scales[k];
        }
        return x;
    }

    private static ParamLayout layoutFor(QuantScheme s, int length, long[] shape, String name) {
        Objects.requireNonNull(shape, "shape");
        ParamLayout layout = ParamLayout.of(s, shape);
        if (layout.elements() != length) {
            throw new IllegalArgumentException(
                    name
                            + " has "
                            + length
                            + " values but shape "
                            + Arrays.toString(shape)
                            + " needs "
                            + layout.elements()
                            + ".");
        }
        return layout;
    }

    private static void requireGranularity(QuantScheme s, Granularity g, String method) {
        if (s.getGranularity() != g) {
            throw new IllegalArgumentException(
                    method + " needs a " + g + " scheme, got " + s + ".");
        }
    }

    private static void requireFloatingPoint(NDArray x, String name) {
        if (!x.getDataType().isFloating()) {
            throw new IllegalArgumentException(
                    name + " must hold floating-point values, got " + x.getDataType() + ".");
        }
    }

    /** {@code 1 / scale} in float32, per parameter pair. */
    static float[] inverseScales(QuantParams p) {
        float[] s = p.getScales();
        for (int i = 0; i < s.length; i++) {
            s[i] = 1f / s[i];
        }
        return s;
    }

    private static float[] floatZeroPoints(QuantParams p) {
        int[] z = p.getZeroPoints();
        float[] f = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            f[i] = z[i];
        }
        return f;
    }
}

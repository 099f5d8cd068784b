package ai.djlquant.kernel;

import ai.djl.ndarray.NDArray;
import ai.djlquant.quant.AffineQuantizer;

/**
 * How a kernel quantizes its float input to unsigned integers: with fixed parameters (static
 * quantization, from calibration) or with parameters computed from each input's own range (dynamic
 * quantization).
 *
 * <p>The mapping, the same in every backend: {@code q = clamp(rint(x * (1 / scale) + zeroPoint), 0,
 * qmax)} in float32 ({@code 1 / scale} rounded to float32 first), ties to even: bit for bit what
 * oneDNN's quantizing reorder computes (measured on 2<sup>20</sup> random values and exact ties:
 * {@code x / scale} differs in 0.4% of them). {@code AffineQuantizer.quantize} adds the zero point
 * after rounding, which differs only on exact ties. Dynamic parameters follow {@code
 * AffineQuantizer.fromRange} for an unsigned asymmetric grid (range widened to include 0, {@code
 * scale = (max - min) / qmax} at least {@link AffineQuantizer#MIN_SCALE}, {@code zeroPoint =
 * clamp(-rint(min / scale), 0, qmax)}), then the scale is nudged up by a few ulps if rounding would
 * put the input's maximum above {@code qmax}: every value of the input then lands on the grid
 * without clamping.
 *
 * <p>Instances are immutable.
 */
public final class ActivationQuantization {

    private final boolean dynamic;
    private final float scale;
    private final int zeroPoint;
    private final int qmax;

    private ActivationQuantization(boolean dynamic, float scale, int zeroPoint, int qmax) {
        this.dynamic = dynamic;
        this.scale = scale;
        this.zeroPoint = zeroPoint;
        this.qmax = qmax;
    }

    /**
     * Returns fixed (static) parameters.
     *
     * @param scale the scale, finite and positive
     * @param zeroPoint the zero point, in {@code [0, 2^bits - 1]}
     * @param bits the grid's width, 7 ({@code [0, 127]}) or 8 ({@code [0, 255]})
     * @return the quantization
     * @throws IllegalArgumentException naming the value at fault
     */
    public static ActivationQuantization fixed(float scale, int zeroPoint, int bits) {
        int qmax = qmaxOf(bits);
        if (!(scale > 0f) || Float.isInfinite(scale)) {
            throw new IllegalArgumentException(
                    "activation scale must be finite and positive, got " + scale + ".");
        }
        if (zeroPoint < 0 || zeroPoint > qmax) {
            throw new IllegalArgumentException(
                    "activation zero point "
                            + zeroPoint
                            + " lies outside the "
                            + bits
                            + "-bit grid [0, "
                            + qmax
                            + "].");
        }
        return new ActivationQuantization(false, scale, zeroPoint, qmax);
    }

    /**
     * Returns dynamic quantization: parameters from each input's own minimum and maximum.
     *
     * @param bits the grid's width, 7 or 8
     * @return the quantization
     * @throws IllegalArgumentException if bits is not 7 or 8
     */
    public static ActivationQuantization dynamic(int bits) {
        return new ActivationQuantization(true, 1f, 0, qmaxOf(bits));
    }

    private static int qmaxOf(int bits) {
        if (bits != 7 && bits != 8) {
            throw new IllegalArgumentException("activation bits must be 7 or 8, got " + bits + ".");
        }
        return (1 << bits) - 1;
    }

    /**
     * Returns whether the parameters come from each input.
     *
     * @return whether this is dynamic quantization
     */
    public boolean isDynamic() {
        return dynamic;
    }

    /**
     * Returns the fixed scale (1 for dynamic quantization).
     *
     * @return the scale
     */
    public float getScale() {
        return scale;
    }

    /**
     * Returns the fixed zero point (0 for dynamic quantization).
     *
     * @return the zero point
     */
    public int getZeroPoint() {
        return zeroPoint;
    }

    /**
     * Returns the largest integer of the grid, 127 or 255.
     *
     * @return qmax
     */
    public int getQmax() {
        return qmax;
    }

    /**
     * Returns the grid's width in bits, 7 or 8.
     *
     * @return the bit width
     */
    public int getBits() {
        return qmax == 127 ? 7 : 8;
    }

    /**
     * Returns this quantization moved to a grid of at most {@code bits} bits. Fixed 8-bit
     * parameters become {@code scale * 255 / 127} with the zero point rescaled and rounded, so the
     * same float range is covered by half the integers.
     *
     * @param bits 7 or 8
     * @return this instance if it already fits, else the narrowed quantization
     */
    public ActivationQuantization narrowTo(int bits) {
        int target = qmaxOf(bits);
        if (qmax <= target) {
            return this;
        }
        if (dynamic) {
            return dynamic(bits);
        }
        float s = scale * qmax / target;
        int z = Math.min(target, Math.round(zeroPoint * (float) target / qmax));
        return fixed(s, z, bits);
    }

    /**
     * Quantizes one value: {@code clamp(rint(x * (1 / scale) + zeroPoint), 0, qmax)} in float32.
     *
     * @param x the value
     * @param scale the scale
     * @param zeroPoint the zero point
     * @param qmax the largest integer
     * @return the integer
     */
    public static int quantize(float x, float scale, int zeroPoint, int qmax) {
        float y = (float) Math.rint(x * (1f / scale) + zeroPoint);
        if (!(y >= 0f)) {
            return 0; // below the grid, or NaN
        }
        return y >= qmax ? qmax : (int) y;
    }

    /**
     * Quantizes a tensor with the formula of {@link #quantize(float, float, int, int)}, on the
     * engine's float32 ops: {@code clamp(rint(x * (1 / scale) + zeroPoint), 0, qmax)}, the integers
     * as float32. It is how the int8 blocks quantize without oneDNN; NaN stays NaN (the scalar
     * version returns 0).
     *
     * @param x the values, float32
     * @param scale the scale
     * @param zeroPoint the zero point
     * @param qmax the largest integer
     * @return the integers, as a float32 tensor of the same shape
     */
    public static NDArray quantize(NDArray x, float scale, int zeroPoint, int qmax) {
        // 1 / scale rounded to float32 once, as the reorder does: x / scale differs on 0.4%
        return x.mul(1f / scale).add(zeroPoint).round().clip(0, qmax);
    }

    /**
     * Returns the dynamic scale for an input range (see the class documentation).
     *
     * @param min the input's minimum
     * @param max the input's maximum
     * @param qmax the largest integer
     * @return the scale
     */
    public static float dynamicScale(float min, float max, int qmax) {
        float lo = Math.min(min, 0f);
        float hi = Math.max(max, 0f);
        if (!Float.isFinite(lo) || !Float.isFinite(hi)) {
            throw new IllegalArgumentException(
                    "dynamic quantization needs a finite input, got range ["
                            + min
                            + ", "
                            + max
                            + "].");
        }
        float scale = Math.max((hi - lo) / qmax, AffineQuantizer.MIN_SCALE);
        // rint(hi * (1 / s) + zp) can reach qmax + 1 on a tie or a rounding error: widen until
        // it fits
        for (int i = 0;
                i < 64 && overflows(hi, scale, dynamicZeroPoint(lo, scale, qmax), qmax);
                i++) {
            scale = Math.nextUp(scale);
        }
        return scale;
    }

    /**
     * Returns the dynamic zero point for an input minimum and the scale from {@link #dynamicScale}.
     *
     * @param min the input's minimum
     * @param scale the scale
     * @param qmax the largest integer
     * @return the zero point
     */
    public static int dynamicZeroPoint(float min, float scale, int qmax) {
        float z = (float) -Math.rint(Math.min(min, 0f) / scale);
        return (int) Math.max(0f, Math.min(qmax, z));
    }

    private static boolean overflows(float hi, float scale, int zeroPoint, int qmax) {
        return Math.rint(hi * (1f / scale) + zeroPoint) > qmax;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        if (dynamic) {
            return "dynamic uint" + getBits();
        }
        return "uint" + getBits() + " scale=" + scale + " zeroPoint=" + zeroPoint;
    }
}

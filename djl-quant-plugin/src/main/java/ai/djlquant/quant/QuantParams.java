package ai.djlquant.quant;

import java.util.Arrays;
import java.util.Objects;

/**
 * The numbers that map one tensor to its integer grid: {@code q = clamp(round(x / scale) +
 * zeroPoint, qmin, qmax)} and back {@code x' = (q - zeroPoint) * scale}, with one (scale, zero
 * point) pair per tensor or per channel as the {@link QuantScheme} says.
 *
 * <p>Layout of the arrays: per tensor, one element; per channel, one element per index of the
 * scheme's axis.
 *
 * <p>Instances are immutable (the arrays are copied in and out) and validated: scales are finite
 * and positive, zero points lie on the grid, and symmetric schemes have zero points of 0.
 */
public final class QuantParams {

    private final QuantScheme scheme;
    private final float[] scales;
    private final int[] zeroPoints;
    private final long[] shape;

    /**
     * Creates parameters.
     *
     * @param scheme the scheme
     * @param scales the scales, laid out as described in the class documentation
     * @param zeroPoints the zero points, same length as {@code scales}
     * @param shape the shape of the parameter arrays: {@code []} per tensor, {@code [channels]}
     *     per channel
     * @throws IllegalArgumentException naming the field at fault
     */
    public QuantParams(QuantScheme scheme, float[] scales, int[] zeroPoints, long[] shape) {
        this.scheme = Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(scales, "scales");
        Objects.requireNonNull(zeroPoints, "zeroPoints");
        Objects.requireNonNull(shape, "shape");
        if (scales.length != zeroPoints.length) {
            throw new IllegalArgumentException(
                    "scales and zeroPoints must have the same length, got "
                            + scales.length
                            + " and "
                            + zeroPoints.length
                            + ".");
        }
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        if (count != scales.length || scales.length == 0) {
            throw new IllegalArgumentException(
                    "shape "
                            + Arrays.toString(shape)
                            + " does not match "
                            + scales.length
                            + " scales.");
        }
        if (scheme.getGranularity() == Granularity.PER_TENSOR && shape.length != 0) {
            throw new IllegalArgumentException(
                    "shape must be [] for per-tensor parameters, got "
                            + Arrays.toString(shape)
                            + ".");
        }
        if (scheme.getGranularity() == Granularity.PER_CHANNEL && shape.length != 1) {
            throw new IllegalArgumentException(
                    "shape must be [channels] for per-channel parameters, got "
                            + Arrays.toString(shape)
                            + ".");
        }
        for (int i = 0; i < scales.length; i++) {
            float s = scales[i];
            if (!(s > 0f) || Float.isInfinite(s)) {
                throw new IllegalArgumentException(
                        "scales[" + i + "] must be finite and positive, got " + s + ".");
            }
            int z = zeroPoints[i];
            if (z < scheme.qmin() || z > scheme.qmax()) {
                throw new IllegalArgumentException(
                        "zeroPoints["
                                + i
                                + "] = "
                                + z
                                + " lies outside the grid ["
                                + scheme.qmin()
                                + ", "
                                + scheme.qmax()
                                + "].");
            }
            if (scheme.isSymmetric() && z != 0) {
                throw new IllegalArgumentException(
                        "zeroPoints[" + i + "] must be 0 for a symmetric scheme, got " + z + ".");
            }
        }
        this.scales = scales.clone();
        this.zeroPoints = zeroPoints.clone();
        this.shape = shape.clone();
    }

    /**
     * Creates per-tensor parameters.
     *
     * @param scheme a per-tensor scheme
     * @param scale the scale
     * @param zeroPoint the zero point
     * @return the parameters
     */
    public static QuantParams perTensor(QuantScheme scheme, float scale, int zeroPoint) {
        return new QuantParams(scheme, new float[] {scale}, new int[] {zeroPoint}, new long[0]);
    }

    /**
     * Creates per-channel parameters.
     *
     * @param scheme a per-channel scheme
     * @param scales one scale per channel
     * @param zeroPoints one zero point per channel
     * @return the parameters
     */
    public static QuantParams perChannel(QuantScheme scheme, float[] scales, int[] zeroPoints) {
        return new QuantParams(scheme, scales, zeroPoints, new long[] {scales.length});
    }

    /**
     * Returns the scheme.
     *
     * @return the scheme
     */
    public QuantScheme getScheme() {
        return scheme;
    }

    /**
     * Returns a copy of the scales.
     *
     * @return the scales
     */
    public float[] getScales() {
        return scales.clone();
    }

    /**
     * Returns a copy of the zero points.
     *
     * @return the zero points
     */
    public int[] getZeroPoints() {
        return zeroPoints.clone();
    }

    /**
     * Returns a copy of the shape of the parameter arrays.
     *
     * @return the shape
     */
    public long[] getShape() {
        return shape.clone();
    }

    /**
     * Returns the number of (scale, zero point) pairs.
     *
     * @return the number of pairs
     */
    public int size() {
        return scales.length;
    }

    /**
     * Returns the scale of a per-tensor parameter set.
     *
     * @return the scale
     * @throws IllegalStateException if the parameters are not per tensor
     */
    public float scale() {
        requirePerTensor();
        return scales[0];
    }

    /**
     * Returns the zero point of a per-tensor parameter set.
     *
     * @return the zero point
     * @throws IllegalStateException if the parameters are not per tensor
     */
    public int zeroPoint() {
        requirePerTensor();
        return zeroPoints[0];
    }

    private void requirePerTensor() {
        if (scheme.getGranularity() != Granularity.PER_TENSOR) {
            throw new IllegalStateException(
                    "scale()/zeroPoint() need per-tensor parameters, these are " + scheme + ".");
        }
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof QuantParams)) {
            return false;
        }
        QuantParams p = (QuantParams) o;
        return scheme.equals(p.scheme)
                && Arrays.equals(scales, p.scales)
                && Arrays.equals(zeroPoints, p.zeroPoints)
                && Arrays.equals(shape, p.shape);
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(
                scheme, Arrays.hashCode(scales), Arrays.hashCode(zeroPoints), Arrays.hashCode(shape));
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        if (scales.length == 1) {
            return scheme + " scale=" + scales[0] + " zeroPoint=" + zeroPoints[0];
        }
        float lo = Float.MAX_VALUE;
        float hi = 0f;
        for (float s : scales) {
            lo = Math.min(lo, s);
            hi = Math.max(hi, s);
        }
        return scheme + " " + scales.length + " scales in [" + lo + ", " + hi + "]";
    }
}

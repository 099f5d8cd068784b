package ai.djlquant.quant;

import java.util.Arrays;

/**
 * Where each element of a tensor finds its (scale, zero point): the tensor's shape seen as {@code
 * [outer, dim, inner]} around the scheme's axis. Validates that a scheme fits a shape.
 */
final class ParamLayout {

    final Granularity granularity;
    final long[] shape;
    final int axis;
    final long outer;
    final long dim;
    final long inner;

    private ParamLayout(QuantScheme scheme, long[] shape) {
        this.granularity = scheme.getGranularity();
        this.shape = shape.clone();
        this.axis = scheme.getAxis();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException(
                        "shape " + Arrays.toString(shape) + " has a negative dimension.");
            }
        }
        if (granularity == Granularity.PER_TENSOR) {
            outer = 1;
            dim = 1;
            inner = product(shape, 0, shape.length);
            return;
        }
        if (axis >= shape.length) {
            throw new IllegalArgumentException(
                    "axis "
                            + axis
                            + " of the "
                            + scheme
                            + " scheme is out of range for shape "
                            + Arrays.toString(shape)
                            + ".");
        }
        outer = product(shape, 0, axis);
        dim = shape[axis];
        inner = product(shape, axis + 1, shape.length);
    }

    /**
     * Returns the layout of {@code scheme} over {@code shape}.
     *
     * @throws IllegalArgumentException if a dimension is negative or the axis is out of range
     */
    static ParamLayout of(QuantScheme scheme, long[] shape) {
        return new ParamLayout(scheme, shape);
    }

    /** Number of elements of the tensor. */
    long elements() {
        return outer * dim * inner;
    }

    /** Shape of the parameter arrays, as {@link QuantParams#getShape()} holds it. */
    long[] paramShape() {
        return granularity == Granularity.PER_TENSOR ? new long[0] : new long[] {dim};
    }

    /** Number of (scale, zero point) pairs. */
    int paramCount() {
        return granularity == Granularity.PER_TENSOR ? 1 : Math.toIntExact(dim);
    }

    /** Shape of the parameter arrays that broadcasts against the tensor. */
    long[] paramViewShape() {
        if (granularity == Granularity.PER_TENSOR) {
            return new long[0];
        }
        long[] c = new long[shape.length];
        Arrays.fill(c, 1);
        c[axis] = dim;
        return c;
    }

    /** Index of the parameter pair of the element at flat (row-major) index {@code i}. */
    int paramIndex(long i) {
        return granularity == Granularity.PER_TENSOR ? 0 : (int) ((i / inner) % dim);
    }

    /** Checks that parameters were made for this layout. */
    void check(QuantParams p) {
        if (!Arrays.equals(p.getShape(), paramShape())) {
            throw new IllegalArgumentException(
                    "parameters of shape "
                            + Arrays.toString(p.getShape())
                            + " do not fit a tensor of shape "
                            + Arrays.toString(shape)
                            + " under "
                            + p.getScheme()
                            + " (expected parameter shape "
                            + Arrays.toString(paramShape())
                            + ").");
        }
    }

    private static long product(long[] s, int from, int to) {
        long n = 1;
        for (int i = from; i < to; i++) {
            n *= s[i];
        }
        return n;
    }
}

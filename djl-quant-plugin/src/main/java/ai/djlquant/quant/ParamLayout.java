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
    final int groupSize;

    private ParamLayout(QuantScheme scheme, long[] shape) {
        this.granularity = scheme.getGranularity();
        this.shape = shape.clone();
        this.axis = scheme.getAxis();
        this.groupSize = scheme.getGroupSize();
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
        if (granularity == Granularity.PER_GROUP && dim % groupSize != 0) {
            throw new IllegalArgumentException(
                    "groupSize "
                            + groupSize
                            + " does not divide dimension "
                            + dim
                            + " of axis "
                            + axis
                            + " of shape "
                            + Arrays.toString(shape)
                            + ".");
        }
    }

    /**
     * Returns the layout of {@code scheme} over {@code shape}.
     *
     * @throws IllegalArgumentException if the axis is out of range or the group size does not
     *     divide the axis
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
        switch (granularity) {
            case PER_TENSOR:
                return new long[0];
            case PER_CHANNEL:
                return new long[] {dim};
            default:
                long[] s = shape.clone();
                s[axis] = dim / groupSize;
                return s;
        }
    }

    /** Number of (scale, zero point) pairs. */
    int paramCount() {
        long n = product(paramShape(), 0, paramShape().length);
        return Math.toIntExact(n);
    }

    /**
     * Shape to view the tensor in so that parameters broadcast: per channel the tensor itself; per
     * group the axis split into {@code [dim / groupSize, groupSize]}.
     */
    long[] valueViewShape() {
        if (granularity != Granularity.PER_GROUP) {
            return shape.clone();
        }
        long[] s = new long[shape.length + 1];
        System.arraycopy(shape, 0, s, 0, axis);
        s[axis] = dim / groupSize;
        s[axis + 1] = groupSize;
        System.arraycopy(shape, axis + 1, s, axis + 2, shape.length - axis - 1);
        return s;
    }

    /** Shape of the parameter arrays that broadcasts against {@link #valueViewShape()}. */
    long[] paramViewShape() {
        switch (granularity) {
            case PER_TENSOR:
                return new long[0];
            case PER_CHANNEL:
                long[] c = new long[shape.length];
                Arrays.fill(c, 1);
                c[axis] = dim;
                return c;
            default:
                long[] g = valueViewShape();
                g[axis + 1] = 1;
                return g;
        }
    }

    /** The axis of the value view that the reduction for per-group ranges runs along. */
    int groupReduceAxis() {
        return axis + 1;
    }

    /** Index of the parameter pair of the element at flat (row-major) index {@code i}. */
    int paramIndex(long i) {
        switch (granularity) {
            case PER_TENSOR:
                return 0;
            case PER_CHANNEL:
                return (int) ((i / inner) % dim);
            default:
                long r = i % inner;
                long c = (i / inner) % dim;
                long o = i / (inner * dim);
                return (int) ((o * (dim / groupSize) + c / groupSize) * inner + r);
        }
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

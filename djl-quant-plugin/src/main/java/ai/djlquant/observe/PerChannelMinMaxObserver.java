package ai.djlquant.observe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Objects;

/**
 * Running minimum and maximum of each index of one axis (PyTorch's {@code
 * PerChannelMinMaxObserver}), for per-channel parameters. The number of channels is fixed by the
 * first batch; later batches must have the same size on the axis. Merge is exact.
 */
public final class PerChannelMinMaxObserver extends AbstractObserver {

    /** Version of the serialised state. */
    public static final byte VERSION = 1;

    private final int axis;

    /** Per channel, +Inf / -Inf until the channel sees a finite value; null before any batch. */
    private float[] mins;

    private float[] maxs;

    private PerChannelMinMaxObserver(int axis) {
        this.axis = axis;
    }

    /**
     * Creates a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the channel axis.
     *
     * @return the axis
     */
    public int getAxis() {
        return axis;
    }

    /**
     * Returns the number of channels, or 0 before the first batch.
     *
     * @return the number of channels
     */
    public int getChannels() {
        return mins == null ? 0 : mins.length;
    }

    @Override
    void observe(NDArray x) {
        long[] shape = x.getShape().getShape();
        if (axis >= shape.length) {
            throw new IllegalArgumentException(
                    "axis "
                            + axis
                            + " of the PerChannelMinMaxObserver is out of range for a tensor of"
                            + " shape "
                            + x.getShape()
                            + ".");
        }
        int channels = Math.toIntExact(shape[axis]);
        if (mins != null && channels != mins.length) {
            throw new IllegalArgumentException(
                    "a tensor of shape "
                            + x.getShape()
                            + " has "
                            + channels
                            + " channels on axis "
                            + axis
                            + ", the observer has seen "
                            + mins.length
                            + ".");
        }
        if (mins == null) {
            mins = new float[channels];
            maxs = new float[channels];
            Arrays.fill(mins, Float.POSITIVE_INFINITY);
            Arrays.fill(maxs, Float.NEGATIVE_INFINITY);
        }
        long n = x.size();
        if (n == 0) {
            return;
        }
        long outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= shape[i];
        }
        // PyTorch reduces one axis at a time: view as [outer, channels, inner]
        NDArray v = x.reshape(outer, channels, n / outer / channels);
        float[] lo = v.min(new int[] {2}).min(new int[] {0}).toFloatArray();
        float[] hi = v.max(new int[] {2}).max(new int[] {0}).toFloatArray();
        long finite = n;
        if (!allFinite(lo) || !allFinite(hi)) {
            // slow path, only for batches with NaN or infinity: mask them out of the reductions
            NDArray mask = BatchStats.finiteMask(v);
            finite = mask.countNonzero().getLong();
            NDArray inf = v.getManager().full(v.getShape(), Float.POSITIVE_INFINITY);
            lo = NDArrays.where(mask, v, inf).min(new int[] {2}).min(new int[] {0}).toFloatArray();
            hi =
                    NDArrays.where(mask, v, inf.neg())
                            .max(new int[] {2})
                            .max(new int[] {0})
                            .toFloatArray();
        }
        count += finite;
        nonFinite += n - finite;
        for (int c = 0; c < channels; c++) {
            mins[c] = Math.min(mins[c], lo[c]);
            maxs[c] = Math.max(maxs[c], hi[c]);
        }
    }

    private static boolean allFinite(float[] a) {
        for (float v : a) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** {@inheritDoc} */
    @Override
    public void merge(Observer other) {
        PerChannelMinMaxObserver o = sameType(other, PerChannelMinMaxObserver.class);
        if (o.axis != axis) {
            throw new IllegalArgumentException(
                    "cannot merge a PerChannelMinMaxObserver on axis "
                            + o.axis
                            + " into one on axis "
                            + axis
                            + ".");
        }
        if (o.mins != null && mins != null && o.mins.length != mins.length) {
            throw new IllegalArgumentException(
                    "cannot merge a PerChannelMinMaxObserver of "
                            + o.mins.length
                            + " channels into one of "
                            + mins.length
                            + ".");
        }
        count += o.count;
        nonFinite += o.nonFinite;
        if (o.mins == null) {
            return;
        }
        if (mins == null) {
            mins = o.mins.clone();
            maxs = o.maxs.clone();
            return;
        }
        for (int c = 0; c < mins.length; c++) {
            mins[c] = Math.min(mins[c], o.mins[c]);
            maxs[c] = Math.max(maxs[c], o.maxs[c]);
        }
    }

    /**
     * Returns each channel's minimum.
     *
     * @return the minima
     * @throws IllegalStateException if no finite value has been seen, or a channel has none
     */
    public float[] getMins() {
        checkChannels();
        return mins.clone();
    }

    /**
     * Returns each channel's maximum.
     *
     * @return the maxima
     * @throws IllegalStateException if no finite value has been seen, or a channel has none
     */
    public float[] getMaxs() {
        checkChannels();
        return maxs.clone();
    }

    private void checkChannels() {
        if (isEmpty()) {
            throw nothingSeen();
        }
        for (int c = 0; c < mins.length; c++) {
            if (mins[c] > maxs[c]) {
                throw new IllegalStateException(
                        "channel "
                                + c
                                + " on axis "
                                + axis
                                + " of the PerChannelMinMaxObserver has seen no finite values.");
            }
        }
    }

    @Override
    byte typeTag() {
        return Observers.PER_CHANNEL;
    }

    @Override
    byte version() {
        return VERSION;
    }

    @Override
    void writeState(DataOutputStream out) throws IOException {
        out.writeInt(axis);
        int channels = getChannels();
        out.writeInt(mins == null ? -1 : channels);
        for (int c = 0; c < channels; c++) {
            out.writeFloat(mins[c]);
            out.writeFloat(maxs[c]);
        }
    }

    static PerChannelMinMaxObserver read(DataInputStream in, byte version) throws IOException {
        Observers.checkVersion(version, VERSION, "PerChannelMinMaxObserver");
        long count = Observers.nonNegative(in.readLong(), "count");
        long nonFinite = Observers.nonNegative(in.readLong(), "nonFiniteCount");
        PerChannelMinMaxObserver o = builder().setAxis(in.readInt()).build();
        o.count = count;
        o.nonFinite = nonFinite;
        int channels = in.readInt();
        if (channels < -1 || channels > in.available() / 8) {
            throw new IllegalArgumentException(
                    "PerChannelMinMaxObserver bytes hold an invalid channel count "
                            + channels
                            + ".");
        }
        if (channels >= 0) {
            o.mins = new float[channels];
            o.maxs = new float[channels];
            for (int c = 0; c < channels; c++) {
                o.mins[c] = in.readFloat();
                o.maxs[c] = in.readFloat();
                boolean empty =
                        o.mins[c] == Float.POSITIVE_INFINITY
                                && o.maxs[c] == Float.NEGATIVE_INFINITY;
                if (!empty) {
                    MinMaxObserver.checkRange(1, o.mins[c], o.maxs[c], "PerChannelMinMaxObserver");
                }
            }
        }
        return o;
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof PerChannelMinMaxObserver)) {
            return false;
        }
        PerChannelMinMaxObserver m = (PerChannelMinMaxObserver) o;
        return count == m.count
                && nonFinite == m.nonFinite
                && axis == m.axis
                && Arrays.equals(mins, m.mins)
                && Arrays.equals(maxs, m.maxs);
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return Objects.hash(count, nonFinite, axis, Arrays.hashCode(mins), Arrays.hashCode(maxs));
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "PerChannelMinMaxObserver(axis=" + axis + ") " + getChannels() + " channels";
    }

    /** Builds a {@link PerChannelMinMaxObserver}. */
    public static final class Builder {

        private int axis = -1;

        private Builder() {}

        /**
         * Sets the channel axis (required, non-negative; 0 for DJL weights, 1 for NCHW
         * activations).
         *
         * @param axis the axis
         * @return this builder
         */
        public Builder setAxis(int axis) {
            this.axis = axis;
            return this;
        }

        /**
         * Validates the settings and builds an empty observer.
         *
         * @return the observer
         * @throws IllegalArgumentException naming the field at fault
         */
        public PerChannelMinMaxObserver build() {
            if (axis < 0) {
                throw new IllegalArgumentException(
                        "axis must be set to a non-negative value, got " + axis + ".");
            }
            return new PerChannelMinMaxObserver(axis);
        }
    }
}

package ai.djlquant.observe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;

/**
 * Shared plumbing of the observers: counting, temporaries of an update, the serialised header.
 * Subclasses live in this package only.
 */
public abstract class AbstractObserver implements Observer {

    long count;
    long nonFinite;

    AbstractObserver() {}

    /** {@inheritDoc} */
    @Override
    public final void update(NDArray x) {
        Objects.requireNonNull(x, "x");
        try (NDManager scope = x.getManager().newSubManager()) {
            // every temporary of this update is freed with the scope; x goes back to its manager
            x.tempAttach(scope);
            observe(BatchStats.asFloat(x));
        }
    }

    /** Folds in a FLOAT32 batch; temporaries may be left in the batch's manager. */
    abstract void observe(NDArray x);

    /** {@inheritDoc} */
    @Override
    public final long getCount() {
        return count;
    }

    /** {@inheritDoc} */
    @Override
    public final long getNonFiniteCount() {
        return nonFinite;
    }

    /** {@inheritDoc} */
    @Override
    public final byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(Observers.MAGIC);
            out.writeByte(typeTag());
            out.writeByte(version());
            out.writeLong(count);
            out.writeLong(nonFinite);
            writeState(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The tag {@link Observers#fromBytes(byte[])} dispatches on. */
    abstract byte typeTag();

    /** The version of the state format written by {@link #writeState}. */
    abstract byte version();

    abstract void writeState(DataOutputStream out) throws IOException;

    /** Reads the counts written by {@link #toBytes()} after the header. */
    final void readCounts(DataInputStream in) throws IOException {
        count = Observers.nonNegative(in.readLong(), "count");
        nonFinite = Observers.nonNegative(in.readLong(), "nonFiniteCount");
    }

    /** Checks that {@code other} has this observer's class and returns it cast. */
    final <T extends AbstractObserver> T sameType(Observer other, Class<T> type) {
        Objects.requireNonNull(other, "other");
        if (other.getClass() != type) {
            throw new IllegalArgumentException(
                    "cannot merge a "
                            + other.getClass().getSimpleName()
                            + " into a "
                            + type.getSimpleName()
                            + ".");
        }
        return type.cast(other);
    }

    /** Throws {@link IllegalStateException} if no finite value has been seen. */
    final void requireSeen() {
        if (isEmpty()) {
            throw nothingSeen();
        }
    }

    final IllegalStateException nothingSeen() {
        return new IllegalStateException(
                getClass().getSimpleName()
                        + " has seen no finite values ("
                        + nonFinite
                        + " NaN or infinite values skipped): run calibration batches first.");
    }
}

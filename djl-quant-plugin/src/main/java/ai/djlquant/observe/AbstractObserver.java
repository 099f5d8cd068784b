package ai.djlquant.observe;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.Objects;

/**
 * Shared plumbing of the observers: counting and the temporaries of an update. Subclasses live in
 * this package only.
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

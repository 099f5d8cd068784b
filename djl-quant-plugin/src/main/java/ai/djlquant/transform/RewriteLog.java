package ai.djlquant.transform;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The undo log of a series of rewrites: every change to a block tree records how to take it back,
 * so that a failure at any point can put the tree back exactly as it was ({@link #rollback()}),
 * and success forgets the log ({@link #commit()}).
 *
 * <p>Not thread-safe: one quantization uses one log.
 */
public final class RewriteLog {

    private final Deque<Runnable> undo = new ArrayDeque<>();

    /** Creates an empty log. */
    public RewriteLog() {}

    /**
     * Records how to take back a change that was just made.
     *
     * @param action the undo action
     */
    public void record(Runnable action) {
        undo.push(action);
    }

    /**
     * Returns the number of changes recorded and not yet committed or rolled back.
     *
     * @return the number of changes
     */
    public int size() {
        return undo.size();
    }

    /**
     * Takes back every recorded change, newest first. Every undo action runs even if one fails;
     * failures are thrown afterwards as one exception.
     *
     * @throws IllegalStateException if an undo action failed
     */
    public void rollback() {
        IllegalStateException failure = null;
        while (!undo.isEmpty()) {
            try {
                undo.pop().run();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = new IllegalStateException("a rewrite could not be undone: " + e, e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Keeps every recorded change and empties the log. */
    public void commit() {
        undo.clear();
    }
}

package ai.djlquant;

import ai.djl.training.util.ProgressBar;
import ai.djl.util.Progress;
import ai.djlquant.annotations.Internal;

/**
 * Progress of one long step (calibrating, planning, the accuracy goal's trials, and in the tools
 * evaluating and timing): the user's listener if one was given ({@link
 * QuantizationConfig.Builder#optProgress}), otherwise a DJL {@link ProgressBar} that appears once
 * the step has run for {@link #SHOW_AFTER_NANOS}, so that short steps print nothing. Public only
 * for the examples and the CLI, which show the same bar.
 */
@Internal
public final class ProgressSink {

    /** The default progress bar appears once a step has run this long. */
    public static final long SHOW_AFTER_NANOS = 2_000_000_000L;

    private final String message;
    private final long total;
    private final long start = System.nanoTime();
    private Progress shown;
    private long done;

    /**
     * Starts a step.
     *
     * @param user the user's listener, or null for the default bar
     * @param message what is being done, e.g. "Calibrating"
     * @param total the units of work
     */
    public ProgressSink(Progress user, String message, long total) {
        this.message = message;
        this.total = Math.max(1, total);
        if (user != null) {
            user.reset(message, this.total);
            user.start(0);
            shown = user;
        }
    }

    /**
     * Counts more units done.
     *
     * @param n the units
     */
    public void advance(long n) {
        done += n;
        if (shown == null && System.nanoTime() - start > SHOW_AFTER_NANOS) {
            shown = new ProgressBar(message, total);
            shown.start(0);
        }
        if (shown != null) {
            shown.update(Math.min(done, total) - 1);
        }
    }

    /** Ends the step (the bar is closed only if all the work was done). */
    public void end() {
        if (shown != null && done >= total) {
            shown.end();
        }
    }
}

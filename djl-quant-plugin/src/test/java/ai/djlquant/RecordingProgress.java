package ai.djlquant;

import ai.djl.util.Progress;

import java.util.ArrayList;
import java.util.List;

/** A {@link Progress} that records what it was told: each step's message, total and last value. */
public final class RecordingProgress implements Progress {

    /** One step as the listener saw it. */
    public static final class Step {
        /** The step's message. */
        public final String message;
        /** Its total. */
        public final long total;
        /** The last value it was updated to. */
        public long last = -1;
        /** Whether it was ended. */
        public boolean ended;

        Step(String message, long total) {
            this.message = message;
            this.total = total;
        }
    }

    /** The steps, in order. */
    public final List<Step> steps = new ArrayList<>();

    @Override
    public void reset(String message, long max, String trailingMessage) {
        steps.add(new Step(message, max));
    }

    @Override
    public void start(long initialProgress) {}

    @Override
    public void end() {
        steps.get(steps.size() - 1).ended = true;
    }

    @Override
    public void increment(long increment) {
        Step s = steps.get(steps.size() - 1);
        s.last = Math.max(s.last, 0) + increment;
    }

    @Override
    public void update(long progress, String message) {
        steps.get(steps.size() - 1).last = progress;
    }

    /**
     * Returns the messages of the steps.
     *
     * @return the messages in order
     */
    public List<String> messages() {
        List<String> m = new ArrayList<>();
        for (Step s : steps) {
            m.add(s.message);
        }
        return m;
    }
}

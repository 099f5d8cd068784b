package ai.djlquant;

/**
 * Where {@link Quantizer#quantize} looks at its thread's interrupt status: at the start, before
 * each calibration batch, and at every step and layer its {@link StepHooks} mark. The status is
 * read, not cleared.
 */
final class Cancellation {

    private Cancellation() {}

    /**
     * Throws if the current thread is interrupted.
     *
     * @param where the point reached, for the message
     * @throws QuantizationInterruptedException if the thread is interrupted
     */
    static void check(String where) {
        if (Thread.currentThread().isInterrupted()) {
            throw new QuantizationInterruptedException(where);
        }
    }

    /**
     * Hooks that run {@code hooks}, then check for an interrupt at each point.
     *
     * @param hooks the hooks to run first
     * @return the checking hooks
     */
    static StepHooks checking(StepHooks hooks) {
        return step -> {
            hooks.reached(step);
            check("after " + step);
        };
    }
}

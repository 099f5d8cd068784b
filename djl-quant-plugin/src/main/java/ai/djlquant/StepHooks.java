package ai.djlquant;

/** Points where tests make a step of {@link Quantizer#quantize} fail, to check the rollback. */
interface StepHooks {

    /** Hooks that do nothing. */
    StepHooks NONE = step -> {};

    /**
     * Called when a step is done ("prepare", "calibrate", "decide", "measure", "accuracy goal",
     * "time model"), after each int8 block the decide step builds ("build static &lt;path&gt;",
     * "build dynamic &lt;path&gt;") or times ("time &lt;path&gt;") and after each replacement of
     * convert ("convert &lt;path&gt;").
     *
     * @param step the step
     */
    void reached(String step);
}

package ai.djlquant.plan;

/**
 * What AUTO optimises for beyond accuracy: whether an int8 layer must also be faster than fp32 on
 * this CPU. Every objective first applies the accuracy rule ({@link ModeChooser}); a layer that
 * the accuracy rule keeps fp32 stays fp32 under all three. The objective decides what happens to
 * the layers the accuracy rule would make int8, from each layer's measured time, fp32 against its
 * int8 block, at every serving batch size (see {@link SpeedComparison} for what "faster" and
 * "slower" mean against measurement noise).
 *
 * <p>A mode forced by a rule ({@code optMode}) is not timed and not overridden.
 */
public enum Objective {

    /**
     * The default: a layer stays fp32 only where its int8 block is measurably slower than fp32 at
     * some serving batch size. At equal speed int8 still wins: its weights are 4x smaller.
     */
    BALANCED,

    /**
     * int8 only where it is measurably faster than fp32 at some serving batch size and measurably
     * slower at none: the model is never slower, and keeps fp32 where int8 would only save bytes.
     */
    LATENCY,

    /**
     * Every layer the accuracy rule allows becomes int8, whatever its speed; layers are not timed
     * (the fastest plan to make).
     */
    SIZE;

    /**
     * Returns whether layers are timed under this objective.
     *
     * @return false for {@link #SIZE}
     */
    public boolean timesLayers() {
        return this != SIZE;
    }

    /**
     * Returns whether an int8 layer with these timings is kept under this objective.
     *
     * @param verdicts the verdict at each serving batch size
     * @return whether int8 is kept
     */
    boolean keepsInt8(Iterable<SpeedComparison.Verdict> verdicts) {
        boolean faster = false;
        for (SpeedComparison.Verdict v : verdicts) {
            if (v == SpeedComparison.Verdict.SLOWER && this != SIZE) {
                return false;
            }
            faster |= v == SpeedComparison.Verdict.FASTER;
        }
        return this != LATENCY || faster;
    }
}

package ai.djlquant.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/**
 * The activation an int8 block applies to its own float32 output, in place of the activation block
 * that followed the layer: none, ReLU or ReLU6.
 *
 * <p>Semantics, in float: the block computes its dequantized float32 output {@code y} (the same
 * float an unfused block returns) and then {@code max(y, 0)} (RELU) or {@code min(max(y, 0), 6)}
 * (RELU6). A clamp of a float is exact (it returns one of its operands), so the fused block's output
 * equals the unfused block's output followed by DJL's {@code Activation.relu} / {@code relu6}, bit
 * for bit (negative zero aside, which compares equal: the clamp writes +0 for it).
 *
 * <p>A closed set rather than a free clamp {@code [lo, hi]}: each constant is recognised exactly
 * (the very DJL function or its exact effect, see {@code transform.ReluFusion}), recorded by name in the artifact
 * and refused when unknown; no bounds are inferred from a lambda.
 */
public enum FusedActivation {
    /** No activation: the block returns its float output. */
    NONE("none", Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY),
    /** ReLU: {@code max(y, 0)}. */
    RELU("relu", 0f, Float.POSITIVE_INFINITY),
    /** ReLU6: {@code min(max(y, 0), 6)}. */
    RELU6("relu6", 0f, 6f);

    private final String word;
    private final float lower;
    private final float upper;

    FusedActivation(String word, float lower, float upper) {
        this.word = word;
        this.lower = lower;
        this.upper = upper;
    }

    /**
     * Returns the name the artifact and the report use ({@code none}, {@code relu}, {@code relu6}).
     *
     * @return the word
     */
    public String word() {
        return word;
    }

    /**
     * Returns the lower bound of the clamp ({@code -Infinity} for NONE).
     *
     * @return the lower bound
     */
    public float lower() {
        return lower;
    }

    /**
     * Returns the upper bound of the clamp ({@code +Infinity} for NONE and RELU).
     *
     * @return the upper bound
     */
    public float upper() {
        return upper;
    }

    /**
     * Applies the activation to one float (the reference kernel's arithmetic).
     *
     * @param y the dequantized output value
     * @return the activated value
     */
    public float apply(float y) {
        switch (this) {
            case RELU:
                return Math.max(y, 0f);
            case RELU6:
                return Math.min(Math.max(y, 0f), 6f);
            default:
                return y;
        }
    }

    /**
     * Applies the activation to a float array with DJL's {@code Activation.relu} / {@code relu6}
     * (a new array), or returns the same array for NONE.
     *
     * @param y the output
     * @return the activated output
     */
    public NDArray apply(NDArray y) {
        switch (this) {
            case RELU:
                return Activation.relu(y);
            case RELU6:
                return Activation.relu6(y);
            default:
                return y;
        }
    }

    /**
     * Returns the activation a word names.
     *
     * @param word {@code none}, {@code relu} or {@code relu6}
     * @param where the place of the word, for the message
     * @return the activation
     * @throws IllegalArgumentException naming {@code where} if the word names none
     */
    public static FusedActivation fromWord(String word, String where) {
        for (FusedActivation a : values()) {
            if (a.word.equals(word)) {
                return a;
            }
        }
        throw new IllegalArgumentException(
                where + " is '" + word + "', expected none, relu or relu6.");
    }
}

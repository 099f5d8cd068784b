package ai.djlquant;

/**
 * Thrown by {@link Quantizer#quantize} when its thread is interrupted: the quantization stops at
 * the next calibration batch or layer, the model is rolled back as for any failure, and the
 * thread's interrupt status stays set (as a caller that checks it expects). Unchecked, as {@code
 * quantize} declares no checked exceptions; its cause is an {@link InterruptedException}, so code
 * that looks for one in the cause chain finds it.
 */
public final class QuantizationInterruptedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param where the point the quantization reached, for the message
     */
    QuantizationInterruptedException(String where) {
        super(
                "the quantization was interrupted ("
                        + where
                        + "); the model is unchanged and the thread's interrupt status is kept.",
                new InterruptedException(where));
    }
}

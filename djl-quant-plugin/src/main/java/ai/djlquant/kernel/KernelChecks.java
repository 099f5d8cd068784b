package ai.djlquant.kernel;

import java.util.Arrays;

/** Shape checks shared by the backends; every message names the shape at fault. */
final class KernelChecks {

    private KernelChecks() {}

    static void checkConvWeights(ConvGeometry g, Int8Weights w) {
        if (!Arrays.equals(g.weightShape(), w.getShape())) {
            throw new IllegalArgumentException(
                    "weight shape "
                            + Arrays.toString(w.getShape())
                            + " does not fit "
                            + g
                            + ", which needs "
                            + Arrays.toString(g.weightShape())
                            + ".");
        }
    }

    /** Returns the row count M of a Linear input [..., K]. */
    static long linearRows(long[] input, long k) {
        if (input.length < 1 || input[input.length - 1] != k) {
            throw new IllegalArgumentException(
                    "the Linear layer expects inputs [..., "
                            + k
                            + "], got shape "
                            + Arrays.toString(input)
                            + ".");
        }
        long m = 1;
        for (int i = 0; i < input.length - 1; i++) {
            m *= input[i];
        }
        return m;
    }

    static long[] linearOutput(long[] input, long k, long n) {
        linearRows(input, k);
        long[] out = input.clone();
        out[out.length - 1] = n;
        return out;
    }

    static long count(long[] shape) {
        long c = 1;
        for (long d : shape) {
            c *= d;
        }
        return c;
    }

    static void checkCapacity(java.nio.ByteBuffer b, long elements, int bytesPer, String what) {
        if (b.remaining() < elements * bytesPer) {
            throw new IllegalArgumentException(
                    what
                            + " buffer holds "
                            + b.remaining()
                            + " bytes, "
                            + elements * bytesPer
                            + " needed.");
        }
    }

    /**
     * Checks the grids of a chained call: a quantized input needs a static grid of at most {@code
     * maxBits} (its bytes cannot be narrowed), an output grid must be static.
     */
    static void checkGrids(
            boolean inputQuantized,
            ActivationQuantization activation,
            ActivationQuantization outputGrid,
            int maxBits) {
        if (inputQuantized && activation.isDynamic()) {
            throw new IllegalArgumentException(
                    "a uint8 input needs the static grid it is on, not dynamic quantization.");
        }
        if (inputQuantized && activation.getBits() > maxBits) {
            throw new IllegalArgumentException(
                    "a uint8 input on a "
                            + activation.getBits()
                            + "-bit grid cannot run on a backend of "
                            + maxBits
                            + "-bit activations.");
        }
        if (outputGrid != null && outputGrid.isDynamic()) {
            throw new IllegalArgumentException("a uint8 output needs a static grid.");
        }
    }
}

package ai.djlquant.kernel;

import java.nio.FloatBuffer;

/**
 * One prepared weight-only Linear: float32 activations times a weight stored in 8 or 4 bits
 * ({@link WeightOnlyFormat}), float32 accumulation and output, {@code y[m][n] = sum_k x[m][k] *
 * w[n][k] + b[n]} with {@code w} the dequantized weight.
 *
 * <p>Kernels are thread-safe: they hold no per-call state.
 */
public interface WeightOnlyKernel {

    /**
     * Runs the layer on {@code rows} rows of {@code K} inputs.
     *
     * @param input {@code rows * K} float32 values from the buffer's position
     * @param rows the number of rows M
     * @param output where {@code rows * N} float32 values go, from the buffer's position
     * @param threads how many threads may share the work (1 or more)
     */
    void forward(FloatBuffer input, int rows, FloatBuffer output, int threads);

    /**
     * Returns which implementation runs, for logs and benchmark host lines.
     *
     * @return for example {@code vector(512-bit)} or {@code scalar}
     */
    String implementation();
}

package ai.djlquant.kernel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * One formula for every path that quantizes activations: the engine-op version the int8 blocks run
 * without oneDNN ({@link ActivationQuantization#quantize(NDArray, float, int, int)}) gives the
 * integers of the scalar version, which the kernels use and which {@code KernelFloatPathTest} holds
 * to oneDNN's quantizing reorder bit for bit.
 */
class ActivationQuantizationTest {

    @Test
    void fallbackAndKernelQuantizeEveryValueAlike() {
        Random rnd = new Random(20261201);
        int differsFromDivision = 0;
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int trial = 0; trial < 400; trial++) {
                float s = scale(trial, rnd);
                int qmax = trial % 3 == 0 ? 127 : 255;
                int zp = rnd.nextInt(qmax + 1);
                float[] x = sweep(s, zp, qmax, rnd);
                NDArray q = ActivationQuantization.quantize(manager.create(x), s, zp, qmax);
                float[] fallback = q.toFloatArray();
                q.close();
                for (int i = 0; i < x.length; i++) {
                    int kernel = ActivationQuantization.quantize(x[i], s, zp, qmax);
                    // == : the engine's clip keeps -0.0, the same integer
                    Assertions.assertTrue(
                            fallback[i] == kernel,
                            "x="
                                    + x[i]
                                    + " scale="
                                    + s
                                    + " zp="
                                    + zp
                                    + " qmax="
                                    + qmax
                                    + ": "
                                    + fallback[i]
                                    + " vs "
                                    + kernel);
                    float divided = (float) Math.rint(x[i] / s + zp);
                    if (divided >= 0 && divided <= qmax && divided != kernel) {
                        differsFromDivision++;
                    }
                }
            }
        }
        // the sweep can tell x * (1 / s) from x / s: reverting either path to x / s fails above
        Assertions.assertTrue(differsFromDivision > 0, "the sweep never separates x / s");
    }

    /** Powers of two (exact ties), round decimals, random scales, the smallest scale. */
    private static float scale(int trial, Random rnd) {
        switch (trial % 5) {
            case 0:
                return (float) Math.scalb(1.0, -rnd.nextInt(12));
            case 1:
                return new float[] {0.1f, 0.01f, 0.3f, 0.7f, 1.1f}[rnd.nextInt(5)];
            case 2:
                return ai.djlquant.quant.AffineQuantizer.MIN_SCALE * (1 + rnd.nextInt(1000));
            default:
                return (float) (1e-4 + rnd.nextDouble() * (trial % 2 == 0 ? 0.05 : 3));
        }
    }

    /** Values at, just below and just above every half step of the grid, plus the extremes. */
    private static float[] sweep(float s, int zp, int qmax, Random rnd) {
        float[] x = new float[6 * (qmax + 3) + 200 + 6];
        int n = 0;
        for (int k = -1; k <= qmax + 1; k++) {
            float tie = (k + 0.5f - zp) * s;
            float on = (k - zp) * s;
            x[n++] = tie;
            x[n++] = Math.nextDown(tie);
            x[n++] = Math.nextUp(tie);
            x[n++] = on;
            x[n++] = Math.nextDown(on);
            x[n++] = Math.nextUp(on);
        }
        for (int i = 0; i < 200; i++) {
            x[n++] = (float) ((rnd.nextDouble() * (qmax + 4) - 2 - zp) * s);
        }
        x[n++] = 0f;
        x[n++] = -0f;
        x[n++] = Float.MAX_VALUE;
        x[n++] = -Float.MAX_VALUE;
        x[n++] = Float.POSITIVE_INFINITY;
        x[n++] = Float.NEGATIVE_INFINITY;
        return x;
    }
}

package ai.djlquant.kernel;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The weight-only kernels (vector and scalar) against the reference: the weight dequantized by
 * {@link WeightOnlyFormat}'s formula ({@link WeightOnlyWeights#dequantized}), then {@code y = x W^T
 * + b} summed in float64.
 *
 * <p>Bound: both kernels accumulate in float32 (no lower precision anywhere), in an order of their
 * own, so each output is within {@code 1e-5 * (sum_k |x[k] * w[n][k]| + |b[n]|)} of the reference:
 * float32's unit roundoff 2^-24 (6e-8) times K / 16 + 16 partial sums for K up to 4096, with a
 * margin of about 2 (measured worst case below 2e-6).
 */
class WeightOnlyKernelTest {

    private static final int[][] SHAPES = { // M, K, N
        {1, 64, 1}, {1, 64, 7}, {3, 128, 4}, {4, 256, 9}, {5, 512, 13}, {8, 384, 16}, {1, 4096, 8}
    };

    static List<WeightOnlyFormat> formats() {
        List<WeightOnlyFormat> f = new ArrayList<>();
        f.add(WeightOnlyFormat.INT8);
        for (int g : new int[] {32, 64, 128}) {
            f.add(WeightOnlyFormat.int4(g, true));
            f.add(WeightOnlyFormat.int4(g, false));
        }
        return f;
    }

    @Test
    void bothKernelsMatchTheDequantizedReference() {
        Random r = new Random(20261202);
        double worst = 0;
        for (WeightOnlyFormat f : formats()) {
            for (int[] s : SHAPES) {
                int m = s[0];
                int k = s[1];
                int n = s[2];
                if (f.bits() == 4 && k % f.groupSize() != 0) {
                    continue;
                }
                float[] w = gaussian(r, n * k, 0.05f);
                float[] x = gaussian(r, m * k, 1f);
                float[] b = r.nextBoolean() ? gaussian(r, n, 0.1f) : null;
                WeightOnlyWeights q = WeightOnlyWeights.quantize(f, w, n, k, b);
                for (WeightOnlyKernel kernel :
                        new WeightOnlyKernel[] {
                            WeightOnlyKernels.create(q), WeightOnlyKernels.scalar(q)
                        }) {
                    for (int threads : new int[] {1, 2}) {
                        float[] y = run(kernel, x, m, n, threads);
                        for (int i = 0; i < m; i++) {
                            for (int c = 0; c < n; c++) {
                                double ref = 0;
                                double mag = 0;
                                for (int j = 0; j < k; j++) {
                                    double p = (double) x[i * k + j] * q.dequantized(c, j);
                                    ref += p;
                                    mag += Math.abs(p);
                                }
                                double bias = b == null ? 0 : b[c];
                                ref += bias;
                                mag += Math.abs(bias);
                                double err = Math.abs(y[i * n + c] - ref);
                                worst = Math.max(worst, err / mag);
                                Assertions.assertTrue(
                                        err <= 1e-5 * mag,
                                        kernel.implementation()
                                                + " "
                                                + f.shortName()
                                                + " M="
                                                + m
                                                + " K="
                                                + k
                                                + " N="
                                                + n
                                                + " y["
                                                + i
                                                + "]["
                                                + c
                                                + "] = "
                                                + y[i * n + c]
                                                + ", reference "
                                                + ref);
                            }
                        }
                    }
                }
            }
        }
        Assertions.assertTrue(worst > 0, "the check compared nothing");
    }

    @Test
    void theVectorKernelRunsWhereTheModuleIsEnabled() {
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        boolean forced = "scalar".equals(System.getProperty(WeightOnlyKernels.PROPERTY));
        Assertions.assertEquals(module && !forced, WeightOnlyKernels.isVectorized());
        WeightOnlyWeights q =
                WeightOnlyWeights.quantize(
                        WeightOnlyFormat.INT8, new float[64 * 4], 4, 64, null);
        Assertions.assertEquals(
                module && !forced,
                WeightOnlyKernels.create(q).implementation().startsWith("vector"));
    }

    @Test
    void storedValuesStayOnTheirGridsAndZeroIsExactWhenSymmetric() {
        Random r = new Random(7);
        for (WeightOnlyFormat f : formats()) {
            int n = 5;
            int k = 256;
            float[] w = gaussian(r, n * k, 1f);
            w[3] = 0f;
            for (int i = 128; i < 256; i++) {
                w[i] = 0f; // a group (and for 8-bit half a row) of zeros
            }
            WeightOnlyWeights q = WeightOnlyWeights.quantize(f, w, n, k, null);
            int lo = f.bits() == 8 ? -127 : 0;
            int hi = f.bits() == 8 ? 127 : 15;
            for (int c = 0; c < n; c++) {
                for (int j = 0; j < k; j++) {
                    int v = q.stored(c, j);
                    Assertions.assertTrue(v >= lo && v <= hi, f.shortName() + " stored " + v);
                    // the rounding error is at most half a step (one scale) of the value
                    float step = f.bits() == 8 ? q.scales()[c] : q.scales()[c * f.groups(k) + j / f.groupSize()];
                    Assertions.assertTrue(
                            Math.abs(q.dequantized(c, j) - w[c * k + j]) <= step * 0.5001f,
                            f.shortName() + " w[" + c + "][" + j + "]");
                }
            }
            if (f.symmetric()) {
                Assertions.assertEquals(0f, q.dequantized(0, 3));
                Assertions.assertEquals(0f, q.dequantized(0, 200));
            }
            for (float s : q.scales()) {
                Assertions.assertTrue(Float.isFinite(s) && s > 0, f.shortName() + " scale " + s);
            }
        }
    }

    /**
     * Output SQNR of a Gaussian-weight Linear with 4-bit group-64 weights. The issue asked for 25
     * dB; no 16-level quantizer reaches that on Gaussian weights: the output error is the sum of
     * independent weight errors, so its SQNR is the weight's, and the best uniform 16-level
     * quantizer of a Gaussian (one step for all values) gives 19.4 dB, the best of any kind 20.2 dB
     * (Max, 1960); a group's own range gains about a dB on 64 samples. Measured here: 19.3 dB
     * symmetric, 20.8 dB asymmetric; the test holds both to 18.5 dB.
     */
    @Test
    void fourBitGroup64ComesCloseToTheGaussianLimit() {
        Random r = new Random(11);
        int m = 8;
        int k = 512;
        int n = 256;
        float[] w = gaussian(r, n * k, 0.05f);
        float[] x = gaussian(r, m * k, 1f);
        for (boolean symmetric : new boolean[] {true, false}) {
            WeightOnlyWeights q =
                    WeightOnlyWeights.quantize(WeightOnlyFormat.int4(64, symmetric), w, n, k, null);
            float[] y = run(WeightOnlyKernels.create(q), x, m, n, 1);
            double signal = 0;
            double noise = 0;
            for (int i = 0; i < m; i++) {
                for (int c = 0; c < n; c++) {
                    double ref = 0;
                    for (int j = 0; j < k; j++) {
                        ref += (double) x[i * k + j] * w[c * k + j];
                    }
                    signal += ref * ref;
                    noise += (y[i * n + c] - ref) * (y[i * n + c] - ref);
                }
            }
            double db = 10 * Math.log10(signal / noise);
            Assertions.assertTrue(db >= 18.5, "4-bit g64 symmetric=" + symmetric + ": " + db + " dB");
        }
    }

    @Test
    void badShapesAreNamed() {
        IllegalArgumentException e =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                WeightOnlyWeights.quantize(
                                        WeightOnlyFormat.int4(64, true), new float[100], 1, 100, null));
        Assertions.assertTrue(e.getMessage().contains("multiple"), e.getMessage());
        e =
                Assertions.assertThrows(
                        IllegalArgumentException.class, () -> WeightOnlyFormat.int4(48, true));
        Assertions.assertTrue(e.getMessage().contains("48"), e.getMessage());
    }

    static float[] run(WeightOnlyKernel kernel, float[] x, int m, int n, int threads) {
        FloatBuffer in = FloatBuffer.wrap(x);
        FloatBuffer out = FloatBuffer.allocate(m * n);
        kernel.forward(in, m, out, threads);
        return out.array();
    }

    static float[] gaussian(Random r, int count, float sd) {
        float[] v = new float[count];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian() * sd;
        }
        return v;
    }
}

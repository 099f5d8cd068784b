package ai.djlquant.kernel;

import java.nio.FloatBuffer;

/**
 * The plain-Java weight-only kernel: where the JDK's vector API is not enabled ({@code
 * --add-modules jdk.incubator.vector}), and the same arithmetic as {@link WeightOnlyKernels}'
 * vector kernel in a fixed order.
 *
 * <p>Per row and output channel, per group {@code g} (the whole row for 8-bit): {@code dot_g =
 * sum_{k in g} x[k] * q[k]} in float32, then {@code y = sum_g d_g * dot_g + c_g * xsum_g + b},
 * where {@code xsum_g = sum_{k in g} x[k]}, and {@code c_g = -8 d_g} (symmetric 4-bit), {@code m_g}
 * (asymmetric 4-bit) or 0 (8-bit): the dequantization of {@link WeightOnlyFormat} with the scale
 * and offset taken out of the inner sum. Measured: 3-10x slower than DJL's fp32 Linear, so it
 * exists for portability, not speed; AUTO then keeps such layers fp32.
 */
final class ScalarWeightOnlyKernel implements WeightOnlyKernel {

    private final WeightOnlyWeights w;

    ScalarWeightOnlyKernel(WeightOnlyWeights w) {
        this.w = w;
    }

    /** {@inheritDoc} */
    @Override
    public void forward(FloatBuffer input, int rows, FloatBuffer output, int threads) {
        int k = w.inputs();
        int n = w.outputs();
        float[] x = new float[rows * k];
        input.duplicate().get(x);
        float[] y = new float[rows * n];
        WeightOnlyFormat f = w.format();
        int groups = f.groups(k);
        int len = f.bits() == 8 ? k : f.groupSize();
        float[] xs = new float[groups];
        byte[] v = w.values();
        float[] s = w.scales();
        float[] o = w.offsets();
        float[] b = w.bias();
        for (int m = 0; m < rows; m++) {
            int xo = m * k;
            for (int g = 0; g < groups; g++) {
                float t = 0f;
                for (int i = 0; i < len; i++) {
                    t += x[xo + g * len + i];
                }
                xs[g] = t;
            }
            for (int c = 0; c < n; c++) {
                float acc = 0f;
                for (int g = 0; g < groups; g++) {
                    float dot = 0f;
                    if (f.bits() == 8) {
                        int r = c * k;
                        for (int i = 0; i < k; i++) {
                            dot += x[xo + i] * v[r + i];
                        }
                        acc += s[c] * dot;
                    } else {
                        int half = len / 2;
                        int at = (c * k + g * len) / 2;
                        int xg = xo + g * len;
                        for (int j = 0; j < half; j++) {
                            int by = v[at + j] & 0xFF;
                            dot += x[xg + j] * (by & 15) + x[xg + half + j] * (by >>> 4);
                        }
                        int gi = c * groups + g;
                        float off = o == null ? -8f * s[gi] : o[gi];
                        acc += s[gi] * dot + off * xs[g];
                    }
                }
                y[m * n + c] = acc + (b == null ? 0f : b[c]);
            }
        }
        output.duplicate().put(y);
    }

    /** {@inheritDoc} */
    @Override
    public String implementation() {
        return "scalar";
    }
}

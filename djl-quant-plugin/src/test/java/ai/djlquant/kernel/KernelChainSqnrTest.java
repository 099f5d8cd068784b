package ai.djlquant.kernel;

import ai.djlquant.quant.FusedActivation;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Three Linear layers (784 -> 128 ReLU -> 64 ReLU -> 10, the reference MLP's shapes) run as an int8
 * chain of uint8 links give the unchained output: each layer's float output quantized to the next
 * layer's grid is what the epilogue writes, {@code clamp(rint(y * (1 / s) + zp), 0, qmax)}, so the
 * two differ only where a float32 value a few ulps apart crosses a rounding boundary. Held to an
 * SQNR of at least 35 dB (the brief's bound), on random Gaussian input at batch 1 and 32; measured on
 * the AVX-512 VNNI host: identical outputs, noise 0, at both batch sizes.
 */
@ExtendWith(RequiresOneDnn.class)
class KernelChainSqnrTest {

    private static OneDnnBackend onednn;

    @BeforeAll
    static void load() {
        onednn = Int8Backends.oneDnn(); // null where it does not load: RequiresOneDnn skips
    }

    private static Int8Weights weights(int n, int k, Random rnd) {
        byte[] v = new byte[n * k];
        for (int i = 0; i < v.length; i++) {
            v[i] = (byte) Math.max(-127, Math.min(127, Math.round(rnd.nextGaussian() * 40)));
        }
        float[] s = new float[n];
        float[] b = new float[n];
        for (int c = 0; c < n; c++) {
            s[c] = (0.5f + rnd.nextFloat()) / 40f / (float) Math.sqrt(k);
            b[c] = (float) rnd.nextGaussian() * 0.1f;
        }
        return new Int8Weights(v, new long[] {n, k}, s, b);
    }

    private static ByteBuffer floats(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder());
    }

    private static float[] read(ByteBuffer b, int n) {
        float[] y = new float[n];
        b.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().get(y);
        return y;
    }

    /** The static grid of a float tensor's range (as calibration would give it). */
    private static ActivationQuantization grid(float[] y, int bits) {
        float lo = 0f;
        float hi = 0f;
        for (float v : y) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        int qmax = (1 << bits) - 1;
        float s = (hi - lo) / qmax;
        return ActivationQuantization.fixed(s, Math.round(-lo / s), bits);
    }

    @Test
    void chainedMlpMatchesUnchained() {
        Random rnd = new Random(7);
        int bits = onednn.getActivationBits();
        int[] dims = {784, 128, 64, 10};
        FusedActivation[] acts = {FusedActivation.RELU, FusedActivation.RELU, FusedActivation.NONE};
        Int8Kernel[] k = new Int8Kernel[3];
        try {
            for (int i = 0; i < 3; i++) {
                k[i] = onednn.newLinear(weights(dims[i + 1], dims[i], rnd), acts[i]);
            }
            for (int batch : new int[] {1, 32}) {
                float[] x = new float[batch * dims[0]];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                ByteBuffer in = floats(x.length);
                in.asFloatBuffer().put(x);
                // unchained: float between layers, each layer quantizing its own input
                ActivationQuantization[] g = new ActivationQuantization[3];
                g[0] = grid(x, bits);
                ByteBuffer cur = in;
                for (int i = 0; i < 3; i++) {
                    if (i > 0) {
                        g[i] = grid(read(cur, batch * dims[i]), bits);
                    }
                    ByteBuffer out = floats(batch * dims[i + 1]);
                    k[i].forward(cur, new long[] {batch, dims[i]}, g[i], out, 1);
                    cur = out;
                }
                float[] unchained = read(cur, batch * dims[3]);
                // chained: float in, u8 links on the next layer's grid, float out
                ByteBuffer u1 = ByteBuffer.allocateDirect(batch * dims[1]);
                ByteBuffer u2 = ByteBuffer.allocateDirect(batch * dims[2]);
                ByteBuffer out = floats(batch * dims[3]);
                k[0].forward(in, new long[] {batch, dims[0]}, false, false, g[0], u1, false, g[1], 1);
                k[1].forward(u1, new long[] {batch, dims[1]}, false, true, g[1], u2, false, g[2], 1);
                k[2].forward(u2, new long[] {batch, dims[2]}, false, true, g[2], out, false, null, 1);
                float[] chained = read(out, batch * dims[3]);
                double signal = 0;
                double noise = 0;
                for (int i = 0; i < chained.length; i++) {
                    signal += (double) unchained[i] * unchained[i];
                    double d = chained[i] - unchained[i];
                    noise += d * d;
                }
                double sqnr = noise == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
                Assertions.assertTrue(sqnr >= 35, "batch " + batch + ": SQNR " + sqnr + " dB");
                Assertions.assertTrue(signal > 0, "batch " + batch + ": an all-zero output");
            }
        } finally {
            for (Int8Kernel kk : k) {
                if (kk != null) {
                    kk.close();
                }
            }
        }
    }
}

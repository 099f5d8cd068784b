package ai.djlquant.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole float path of the oneDNN kernels (native quantization, int8 primitive, scales, zero
 * point, bias, ReLU, layout changes) against the reference backend.
 *
 * <p>Bound: both backends quantize with the same formula, so the integers agree except where a
 * value sits within float rounding of a rounding tie; the float epilogues differ in operation
 * order only. Each output must be within {@code 1e-5 * (|s * ws * acc| + |s * ws * zp * sum(w)|
 * + |bias|)} plus one activation step times the channel's largest weight for the rare tie.
 */
class KernelFloatPathTest {

    private static OneDnnBackend onednn;
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    @BeforeAll
    static void load() {
        onednn = Int8Backends.oneDnn();
        Assumptions.assumeTrue(onednn != null, "oneDNN does not load on this machine");
    }

    static ByteBuffer floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(v);
        return b;
    }

    static float[] read(ByteBuffer b, int n) {
        float[] v = new float[n];
        b.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().get(v);
        return v;
    }

    static Int8Weights randomWeights(long[] shape, Random rnd) {
        int n = (int) KernelChecks.count(shape);
        byte[] w = new byte[n];
        for (int i = 0; i < n; i++) {
            w[i] = (byte) (rnd.nextInt(255) - 127);
        }
        int out = (int) shape[0];
        float[] s = new float[out];
        float[] b = new float[out];
        for (int c = 0; c < out; c++) {
            s[c] = (0.5f + rnd.nextFloat()) / 127f / (float) Math.sqrt(n / (double) out);
            b[c] = (float) rnd.nextGaussian() * 0.1f;
        }
        return new Int8Weights(w, shape, s, b);
    }

    private static void compare(Int8Kernel fast, Int8Kernel ref, long[] shape,
            ActivationQuantization act, Random rnd, String what) {
        int n = (int) KernelChecks.count(shape);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian() * 2f + 0.3f;
        }
        x[0] = 50f; // far above a static range: must saturate, not wrap
        int outN = (int) KernelChecks.count(fast.outputShape(shape));
        ByteBuffer a = ByteBuffer.allocateDirect(outN * 4).order(ByteOrder.nativeOrder());
        ByteBuffer b = ByteBuffer.allocateDirect(outN * 4).order(ByteOrder.nativeOrder());
        fast.forward(floats(x), shape, act, a, 0);
        ref.forward(floats(x), shape, act, b, 0);
        float[] got = read(a, outN);
        float[] want = read(b, outN);
        double maxAbs = 0;
        for (float v : want) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        int far = 0;
        for (int i = 0; i < outN; i++) {
            double err = Math.abs(got[i] - want[i]);
            if (err > 1e-4 * maxAbs + 1e-6) {
                far++;
            }
            Assertions.assertTrue(err <= 2e-2 * maxAbs + 1e-6,
                    what + ": output " + i + " is " + got[i] + ", reference " + want[i]);
        }
        // a tie in quantization may move one activation by one step; never many outputs
        Assertions.assertTrue(far <= Math.max(1, outN / 100), what + ": " + far + " outputs differ");
    }

    @Test
    void linearStaticDynamicAndRelu() {
        Random rnd = new Random(11);
        int bits = onednn.getActivationBits();
        for (int m : new int[] {1, 3, 8, 9, 64}) {
            for (int k : new int[] {17, 512}) {
                int n = 24;
                Int8Weights w = randomWeights(new long[] {n, k}, rnd);
                for (boolean relu : new boolean[] {false, true}) {
                    try (Int8Kernel fast = onednn.newLinear(w, relu);
                            Int8Kernel ref = REFERENCE.newLinear(w, relu)) {
                        long[] shape = {m, k};
                        compare(fast, ref, shape, ActivationQuantization.fixed(0.05f, 40, bits),
                                rnd, "static M=" + m + " K=" + k);
                        compare(fast, ref, shape, ActivationQuantization.dynamic(bits), rnd,
                                "dynamic M=" + m + " K=" + k);
                        // leading dims fold into M
                        compare(fast, ref, new long[] {2, m, k},
                                ActivationQuantization.dynamic(bits), rnd, "rank 3");
                    }
                }
            }
        }
    }

    @Test
    void convolutionsStaticAndDynamic() {
        Random rnd = new Random(12);
        int bits = onednn.getActivationBits();
        for (int[] c : KernelExactnessTest.CONVS) {
            ConvGeometry g = KernelExactnessTest.geometry(c);
            Int8Weights w = randomWeights(g.weightShape(), rnd);
            try (Int8Kernel fast = onednn.newConvolution(g, w, c[0] % 2 == 0);
                    Int8Kernel ref = REFERENCE.newConvolution(g, w, c[0] % 2 == 0)) {
                long[] shape = {2, c[0], c[8], c[9]};
                compare(fast, ref, shape, ActivationQuantization.fixed(0.04f, 60, bits), rnd,
                        "static " + g);
                compare(fast, ref, shape, ActivationQuantization.dynamic(bits), rnd,
                        "dynamic " + g);
            }
        }
    }

    @Test
    void eightBitParametersAreNarrowedWhereTheyWouldNotBeExact() {
        Assumptions.assumeTrue(onednn.getActivationBits() == 7, "this CPU has VNNI");
        Random rnd = new Random(13);
        Int8Weights w = randomWeights(new long[] {16, 64}, rnd);
        try (Int8Kernel fast = onednn.newLinear(w, false);
                Int8Kernel ref = REFERENCE.newLinear(w, false)) {
            ActivationQuantization eight = ActivationQuantization.fixed(0.02f, 128, 8);
            // the oneDNN kernel runs the 7-bit equivalent; the reference given the same is close
            compare(fast, ref, new long[] {4, 64}, eight.narrowTo(7), rnd, "narrowed");
            ActivationQuantization seven = eight.narrowTo(7);
            Assertions.assertEquals(127, seven.getQmax());
            Assertions.assertEquals(0.02f * 255 / 127, seven.getScale(), 1e-7f);
            Assertions.assertEquals(64, seven.getZeroPoint());
        }
    }

    @Test
    void fullRangeActivationsSaturateWithoutVnni() {
        // the evidence behind the 7-bit grid: u8 values up to 255 against large weights overflow
        // the 16-bit pair sums of AVX2 (vpmaddubsw), so the integers come out wrong
        Assumptions.assumeTrue(onednn.getActivationBits() == 7, "this CPU has VNNI");
        int k = 256;
        byte[] wv = new byte[4 * k];
        java.util.Arrays.fill(wv, (byte) 127);
        Int8Weights w = new Int8Weights(wv, new long[] {4, k}, new float[] {1, 1, 1, 1}, null);
        byte[] x = new byte[k];
        java.util.Arrays.fill(x, (byte) 255);
        try (Int8Kernel fast = onednn.newLinear(w, false);
                Int8Kernel ref = REFERENCE.newLinear(w, false)) {
            int want = ref.accumulate(x, new long[] {1, k}, 0)[0];
            int got = fast.accumulate(x, new long[] {1, k}, 0)[0];
            Assertions.assertEquals(255 * 127 * k, want);
            Assertions.assertNotEquals(want, got, "full-range u8 was exact: revisit the 7-bit grid");
        }
    }

    @Test
    void dynamicParametersKeepEveryValueOnTheGrid() {
        Random rnd = new Random(14);
        for (int i = 0; i < 20000; i++) {
            float lo = -rnd.nextFloat() * (float) Math.pow(10, rnd.nextInt(6) - 3);
            float hi = rnd.nextFloat() * (float) Math.pow(10, rnd.nextInt(6) - 3);
            if (i % 7 == 0) {
                lo = 0f;
            }
            for (int qmax : new int[] {127, 255}) {
                float s = ActivationQuantization.dynamicScale(lo, hi, qmax);
                int z = ActivationQuantization.dynamicZeroPoint(lo, s, qmax);
                Assertions.assertTrue(Math.rint(hi / s + z) <= qmax, lo + " " + hi);
                Assertions.assertTrue(Math.rint(lo / s + z) >= 0, lo + " " + hi);
                Assertions.assertEquals(0, ActivationQuantization.quantize(0f, s, z, qmax) - z);
            }
        }
        float s = ActivationQuantization.dynamicScale(0f, 0f, 127);
        Assertions.assertEquals(ActivationQuantization.MIN_SCALE, s);
    }
}

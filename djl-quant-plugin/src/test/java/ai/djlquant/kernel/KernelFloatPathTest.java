// Over 400 lines: every case of the oneDNN float path against the reference, on shared fixtures.
package ai.djlquant.kernel;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * The whole float path of the oneDNN kernels (native quantization, int8 primitive, scales, zero
 * point, bias, ReLU, layout changes) against the reference backend.
 *
 * <p>Bound: both backends quantize with the same formula bit for bit (tested against oneDNN's
 * reorder below) and accumulate the same integers, so the float outputs differ only by the order of
 * the float epilogue (oneDNN folds the zero point into the bias): every output within {@code 1e-4}
 * of the largest output magnitude.
 */
@ExtendWith(RequiresOneDnn.class)
class KernelFloatPathTest {

    private static OneDnnBackend onednn;
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    @BeforeAll
    static void load() {
        onednn = Int8Backends.oneDnn(); // null where it does not load: RequiresOneDnn skips
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

    private static void compare(
            Int8Kernel fast,
            Int8Kernel ref,
            long[] shape,
            ActivationQuantization act,
            Random rnd,
            String what) {
        compare(fast, ref, shape, false, false, act, rnd, what);
    }

    private static void compare(
            Int8Kernel fast,
            Int8Kernel ref,
            long[] shape,
            boolean inNhwc,
            boolean outNhwc,
            ActivationQuantization act,
            Random rnd,
            String what) {
        int n = (int) KernelChecks.count(shape);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian() * 2f + 0.3f;
        }
        x[0] = 50f; // far above a static range: must saturate, not wrap
        int outN = (int) KernelChecks.count(fast.outputShape(shape));
        ByteBuffer a = ByteBuffer.allocateDirect(outN * 4).order(ByteOrder.nativeOrder());
        ByteBuffer b = ByteBuffer.allocateDirect(outN * 4).order(ByteOrder.nativeOrder());
        fast.forward(floats(x), shape, inNhwc, act, a, outNhwc, 0);
        ref.forward(floats(x), shape, inNhwc, act, b, outNhwc, 0);
        float[] got = read(a, outN);
        float[] want = read(b, outN);
        double maxAbs = 0;
        for (float v : want) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        for (int i = 0; i < outN; i++) {
            double err = Math.abs(got[i] - want[i]);
            Assertions.assertTrue(
                    err <= 1e-4 * maxAbs + 1e-6,
                    what + ": output " + i + " is " + got[i] + ", reference " + want[i]);
        }
    }

    @Test
    void innerProductRowsMatchTheReference() {
        // the default runs every Linear as a 1x1 convolution; the inner product stays selectable
        String old = System.setProperty(OneDnnBackend.SMALL_M_PROPERTY, "8");
        OneDnnBackend ip;
        try {
            ip = new OneDnnBackend();
        } finally {
            if (old == null) {
                System.clearProperty(OneDnnBackend.SMALL_M_PROPERTY);
            } else {
                System.setProperty(OneDnnBackend.SMALL_M_PROPERTY, old);
            }
        }
        Random rnd = new Random(12);
        int bits = ip.getActivationBits();
        for (int k : new int[] {17, 512}) {
            Int8Weights w = randomWeights(new long[] {24, k}, rnd);
            try (Int8Kernel fast = ip.newLinear(w, true);
                    Int8Kernel ref = REFERENCE.newLinear(w, true)) {
                long[] shape = {64, k};
                Assertions.assertTrue(fast.describe(shape).startsWith("inner product"));
                compare(fast, ref, shape, ActivationQuantization.fixed(0.05f, 40, bits), rnd, "ip");
                compare(fast, ref, shape, ActivationQuantization.dynamic(bits), rnd, "ip dynamic");
                byte[] q = new byte[64 * k];
                for (int i = 0; i < q.length; i++) {
                    q[i] = (byte) rnd.nextInt(1 << bits);
                }
                // the integer core alone: the same weights with unit scales and no bias
                float[] one = new float[24];
                java.util.Arrays.fill(one, 1f);
                Int8Weights unit = new Int8Weights(w.getValues(), w.getShape(), one, null);
                try (Int8Kernel fastUnit = ip.newLinear(unit, false);
                        Int8Kernel refUnit = REFERENCE.newLinear(unit, false)) {
                    Assertions.assertTrue(fastUnit.describe(shape).startsWith("inner product"));
                    Assertions.assertArrayEquals(
                            Accumulations.of(refUnit, q, shape, bits),
                            Accumulations.of(fastUnit, q, shape, bits),
                            "ip integers");
                }
            }
        }
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
                        compare(
                                fast,
                                ref,
                                shape,
                                ActivationQuantization.fixed(0.05f, 40, bits),
                                rnd,
                                "static M=" + m + " K=" + k);
                        compare(
                                fast,
                                ref,
                                shape,
                                ActivationQuantization.dynamic(bits),
                                rnd,
                                "dynamic M=" + m + " K=" + k);
                        // leading dims fold into M
                        compare(
                                fast,
                                ref,
                                new long[] {2, m, k},
                                ActivationQuantization.dynamic(bits),
                                rnd,
                                "rank 3");
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
                compare(
                        fast,
                        ref,
                        shape,
                        ActivationQuantization.fixed(0.04f, 60, bits),
                        rnd,
                        "static " + g);
                compare(
                        fast,
                        ref,
                        shape,
                        ActivationQuantization.dynamic(bits),
                        rnd,
                        "dynamic " + g);
            }
        }
    }

    @Test
    void channelsLastInputAndOutput() {
        Random rnd = new Random(15);
        int bits = onednn.getActivationBits();
        for (int[] c :
                new int[][] {
                    KernelExactnessTest.CONVS[1],
                    KernelExactnessTest.CONVS[4],
                    KernelExactnessTest.CONVS[6]
                }) {
            ConvGeometry g = KernelExactnessTest.geometry(c);
            Int8Weights w = randomWeights(g.weightShape(), rnd);
            try (Int8Kernel fast = onednn.newConvolution(g, w, true);
                    Int8Kernel ref = REFERENCE.newConvolution(g, w, true)) {
                long[] shape = {3, c[0], c[8], c[9]};
                for (int layout = 1; layout < 4; layout++) {
                    compare(
                            fast,
                            ref,
                            shape,
                            (layout & 1) != 0,
                            (layout & 2) != 0,
                            layout == 2
                                    ? ActivationQuantization.dynamic(bits)
                                    : ActivationQuantization.fixed(0.05f, 30, bits),
                            rnd,
                            g + " layouts " + layout);
                }
            }
        }
        ConvGeometry g1 =
                new ConvGeometry(
                        8, 16, 1, new long[] {3}, new long[] {1}, new long[] {1}, new long[] {1});
        try (Int8Kernel fast =
                onednn.newConvolution(g1, randomWeights(g1.weightShape(), rnd), false)) {
            Assertions.assertThrows(
                    IllegalArgumentException.class,
                    () ->
                            onednn.newLinear(randomWeights(new long[] {4, 8}, rnd), false)
                                    .forward(
                                            floats(new float[8]),
                                            new long[] {1, 8},
                                            true,
                                            ActivationQuantization.dynamic(bits),
                                            ByteBuffer.allocateDirect(16),
                                            false,
                                            0));
            Assertions.assertEquals(3, fast.outputShape(new long[] {2, 8, 9}).length);
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

    /**
     * Our activation width keeps the int8 products exact on every host: without VNNI, AVX2 sums
     * pairs of u8 x s8 products in saturating 16 bits (vpmaddubsw), where 255 * 127 * 2 overflows
     * and 127 * 127 * 2 does not, so the backend chooses 7-bit activations there; with VNNI it
     * chooses 8 bits. The top of the chosen grid against the largest weights of both signs
     * accumulates exactly as the reference does.
     */
    @Test
    void chosenActivationWidthAvoidsSaturation() {
        int bits = onednn.getActivationBits();
        int qmax = ActivationQuantization.dynamic(bits).getQmax();
        Assertions.assertEquals((1 << bits) - 1, qmax);
        int k = 256;
        byte[] wv = new byte[4 * k];
        for (int i = 0; i < k; i++) {
            wv[i] = 127;
            wv[k + i] = -127;
            wv[2 * k + i] = (byte) ((i & 1) == 0 ? 127 : -127);
            wv[3 * k + i] = (byte) ((i & 2) == 0 ? 127 : -127);
        }
        Int8Weights w = new Int8Weights(wv, new long[] {4, k}, new float[] {1, 1, 1, 1}, null);
        byte[] x = new byte[k];
        java.util.Arrays.fill(x, (byte) qmax);
        try (Int8Kernel fast = onednn.newLinear(w, false);
                Int8Kernel ref = REFERENCE.newLinear(w, false)) {
            int[] want = Accumulations.of(ref, x, new long[] {1, k}, bits);
            Assertions.assertArrayEquals(new int[] {qmax * 127 * k, -qmax * 127 * k, 0, 0}, want);
            Assertions.assertArrayEquals(
                    want,
                    Accumulations.of(fast, x, new long[] {1, k}, bits),
                    bits + "-bit activations at the top of the grid saturated");
        }
    }

    @Test
    void threadCountsGiveIdenticalOutputs() {
        // plans are made per thread count (oneDNN fixes it at creation); integers are exact and
        // the epilogue is per element, so the outputs must not depend on it
        Random rnd = new Random(17);
        int bits = onednn.getActivationBits();
        int[] c = KernelExactnessTest.CONVS[0];
        ConvGeometry g = KernelExactnessTest.geometry(c);
        Int8Weights cw = randomWeights(g.weightShape(), rnd);
        Int8Weights lw = randomWeights(new long[] {64, 300}, rnd);
        try (Int8Kernel conv = onednn.newConvolution(g, cw, false);
                Int8Kernel linear = onednn.newLinear(lw, false)) {
            long[][] shapes = {{4, c[0], 17, 15}, {1, 300}, {100, 300}};
            Int8Kernel[] kernels = {conv, linear, linear};
            for (int i = 0; i < shapes.length; i++) {
                int n = (int) KernelChecks.count(shapes[i]);
                float[] x = new float[n];
                for (int j = 0; j < n; j++) {
                    x[j] = (float) rnd.nextGaussian();
                }
                int outN = (int) KernelChecks.count(kernels[i].outputShape(shapes[i]));
                float[][] outs = new float[3][];
                int[] threads = {1, 2, 0};
                for (int t = 0; t < threads.length; t++) {
                    ByteBuffer o =
                            ByteBuffer.allocateDirect(outN * 4).order(ByteOrder.nativeOrder());
                    kernels[i].forward(
                            floats(x),
                            shapes[i],
                            ActivationQuantization.dynamic(bits),
                            o,
                            threads[t]);
                    outs[t] = read(o, outN);
                }
                Assertions.assertArrayEquals(outs[0], outs[1], "1 vs 2 threads");
                Assertions.assertArrayEquals(outs[0], outs[2], "1 thread vs default");
            }
        }
    }

    @Test
    void quantizationMatchesOneDnnReorderBitForBit() {
        // the formula the reference backend (and the bias fold) assume is the one oneDNN runs
        Random rnd = new Random(16);
        int n = 1 << 16;
        org.bytedeco.dnnl.engine eng =
                new org.bytedeco.dnnl.engine(org.bytedeco.dnnl.engine.kind.cpu, 0);
        org.bytedeco.dnnl.memory.desc f =
                new org.bytedeco.dnnl.memory.desc(
                        new long[] {n},
                        org.bytedeco.dnnl.memory.data_type.f32,
                        org.bytedeco.dnnl.memory.format_tag.a);
        org.bytedeco.dnnl.memory.desc u =
                new org.bytedeco.dnnl.memory.desc(
                        new long[] {n},
                        org.bytedeco.dnnl.memory.data_type.u8,
                        org.bytedeco.dnnl.memory.format_tag.a);
        org.bytedeco.dnnl.memory.desc one =
                new org.bytedeco.dnnl.memory.desc(
                        new long[] {1},
                        org.bytedeco.dnnl.memory.data_type.f32,
                        org.bytedeco.dnnl.memory.format_tag.a);
        org.bytedeco.dnnl.memory.desc oneInt =
                new org.bytedeco.dnnl.memory.desc(
                        new long[] {1},
                        org.bytedeco.dnnl.memory.data_type.s32,
                        org.bytedeco.dnnl.memory.format_tag.a);
        org.bytedeco.dnnl.primitive_attr attr = new org.bytedeco.dnnl.primitive_attr();
        attr.set_scales_mask(org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST, 0);
        attr.set_zero_points_mask(org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST, 0);
        org.bytedeco.dnnl.reorder reorder =
                new org.bytedeco.dnnl.reorder(
                        new org.bytedeco.dnnl.reorder.primitive_desc(eng, f, eng, u, attr, false));
        org.bytedeco.dnnl.memory mf = new org.bytedeco.dnnl.memory(f, eng);
        org.bytedeco.dnnl.memory mu = new org.bytedeco.dnnl.memory(u, eng);
        org.bytedeco.dnnl.memory ms = new org.bytedeco.dnnl.memory(one, eng);
        org.bytedeco.dnnl.memory mz = new org.bytedeco.dnnl.memory(oneInt, eng);
        org.bytedeco.dnnl.IntMemoryMap args = new org.bytedeco.dnnl.IntMemoryMap();
        args.put(org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM, mf);
        args.put(org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO, mu);
        args.put(
                org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_SCALES
                        | org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST,
                ms);
        args.put(
                org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_ZERO_POINTS
                        | org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST,
                mz);
        try (org.bytedeco.dnnl.stream st = new org.bytedeco.dnnl.stream(eng)) {
            for (int trial = 0; trial < 8; trial++) {
                // power-of-two scales give exact ties; odd zero points tell the formulas apart
                float s = trial % 2 == 0 ? 0.0625f : (float) (0.001 + rnd.nextDouble() * 0.2);
                int zp = 1 + 2 * rnd.nextInt(63);
                float[] x = new float[n];
                for (int i = 0; i < n; i++) {
                    x[i] =
                            trial % 2 == 0
                                    ? (rnd.nextInt(400) - 200) / 2f * s
                                    : (float) rnd.nextGaussian() * 64 * s;
                }
                new org.bytedeco.javacpp.FloatPointer(mf.get_data_handle()).put(x);
                new org.bytedeco.javacpp.FloatPointer(ms.get_data_handle()).put(s);
                new org.bytedeco.javacpp.IntPointer(mz.get_data_handle()).put(zp);
                reorder.execute(st, args);
                st._wait();
                byte[] q = new byte[n];
                new org.bytedeco.javacpp.BytePointer(mu.get_data_handle()).get(q);
                for (int i = 0; i < n; i++) {
                    Assertions.assertEquals(
                            ActivationQuantization.quantize(x[i], s, zp, 255),
                            q[i] & 0xFF,
                            "x=" + x[i] + " scale=" + s + " zp=" + zp);
                }
            }
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
        Assertions.assertEquals(ai.djlquant.quant.AffineQuantizer.MIN_SCALE, s);
    }
}

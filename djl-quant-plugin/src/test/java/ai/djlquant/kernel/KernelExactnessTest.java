package ai.djlquant.kernel;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;
import java.util.Random;

/**
 * The oneDNN backend's int32 accumulations equal the reference backend's bit for bit, on random and
 * adversarial data, for every Linear regime and convolution variant the blocks use.
 */
@ExtendWith(RequiresOneDnn.class)
class KernelExactnessTest {

    private static OneDnnBackend onednn;
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    @BeforeAll
    static void load() {
        onednn = Int8Backends.oneDnn(); // null where it does not load: RequiresOneDnn skips
    }

    /** Activation patterns: random, all at the top of the grid, alternating extremes. */
    enum Pattern {
        RANDOM,
        MAX,
        ALTERNATING
    }

    static byte[] activations(int n, int qmax, Pattern p, Random rnd) {
        byte[] a = new byte[n];
        for (int i = 0; i < n; i++) {
            int v;
            switch (p) {
                case MAX:
                    v = qmax;
                    break;
                case ALTERNATING:
                    v = (i & 1) == 0 ? qmax : 0;
                    break;
                default:
                    v = rnd.nextInt(qmax + 1);
            }
            a[i] = (byte) v;
        }
        return a;
    }

    /** Weight patterns: random, all +127, all -127, sign following the activation pattern. */
    static byte[] weights(int n, Pattern p, int variant, Random rnd) {
        byte[] w = new byte[n];
        for (int i = 0; i < n; i++) {
            int v;
            if (p == Pattern.RANDOM) {
                v = rnd.nextInt(255) - 127;
            } else if (variant == 0) {
                v = 127;
            } else if (variant == 1) {
                v = -127;
            } else {
                v = (i & 1) == 0 ? 127 : -127;
            }
            w[i] = (byte) v;
        }
        return w;
    }

    static float[] ones(int n) {
        float[] s = new float[n];
        Arrays.fill(s, 1f); // unit scales: the float output is the accumulation (Accumulations)
        return s;
    }

    /**
     * Equal bit for bit; above 2^24 in magnitude oneDNN's int8 epilogue passes the int32 through
     * float32 even for an s32 output (as the float output path does anyway), so there the int32
     * must equal the reference rounded to float32, ties to even. A saturated 16-bit lane would be
     * off by thousands, not by float rounding.
     */
    static boolean sameAccumulation(int actual, int expected) {
        return actual == expected
                || (Math.abs(expected) > (1 << 24) && actual == (int) (float) expected);
    }

    private static void assertSame(
            Int8Kernel a, Int8Kernel b, byte[] x, long[] shape, String what) {
        int bits = onednn.getActivationBits();
        int[] expected = Accumulations.of(b, x, shape, bits);
        int[] actual = Accumulations.of(a, x, shape, bits);
        Assertions.assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (!sameAccumulation(actual[i], expected[i])) {
                Assertions.fail(
                        what
                                + ": element "
                                + i
                                + " is "
                                + actual[i]
                                + ", reference "
                                + expected[i]
                                + " ("
                                + a.describe(shape)
                                + ")");
            }
        }
    }

    @Test
    void linearIsExactInBothRegimes() {
        Random rnd = new Random(42);
        int qmax = (1 << onednn.getActivationBits()) - 1;
        int[] ks = {1, 3, 4, 7, 8, 15, 16, 17, 31, 63, 100, 255, 513, 1000, 4096};
        int[] ms = {1, 2, 5, 8, 9, 33, 64};
        int[] ns = {1, 5, 16, 33};
        int cases = 0;
        for (int k : ks) {
            for (int m : ms) {
                int n = ns[cases % ns.length];
                if ((long) m * k * n > 4_000_000L) {
                    continue;
                }
                for (Pattern p : Pattern.values()) {
                    for (int variant = 0; variant < (p == Pattern.RANDOM ? 1 : 3); variant++) {
                        Int8Weights w =
                                new Int8Weights(
                                        weights(n * k, p, variant, rnd),
                                        new long[] {n, k},
                                        ones(n),
                                        null);
                        try (Int8Kernel fast = onednn.newLinear(w, false);
                                Int8Kernel ref = REFERENCE.newLinear(w, false)) {
                            long[] shape = {m, k};
                            String impl = fast.describe(shape);
                            Assertions.assertFalse(impl.contains("ref:"), impl);
                            assertSame(
                                    fast,
                                    ref,
                                    activations(m * k, qmax, p, rnd),
                                    shape,
                                    "linear M=" + m + " K=" + k + " N=" + n + " " + p + variant);
                        }
                        cases++;
                    }
                }
            }
        }
        Assertions.assertTrue(cases > 100, "ran " + cases + " cases");
    }

    @Test
    void linearAtTheLargestShapesIsExact() {
        Random rnd = new Random(7);
        int qmax = (1 << onednn.getActivationBits()) - 1;
        for (int m : new int[] {1, 16}) {
            int k = 4096;
            int n = 64;
            Int8Weights w =
                    new Int8Weights(
                            weights(n * k, Pattern.MAX, 2, rnd), new long[] {n, k}, ones(n), null);
            try (Int8Kernel fast = onednn.newLinear(w, false);
                    Int8Kernel ref = REFERENCE.newLinear(w, false)) {
                // alternating +127/-127 weights against all-qmax input: every pair sums to 0,
                // while the first pair of each 4-group alone would saturate 16-bit lanes at 8 bits
                assertSame(
                        fast,
                        ref,
                        activations(m * k, qmax, Pattern.MAX, rnd),
                        new long[] {m, k},
                        "linear 4096 alternating weights");
                Int8Weights same =
                        new Int8Weights(
                                weights(n * k, Pattern.MAX, 0, rnd),
                                new long[] {n, k},
                                ones(n),
                                null);
                try (Int8Kernel fast2 = onednn.newLinear(same, false);
                        Int8Kernel ref2 = REFERENCE.newLinear(same, false)) {
                    int[] acc =
                            Accumulations.of(
                                    fast2,
                                    activations(m * k, qmax, Pattern.MAX, rnd),
                                    new long[] {m, k},
                                    onednn.getActivationBits());
                    Assertions.assertTrue(
                            sameAccumulation(acc[0], 4096 * qmax * 127),
                            "largest accumulation " + acc[0]);
                    assertSame(
                            fast2,
                            ref2,
                            activations(m * k, qmax, Pattern.RANDOM, rnd),
                            new long[] {m, k},
                            "linear 4096 random");
                }
            }
        }
    }

    /** Convolution variants: {in, out, groups, kh, kw, stride, pad, dilation, h, w}. */
    static final int[][] CONVS = {
        {8, 16, 1, 3, 3, 1, 1, 1, 9, 9}, // 3x3 same
        {8, 16, 1, 3, 3, 2, 1, 1, 11, 7}, // stride 2, odd sizes
        {6, 10, 1, 3, 3, 1, 2, 2, 9, 10}, // dilation 2
        {32, 48, 4, 3, 3, 1, 1, 1, 7, 7}, // groups
        {16, 24, 4, 3, 3, 1, 1, 1, 7, 7}, // groups of 4 in / 6 out channels: oneDNN's ref impl
        {32, 32, 32, 3, 3, 1, 1, 1, 8, 9}, // depthwise
        {32, 32, 32, 3, 3, 2, 1, 1, 9, 9}, // depthwise stride 2
        {64, 32, 1, 1, 1, 1, 0, 1, 7, 5}, // 1x1
        {24, 48, 1, 1, 1, 2, 0, 1, 9, 9}, // 1x1 stride 2
        {3, 8, 1, 5, 5, 1, 2, 1, 13, 11}, // 3 channels, 5x5
        {13, 7, 1, 3, 1, 1, 0, 1, 9, 6}, // odd channels, non-square kernel
        {40, 40, 1, 3, 3, 1, 1, 1, 3, 3}, // K = 360, small spatial
    };

    static ConvGeometry geometry(int[] c) {
        return new ConvGeometry(
                c[0],
                c[1],
                c[2],
                new long[] {c[3], c[4]},
                new long[] {c[5], c[5]},
                new long[] {c[6], c[6]},
                new long[] {c[7], c[7]});
    }

    @Test
    void conv2dVariantsAreExact() {
        Random rnd = new Random(3);
        int qmax = (1 << onednn.getActivationBits()) - 1;
        for (int[] c : CONVS) {
            ConvGeometry g = geometry(c);
            long[] ws = g.weightShape();
            int wn = (int) KernelChecks.count(ws);
            for (int batch : new int[] {1, 3}) {
                long[] shape = {batch, c[0], c[8], c[9]};
                int xn = (int) KernelChecks.count(shape);
                for (Pattern p : Pattern.values()) {
                    Int8Weights w =
                            new Int8Weights(weights(wn, p, batch % 3, rnd), ws, ones(c[1]), null);
                    try (Int8Kernel fast = onednn.newConvolution(g, w, false);
                            Int8Kernel ref = REFERENCE.newConvolution(g, w, false)) {
                        String impl = fast.describe(shape);
                        // AVX2 int8 kernels need >= 8 channels per group (or depthwise); the
                        // AVX-512 VNNI ones (8-bit activations) take narrow groups too
                        boolean narrowGroups = c[2] > 1 && c[2] < c[0] && c[0] / c[2] < 8;
                        if (onednn.getActivationBits() == 7) {
                            Assertions.assertEquals(
                                    narrowGroups, impl.contains("ref:"), g + " ran " + impl);
                        } else if (!narrowGroups) {
                            Assertions.assertFalse(impl.contains("ref:"), g + " ran " + impl);
                        }
                        assertSame(fast, ref, activations(xn, qmax, p, rnd), shape, g + " " + p);
                    }
                }
            }
        }
    }

    @Test
    void conv1dIsExact() {
        Random rnd = new Random(5);
        int qmax = (1 << onednn.getActivationBits()) - 1;
        ConvGeometry g =
                new ConvGeometry(
                        12, 20, 1, new long[] {5}, new long[] {2}, new long[] {2}, new long[] {1});
        ConvGeometry dw =
                new ConvGeometry(
                        16, 16, 16, new long[] {3}, new long[] {1}, new long[] {2}, new long[] {2});
        for (ConvGeometry geo : new ConvGeometry[] {g, dw}) {
            long[] ws = geo.weightShape();
            Int8Weights w =
                    new Int8Weights(
                            weights((int) KernelChecks.count(ws), Pattern.RANDOM, 0, rnd),
                            ws,
                            ones((int) ws[0]),
                            null);
            long[] shape = {4, geo.getInChannels(), 31};
            try (Int8Kernel fast = onednn.newConvolution(geo, w, false);
                    Int8Kernel ref = REFERENCE.newConvolution(geo, w, false)) {
                Assertions.assertArrayEquals(
                        new long[] {4, geo.getOutChannels(), geo.outputShape(shape)[2]},
                        fast.outputShape(shape));
                assertSame(
                        fast,
                        ref,
                        activations((int) KernelChecks.count(shape), qmax, Pattern.RANDOM, rnd),
                        shape,
                        geo.toString());
            }
        }
    }
}

package ai.djlquant.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

class AffineQuantizerTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    /** The classic worked example: asymmetric int8 over the values' own [min, max] and back. */
    @Test
    void classicWorkedExample() {
        float[] x = {0.0f, 10.5f, -11.0f, 12.0f, 7.0f, -12.0f};
        QuantScheme int8 = QuantScheme.builder().build();
        QuantParams p = AffineQuantizer.fromRange(int8, -12f, 12f);
        assertEquals(24f / 255f, p.scale());
        // -12 / scale = -127.5 rounds (half to even) to -128, so zeroPoint = -128 - (-128) = 0
        assertEquals(0, p.zeroPoint());
        byte[] expected = {0, 112, -117, 127, 74, -128};
        long[] shape = {6};
        assertArrayEquals(expected, AffineQuantizer.quantize(x, shape, p));
        try (NDArray nd = manager.create(x)) {
            NDArray q = AffineQuantizer.quantize(nd, p);
            assertEquals(DataType.INT8, q.getDataType());
            assertArrayEquals(expected, q.toByteArray());
            float[] back = AffineQuantizer.dequantize(q, p).toFloatArray();
            assertArrayEquals(AffineQuantizer.dequantize(expected, shape, p), back);
            for (int i = 0; i < x.length; i++) {
                // 12 and -12 sit exactly half a step outside the grid: the bound is tight there
                assertTrue(Math.abs(back[i] - x[i]) <= p.scale() / 2 + 1e-6f, "element " + i);
            }
            assertEquals(p.scale() / 2, Math.abs(back[3] - x[3]), 1e-6f);
        }
    }

    @Test
    void roundsHalfToEven() {
        QuantParams p = QuantParams.perTensor(QuantScheme.builder().build(), 1f, 0);
        float[] x = {0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f, 126.5f, -127.5f};
        byte[] expected = {0, 2, 2, 4, 0, -2, -2, 126, -128};
        long[] shape = {x.length};
        assertArrayEquals(expected, AffineQuantizer.quantize(x, shape, p));
        try (NDArray nd = manager.create(x)) {
            assertArrayEquals(expected, AffineQuantizer.quantize(nd, p).toByteArray());
        }
    }

    /** DJL's own float to int8 cast wraps (300.7 becomes 44); quantize must clamp. */
    @Test
    void clampsNeverWraps() {
        float[] x = {
            300.7f,
            -300.7f,
            1e30f,
            -1e30f,
            Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY,
            Float.NaN,
            0f
        };
        long[] shape = {x.length};
        QuantScheme full = QuantScheme.builder().build();
        QuantScheme restricted =
                full.toBuilder().optSymmetric(true).optRestrictedRange(true).build();
        QuantScheme u8 = QuantScheme.uint8Activation(8);
        QuantScheme u7 = QuantScheme.uint8Activation(7);
        QuantScheme s4 = full.toBuilder().optBits(4).build();
        Object[][] cases = {
            {QuantParams.perTensor(full, 1f, 3), new int[] {127, -128, 127, -128, 127, -128, 3, 3}},
            {
                QuantParams.perTensor(restricted, 1f, 0),
                new int[] {127, -127, 127, -127, 127, -127, 0, 0}
            },
            {QuantParams.perTensor(u8, 1f, 128), new int[] {255, 0, 255, 0, 255, 0, 128, 128}},
            {QuantParams.perTensor(u7, 0.5f, 60), new int[] {127, 0, 127, 0, 127, 0, 60, 60}},
            {QuantParams.perTensor(s4, 0.5f, -1), new int[] {7, -8, 7, -8, 7, -8, -1, -1}},
        };
        for (Object[] c : cases) {
            QuantParams p = (QuantParams) c[0];
            int[] expected = (int[]) c[1];
            int[] fromArray = toInts(AffineQuantizer.quantize(x, shape, p), p.getScheme());
            assertArrayEquals(expected, fromArray, p.toString());
            try (NDArray nd = manager.create(x)) {
                NDArray q = AffineQuantizer.quantize(nd, p);
                assertEquals(
                        p.getScheme().isSigned() ? DataType.INT8 : DataType.UINT8, q.getDataType());
                assertArrayEquals(expected, toInts(q.toByteArray(), p.getScheme()), p.toString());
            }
        }
    }

    @Test
    void rangeIsWidenedToIncludeZero() {
        QuantScheme u8 = QuantScheme.uint8Activation(8);
        QuantParams p = AffineQuantizer.fromRange(u8, 2f, 10f);
        assertEquals(10f / 255f, p.scale());
        assertEquals(0, p.zeroPoint());
        QuantParams n = AffineQuantizer.fromRange(u8, -10f, -2f);
        assertEquals(255, n.zeroPoint());
        QuantScheme sym = QuantScheme.builder().optSymmetric(true).optRestrictedRange(true).build();
        assertEquals(3f / 127f, AffineQuantizer.fromRange(sym, 0.5f, 3f).scale());
        assertEquals(3f / 127f, AffineQuantizer.fromRange(sym, -3f, 1f).scale());
        // full-range symmetric: (qmax - qmin) / 2 = 127.5, as PyTorch
        QuantScheme symFull = QuantScheme.builder().optSymmetric(true).build();
        assertEquals(3f / 127.5f, AffineQuantizer.fromRange(symFull, -3f, 1f).scale());
    }

    @Test
    void zeroRangeYieldsValidScale() {
        for (QuantScheme s : schemes(QuantScheme.builder())) {
            QuantParams p = AffineQuantizer.fromRange(s, 0f, 0f);
            assertEquals(AffineQuantizer.MIN_SCALE, p.scale(), s.toString());
            float[] zeros = new float[5];
            byte[] q = AffineQuantizer.quantize(zeros, new long[] {5}, p);
            assertArrayEquals(zeros, AffineQuantizer.dequantize(q, new long[] {5}, p));
        }
        try (NDArray constant = manager.full(new Shape(4, 3), 0.25f)) {
            QuantScheme w = QuantScheme.int8WeightPerChannel(0);
            QuantParams p = AffineQuantizer.forWeight(w, constant);
            for (float s : p.getScales()) {
                assertTrue(Float.isFinite(s) && s > 0);
            }
            NDArray back = AffineQuantizer.dequantize(AffineQuantizer.quantize(constant, p), p);
            assertEquals(0f, back.sub(constant).abs().max().getFloat(), p.getScales()[0] / 2);
        }
    }

    /** Every scheme: the NDArray path and the plain-array path give the same bits. */
    @Test
    void ndArrayPathMatchesArrayPathBitForBit() {
        Random r = new Random(42);
        long[] shape = {6, 8, 4};
        int n = 6 * 8 * 4;
        List<QuantScheme> all = new ArrayList<>();
        for (QuantScheme.Builder b : granularities()) {
            all.addAll(schemes(b));
        }
        for (QuantScheme s : all) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (r.nextGaussian() * (1 + (i % 8)));
            }
            QuantParams exact = AffineQuantizer.forWeight(s, x, shape);
            // force exact ties: some values land on k + 0.5 steps of their own scale
            float[] scales = exact.getScales();
            ParamLayout layout = ParamLayout.of(s, shape);
            for (int i = 0; i < n; i += 7) {
                x[i] = (i % 14 - 7 + 0.5f) * scales[layout.paramIndex(i)];
            }
            try (NDArray nd = manager.create(x, new Shape(shape))) {
                assertEquals(
                        AffineQuantizer.forWeight(s, x, shape),
                        AffineQuantizer.forWeight(s, nd),
                        s.toString());
                byte[] viaArray = AffineQuantizer.quantize(x, shape, exact);
                NDArray q = AffineQuantizer.quantize(nd, exact);
                assertArrayEquals(viaArray, q.toByteArray(), s.toString());
                float[] back = AffineQuantizer.dequantize(viaArray, shape, exact);
                assertArrayEquals(
                        back, AffineQuantizer.dequantize(q, exact).toFloatArray(), s.toString());
                int[] ints = toInts(viaArray, s);
                for (int v : ints) {
                    assertTrue(v >= s.qmin() && v <= s.qmax(), s + ": " + v);
                }
            }
        }
    }

    /** Values inside the range come back within half a step, for every scheme. */
    @Test
    void reconstructionErrorIsAtMostHalfAStep() {
        Random r = new Random(7);
        long[] shape = {8, 16};
        for (QuantScheme.Builder b : granularities()) {
            for (QuantScheme s : schemes(b)) {
                if (s.getAxis() > 1) {
                    continue;
                }
                float[] x = new float[128];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (r.nextDouble() * 6 - 2);
                }
                QuantParams p = AffineQuantizer.forWeight(s, x, shape);
                float[] back =
                        AffineQuantizer.dequantize(AffineQuantizer.quantize(x, shape, p), shape, p);
                ParamLayout layout = ParamLayout.of(s, shape);
                float[] scales = p.getScales();
                for (int i = 0; i < x.length; i++) {
                    float step = scales[layout.paramIndex(i)];
                    // the symmetric grid clips nothing; the asymmetric one can sit half a step off
                    assertTrue(
                            Math.abs(back[i] - x[i]) <= step / 2 * (1 + 1e-4f),
                            s + " element " + i + ": " + x[i] + " -> " + back[i]);
                }
            }
        }
    }

    @Test
    void perChannelHotChannelKeepsOthersFine() {
        float[] w = new float[4 * 10];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 10 - 4.5f) * 0.01f;
        }
        for (int i = 20; i < 30; i++) {
            w[i] *= 1000f; // channel 2 is hot
        }
        try (NDArray nd = manager.create(w, new Shape(4, 10))) {
            QuantParams p = AffineQuantizer.forWeight(QuantScheme.int8WeightPerChannel(0), nd);
            float[] s = p.getScales();
            assertEquals(0.045f / 127f, s[0], 1e-9f);
            assertEquals(45f / 127f, s[2], 1e-6f);
            assertEquals(s[0], s[1]);
            assertEquals(s[0], s[3]);
            // per channel on axis 1: each column's own range
            QuantParams cols = AffineQuantizer.forWeight(QuantScheme.int8WeightPerChannel(1), nd);
            assertArrayEquals(new long[] {10}, cols.getShape());
            assertEquals(45f / 127f, cols.getScales()[0], 1e-6f);
        }
    }

    @Test
    void badInputIsRejectedWithTheFieldNamed() {
        assertMessage("bits", () -> QuantScheme.builder().optBits(1).build());
        assertMessage("bits", () -> QuantScheme.builder().optBits(9).build());
        assertMessage(
                "symmetric",
                () -> QuantScheme.builder().optBits(2).optSigned(false).optSymmetric(true).build());
        assertMessage("axis", () -> QuantScheme.builder().optPerChannel(-1).build());
        try (NDArray w = manager.ones(new Shape(4, 100))) {
            assertMessage(
                    "axis 2",
                    () -> AffineQuantizer.forWeight(QuantScheme.int8WeightPerChannel(2), w));
            QuantParams other = AffineQuantizer.forWeight(QuantScheme.int8WeightPerChannel(1), w);
            try (NDArray narrow = manager.ones(new Shape(4, 50))) {
                assertMessage("do not fit", () -> AffineQuantizer.quantize(narrow, other));
            }
            try (NDArray ints = manager.ones(new Shape(4, 100), DataType.INT32)) {
                assertMessage(
                        "x must hold floating-point", () -> AffineQuantizer.quantize(ints, other));
            }
            assertMessage("q must hold integers", () -> AffineQuantizer.dequantize(w, other));
            w.set(new ai.djl.ndarray.index.NDIndex(3, 7), Float.NaN);
            assertMessage(
                    "weight of shape (4, 100) holds NaN or infinite values in channel 3",
                    () -> AffineQuantizer.forWeight(QuantScheme.int8WeightPerChannel(0), w));
        }
        QuantScheme t = QuantScheme.builder().build();
        assertMessage("min greater than max", () -> AffineQuantizer.fromRange(t, 1f, -1f));
        assertMessage("finite", () -> AffineQuantizer.fromRange(t, Float.NaN, 1f));
        assertMessage("finite", () -> AffineQuantizer.fromRange(t, 0f, Float.POSITIVE_INFINITY));
        assertMessage(
                "fromRange needs a PER_TENSOR",
                () -> AffineQuantizer.fromRange(QuantScheme.int8WeightPerChannel(0), 0f, 1f));
        assertMessage(
                "range[1]",
                () ->
                        AffineQuantizer.fromChannelRanges(
                                QuantScheme.int8WeightPerChannel(0),
                                new float[] {0, 2},
                                new float[] {1, 1}));
        assertMessage(
                "needs 6",
                () ->
                        AffineQuantizer.quantize(
                                new float[5], new long[] {2, 3}, QuantParams.perTensor(t, 1f, 0)));
    }

    @Test
    void gridsOfEveryBitWidth() {
        for (int bits = 2; bits <= 8; bits++) {
            QuantScheme s = QuantScheme.builder().optBits(bits).build();
            assertEquals(-(1 << (bits - 1)), s.qmin());
            assertEquals((1 << (bits - 1)) - 1, s.qmax());
            QuantScheme r = s.toBuilder().optRestrictedRange(true).build();
            assertEquals(-s.qmax(), r.qmin());
            QuantScheme u = s.toBuilder().optSigned(false).build();
            assertEquals(0, u.qmin());
            assertEquals((1 << bits) - 1, u.qmax());
            // an asymmetric range maps its ends onto the grid's ends
            QuantParams p = AffineQuantizer.fromRange(u, -1f, 3f);
            float[] back =
                    AffineQuantizer.dequantize(
                            AffineQuantizer.quantize(new float[] {-1f, 3f}, new long[] {2}, p),
                            new long[] {2},
                            p);
            assertEquals(-1f, back[0], p.scale() / 2);
            assertEquals(3f, back[1], p.scale() / 2);
        }
    }

    @Test
    void largeTensorStaysOnTheEngine() {
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.randomNormal(new Shape(32, 64, 56, 56));
            QuantParams p = AffineQuantizer.fromRange(QuantScheme.uint8Activation(8), -4f, 4f);
            NDArray q = AffineQuantizer.quantize(x, p);
            assertEquals(DataType.UINT8, q.getDataType());
            assertEquals(x.getShape(), q.getShape());
            float err =
                    AffineQuantizer.dequantize(q, p).sub(x.clip(-4f, 4f)).abs().max().getFloat();
            assertTrue(err <= p.scale() / 2 * (1 + 1e-4f), "max error " + err);
        }
    }

    static List<QuantScheme.Builder> granularities() {
        return Arrays.asList(
                QuantScheme.builder().optPerTensor(),
                QuantScheme.builder().optPerChannel(0),
                QuantScheme.builder().optPerChannel(1),
                QuantScheme.builder().optPerChannel(2));
    }

    /** Every valid grid of bit widths 2..8 at the builder's granularity. */
    static List<QuantScheme> schemes(QuantScheme.Builder granularity) {
        List<QuantScheme> list = new ArrayList<>();
        for (int bits = 2; bits <= 8; bits++) {
            QuantScheme.Builder b = granularity.optBits(bits);
            list.add(b.optSigned(true).optSymmetric(false).optRestrictedRange(false).build());
            list.add(b.optSigned(true).optSymmetric(false).optRestrictedRange(true).build());
            list.add(b.optSigned(true).optSymmetric(true).optRestrictedRange(false).build());
            list.add(b.optSigned(true).optSymmetric(true).optRestrictedRange(true).build());
            list.add(b.optSigned(false).optSymmetric(false).optRestrictedRange(false).build());
        }
        return list;
    }

    static int[] toInts(byte[] q, QuantScheme s) {
        int[] v = new int[q.length];
        for (int i = 0; i < q.length; i++) {
            v[i] = s.isSigned() ? q[i] : q[i] & 0xFF;
        }
        return v;
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(expected), "message was: " + ex.getMessage());
    }
}

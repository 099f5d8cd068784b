package ai.djlquant.kernel;

import ai.djlquant.quant.FusedActivation;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The links of an int8 chain on oneDNN equal the reference kernel bit for bit: uint8 output
 * requantized in the primitive's epilogue (float input or uint8 input), and uint8 input read
 * without a quantize step (float output), on random Linear and Conv2d layers with per-channel
 * weight scales, every fused activation, output grids of 7 and 8 bits and input grids of the
 * host's bits and fewer.
 */
@ExtendWith(RequiresOneDnn.class)
class KernelChainExactnessTest {

    /** The float32 output's bound, relative to the largest output magnitude. */
    private static final float FLOAT_BOUND = 1e-5f;

    private static OneDnnBackend onednn;
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    @BeforeAll
    static void load() {
        onednn = Int8Backends.oneDnn(); // null where it does not load: RequiresOneDnn skips
    }

    /** A layer under test: a Linear (geometry null) or a convolution, and an input shape. */
    private record Layer(String name, long[] weightShape, ConvGeometry geometry, long[] input) {

        Int8Kernel build(Int8Backend backend, Int8Weights w, FusedActivation a) {
            return geometry == null
                    ? backend.newLinear(w, a)
                    : backend.newConvolution(geometry, w, a);
        }
    }

    private static List<Layer> layers() {
        List<Layer> out = new ArrayList<>();
        out.add(new Layer("linear 1x64->32", new long[] {32, 64}, null, new long[] {1, 64}));
        out.add(new Layer("linear 5x100->17", new long[] {17, 100}, null, new long[] {5, 100}));
        out.add(new Layer("linear 32x784->128", new long[] {128, 784}, null, new long[] {32, 784}));
        out.add(new Layer("linear 80x128->10", new long[] {10, 128}, null, new long[] {80, 128}));
        long[] one = {1, 1};
        ConvGeometry c3 = new ConvGeometry(8, 16, 1, new long[] {3, 3}, one, one, one);
        ConvGeometry c1 = new ConvGeometry(16, 24, 1, one, one, new long[] {0, 0}, one);
        ConvGeometry s2 =
                new ConvGeometry(3, 8, 1, new long[] {5, 5}, new long[] {2, 2}, new long[] {2, 2}, one);
        ConvGeometry dw = new ConvGeometry(16, 16, 16, new long[] {3, 3}, one, one, one);
        out.add(new Layer("conv 3x3", c3.weightShape(), c3, new long[] {2, 8, 9, 9}));
        out.add(new Layer("conv 1x1", c1.weightShape(), c1, new long[] {1, 16, 7, 6}));
        out.add(new Layer("conv 5x5 stride 2", s2.weightShape(), s2, new long[] {2, 3, 14, 14}));
        out.add(new Layer("depthwise 3x3", dw.weightShape(), dw, new long[] {1, 16, 8, 8}));
        return out;
    }

    private static Int8Weights weights(long[] shape, Random rnd) {
        int n = (int) KernelChecks.count(shape);
        int oc = (int) shape[0];
        byte[] v = new byte[n];
        for (int i = 0; i < n; i++) {
            v[i] = (byte) (rnd.nextInt(255) - 127);
        }
        float[] scales = new float[oc];
        float[] bias = new float[oc];
        for (int c = 0; c < oc; c++) {
            scales[c] = (0.2f + rnd.nextFloat()) / 127f / (float) Math.sqrt(n / (double) oc);
            bias[c] = (rnd.nextFloat() - 0.5f) * 0.5f;
        }
        return new Int8Weights(v, shape, scales, bias);
    }

    private static ByteBuffer floats(float[] x) {
        ByteBuffer b = ByteBuffer.allocateDirect(x.length * Float.BYTES).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(x);
        return b;
    }

    private static float[] readFloats(ByteBuffer b, int n) {
        float[] y = new float[n];
        b.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().get(y);
        return y;
    }

    private static int[] readBytes(ByteBuffer b, int n) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = Byte.toUnsignedInt(b.get(i));
        }
        return y;
    }

    /** A grid covering about the float output's range (a little saturating at the top). */
    private static ActivationQuantization gridFor(float[] y, int bits, Random rnd) {
        float lo = 0f;
        float hi = 0f;
        for (float v : y) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        int qmax = (1 << bits) - 1;
        float s = Math.max((hi - lo) * (0.85f + 0.1f * rnd.nextFloat()) / qmax, 1e-6f);
        int zp = Math.min(qmax, Math.round(-lo / s));
        return ActivationQuantization.fixed(s, zp, bits);
    }

    private static void run(
            Int8Kernel k,
            ByteBuffer in,
            long[] shape,
            boolean nhwc,
            boolean inU8,
            ActivationQuantization act,
            ByteBuffer out,
            ActivationQuantization grid) {
        k.forward(in, shape, nhwc, inU8, act, out, nhwc, grid, 1);
    }

    @Test
    void uint8LinksEqualTheReferenceBitForBit() {
        Random rnd = new Random(1313);
        int hostBits = onednn.getActivationBits();
        int cases = 0;
        for (Layer l : layers()) {
            for (FusedActivation a : FusedActivation.values()) {
                for (int inBits = hostBits - 1; inBits <= hostBits; inBits++) {
                    for (int outBits = 7; outBits <= 8; outBits++) {
                        for (boolean nhwc : l.geometry() == null ? new boolean[] {false} : new boolean[] {false, true}) {
                            check(l, a, inBits, outBits, nhwc, rnd);
                            cases++;
                        }
                    }
                }
            }
        }
        Assertions.assertTrue(cases >= 100, "cases run: " + cases);
    }

    private void check(Layer l, FusedActivation a, int inBits, int outBits, boolean nhwc, Random rnd) {
        Int8Weights w = weights(l.weightShape(), rnd);
        String what =
                l.name() + " " + a + " in " + inBits + "-bit out " + outBits + "-bit"
                        + (nhwc ? " nhwc" : "");
        try (Int8Kernel one = l.build(onednn, w, a);
                Int8Kernel ref = l.build(REFERENCE, w, a)) {
            int n = (int) KernelChecks.count(l.input());
            long[] outShape = ref.outputShape(l.input());
            int m = (int) KernelChecks.count(outShape);
            int qin = (1 << inBits) - 1;
            ActivationQuantization act =
                    ActivationQuantization.fixed(0.02f + 0.01f * rnd.nextFloat(), rnd.nextInt(qin / 2 + 1), inBits);
            ByteBuffer qx = ByteBuffer.allocateDirect(n);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                int q = rnd.nextInt(qin + 1);
                qx.put(i, (byte) q);
                x[i] = (q - act.getZeroPoint()) * act.getScale() + (rnd.nextFloat() - 0.5f) * act.getScale();
            }
            // float output of the reference sets a grid that covers it
            ByteBuffer yf = ByteBuffer.allocateDirect(m * Float.BYTES);
            run(ref, qx, l.input(), nhwc, true, act, yf, null);
            ActivationQuantization grid = gridFor(readFloats(yf, m), outBits, rnd);

            // u8 -> u8
            ByteBuffer expected = ByteBuffer.allocateDirect(m);
            ByteBuffer actual = ByteBuffer.allocateDirect(m);
            run(ref, qx, l.input(), nhwc, true, act, expected, grid);
            run(one, qx, l.input(), nhwc, true, act, actual, grid);
            assertSameBytes(readBytes(expected, m), readBytes(actual, m), grid, what + " u8->u8", one, l);

            // f32 -> u8
            ByteBuffer fx = floats(x);
            run(ref, fx, l.input(), nhwc, false, act, expected, grid);
            run(one, fx, l.input(), nhwc, false, act, actual, grid);
            assertSameBytes(readBytes(expected, m), readBytes(actual, m), grid, what + " f32->u8", one, l);

            // u8 -> f32
            ByteBuffer yo = ByteBuffer.allocateDirect(m * Float.BYTES);
            run(one, qx, l.input(), nhwc, true, act, yo, null);
            float[] e = readFloats(yf, m);
            float[] g = readFloats(yo, m);
            float top = 0f;
            for (float v : e) {
                top = Math.max(top, Math.abs(v));
            }
            for (int i = 0; i < m; i++) {
                // float32 output is bounded, not exact: oneDNN orders the epilogue's float
                // operations by kernel (see ReferenceKernel), a few ulps of the largest output
                if (Math.abs(e[i] - g[i]) > FLOAT_BOUND * top) {
                    Assertions.fail(what + " u8->f32: element " + i + " is " + g[i] + ", reference "
                            + e[i] + " (" + one.describe(l.input()) + ")");
                }
            }
        }
    }

    private static void assertSameBytes(
            int[] expected, int[] actual, ActivationQuantization grid, String what, Int8Kernel k, Layer l) {
        int off = 0;
        int first = -1;
        int saturatedTop = 0;
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == grid.getQmax()) {
                saturatedTop++;
            }
            if (actual[i] != expected[i]) {
                off++;
                if (first < 0) {
                    first = i;
                }
            }
        }
        if (off > 0) {
            Assertions.fail(what + ": " + off + " of " + expected.length + " codes differ, first at " + first
                    + ": " + actual[first] + " vs reference " + expected[first] + " grid " + grid
                    + " (" + k.describe(l.input()) + ")");
        }
        Assertions.assertTrue(saturatedTop < expected.length, what + ": every code saturated");
    }
}

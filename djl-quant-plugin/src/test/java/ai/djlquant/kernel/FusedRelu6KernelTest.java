package ai.djlquant.kernel;

import ai.djlquant.quant.FusedActivation;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * ReLU6 fused into the kernels (oneDNN's eltwise_clip post-op, the reference kernel's Java clamp)
 * is {@code min(max(y, 0), 6)} of the float output {@code y} the unfused kernel writes, bit for
 * bit, on Linear, Conv2d (plain and depthwise) and Conv1d, static and dynamic; and on an exact grid
 * (unit scales, integer inputs, so every float output is an integer) oneDNN's fused outputs equal
 * the reference's bit for bit.
 */
@ExtendWith(RequiresOneDnn.class)
class FusedRelu6KernelTest {

    private static OneDnnBackend onednn;
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    @BeforeAll
    static void load() {
        onednn = Int8Backends.oneDnn();
    }

    /** A layer: how to build its kernel with an activation, and an input shape. */
    private record Layer(String name, long[] weightShape, ConvGeometry geometry, long[] input) {

        Int8Kernel build(Int8Backend backend, Int8Weights w, FusedActivation a) {
            return geometry == null ? backend.newLinear(w, a) : backend.newConvolution(geometry, w, a);
        }
    }

    private static List<Layer> layers() {
        List<Layer> out = new ArrayList<>();
        out.add(new Layer("linear M=1", new long[] {24, 17}, null, new long[] {1, 17}));
        out.add(new Layer("linear M=64", new long[] {24, 512}, null, new long[] {64, 512}));
        ConvGeometry c2 =
                new ConvGeometry(
                        8, 16, 1, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1},
                        new long[] {1, 1});
        ConvGeometry dw =
                new ConvGeometry(
                        32, 32, 32, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 1},
                        new long[] {1, 1});
        ConvGeometry c1 =
                new ConvGeometry(
                        12, 20, 1, new long[] {5}, new long[] {2}, new long[] {2}, new long[] {1});
        out.add(new Layer("conv2d", c2.weightShape(), c2, new long[] {2, 8, 9, 9}));
        out.add(new Layer("depthwise conv2d", dw.weightShape(), dw, new long[] {2, 32, 8, 9}));
        out.add(new Layer("conv1d", c1.weightShape(), c1, new long[] {4, 12, 31}));
        return out;
    }

    private static float[] run(Int8Kernel k, float[] x, long[] shape, ActivationQuantization act) {
        int outN = (int) KernelChecks.count(k.outputShape(shape));
        ByteBuffer out = ByteBuffer.allocateDirect(outN * 4).order(ByteOrder.nativeOrder());
        k.forward(KernelFloatPathTest.floats(x), shape, false, act, out, false, 0);
        return KernelFloatPathTest.read(out, outN);
    }

    private static void assertBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
                Assertions.fail(what + ": output " + i + " is " + got[i] + ", expected " + want[i]);
            }
        }
    }

    /** The outputs must reach both clamp bounds and lie between them, or the test proves little. */
    private static void assertClamped(float[] y, String what) {
        long zeros = 0;
        long sixes = 0;
        for (float v : y) {
            Assertions.assertTrue(v >= 0f && v <= 6f, what + ": " + v + " is outside [0, 6]");
            zeros += v == 0f ? 1 : 0;
            sixes += v == 6f ? 1 : 0;
        }
        Assertions.assertTrue(zeros > 0 && sixes > 0, what + ": " + zeros + " zeros, " + sixes + " sixes");
    }

    @Test
    void fusedRelu6IsTheClampOfTheUnfusedFloatOutput() {
        Random rnd = new Random(61);
        int bits = onednn.getActivationBits();
        for (Layer l : layers()) {
            Int8Weights w = KernelFloatPathTest.randomWeights(l.weightShape(), rnd);
            float[] x = new float[(int) KernelChecks.count(l.input())];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian() * 8f + 0.5f; // outputs well past 0 and 6
            }
            for (ActivationQuantization act :
                    new ActivationQuantization[] {
                        ActivationQuantization.fixed(0.2f, 60, bits), ActivationQuantization.dynamic(bits)
                    }) {
                String what = l.name() + (act.isDynamic() ? " dynamic" : " static");
                for (Int8Backend b : new Int8Backend[] {onednn, REFERENCE}) {
                    try (Int8Kernel plain = l.build(b, w, FusedActivation.NONE);
                            Int8Kernel fused = l.build(b, w, FusedActivation.RELU6)) {
                        float[] y = run(plain, x, l.input(), act);
                        float[] want = new float[y.length];
                        for (int i = 0; i < y.length; i++) {
                            want[i] = Math.min(Math.max(y[i], 0f), 6f);
                        }
                        float[] got = run(fused, x, l.input(), act);
                        assertBits(want, got, b.getName() + " " + what);
                        assertClamped(got, b.getName() + " " + what);
                    }
                }
            }
        }
    }

    @Test
    void oneDnnEqualsTheReferenceBitForBitOnAnExactGrid() {
        Random rnd = new Random(62);
        int bits = onednn.getActivationBits();
        int qmax = (1 << bits) - 1;
        for (Layer l : layers()) {
            int n = (int) KernelChecks.count(l.weightShape());
            byte[] v = new byte[n];
            for (int i = 0; i < n; i++) {
                v[i] = (byte) (rnd.nextInt(7) - 3); // small: every sum is an exact float
            }
            float[] one = new float[(int) l.weightShape()[0]];
            Arrays.fill(one, 1f);
            float[] bias = new float[one.length];
            for (int c = 0; c < bias.length; c++) {
                bias[c] = rnd.nextInt(9) - 4;
            }
            Int8Weights w = new Int8Weights(v, l.weightShape(), one, bias);
            float[] x = new float[(int) KernelChecks.count(l.input())];
            for (int i = 0; i < x.length; i++) {
                x[i] = rnd.nextInt(qmax + 1) - 3; // integers on the grid of scale 1, zero point 3
            }
            ActivationQuantization act = ActivationQuantization.fixed(1f, 3, bits);
            for (FusedActivation a : FusedActivation.values()) {
                try (Int8Kernel fast = l.build(onednn, w, a);
                        Int8Kernel ref = l.build(REFERENCE, w, a)) {
                    float[] want = run(ref, x, l.input(), act);
                    float[] got = run(fast, x, l.input(), act);
                    assertBits(want, got, l.name() + " " + a);
                    if (a == FusedActivation.RELU6) {
                        assertClamped(got, l.name());
                    }
                }
            }
        }
    }
}

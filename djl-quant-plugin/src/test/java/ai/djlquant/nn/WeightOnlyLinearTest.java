package ai.djlquant.nn;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;

/**
 * {@link WeightOnlyLinear}: conversion from a float Linear, forward on 2-D and 3-D input against the
 * dequantized weight in float64 (bound {@code 1e-5 * sum |x * w'|}, the kernels' float32
 * rounding), save and load bit for bit, and refusals that name the layer's problem.
 */
class WeightOnlyLinearTest {

    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static final int[][] FORMATS = {{8, 0, 1}, {4, 32, 1}, {4, 64, 1}, {4, 64, 0}, {4, 128, 0}};

    @Test
    void forwardMatchesTheDequantizedWeightAndReloadsBitForBit() throws Exception {
        for (int[] f : FORMATS) {
            Linear lf = BlockFixtures.linear(manager, 256, 24, f[0] == 8);
            WeightOnlyLinear w =
                    WeightOnlyLinear.builder()
                            .setFloatBlock(lf)
                            .optFormat(f[0], f[1], f[2] == 1)
                            .build();
            Assertions.assertEquals(f[0], w.getWeightBits());
            Assertions.assertEquals(f[0] == 8, w.getWeightParams() != null);
            NDArray x = manager.randomNormal(new Shape(3, 5, 256));
            NDArray y = BlockFixtures.run(w, manager, x);
            Assertions.assertEquals(new Shape(3, 5, 24), y.getShape());
            float[] xs = x.toFloatArray();
            float[] ys = y.toFloatArray();
            float[][] wd = dequantize(w, 24, 256);
            float[] b = f[0] == 8 ? lf.getParameters().get("bias").getArray().toFloatArray() : null;
            for (int r = 0; r < 15; r++) {
                for (int c = 0; c < 24; c++) {
                    double ref = b == null ? 0 : b[c];
                    double mag = Math.abs(ref);
                    for (int k = 0; k < 256; k++) {
                        ref += (double) xs[r * 256 + k] * wd[c][k];
                        mag += Math.abs((double) xs[r * 256 + k] * wd[c][k]);
                    }
                    Assertions.assertTrue(
                            Math.abs(ys[r * 24 + c] - ref) <= 1e-5 * mag,
                            w + " y[" + r + "][" + c + "] = " + ys[r * 24 + c] + ", reference " + ref);
                }
            }
            // the float layer's output is within the weight's quantization error
            NDArray yf = BlockFixtures.run(lf, manager, x);
            double sqnr = sqnr(yf.toFloatArray(), ys);
            Assertions.assertTrue(sqnr > (f[0] == 8 ? 35 : 15), w + ": " + sqnr + " dB");

            byte[] saved = save(w);
            WeightOnlyLinear empty =
                    WeightOnlyLinear.builder()
                            .setUnits(24)
                            .optBias(f[0] == 8)
                            .optFormat(f[0], f[1], f[2] == 1)
                            .build();
            load(empty, saved);
            Assertions.assertArrayEquals(ys, BlockFixtures.run(empty, manager, x).toFloatArray());
            Assertions.assertArrayEquals(w.getWeightScales(), empty.getWeightScales());
            Assertions.assertArrayEquals(saved, save(empty));
        }
    }

    @Test
    void refusalsNameTheProblem() throws Exception {
        Linear lf = BlockFixtures.linear(manager, 100, 8, true);
        IllegalArgumentException e =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () -> WeightOnlyLinear.builder().setFloatBlock(lf).optFormat(4, 64, true).build());
        Assertions.assertTrue(e.getMessage().contains("multiple of 64"), e.getMessage());
        WeightOnlyLinear w = WeightOnlyLinear.builder().setFloatBlock(lf).build();
        e =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () -> BlockFixtures.run(w, manager, manager.ones(new Shape(2, 99))));
        Assertions.assertTrue(e.getMessage().contains("[..., 100]"), e.getMessage());
        // 8-bit parameters into a 4-bit block
        WeightOnlyLinear four =
                WeightOnlyLinear.builder().setUnits(8).optFormat(4, 32, true).build();
        MalformedModelException m =
                Assertions.assertThrows(MalformedModelException.class, () -> load(four, save(w)));
        Assertions.assertTrue(m.getMessage().contains("w4g32") && m.getMessage().contains("w8"), m.getMessage());
        // float parameters into a weight-only block
        WeightOnlyLinear wo = WeightOnlyLinear.builder().setUnits(8).build();
        Assertions.assertThrows(MalformedModelException.class, () -> load(wo, save(lf)));
    }

    static float[][] dequantize(WeightOnlyLinear w, int n, int k) {
        byte[] v = w.getParameters().get("weight").getArray().toByteArray();
        ai.djlquant.kernel.WeightOnlyWeights q =
                new ai.djlquant.kernel.WeightOnlyWeights(
                        new ai.djlquant.kernel.WeightOnlyFormat(
                                w.getWeightBits(), w.getGroupSize(), w.isSymmetric()),
                        n,
                        k,
                        v,
                        w.getWeightScales(),
                        w.getWeightOffsets(),
                        null);
        float[][] d = new float[n][k];
        for (int c = 0; c < n; c++) {
            for (int j = 0; j < k; j++) {
                d[c][j] = q.dequantized(c, j);
            }
        }
        return d;
    }

    static double sqnr(float[] ref, float[] got) {
        double s = 0;
        double e = 0;
        for (int i = 0; i < ref.length; i++) {
            s += (double) ref[i] * ref[i];
            e += ((double) got[i] - ref[i]) * ((double) got[i] - ref[i]);
        }
        return 10 * Math.log10(s / e);
    }

    static byte[] save(ai.djl.nn.Block b) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream os = new DataOutputStream(bytes)) {
            b.saveParameters(os);
        }
        return bytes.toByteArray();
    }

    static void load(ai.djl.nn.Block b, byte[] saved) throws Exception {
        try (DataInputStream is = new DataInputStream(new ByteArrayInputStream(saved))) {
            b.loadParameters(manager, is);
        }
    }

}

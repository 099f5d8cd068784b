package ai.djlquant.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djlquant.quant.AffineQuantizer;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.Sqnr;

import org.junit.jupiter.api.Test;

/**
 * Per-tensor weights: one scale, max|W| / 127, for every output channel; the int8 weight equals
 * the weight quantized on that one grid. Bound: on a weight whose rows differ 100x in magnitude,
 * the small rows' outputs keep at least 10 dB more SQNR per channel than per tensor (they lose
 * their precision on the shared grid).
 */
class PerTensorWeightsTest {

    @Test
    void oneScaleForEveryChannel() {
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(1);
            Linear l = BlockFixtures.linear(m, 64, 16, false);
            NDArray w = l.getParameters().get("weight").getArray();
            // rows 8..15 a hundred times smaller than rows 0..7
            w.set(new NDIndex("8:, :"), w.get(new NDIndex("8:, :")).div(100f));
            NDArray x = m.randomNormal(new Shape(32, 64));
            QuantParams act = BlockFixtures.calibrate(x);

            QuantizedLinear perTensor =
                    QuantizedLinear.builder()
                            .setFloatBlock(l)
                            .optActivationParams(act)
                            .optPerTensorWeights(true)
                            .build();
            QuantizedLinear perChannel =
                    QuantizedLinear.builder().setFloatBlock(l).optActivationParams(act).build();

            float[] scales = perTensor.getWeightParams().getScales();
            float expected = w.abs().max().getFloat() / 127;
            for (float s : scales) {
                assertEquals(expected, s, expected * 1e-6f);
            }
            NDArray q = perTensor.getParameters().get("weight").getArray();
            assertEquals(DataType.INT8, q.getDataType());
            assertTrue(q.contentEquals(AffineQuantizer.quantize(w, perTensor.getWeightParams())));

            // the outputs of the small rows
            NDIndex small = new NDIndex(":, 8:");
            NDArray ref = BlockFixtures.run(l, m, x).get(small);
            double tensorDb = Sqnr.decibels(ref, BlockFixtures.run(perTensor, m, x).get(small));
            double channelDb = Sqnr.decibels(ref, BlockFixtures.run(perChannel, m, x).get(small));
            assertTrue(channelDb > tensorDb + 10, channelDb + " vs " + tensorDb);
        }
    }

    @Test
    void convolutionsToo() {
        try (NDManager m = NDManager.newBaseManager()) {
            Conv2d c = BlockFixtures.conv2d(m, new int[] {8, 16, 1, 3, 1, 1, 1}, true);
            QuantizedConv2d q =
                    QuantizedConv2d.builder()
                            .setFloatBlock(c)
                            .optDynamic()
                            .optPerTensorWeights(true)
                            .build();
            float[] s = q.getWeightParams().getScales();
            float max = c.getParameters().get("weight").getArray().abs().max().getFloat() / 127;
            for (float v : s) {
                assertEquals(max, v, max * 1e-6f);
            }
            NDArray x = m.randomNormal(new Shape(2, 8, 16, 16));
            double db = Sqnr.decibels(BlockFixtures.run(c, m, x), BlockFixtures.run(q, m, x));
            assertTrue(db > 25, "SQNR " + db);
        }
    }
}

package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djlquant.nn.QuantizedLinear;
import ai.djlquant.quant.Sqnr;

import org.junit.jupiter.api.Test;

/** The test setup the other tests rely on: PyTorch is the engine, offline, and runs our blocks. */
class EngineSmokeTest {

    @Test
    void pytorchRunsAnInt8LinearOffline() {
        // surefire sets it, so that no test downloads a native library or a model
        assertEquals("true", System.getProperty("ai.djl.offline"));
        Engine e = Engine.getInstance();
        assertEquals("PyTorch", e.getEngineName(), "the default engine");
        System.out.println(e.getEngineName() + " " + e.getVersion());
        try (NDManager m = NDManager.newBaseManager()) {
            e.setRandomSeed(1);
            Linear f = Linear.builder().setUnits(24).build();
            f.initialize(m, DataType.FLOAT32, new Shape(1, 32));
            QuantizedLinear q = QuantizedLinear.builder().setFloatBlock(f).optDynamic().build();
            NDArray x = m.randomNormal(new Shape(5, 32));
            ParameterStore ps = new ParameterStore(m, false);
            NDArray want = f.forward(ps, new NDList(x), false).singletonOrThrow();
            NDArray got = q.forward(ps, new NDList(x), false).singletonOrThrow();
            assertEquals("PyTorch", got.getManager().getEngine().getEngineName());
            assertEquals(DataType.FLOAT32, got.getDataType());
            assertEquals(new Shape(5, 24), got.getShape());
            // int8 weights and activations: about 40 dB on Gaussian data, far from float noise
            double db = Sqnr.decibels(want, got);
            assertTrue(db > 30 && db < 80, "SQNR " + db + " dB");
        }
    }
}

package ai.djlquant;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

class EngineSmokeTest {
    @Test
    void pytorchLoadsOffline() {
        Assertions.assertEquals("true", System.getProperty("ai.djl.offline"));
        Engine e = Engine.getEngine("PyTorch");
        System.out.println(e.getEngineName() + " " + e.getVersion());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[] {1, 2, 3});
            Assertions.assertEquals(6f, a.sum().getFloat());
        }
    }
}

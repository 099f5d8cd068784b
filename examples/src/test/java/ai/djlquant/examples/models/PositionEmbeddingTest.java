package ai.djlquant.examples.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

import org.junit.jupiter.api.Test;

class PositionEmbeddingTest {

    @Test
    void addsTheSameTableToEverySample() {
        try (NDManager manager = NDManager.newBaseManager()) {
            PositionEmbedding block = new PositionEmbedding(3, 2);
            block.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 2));
            NDArray x = manager.arange(12f).reshape(2, 3, 2);
            NDArray y =
                    block.forward(new ParameterStore(manager, false), new NDList(x), false)
                            .singletonOrThrow();
            NDArray table = y.sub(x);
            assertArrayEquals(
                    table.get(0).toFloatArray(), table.get(1).toFloatArray(), 1e-6f);
            // the truncated normal of ViT: nonzero, within two standard deviations of 0.02
            float[] p = table.get(0).toFloatArray();
            for (float v : p) {
                assertTrue(v != 0f && Math.abs(v) <= 0.04f + 1e-6f, "table entry " + v);
            }
        }
    }

    @Test
    void refusesAnotherSequenceShapeNamingIt() {
        try (NDManager manager = NDManager.newBaseManager()) {
            PositionEmbedding block = new PositionEmbedding(49, 64);
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    block.initialize(
                                            manager, DataType.FLOAT32, new Shape(1, 50, 64)));
            assertTrue(e.getMessage().contains("(1, 50, 64)"), e.getMessage());
        }
    }
}

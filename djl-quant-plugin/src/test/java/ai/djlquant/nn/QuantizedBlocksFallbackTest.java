package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djlquant.kernel.Int8Backends;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The int8 blocks where oneDNN is not available: the build runs this class in its own JVM with
 * {@code -Dai.djlquant.kernel.backend=reference}, so the backend chosen at start-up is the
 * reference backend and the blocks take their float fallback (same activation grid, dequantized
 * weights on the engine's float ops).
 */
class QuantizedBlocksFallbackTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(99);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    @Test
    void fallbackBackendIsInForce() {
        Assertions.assertEquals("reference", Int8Backends.get().getName());
        Assertions.assertFalse(Int8Backends.get().isNative());
    }

    @Test
    void blocksStillMatchTheFloatBlocks() throws Exception {
        Linear lf = BlockFixtures.linear(manager, 64, 32, true);
        NDArray x = manager.randomNormal(new Shape(5, 64));
        QuantizedLinear s =
                QuantizedLinear.builder()
                        .setFloatBlock(lf)
                        .optActivationParams(
                                BlockFixtures.calibrate(manager.randomNormal(new Shape(64, 64))))
                        .build();
        QuantizedLinear d =
                QuantizedLinear.builder().setFloatBlock(lf).optDynamic().optFusedRelu(true).build();
        NDArray want = BlockFixtures.run(lf, manager, x);
        QuantizedBlocksTest.assertSqnr(want, BlockFixtures.run(s, manager, x), "static linear");
        QuantizedBlocksTest.assertSqnr(
                Activation.relu(want), BlockFixtures.run(d, manager, x), "dynamic linear + relu");

        int[] c = QuantizedBlocksTest.CONVS[4]; // depthwise
        Conv2d cf = BlockFixtures.conv2d(manager, c, true);
        QuantizedConv2d qc = QuantizedConv2d.builder().setFloatBlock(cf).optDynamic().build();
        NDArray xc = manager.randomNormal(new Shape(2, c[0], c[7], c[8]));
        QuantizedBlocksTest.assertSqnr(
                BlockFixtures.run(cf, manager, xc),
                BlockFixtures.run(qc, manager, xc),
                "depthwise conv");

        QuantizedLinear loaded = QuantizedLinear.builder().setUnits(32).build();
        QuantizedBlocksTest.load(loaded, QuantizedBlocksTest.save(s), manager);
        Assertions.assertArrayEquals(
                BlockFixtures.run(s, manager, x).toFloatArray(),
                BlockFixtures.run(loaded, manager, x).toFloatArray());
    }

    @Test
    void wrongShapesFailTheSameWay() {
        QuantizedLinear ql =
                QuantizedLinear.builder()
                        .setFloatBlock(BlockFixtures.linear(manager, 40, 24, true))
                        .optDynamic()
                        .build();
        IllegalArgumentException e =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                BlockFixtures.run(
                                        ql, manager, manager.randomNormal(new Shape(2, 39))));
        Assertions.assertTrue(e.getMessage().startsWith("QuantizedLinear"), e.getMessage());
    }
}

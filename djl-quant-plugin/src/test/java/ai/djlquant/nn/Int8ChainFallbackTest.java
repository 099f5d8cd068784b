package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.quant.FusedActivation;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * An int8 chain where oneDNN is not available (its own JVM with {@code
 * -Dai.djlquant.kernel.backend=reference}, as {@link QuantizedBlocksFallbackTest}): the chain
 * declines (its forward returns null) and the chained block runs the layers one by one, so its
 * output equals the plain block's bit for bit.
 */
class Int8ChainFallbackTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(17);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    @Test
    void withoutANativeBackendTheChainRunsTheLayersOneByOne() {
        Assertions.assertFalse(Int8Backends.get().isNative());
        SequentialBlock plain = new SequentialBlock();
        List<QuantizedLinear> links = new ArrayList<>();
        NDArray calib = manager.randomNormal(new Shape(64, 32));
        for (long[] kn : new long[][] {{32, 24}, {24, 8}}) {
            Linear f = BlockFixtures.linear(manager, kn[0], kn[1], true);
            QuantizedLinear q =
                    QuantizedLinear.builder()
                            .setFloatBlock(f)
                            .optActivationParams(BlockFixtures.calibrate(calib))
                            .optFusedActivation(FusedActivation.RELU)
                            .build();
            links.add(q);
            plain.add(q);
            plain.add(Blocks.identityBlock());
            calib = FusedActivation.RELU.apply(BlockFixtures.run(f, manager, calib));
        }
        plain.removeLastBlock();
        plain.initialize(manager, DataType.FLOAT32, new Shape(1, 32));
        ChainedSequentialBlock chained =
                new ChainedSequentialBlock(plain, ChainedSequentialBlock.findRuns(plain));
        Assertions.assertEquals(1, chained.getRuns().size());
        NDArray x = manager.randomNormal(new Shape(5, 32));
        Assertions.assertNull(
                new Int8Chain(links).forward(new ParameterStore(manager, false), new NDList(x)));
        Assertions.assertArrayEquals(
                BlockFixtures.run(plain, manager, x).toFloatArray(),
                BlockFixtures.run(chained, manager, x).toFloatArray());
    }
}

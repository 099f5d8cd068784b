package ai.djlquant.nn;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.function.BiFunction;

/**
 * The int8 blocks with a fused ReLU6: on the backend this JVM chose, their output is exactly the
 * unfused int8 block's output followed by DJL's {@code Activation.relu6} (static and dynamic,
 * Linear, Conv2d, depthwise Conv2d, Conv1d), it survives save and load, and a saved activation code
 * this version does not know is refused naming the block type.
 */
class FusedRelu6BlocksTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(4321);
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    /** Builds the int8 block of a float block with the given activation, static or dynamic. */
    private static void check(
            String what,
            NDArray x,
            BiFunction<FusedActivation, QuantParams, Block> build) {
        QuantParams calib = BlockFixtures.calibrate(x);
        for (QuantParams p : new QuantParams[] {calib, null}) {
            String mode = what + (p == null ? " dynamic" : " static");
            NDArray plain = BlockFixtures.run(build.apply(FusedActivation.NONE, p), manager, x);
            Block fusedBlock = build.apply(FusedActivation.RELU6, p);
            NDArray fused = BlockFixtures.run(fusedBlock, manager, x);
            Assertions.assertEquals(
                    FusedActivation.RELU6, ((QuantizedBlock) fusedBlock).getFusedActivation(), mode);
            Assertions.assertFalse(((QuantizedBlock) fusedBlock).isFusedRelu(), mode);
            NDArray want = Activation.relu6(plain);
            Assertions.assertTrue(fused.contentEquals(want), mode + ": fused != relu6(unfused)");
            // the outputs reach both bounds, or the comparison proves little
            Assertions.assertEquals(0f, fused.min().getFloat(), mode);
            Assertions.assertEquals(6f, fused.max().getFloat(), mode);
            Assertions.assertTrue(plain.max().getFloat() > 6f && plain.min().getFloat() < 0f, mode);
        }
    }

    @Test
    void fusedRelu6EqualsTheUnfusedBlockThenRelu6() {
        Linear lf = BlockFixtures.linear(manager, 64, 48, true);
        check(
                "linear",
                manager.randomNormal(new Shape(7, 64)).mul(6),
                (a, p) -> {
                    QuantizedLinear.Builder b =
                            QuantizedLinear.builder().setFloatBlock(lf).optFusedActivation(a);
                    return (p == null ? b.optDynamic() : b.optActivationParams(p)).build();
                });
        for (int[] c : new int[][] {{16, 32, 1, 3, 1, 1, 1}, {32, 32, 32, 3, 2, 1, 1}}) {
            Conv2d cf = BlockFixtures.conv2d(manager, c, true);
            check(
                    c[2] == 1 ? "conv2d" : "depthwise conv2d",
                    manager.randomNormal(new Shape(2, c[0], 11, 11)).mul(6),
                    (a, p) -> {
                        QuantizedConv2d.Builder b =
                                QuantizedConv2d.builder().setFloatBlock(cf).optFusedActivation(a);
                        return (p == null ? b.optDynamic() : b.optActivationParams(p)).build();
                    });
        }
        Conv1d f1 = BlockFixtures.conv1d(manager, 8, 16, 3, 1, 1, 1);
        check(
                "conv1d",
                manager.randomNormal(new Shape(3, 8, 29)).mul(8),
                (a, p) -> {
                    QuantizedConv1d.Builder b =
                            QuantizedConv1d.builder().setFloatBlock(f1).optFusedActivation(a);
                    return (p == null ? b.optDynamic() : b.optActivationParams(p)).build();
                });
    }

    @Test
    void relu6SurvivesSaveAndLoadAndAnUnknownCodeIsRefused() throws Exception {
        Linear lf = BlockFixtures.linear(manager, 40, 24, true);
        NDArray x = manager.randomNormal(new Shape(3, 40)).mul(6);
        QuantParams p = BlockFixtures.calibrate(x);
        QuantizedLinear relu6 =
                QuantizedLinear.builder()
                        .setFloatBlock(lf)
                        .optFusedActivation(FusedActivation.RELU6)
                        .optActivationParams(p)
                        .build();
        QuantizedLinear loaded = QuantizedLinear.builder().setUnits(24).build();
        byte[] saved = QuantizedBlocksTest.save(relu6);
        QuantizedBlocksTest.load(loaded, saved, manager);
        Assertions.assertEquals(FusedActivation.RELU6, loaded.getFusedActivation());
        Assertions.assertArrayEquals(
                BlockFixtures.run(relu6, manager, x).toFloatArray(),
                BlockFixtures.run(loaded, manager, x).toFloatArray());

        // the one byte that differs from the same block without an activation is its code
        byte[] none =
                QuantizedBlocksTest.save(
                        QuantizedLinear.builder().setFloatBlock(lf).optActivationParams(p).build());
        Assertions.assertEquals(none.length, saved.length);
        int at = -1;
        for (int i = 0; i < saved.length; i++) {
            if (saved[i] != none[i]) {
                Assertions.assertEquals(-1, at, "more than one byte differs");
                at = i;
            }
        }
        Assertions.assertEquals(2, saved[at], "ReLU6 is saved as code 2 (0 none, 1 ReLU)");
        saved[at] = 3;
        MalformedModelException e =
                Assertions.assertThrows(
                        MalformedModelException.class,
                        () ->
                                QuantizedBlocksTest.load(
                                        QuantizedLinear.builder().setUnits(24).build(), saved, manager));
        Assertions.assertTrue(
                e.getMessage().contains("QuantizedLinear")
                        && e.getMessage().contains("unknown fused activation"),
                e.getMessage());

        IllegalArgumentException n =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () -> QuantizedConv2d.builder().optFusedActivation(null));
        Assertions.assertTrue(n.getMessage().contains("QuantizedConv2d"), n.getMessage());
    }
}

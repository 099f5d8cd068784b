package ai.djlquant.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.quant.Sqnr;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * BatchNorm folding. Bound: the folded layer's output differs from layer + BatchNorm by float32
 * rounding only, at most 1e-5 of the output's largest magnitude (measured: about 1e-7), SQNR over
 * 100 dB.
 */
class BatchNormFoldingTest {

    @Test
    void djlBatchNormUsesItsRunningStatisticsInInference() {
        try (NDManager m = NDManager.newBaseManager()) {
            SequentialBlock s = pair(conv2d(false), 1e-3f);
            s.initialize(m, DataType.FLOAT32, new Shape(4, 3, 8, 8));
            randomise(s, m);
            BatchNorm bn = (BatchNorm) s.getChildren().get(1).getValue();
            NDArray x = m.randomNormal(5f, 2f, new Shape(4, 6, 8, 8), DataType.FLOAT32);
            NDArray y = bn.forward(new ParameterStore(m, false), new NDList(x), false).head();
            NDArray mean = param(bn, "runningMean").reshape(1, 6, 1, 1);
            NDArray var = param(bn, "runningVar").reshape(1, 6, 1, 1);
            NDArray expected =
                    x.sub(mean)
                            .div(var.add(1e-3f).sqrt())
                            .mul(param(bn, "gamma").reshape(1, 6, 1, 1))
                            .add(param(bn, "beta").reshape(1, 6, 1, 1));
            assertTrue(Sqnr.decibels(expected, y) > 100, "running mean/var, epsilon 1e-3");
            assertEquals(1e-3f, BatchNormFolding.epsilonOf(bn));
            assertEquals(1, BatchNormFolding.axisOf(bn));
        }
    }

    @Test
    void foldsConv2dWithoutBiasExactlyAndLeavesTheOriginalsAlone() {
        checkFold(pair(conv2d(false), 1e-3f), new Shape(4, 3, 8, 8));
    }

    @Test
    void foldsConv2dWithBias() {
        checkFold(pair(conv2d(true), 1e-5f), new Shape(4, 3, 8, 8));
    }

    @Test
    void foldsConv1d() {
        Conv1d c =
                Conv1d.builder()
                        .setKernelShape(new Shape(3))
                        .setFilters(6)
                        .optPadding(new Shape(1))
                        .build();
        checkFold(pair(c, 2e-5f), new Shape(4, 3, 16));
    }

    @Test
    void foldsLinearOnTwoDimensionalInput() {
        checkFold(pair(Linear.builder().setUnits(6).build(), 1e-5f), new Shape(4, 10));
    }

    private static void checkFold(SequentialBlock s, Shape input) {
        try (NDManager m = NDManager.newBaseManager()) {
            s.initialize(m, DataType.FLOAT32, input);
            randomise(s, m);
            Block layer = s.getChildren().get(0).getValue();
            BatchNorm bn = (BatchNorm) s.getChildren().get(1).getValue();
            List<NDArray> arrays = new ArrayList<>();
            List<NDArray> copies = new ArrayList<>();
            for (Parameter p : s.getParameters().values()) {
                arrays.add(p.getArray());
                copies.add(p.getArray().duplicate());
            }

            BatchNormFolding.Found found = BatchNormFolding.find(BlockTree.walk(s));
            assertEquals(1, found.pairs().size());
            assertSame(layer, found.pairs().get(0).layer().getBlock());
            assertSame(bn, found.pairs().get(0).batchNorm().getBlock());

            Block folded = BatchNormFolding.fold(layer, bn, m);
            assertNotSame(layer, folded);
            assertEquals(layer.getClass(), folded.getClass());
            assertTrue(folded.getDirectParameters().contains("bias"));

            ParameterStore ps = new ParameterStore(m, false);
            NDArray x = m.randomNormal(input);
            NDArray expected = s.forward(ps, new NDList(x), false).head();
            NDArray actual = folded.forward(ps, new NDList(x), false).head();
            float scale = expected.abs().max().getFloat();
            float err = expected.sub(actual).abs().max().getFloat();
            assertTrue(err <= 1e-5f * scale, "max error " + err + " of " + scale);
            assertTrue(Sqnr.decibels(expected, actual) > 100);

            // the original layer and BatchNorm keep their arrays and values
            List<Parameter> after = new ArrayList<>(s.getParameters().values());
            for (int i = 0; i < after.size(); i++) {
                assertSame(arrays.get(i), after.get(i).getArray());
                assertTrue(copies.get(i).contentEquals(after.get(i).getArray()));
            }
        }
    }

    @Test
    void foldsOnlyWhereTheStructureMakesItExact() {
        BatchNorm axis2 = BatchNorm.builder().optAxis(2).build();
        SequentialBlock wrongAxis =
                new SequentialBlock().add(Linear.builder().setUnits(6).build()).add(axis2);
        assertEquals("it normalises axis 2, not the channel axis 1", skipped(wrongAxis, new Shape(2, 5, 4)));

        SequentialBlock threeD =
                new SequentialBlock()
                        .add(Linear.builder().setUnits(5).build())
                        .add(BatchNorm.builder().build());
        assertTrue(skipped(threeD, new Shape(2, 5, 4)).contains("is not 2-D"));

        SequentialBlock intermediate = pair(conv2d(true), 1e-5f).setReturnIntermediate(true);
        assertTrue(skipped(intermediate, new Shape(2, 3, 8, 8)).contains("not a plain"));

        SequentialBlock ownForward = new OwnForward();
        ownForward.add(conv2d(true)).add(BatchNorm.builder().build());
        assertTrue(skipped(ownForward, new Shape(2, 3, 8, 8)).contains("not a plain"));

        BatchNorm shared = BatchNorm.builder().build();
        SequentialBlock twice =
                new SequentialBlock()
                        .add(new SequentialBlock().add(conv2d(true)).add(shared))
                        .add(new SequentialBlock().add(conv2d(true)).add(shared));
        BatchNormFolding.Found f = findIn(twice, new Shape(2, 3, 8, 8));
        assertEquals(0, f.pairs().size());
        assertTrue(f.skipped().get(0).reason().contains("shared"));

        // in a ParallelBlock the block after a layer does not read its output: nothing is found
        ParallelBlock par =
                new ParallelBlock(
                        l -> l.get(0),
                        Arrays.asList(conv2d(true), BatchNorm.builder().build()));
        BatchNormFolding.Found p = findIn(new SequentialBlock().add(par), new Shape(2, 6, 8, 8));
        assertTrue(p.pairs().isEmpty());
        assertTrue(p.skipped().get(0).reason().contains("not a plain"));
    }

    private static String skipped(SequentialBlock s, Shape input) {
        BatchNormFolding.Found f = findIn(s, input);
        assertEquals(0, f.pairs().size());
        assertEquals(1, f.skipped().size());
        return f.skipped().get(0).reason();
    }

    private static BatchNormFolding.Found findIn(Block s, Shape input) {
        try (NDManager m = NDManager.newBaseManager()) {
            s.initialize(m, DataType.FLOAT32, input);
            return BatchNormFolding.find(BlockTree.walk(s));
        }
    }

    private static Conv2d conv2d(boolean bias) {
        return Conv2d.builder()
                .setKernelShape(new Shape(3, 3))
                .setFilters(6)
                .optPadding(new Shape(1, 1))
                .optBias(bias)
                .build();
    }

    private static SequentialBlock pair(Block layer, float eps) {
        return new SequentialBlock().add(layer).add(BatchNorm.builder().optEpsilon(eps).build());
    }

    private static NDArray param(Block b, String name) {
        return b.getDirectParameters().get(name).getArray();
    }

    /** BatchNorm statistics and biases far from their defaults. */
    private static void randomise(Block block, NDManager m) {
        for (Block b : Arrays.asList(block.getChildren().get(0).getValue(),
                block.getChildren().get(1).getValue())) {
            for (Parameter p : b.getDirectParameters().values()) {
                NDArray a = p.getArray();
                Shape s = a.getShape();
                switch (p.getName()) {
                    case "runningVar":
                        a.set(m.randomUniform(0.05f, 3f, s).toFloatArray());
                        break;
                    case "gamma":
                        a.set(m.randomUniform(-2f, 2f, s).toFloatArray());
                        break;
                    case "runningMean":
                    case "beta":
                    case "bias":
                        a.set(m.randomNormal(0f, 1f, s, DataType.FLOAT32).toFloatArray());
                        break;
                    default:
                }
            }
        }
    }

    /** A SequentialBlock with its own forward: its children may not run in order. */
    static final class OwnForward extends SequentialBlock {
        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            return super.forwardInternal(ps, in, training, p);
        }
    }
}

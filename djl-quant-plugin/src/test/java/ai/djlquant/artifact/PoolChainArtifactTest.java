package ai.djlquant.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.zoo.Criteria;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.TestConfigs;
import ai.djlquant.nn.ChainedSequentialBlock;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.ChainTargets;
import com.google.gson.JsonArray;
import com.google.gson.JsonPrimitive;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Convolution chains through DJL max poolings, through the quantizer and the artifact, on {@link
 * TestNets.PooledCnn}: its three convolutions and two Linear layers form one chain with both
 * poolings (a 2x2 one, and a 3x3 stride 2 padding 1 one in ceil mode) and the flatten on the uint8
 * bytes between them, the chained model's outputs equal the unchained model's bit for bit, {@code
 * int8Chains} names the chain by its layers only (the steps between are implied by the model), and
 * {@link ArtifactLoader} and plain Criteria form it again with the same outputs. Manifests written
 * before chains crossed poolings (the Linear head alone) or the flatten (the convolutions, and the
 * head) load with exactly those parts of the chain.
 */
class PoolChainArtifactTest {

    @TempDir static Path tmp;

    private static Path artifact;
    private static float[] want;
    private static List<String> chains;
    private static NDArray x;
    private static NDManager manager;

    @BeforeAll
    static void export() throws Exception {
        manager = NDManager.newBaseManager();
        x = TestNets.batches(manager, 1, 8, TestNets.INPUT).get(0).singletonOrThrow();
        float[] unchained;
        try (Model m = quantized(false)) {
            assertFalse(hasChains(m.getBlock()));
            unchained = TestNets.run(m, x);
        }
        try (Model m = quantized(true)) {
            chains = ChainTargets.formed(BlockTree.walk(m.getBlock()));
            want = TestNets.run(m, x);
            artifact = tmp.resolve("pooled-cnn-int8");
            ArtifactWriter.builder()
                    .setModel(m)
                    .setBaseBlockFactory(TestNets.PooledCnn.class)
                    .build()
                    .write(artifact);
        }
        // the same arithmetic: identical outputs, chained or not
        assertArrayEquals(unchained, want);
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static Model quantized(boolean chains) throws IOException {
        Model m = TestNets.floatModel(new TestNets.PooledCnn(), "pooled-cnn", 11);
        QuantizationConfig.Builder b = TestConfigs.builder();
        b.optDefaultMode(QuantizationMode.STATIC).optInt8Chains(chains).optCalibrationSamples(32);
        QuantizationReport r =
                Quantizer.quantize(
                        m,
                        CalibrationData.fromBatches(
                                TestNets.batches(m.getNDManager(), 4, 3, TestNets.INPUT)),
                        b.build());
        assertEquals(0, r.count(QuantizationMode.FP32), r.toTable());
        return m;
    }

    private static boolean hasChains(ai.djl.nn.Block root) {
        for (BlockNode n : BlockTree.walk(root).getNodes()) {
            if (n.getBlock() instanceof ChainedSequentialBlock) {
                return true;
            }
        }
        return false;
    }

    private static final String CONVOLUTIONS =
            "01SequentialBlock/01Conv2d -> 03SequentialBlock/01Conv2d -> 05SequentialBlock/01Conv2d";
    private static final String HEAD = "07Linear -> 09Linear";

    @Test
    void theWholeModelIsOneChainNamedByItsLayers() {
        assertEquals(List.of(CONVOLUTIONS + " -> " + HEAD), chains);
    }

    @Test
    void aPoolChainedModelLoadsWithTheSameChains() throws Exception {
        TestNets.assertLoadsWithChains(artifact, chains, x, want);
    }

    @Test
    void namesWrittenBeforeChainsCrossedPoolingsOrTheFlattenLoadAsTheyRan() throws Exception {
        // before this slice the head alone; before the flatten, the convolutions and the head
        List<List<String>> recorded = List.of(List.of(HEAD), List.of(CONVOLUTIONS, HEAD));
        for (List<String> names : recorded) {
            Path dir =
                    TestNets.copyWithManifest(
                            artifact,
                            tmp.resolve("older" + names.size()),
                            o -> {
                                JsonArray a = new JsonArray();
                                names.forEach(n -> a.add(new JsonPrimitive(n)));
                                o.add("int8Chains", a);
                            });
            try (Model loaded = ArtifactLoader.load(dir)) {
                assertEquals(names, ChainTargets.formed(BlockTree.walk(loaded.getBlock())));
                assertArrayEquals(want, TestNets.run(loaded, x));
            }
        }
    }
}

package ai.djlquant.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
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
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Convolution chains through the quantizer and the artifact, on {@link
 * TestNets.InvertedResidualNet} (nested conv-BN-ReLU6 SequentialBlocks, depthwise and strided
 * convolutions, a residual main branch inside a ParallelBlock): each inverted residual's main
 * branch forms one chain of its three convolutions, the chained model's outputs equal the
 * unchained model's bit for bit, {@code int8Chains} names the chains, and {@link ArtifactLoader}
 * and plain Criteria form them again with the same outputs. A manifest that names only some of
 * the chains the layers can form (as one written before convolution chains existed would) loads
 * with exactly those; without the field the artifact runs unchained, with the same outputs.
 */
class ConvChainArtifactTest {

    @TempDir static Path tmp;

    private static Path artifact;
    private static float[] want;
    private static List<String> chains;
    private static NDArray x;
    private static NDManager manager;
    private static int copies;

    @BeforeAll
    static void export() throws Exception {
        Shape input = TestNets.inputOf(new TestNets.InvertedResidualNet());
        manager = NDManager.newBaseManager();
        x = TestNets.batches(manager, 1, 8, input).get(0).singletonOrThrow();
        float[] unchained;
        try (Model m = quantized(false, null)) {
            assertFalse(hasChains(m.getBlock()));
            unchained = TestNets.run(m, x);
        }
        try (Model m = quantized(true, null)) {
            chains = ChainTargets.formed(BlockTree.walk(m.getBlock()));
            want = TestNets.run(m, x);
            artifact = tmp.resolve("irnet-int8");
            ArtifactWriter.builder()
                    .setModel(m)
                    .setBaseBlockFactory(TestNets.InvertedResidualNet.class)
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

    private static Model quantized(boolean chains, String dynamicLayer) throws IOException {
        Shape input = TestNets.inputOf(new TestNets.InvertedResidualNet());
        Model m = TestNets.floatModel(new TestNets.InvertedResidualNet(), "irnet", 9);
        QuantizationConfig.Builder b = TestConfigs.builder();
        b.optDefaultMode(QuantizationMode.STATIC).optInt8Chains(chains).optCalibrationSamples(32);
        if (dynamicLayer != null) {
            b.optMode(dynamicLayer, QuantizationMode.DYNAMIC);
        }
        QuantizationReport r =
                Quantizer.quantize(
                        m,
                        CalibrationData.fromBatches(TestNets.batches(m.getNDManager(), 4, 3, input)),
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

    @Test
    void eachInvertedResidualMainBranchIsOneChainOfItsThreeConvolutions() {
        assertEquals(2, chains.size(), chains.toString());
        for (String c : chains) {
            String[] layers = c.split(" -> ");
            assertEquals(3, layers.length, c);
            for (String l : layers) {
                assertTrue(l.endsWith("Conv2d"), c);
            }
        }
        // the expansion and the depthwise sit in their wrappers, the projection does not
        assertTrue(chains.get(0).contains("02SequentialBlock/01SequentialBlock/01Conv2d"), chains.get(0));
        assertTrue(chains.get(0).endsWith("02SequentialBlock/03Conv2d"), chains.get(0));
    }

    @Test
    void aDynamicDepthwiseBreaksItsChain() throws Exception {
        String depthwise = chains.get(0).split(" -> ")[1];
        try (Model m = quantized(true, depthwise)) {
            List<String> formed = ChainTargets.formed(BlockTree.walk(m.getBlock()));
            // the first branch's chain now starts at the dynamic depthwise; the second is whole
            assertEquals(2, formed.size(), formed.toString());
            assertTrue(formed.get(0).startsWith(depthwise + " -> "), formed.toString());
            assertEquals(chains.get(1), formed.get(1));
        }
    }

    @Test
    void aConvolutionChainedModelLoadsWithTheSameChains() throws Exception {
        TestNets.assertLoadsWithChains(artifact, chains, x, want);
    }

    @Test
    void aManifestNamingSomeOfTheChainsLoadsWithExactlyThose() throws Exception {
        Path dir = copy(o -> {
            JsonArray a = new JsonArray();
            a.add(new JsonPrimitive(chains.get(1)));
            o.add("int8Chains", a);
        });
        try (Model loaded = ArtifactLoader.load(dir)) {
            assertEquals(
                    List.of(chains.get(1)), ChainTargets.formed(BlockTree.walk(loaded.getBlock())));
            assertArrayEquals(want, TestNets.run(loaded, x));
        }
    }

    @Test
    void aChainNamedWithAWrongLayerIsRefused() throws Exception {
        String wrong = chains.get(0).replace("03Conv2d", "04BatchNorm");
        Path dir = copy(o -> {
            JsonArray a = new JsonArray();
            a.add(new JsonPrimitive(wrong));
            o.add("int8Chains", a);
        });
        ArtifactException e = assertThrows(ArtifactException.class, () -> ArtifactLoader.load(dir));
        assertTrue(e.getMessage().contains("04BatchNorm"), e.getMessage());
        assertTrue(e.getMessage().contains("none of them"), e.getMessage());
    }

    @Test
    void withoutTheFieldTheArtifactRunsUnchainedWithTheSameOutputs() throws Exception {
        Path dir = copy(o -> o.remove("int8Chains"));
        try (Model loaded = ArtifactLoader.load(dir)) {
            assertFalse(hasChains(loaded.getBlock()));
            assertArrayEquals(want, TestNets.run(loaded, x));
        }
    }

    /** A flat copy of the artifact's files with its manifest edited. */
    private static Path copy(Consumer<JsonObject> edit) throws IOException {
        return TestNets.copyWithManifest(artifact, tmp.resolve("copy" + (++copies)), edit);
    }

    private static JsonObject manifest(Path filesDir) throws IOException {
        return TestNets.manifest(filesDir);
    }
}

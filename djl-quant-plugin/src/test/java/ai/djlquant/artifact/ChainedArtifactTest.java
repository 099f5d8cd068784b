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
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.TestConfigs;
import ai.djlquant.nn.ChainedSequentialBlock;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.ChainTargets;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * A model quantized with int8 chains exports with the chains' names in {@code quantization.json}
 * ({@code int8Chains}; the tree records the SequentialBlock each chain replaced) and loads with
 * the same chains formed again, through {@link ArtifactLoader#load} and through plain Criteria: the
 * loaded outputs equal the chained model's bit for bit. A
 * manifest whose chains the loaded layers do not form, or a malformed {@code int8Chains}, is
 * refused, naming it.
 */
class ChainedArtifactTest {

    @TempDir static Path tmp;

    private static Path artifact;
    private static float[] want;
    private static List<String> chains;
    private static NDArray x;
    private static NDManager manager;
    private static int copies;

    @BeforeAll
    static void export() throws Exception {
        Shape input = TestNets.inputOf(new TestNets.Mlp());
        manager = NDManager.newBaseManager();
        x = TestNets.batches(manager, 1, 8, input).get(0).singletonOrThrow();
        try (Model m = TestNets.floatModel(new TestNets.Mlp(), "mlp-chained", 5)) {
            QuantizationReport r =
                    Quantizer.quantize(
                            m,
                            CalibrationData.fromBatches(
                                    TestNets.batches(m.getNDManager(), 4, 3, input)),
                            TestConfigs.builder()
                                    .optDefaultMode(QuantizationMode.STATIC)
                                    .optInt8Chains(true)
                                    .optCalibrationSamples(32)
                                    .build());
            assertTrue(m.getBlock() instanceof ChainedSequentialBlock, r.toTable());
            chains = ChainTargets.formed(BlockTree.walk(m.getBlock()));
            assertFalse(chains.isEmpty());
            artifact = tmp.resolve("mlp-int8");
            ArtifactWriter.builder()
                    .setModel(m)
                    .setBaseBlockFactory(TestNets.Mlp.class)
                    .optReport(r)
                    .build()
                    .write(artifact);
            want = TestNets.run(m, x);
        }
    }

    @Test
    void aChainedModelLoadsWithTheSameChains() throws Exception {
        TestNets.assertLoadsWithChains(artifact, chains, x, want);
        try (Model loaded = ArtifactLoader.load(artifact)) {
            assertTrue(loaded.getBlock() instanceof ChainedSequentialBlock); // the root, chained
        }
    }

    @Test
    void chainsTheLoadedLayersDoNotFormAreRefused() throws Exception {
        Path dir = copy(o -> {
            JsonArray a = new JsonArray();
            a.add(new JsonPrimitive("00Linear -> 99Linear"));
            o.add("int8Chains", a);
        });
        ArtifactException e = assertThrows(ArtifactException.class, () -> ArtifactLoader.load(dir));
        assertTrue(e.getMessage().contains("quantization.json records the int8 chains"), e.getMessage());
        assertTrue(e.getMessage().contains("99Linear"), e.getMessage());
    }

    @Test
    void int8ChainsThatIsNotAnArrayOfNamesIsRefused() throws Exception {
        Path dir = copy(o -> o.addProperty("int8Chains", "all"));
        ArtifactException e = assertThrows(ArtifactException.class, () -> ArtifactLoader.load(dir));
        assertTrue(e.getMessage().contains("quantization.json.int8Chains"), e.getMessage());
    }

    @Test
    void withoutTheFieldTheSameArtifactLoadsUnchained() throws Exception {
        Path dir = copy(o -> o.remove("int8Chains"));
        try (Model loaded = ArtifactLoader.load(dir)) {
            assertFalse(loaded.getBlock() instanceof ChainedSequentialBlock);
            assertTrue(ChainTargets.formed(BlockTree.walk(loaded.getBlock())).isEmpty());
            assertEquals(want.length, TestNets.run(loaded, x).length);
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

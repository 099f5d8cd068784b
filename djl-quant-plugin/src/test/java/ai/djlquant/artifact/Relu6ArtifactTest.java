package ai.djlquant.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djlquant.LayerReport;
import ai.djlquant.QuantizationReport;
import ai.djlquant.nn.QuantizedBlock;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A model with fused ReLU6s exported and loaded back through Criteria and {@link ArtifactLoader}:
 * outputs bit-identical, each ReLU6 layer recorded as {@code fusedRelu: false, fusedActivation:
 * "relu6"}, and a manifest whose activation is unknown, contradicts {@code fusedRelu} or is missing
 * (as an older writer would leave it) refused naming the layer.
 */
class Relu6ArtifactTest {

    @TempDir static Path tmp;

    private static Model quantized;
    private static QuantizationReport report;
    private static Path artifact;
    private static NDManager manager;
    private static NDArray input;
    private static int cases;

    @BeforeAll
    static void export() throws Exception {
        quantized = TestNets.floatModel(new TestNets.Relu6Net(), "relu6-test", 17);
        report = TestNets.quantize(quantized);
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(5);
        input = manager.randomNormal(new Shape(4, 1, 12, 12)).mul(4);
        artifact = tmp.resolve("relu6-int8");
        ArtifactWriter.builder()
                .setModel(quantized)
                .setBaseBlockFactory(TestNets.Relu6Net.class)
                .optReport(report)
                .build()
                .write(artifact);
    }

    @AfterAll
    static void close() {
        manager.close();
        quantized.close();
    }

    @Test
    void everyReLU6IsFusedAndReportedAsSuch() {
        int fused = 0;
        for (LayerReport l : report.getLayers()) {
            if ("relu6".equals(l.getFusedActivation())) {
                fused++;
                assertEquals(null, l.getFusedRelu(), l.toString());
            }
        }
        assertEquals(3, fused, report.toTable());
        assertTrue(report.toTable().contains("+ReLU6"), report.toTable());
        assertTrue(report.toJson().contains("\"fusedActivation\": \"relu6\""), report.toJson());
    }

    @Test
    void criteriaAndLoaderPredictBitIdentically() throws Exception {
        float[] want = TestNets.run(quantized, input);
        try (Model loaded = ArtifactLoader.load(artifact)) {
            assertArrayEquals(want, TestNets.run(loaded, input));
            assertEquals(3, relu6Blocks(loaded));
        }
        Criteria<NDList, NDList> criteria =
                Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(artifact).build();
        try (ZooModel<NDList, NDList> loaded = criteria.loadModel()) {
            assertArrayEquals(want, TestNets.run(loaded, input));
            assertEquals(3, relu6Blocks(loaded));
        }
    }

    private static int relu6Blocks(Model m) {
        int n = 0;
        for (BlockNode node : BlockTree.walk(m.getBlock()).getNodes()) {
            if (node.getBlock() instanceof QuantizedBlock q) {
                n += q.getFusedActivation() == FusedActivation.RELU6 ? 1 : 0;
                assertFalse(q.getFusedActivation() == FusedActivation.RELU6 && q.isFusedRelu());
            }
        }
        return n;
    }

    @Test
    void theManifestRecordsRelu6BesideFusedReluFalse() throws IOException {
        JsonArray layers = manifest(ArtifactLoader.filesDirectory(artifact)).getAsJsonArray("layers");
        int relu6 = 0;
        for (JsonElement e : layers) {
            JsonObject l = e.getAsJsonObject();
            if (l.has("fusedActivation")) {
                assertEquals("relu6", l.get("fusedActivation").getAsString(), l.toString());
                assertFalse(l.get("fusedRelu").getAsBoolean(), l.toString());
                relu6++;
            }
        }
        assertEquals(3, relu6, layers.toString());
    }

    @Test
    void anUnknownContradictoryOrMissingActivationIsRefusedNamingTheLayer() throws Exception {
        Path unknown = edit(l -> l.addProperty("fusedActivation", "gelu"));
        assertRefused(unknown, "layers[0].fusedActivation is 'gelu'", "relu6");
        Path contradicts = edit(l -> l.addProperty("fusedRelu", true));
        assertRefused(contradicts, "layers[0].fusedActivation is 'relu6'", "fusedRelu is true");
        // what an older writer could have left: the block's ReLU6 is not what the manifest says
        Path missing = edit(l -> l.remove("fusedActivation"));
        assertRefused(missing, layerPath(), "ReLU6");
    }

    private static String layerPath() throws IOException {
        return manifest(ArtifactLoader.filesDirectory(artifact))
                .getAsJsonArray("layers").get(0).getAsJsonObject().get("path").getAsString();
    }

    private static JsonObject manifest(Path dir) throws IOException {
        return JsonParser.parseString(Files.readString(dir.resolve("quantization.json")))
                .getAsJsonObject();
    }

    /** A flat copy of the artifact's files with its first layer entry edited. */
    private static Path edit(Consumer<JsonObject> change) throws IOException {
        Path dir = tmp.resolve("case" + (++cases));
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(ArtifactLoader.filesDirectory(artifact))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        JsonObject o = manifest(dir);
        JsonObject first = o.getAsJsonArray("layers").get(0).getAsJsonObject();
        assertTrue(first.has("fusedActivation"), "the first layer has a fused ReLU6: " + first);
        change.accept(first);
        Files.writeString(
                dir.resolve("quantization.json"),
                ArtifactManifest.GSON.toJson(o),
                StandardCharsets.UTF_8);
        return dir;
    }

    private static void assertRefused(Path dir, String... parts) {
        ArtifactException direct =
                assertThrows(ArtifactException.class, () -> ArtifactLoader.load(dir).close());
        for (String p : parts) {
            assertTrue(direct.getMessage().contains(p), "'" + p + "' in: " + direct.getMessage());
        }
        Criteria<NDList, NDList> c =
                Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(dir).build();
        ArtifactException viaCriteria =
                assertThrows(ArtifactException.class, () -> c.loadModel().close());
        for (String p : parts) {
            assertTrue(viaCriteria.getMessage().contains(p), viaCriteria.getMessage());
        }
    }
}

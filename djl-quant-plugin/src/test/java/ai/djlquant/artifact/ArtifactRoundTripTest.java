package ai.djlquant.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.BlockFactory;
import ai.djl.nn.LambdaBlock;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djlquant.QuantizationReport;
import ai.djlquant.nn.QuantizedConv2d;
import ai.djlquant.nn.QuantizedLinear;
import ai.djlquant.transform.BlockTree;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Export of a quantized residual network (seeded random weights, real quantizer) and load back
 * through DJL's Criteria and through {@link ArtifactLoader#load}: the outputs are bit-identical to
 * the in-memory quantized model's; the manifest holds what the model holds.
 */
class ArtifactRoundTripTest {

    @TempDir static Path tmp;

    private static Model quantized;
    private static QuantizationReport report;
    private static Path artifact;
    private static NDManager manager;
    private static NDArray input;

    @BeforeAll
    static void export() throws Exception {
        quantized = TestNets.floatModel(new TestNets.ResidualNet(), "resnet-test", 42);
        report = TestNets.quantize(quantized);
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(9);
        input = manager.randomNormal(new Shape(8, 1, 12, 12));
        artifact = tmp.resolve("out/resnet-int8");
        ArtifactWriter.builder()
                .setModel(quantized)
                .setBaseBlockFactory(TestNets.ResidualNet.class)
                .optReport(report)
                .optAccuracy("seeded noise", 8, 0.5, 0.5)
                .build()
                .write(artifact);
    }

    @AfterAll
    static void close() {
        manager.close();
        quantized.close();
    }

    @Test
    void directoryHoldsParamsServingPropertiesAndManifest() throws Exception {
        // the layout that makes overwriting atomic: current -> .gen-<pid>-<n>/ with the files
        Path files = ArtifactLoader.filesDirectory(artifact);
        try (Stream<Path> s = Files.list(artifact)) {
            List<String> names =
                    s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
            assertEquals(List.of(files.getFileName().toString(), "current"), names);
        }
        assertTrue(Files.isSymbolicLink(artifact.resolve("current")));
        assertEquals(files.getFileName(), Files.readSymbolicLink(artifact.resolve("current")));
        assertTrue(files.getFileName().toString().startsWith(".gen-"), files.toString());
        try (Stream<Path> s = Files.list(files)) {
            List<String> names =
                    s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
            assertEquals(
                    List.of("quantization.json", "resnet-test-0000.params", "serving.properties"),
                    names);
        }
        try (Stream<Path> s = Files.list(artifact.getParent())) {
            assertEquals(1, s.count(), "no temporary directory is left beside the artifact");
        }
        Properties p = new Properties();
        p.load(Files.newBufferedReader(files.resolve("serving.properties")));
        assertEquals(QuantizedBlockFactory.class.getName(), p.getProperty("blockFactory"));
        assertEquals(TestNets.ResidualNet.class.getName(), p.getProperty("baseBlockFactory"));
        assertEquals("false", p.getProperty("option.hasParameter"));
        assertEquals("resnet-test", p.getProperty("option.modelName"));
    }

    @Test
    void manifestRecordsPlanParamsCalibrationAndChecksums() throws Exception {
        ArtifactManifest m = ArtifactLoader.verify(artifact);
        assertEquals(ArtifactManifest.FORMAT_VERSION, m.getFormatVersion());
        assertEquals("resnet-test", m.getModelName());
        assertEquals(TestNets.ResidualNet.class.getName(), m.getBaseBlockFactory());
        // 4 convolutions and 2 Linear layers; every one became int8
        int int8 = report.getLayers().size() - countFp32(report);
        assertEquals(6, m.getInt8LayerCount());
        assertEquals(int8, m.getInt8LayerCount());
        assertEquals(32.0, m.getNumber("calibration", "samples"));
        assertNotNull(m.getText("calibration", "method"));
        assertEquals(0.5, m.getNumber("accuracy", "int8Top1"));
        assertEquals((double) report.getModelFloatBytes(), m.getNumber("weightBytes", "fp32"));
        assertEquals((double) report.getModelQuantizedBytes(), m.getNumber("weightBytes", "int8"));
        assertEquals(2, m.getFiles().size());
        Path params = ArtifactLoader.filesDirectory(artifact).resolve(m.getParametersFile());
        assertEquals(
                ArtifactManifest.sha256(params),
                m.getFiles().get(m.getParametersFile()).getSha256());
        assertEquals(Files.size(params), m.getFiles().get(m.getParametersFile()).getBytes());
        assertTrue(m.getReportJson().contains("\"layers\""));
        // the manifest's layer records carry the exact scales of the in-memory blocks
        String json = m.getLayersJson();
        assertTrue(json.contains("\"mode\": \"STATIC\"") || json.contains("\"mode\": \"DYNAMIC\""));
        // identity pass-throughs where the 4 BatchNorms were and where ReLUs were fused
        long identities =
                m.rewrites().stream()
                        .filter(r -> r.spec().isPassThrough())
                        .count();
        assertTrue(identities >= 4, "rewrites: " + identities + " pass-throughs");
    }

    private static int countFp32(QuantizationReport r) {
        return (int)
                r.getLayers().stream()
                        .filter(l -> l.getMode() == ai.djlquant.plan.QuantizationMode.FP32)
                        .count();
    }

    @Test
    void criteriaLoadPredictsBitIdentically() throws Exception {
        float[] want = TestNets.run(quantized, input);
        Criteria<NDList, NDList> criteria =
                Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optModelPath(artifact)
                        .build();
        try (ZooModel<NDList, NDList> loaded = criteria.loadModel()) {
            assertEquals("resnet-test", loaded.getName());
            assertArrayEquals(want, TestNets.run(loaded, input));
            BlockTree tree = BlockTree.walk(loaded.getBlock());
            assertTrue(tree.find("01Conv2d").getBlock() instanceof QuantizedConv2d);
            assertTrue(
                    tree.getNodes().stream()
                            .anyMatch(n -> n.getBlock() instanceof QuantizedConv2d));
            assertTrue(
                    tree.getNodes().stream()
                            .anyMatch(n -> n.getBlock() instanceof QuantizedLinear));
            assertTrue(tree.find("02BatchNorm").getBlock() instanceof LambdaBlock);
            try (ai.djl.inference.Predictor<NDList, NDList> p = loaded.newPredictor()) {
                NDList out = p.predict(new NDList(input));
                assertArrayEquals(want, out.singletonOrThrow().toFloatArray());
            }
        }
    }

    @Test
    void directLoadPredictsBitIdentically() throws Exception {
        float[] want = TestNets.run(quantized, input);
        try (Model loaded = ArtifactLoader.load(artifact)) {
            assertArrayEquals(want, TestNets.run(loaded, input));
            assertEquals(
                    TestNets.ResidualNet.class.getName(), loaded.getProperty("baseBlockFactory"));
        }
    }

    @ParameterizedTest
    @ValueSource(classes = {TestNets.Transformer.class, TestNets.LinearRoot.class})
    void typedFieldsAndAReplacedRootRoundTrip(Class<? extends BlockFactory> type)
            throws Exception {
        BlockFactory factory = type.getConstructor().newInstance();
        Shape shape = TestNets.inputOf(factory);
        try (Model m = TestNets.floatModel(factory, "net", 3)) {
            TestNets.quantize(m, shape);
            assertTrue(
                    BlockTree.walk(m.getBlock()).getNodes().stream()
                            .anyMatch(n -> LayerRecord.isInt8(n.getBlock())));
            NDArray x = TestNets.batches(manager, 1, 4, shape).get(0).singletonOrThrow();
            float[] want = TestNets.run(m, x);
            Path dir = tmp.resolve(type.getSimpleName());
            ArtifactWriter.builder().setModel(m).setBaseBlockFactory(type).build().write(dir);
            try (Model loaded = ArtifactLoader.load(dir)) {
                assertArrayEquals(want, TestNets.run(loaded, x));
                assertEquals(
                        TreeRewrites.architecture(BlockTree.walk(m.getBlock())),
                        TreeRewrites.architecture(BlockTree.walk(loaded.getBlock())));
            }
        }
    }

    @Test
    void existingArtifactIsReplacedOnlyWithOverwrite() throws Exception {
        Path target = tmp.resolve("again");
        ArtifactWriter.Builder b =
                ArtifactWriter.builder()
                        .setModel(quantized)
                        .setBaseBlockFactory(TestNets.ResidualNet.class);
        b.build().write(target);
        String before =
                Files.readString(ArtifactLoader.filesDirectory(target).resolve("quantization.json"));
        ArtifactException e = assertThrows(ArtifactException.class, () -> b.build().write(target));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());

        // a failing export with overwrite leaves the old artifact as it was
        ArtifactException wrong =
                assertThrows(
                        ArtifactException.class,
                        () ->
                                ArtifactWriter.builder()
                                        .setModel(quantized)
                                        .setBaseBlockFactory(TestNets.Mlp.class)
                                        .optOverwrite(true)
                                        .build()
                                        .write(target));
        assertTrue(wrong.getMessage().contains(TestNets.Mlp.class.getName()), wrong.getMessage());
        assertEquals(
                before,
                Files.readString(ArtifactLoader.filesDirectory(target).resolve("quantization.json")));
        ArtifactLoader.verify(target);

        b.optOverwrite(true).optAccuracy("replaced", 1, 1, 1).build().write(target);
        assertEquals(1.0, ArtifactLoader.verify(target).getNumber("accuracy", "fp32Top1"));
        try (Stream<Path> s = Files.list(tmp)) {
            assertFalse(
                    s.anyMatch(p -> p.getFileName().toString().startsWith(".")),
                    "temporary directories are removed");
        }
        try (Stream<Path> s = Files.list(target)) {
            assertEquals(2, s.count(), "the link and the one generation it names, nothing else");
        }
    }

    @Test
    void directoryThatIsNotAnArtifactIsNeverReplaced() throws Exception {
        Path target = tmp.resolve("precious");
        Files.createDirectories(target);
        Files.writeString(target.resolve("notes.txt"), "mine", StandardCharsets.UTF_8);
        ArtifactException e =
                assertThrows(
                        ArtifactException.class,
                        () ->
                                ArtifactWriter.builder()
                                        .setModel(quantized)
                                        .setBaseBlockFactory(TestNets.ResidualNet.class)
                                        .optOverwrite(true)
                                        .build()
                                        .write(target));
        assertTrue(e.getMessage().contains("is not an artifact"), e.getMessage());
        assertEquals("mine", Files.readString(target.resolve("notes.txt")));
    }

    @Test
    void factoryOfAnotherArchitectureIsRefusedAtExport() {
        ArtifactException e =
                assertThrows(
                        ArtifactException.class,
                        () ->
                                ArtifactWriter.builder()
                                        .setModel(quantized)
                                        .setBaseBlockFactory(TestNets.WideHeadNet.class)
                                        .build()
                                        .write(tmp.resolve("wide")));
        assertTrue(e.getMessage().contains("06Linear"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("wide")));
    }
}

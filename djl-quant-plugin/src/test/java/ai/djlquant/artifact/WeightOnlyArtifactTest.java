package ai.djlquant.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.util.ProgressBar;
import ai.djlquant.CalibrationData;
import ai.djlquant.LayerReport;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.TestConfigs;
import ai.djlquant.nn.QuantizedLinear;
import ai.djlquant.nn.WeightOnlyLinear;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.transform.BlockTree;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Weight-only layers through the quantizer, the report, the export (format version 2) and both ways
 * of loading: bit-identical outputs, the manifest's records, and the plausibility checks of the
 * loaded scales.
 */
class WeightOnlyArtifactTest {

    @TempDir static Path tmp;

    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static QuantizationReport quantize(Model m, Shape input, QuantizationMode linears, String glob, QuantizationMode pathMode) {
        var b = TestConfigs.builder().optCalibrationSamples(32).optMode(Linear.class, linears);
        if (glob != null) {
            b.optMode(glob, pathMode);
        }
        return Quantizer.quantize(
                m, CalibrationData.fromBatches(TestNets.batches(m.getNDManager(), 4, 3, input)), b.build());
    }

    @Test
    void eightBitAndInt8LayersExportAndReloadBitForBit() throws Exception {
        Shape input = TestNets.inputOf(new TestNets.Mlp());
        try (Model m = TestNets.floatModel(new TestNets.Mlp(), "mlp", 5, input)) {
            // the first Linear weight-only, the last int8 static by a path rule
            QuantizationReport r = quantize(m, input, QuantizationMode.WEIGHT_INT8, "04Linear", QuantizationMode.STATIC);
            LayerReport first = r.getLayers().stream().filter(l -> l.getPath().equals("02Linear")).findFirst().orElseThrow();
            assertEquals(QuantizationMode.WEIGHT_INT8, first.getMode());
            assertEquals("w8", first.getWeightFormat());
            assertTrue(first.getWeightOnlySqnrDb() > 35, first.getWeightOnlySqnrDb() + " dB");
            assertTrue(first.getReason().contains("w8 (weight-only) by"), first.getReason());
            assertTrue(first.getWeightParams().startsWith("w8 weight-only, 48 scales"), first.getWeightParams());
            assertEquals(null, first.getFusedRelu()); // weight-only blocks fuse nothing
            assertEquals(1, r.weightOnlyCount());
            assertTrue(r.toTable().contains("1 weight-only"), r.toTable());
            assertTrue(r.toJson().contains("\"weightOnlySqnrDb\""));
            BlockTree t = BlockTree.walk(m.getBlock());
            assertTrue(t.find("02Linear").getBlock() instanceof WeightOnlyLinear);
            assertTrue(t.find("04Linear").getBlock() instanceof QuantizedLinear);

            NDArray x = TestNets.batches(manager, 1, 8, input).get(0).singletonOrThrow();
            float[] want = TestNets.run(m, x);
            Path dir = tmp.resolve("mlp-w8");
            ArtifactWriter.builder().setModel(m).setBaseBlockFactory(TestNets.Mlp.class).optReport(r).build().write(dir);

            JsonObject manifest =
                    JsonParser.parseString(
                                    Files.readString(
                                            ArtifactLoader.filesDirectory(dir)
                                                    .resolve(ArtifactFormat.MANIFEST_FILE)))
                            .getAsJsonObject();
            assertEquals(2, manifest.get("formatVersion").getAsInt());
            JsonArray layers = manifest.getAsJsonArray("layers");
            assertEquals(2, layers.size());
            JsonObject wl = layers.get(0).getAsJsonObject();
            assertEquals("WEIGHT_ONLY", wl.get("mode").getAsString());
            assertEquals("WeightOnlyLinear", wl.get("type").getAsString());
            assertEquals("w8", wl.getAsJsonObject("weight").get("scheme").getAsString());
            assertTrue(manifest.toString().contains("\"format\":\"w8\""), "the rewrite records the format");

            try (Model loaded = ArtifactLoader.load(dir)) {
                assertArrayEquals(want, TestNets.run(loaded, x));
                assertTrue(BlockTree.walk(loaded.getBlock()).find("02Linear").getBlock() instanceof WeightOnlyLinear);
            }
            Criteria<NDList, NDList> criteria =
                    Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(dir).optProgress(new ProgressBar()).build();
            try (ZooModel<NDList, NDList> loaded = criteria.loadModel()) {
                assertArrayEquals(want, TestNets.run(loaded, x));
            }
        }
    }

    @Test
    void fourBitWithMinimumRoundTripsAsTheRoot() throws Exception {
        Shape input = TestNets.inputOf(new TestNets.LinearRoot());
        try (Model m = TestNets.floatModel(new TestNets.LinearRoot(), "root", 7, input)) {
            QuantizationReport r = quantize(m, input, QuantizationMode.WEIGHT_INT4_G32_MIN, null, null);
            assertEquals(QuantizationMode.WEIGHT_INT4_G32_MIN, r.getLayers().get(0).getMode());
            assertEquals("w4g32m", r.getLayers().get(0).getWeightFormat());
            // 4-bit: the row's bytes are the packed weight plus scales and offsets, under fp32's
            LayerReport row = r.getLayers().get(0);
            assertTrue(row.getQuantizedBytes() < row.getFloatBytes() / 3, row.getQuantizedBytes() + " of " + row.getFloatBytes());
            NDArray x = TestNets.batches(manager, 1, 9, input).get(0).singletonOrThrow();
            float[] want = TestNets.run(m, x);
            Path dir = tmp.resolve("root-w4");
            ArtifactWriter.builder().setModel(m).setBaseBlockFactory(TestNets.LinearRoot.class).build().write(dir);
            try (Model loaded = ArtifactLoader.load(dir)) {
                assertArrayEquals(want, TestNets.run(loaded, x));
                WeightOnlyLinear w = (WeightOnlyLinear) loaded.getBlock();
                assertEquals(4, w.getWeightBits());
                assertEquals(32, w.getGroupSize());
            }
        }
    }

    @Test
    void aFormatTheLayerDoesNotFitStaysFp32WithTheReason() throws Exception {
        Shape input = TestNets.inputOf(new TestNets.Mlp()); // 144 features: not a multiple of 64
        try (Model m = TestNets.floatModel(new TestNets.Mlp(), "mlp", 5, input)) {
            QuantizationReport r = quantize(m, input, QuantizationMode.WEIGHT_INT4_G64, null, null);
            LayerReport first = r.getLayers().stream().filter(l -> l.getPath().equals("02Linear")).findFirst().orElseThrow();
            assertEquals(QuantizationMode.FP32, first.getMode());
            assertTrue(first.getReason().contains("multiple of 64"), first.getReason());
        }
    }

    @Test
    void implausibleScalesAreRefusedNamingTheLayer() throws Exception {
        Linear lf = Linear.builder().setUnits(4).build();
        lf.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, new Shape(1, 64));
        WeightOnlyLinear w = WeightOnlyLinear.builder().setFloatBlock(lf).optFormat(4, 32, true).build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream os = new DataOutputStream(bytes)) {
            w.saveParameters(os);
        }
        byte[] saved = bytes.toByteArray();
        // version byte, type, units, features, bias, bits, group, symmetric, scale count: scale [0]
        int at = 1 + 2 + "WeightOnlyLinear".getBytes(StandardCharsets.UTF_8).length + 8 + 8 + 1 + 1 + 4 + 1 + 4;
        ByteBuffer.wrap(saved, at, 4).putFloat(1e38f);
        WeightOnlyLinear loaded = WeightOnlyLinear.builder().setUnits(4).optFormat(4, 32, true).build();
        try (DataInputStream is = new DataInputStream(new ByteArrayInputStream(saved))) {
            loaded.loadParameters(manager, is);
        }
        assertEquals(1e38f, loaded.getWeightScales()[0]);
        ArtifactException e = assertThrows(ArtifactException.class, () -> LoadedValues.check((Block) loaded, "net-0000.params"));
        assertTrue(e.getMessage().contains("weight scale [0] 1.0E38"), e.getMessage());
        assertTrue(e.getMessage().contains("WeightOnlyLinear"), e.getMessage());
    }
}

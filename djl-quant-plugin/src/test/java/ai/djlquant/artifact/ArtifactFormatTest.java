package ai.djlquant.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Model;
import ai.djlquant.QuantizationReport;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The format as written, spelled out literally here rather than through {@link ArtifactFormat}: a
 * change to one of its names passes every round trip (both sides use the same constant) but breaks
 * the artifacts already written, so it must fail here.
 */
class ArtifactFormatTest {

    @TempDir static Path tmp;

    private static Path dir;
    private static JsonObject manifest;
    private static QuantizationReport report;

    @BeforeAll
    static void export() throws Exception {
        dir = tmp.resolve("net-int8");
        try (Model m = TestNets.floatModel(new TestNets.ResidualNet(), "net", 1)) {
            report = TestNets.quantize(m);
            ArtifactWriter.builder()
                    .setModel(m)
                    .setBaseBlockFactory(TestNets.ResidualNet.class)
                    .optReport(report)
                    .optAccuracy("ds", 10, 0.5, 0.4)
                    .optTranslatorFactory("com.example.Translators")
                    .optArgument("width", "2")
                    .build()
                    .write(dir);
        }
        manifest =
                JsonParser.parseString(Files.readString(ArtifactLoader.filesDirectory(dir).resolve("quantization.json")))
                        .getAsJsonObject();
    }

    private static List<String> keys(JsonObject o) {
        return new ArrayList<>(o.keySet());
    }

    @Test
    void manifestFields() {
        assertEquals(
                List.of(
                        "format",
                        "formatVersion",
                        "libraryVersion",
                        "djlVersion",
                        "engine",
                        "modelName",
                        "parametersFile",
                        "baseBlockFactory",
                        "calibration",
                        "accuracy",
                        "weightBytes",
                        "layers",
                        "rewrites",
                        "architecture",
                        "int8Chains", // the residual branch's two convolutions chain
                        "parameters",
                        "report",
                        "files"),
                keys(manifest));
        assertEquals("djl-quant artifact", manifest.get("format").getAsString());
        assertEquals(2, manifest.get("formatVersion").getAsInt());
        assertEquals("net-0000.params", manifest.get("parametersFile").getAsString());
        assertEquals(
                List.of("method", "samples", "batches", "source", "activationBits", "backend"),
                keys(manifest.getAsJsonObject("calibration")));
        assertEquals(
                report.getCalibration().estimator() + " on " + report.getCalibration().observer(),
                manifest.getAsJsonObject("calibration").get("method").getAsString());
        assertEquals(
                List.of("dataset", "samples", "fp32Top1", "int8Top1"),
                keys(manifest.getAsJsonObject("accuracy")));
        assertEquals(List.of("fp32", "int8"), keys(manifest.getAsJsonObject("weightBytes")));
        assertEquals(
                report.getModelFloatBytes(),
                manifest.getAsJsonObject("weightBytes").get("fp32").getAsLong());
        assertEquals(
                List.of("net-0000.params", "serving.properties"),
                keys(manifest.getAsJsonObject("files")));
        assertEquals(
                List.of("sha256", "bytes"),
                keys(manifest.getAsJsonObject("files").getAsJsonObject("serving.properties")));
    }

    @Test
    void layerAndRewriteFields() {
        JsonObject layer = manifest.getAsJsonArray("layers").get(0).getAsJsonObject();
        assertEquals(
                List.of("path", "type", "mode", "fusedRelu", "activation", "weight"), keys(layer));
        assertEquals("STATIC", layer.get("mode").getAsString());
        JsonObject a = layer.getAsJsonObject("activation");
        assertEquals(List.of("scheme", "bits", "scale", "zeroPoint"), keys(a));
        assertEquals("uint8 asymmetric per-tensor", a.get("scheme").getAsString());
        JsonObject w = layer.getAsJsonObject("weight");
        assertEquals(List.of("scheme", "channels", "scales"), keys(w));
        assertEquals("int8 symmetric per-channel [-127, 127]", w.get("scheme").getAsString());
        JsonObject rewrite = manifest.getAsJsonArray("rewrites").get(0).getAsJsonObject();
        assertEquals(List.of("path", "base", "block"), keys(rewrite));
    }

    @Test
    void servingPropertiesKeys() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(ArtifactLoader.filesDirectory(dir).resolve("serving.properties"))) {
            p.load(r);
        }
        assertEquals("PyTorch", p.getProperty("engine"));
        assertEquals(QuantizedBlockFactory.class.getName(), p.getProperty("blockFactory"));
        assertEquals(TestNets.ResidualNet.class.getName(), p.getProperty("baseBlockFactory"));
        assertEquals("com.example.Translators", p.getProperty("translatorFactory"));
        assertEquals("2", p.getProperty("width"));
        assertEquals("net", p.getProperty("option.modelName"));
        assertEquals("false", p.getProperty("option.hasParameter"));
        assertEquals(7, p.size());
    }
}

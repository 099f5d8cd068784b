package ai.djlquant.artifact;

import ai.djl.engine.Engine;
import ai.djl.nn.Block;
import ai.djlquant.QuantizationReport;
import ai.djlquant.artifact.ArtifactFormat.Accuracy;
import ai.djlquant.artifact.ArtifactFormat.Calibration;
import ai.djlquant.artifact.ArtifactFormat.Manifest;
import ai.djlquant.artifact.ArtifactFormat.WeightBytes;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.ChainTargets;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes {@code quantization.json} into a staging directory that already holds the artifact's
 * other files: it records the quantized tree, the export's settings, a summary of the quantizer's
 * report and the checksum of every file there.
 */
final class ManifestWriter {

    private final String modelName;
    private final String baseFactory;
    private final QuantizationReport report;
    private final JsonObject accuracy;

    /**
     * Creates a writer for one export.
     *
     * @param modelName the model name
     * @param baseFactory the base block factory's class name
     * @param report the quantizer's report, or null
     * @param accuracy the measured accuracy ({@link #accuracy}), or null
     */
    ManifestWriter(
            String modelName, String baseFactory, QuantizationReport report, JsonObject accuracy) {
        this.modelName = modelName;
        this.baseFactory = baseFactory;
        this.report = report;
        this.accuracy = accuracy;
    }

    /**
     * The manifest's {@code accuracy} object.
     *
     * @param dataset what was measured on
     * @param samples the number of samples
     * @param fp32Top1 the float model's top-1
     * @param int8Top1 the quantized model's top-1
     * @return the object
     */
    static JsonObject accuracy(String dataset, long samples, double fp32Top1, double int8Top1) {
        JsonObject o = new JsonObject();
        o.addProperty(Accuracy.DATASET, dataset);
        o.addProperty(Accuracy.SAMPLES, samples);
        o.addProperty(Accuracy.FP32_TOP1, fp32Top1);
        o.addProperty(Accuracy.INT8_TOP1, int8Top1);
        return o;
    }

    /**
     * Writes the manifest.
     *
     * @param dir the staging directory, holding every other file of the artifact
     * @param engine the engine name
     * @param quantized the quantized model's tree
     * @param rewrites the places that differ from the base factory's tree
     * @return the manifest, as a loader reads it
     * @throws IOException if a file cannot be read or the manifest written
     * @throws ArtifactException if the written manifest does not read back (a bug)
     */
    ArtifactManifest write(Path dir, String engine, BlockTree quantized, List<Rewrite> rewrites)
            throws IOException, ArtifactException {
        Block root = quantized.getRoot().getBlock();
        JsonObject m = new JsonObject();
        m.addProperty(Manifest.FORMAT, ArtifactFormat.NAME);
        m.addProperty(Manifest.FORMAT_VERSION, ArtifactFormat.VERSION);
        m.addProperty(Manifest.LIBRARY_VERSION, ArtifactManifest.libraryVersion());
        m.addProperty(Manifest.DJL_VERSION, Engine.getDjlVersion());
        m.addProperty(Manifest.ENGINE, engine);
        m.addProperty(Manifest.MODEL_NAME, modelName);
        m.addProperty(Manifest.PARAMETERS_FILE, ArtifactFormat.parametersFile(modelName));
        m.addProperty(Manifest.BASE_BLOCK_FACTORY, baseFactory);
        m.add(Manifest.CALIBRATION, calibration());
        m.add(Manifest.ACCURACY, accuracy);
        m.add(Manifest.WEIGHT_BYTES, weightBytes(root));
        JsonArray layers = new JsonArray();
        for (BlockNode n : quantized.getNodes()) {
            if (LayerRecord.isInt8(n.getBlock())) {
                layers.add(LayerRecord.of(n.getPath(), n.getBlock()).toJson());
            }
        }
        m.add(Manifest.LAYERS, layers);
        JsonArray rw = new JsonArray();
        for (Rewrite r : rewrites) {
            rw.add(r.toJson());
        }
        m.add(Manifest.REWRITES, rw);
        m.add(Manifest.ARCHITECTURE, strings(TreeRewrites.architecture(quantized)));
        List<String> chains = ChainTargets.formed(quantized);
        if (!chains.isEmpty()) {
            JsonArray names = new JsonArray();
            chains.forEach(names::add);
            m.add(Manifest.INT8_CHAINS, names);
        }
        m.add(Manifest.PARAMETERS, strings(ParamsFile.describeParameters(root)));
        m.add(Manifest.REPORT, report == null ? null : JsonParser.parseString(report.toJson()));
        m.add(Manifest.FILES, ArtifactFiles.toJson(ArtifactFiles.checksums(dir)));
        String text = ArtifactManifest.GSON.toJson(m) + "\n";
        Files.writeString(dir.resolve(ArtifactFormat.MANIFEST_FILE), text, StandardCharsets.UTF_8);
        return ManifestReader.parse(text, ArtifactFormat.MANIFEST_FILE);
    }

    /** The report's calibration, summarised; null without a report. */
    private JsonObject calibration() {
        if (report == null) {
            return null;
        }
        QuantizationReport.Calibration c = report.getCalibration();
        JsonObject o = new JsonObject();
        o.addProperty(Calibration.METHOD, c.estimator() + " on " + c.observer());
        o.addProperty(Calibration.SAMPLES, c.samples());
        o.addProperty(Calibration.BATCHES, c.batches());
        o.addProperty(Calibration.SOURCE, c.source());
        o.addProperty(Calibration.ACTIVATION_BITS, c.activationBits());
        o.addProperty(Calibration.BACKEND, c.backend());
        return o;
    }

    /** The float size from the report (when there is one) and the artifact's parameter bytes. */
    private JsonObject weightBytes(Block root) {
        JsonObject o = new JsonObject();
        if (report != null) {
            o.addProperty(WeightBytes.FP32, report.getModelFloatBytes());
        }
        o.addProperty(WeightBytes.INT8, BlockTree.parameterBytes(root));
        return o;
    }

    private static JsonObject strings(Map<String, String> map) {
        JsonObject o = new JsonObject();
        for (Map.Entry<String, String> e : map.entrySet()) {
            o.addProperty(e.getKey(), e.getValue());
        }
        return o;
    }
}

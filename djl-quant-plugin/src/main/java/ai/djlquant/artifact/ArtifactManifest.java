package ai.djlquant.artifact;

import ai.djlquant.artifact.ArtifactFormat.Manifest;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * An artifact's {@code quantization.json}: the format version, the library that wrote it, the model
 * name and parameter file, the base block factory and the rewrites that turn its tree into the
 * quantized one, the per-layer plan with every int8 layer's quantization parameters, the
 * calibration, the accuracy and size, the quantizer's report, and the SHA-256 and size of every
 * other file of the artifact. The field names are those of {@link ArtifactFormat}.
 *
 * <p>{@link #read(Path)} parses and checks the document (format, version, every field it uses);
 * {@link #verifyFiles(Path)} checks the files against their checksums. Both throw an {@link
 * ArtifactException} that names the field or file at fault.
 */
public final class ArtifactManifest {

    // FILE_NAME, SERVING_PROPERTIES and FORMAT_VERSION are ArtifactFormat's values under their
    // older names, kept for the callers outside this package that still use them.

    /** The manifest's file name: {@link ArtifactFormat#MANIFEST_FILE}. */
    public static final String FILE_NAME = ArtifactFormat.MANIFEST_FILE;

    /** The {@code serving.properties} file name: {@link ArtifactFormat#SERVING_PROPERTIES_FILE}. */
    public static final String SERVING_PROPERTIES = ArtifactFormat.SERVING_PROPERTIES_FILE;

    /** The format version written and the newest read: {@link ArtifactFormat#VERSION}. */
    public static final int FORMAT_VERSION = ArtifactFormat.VERSION;

    /** How manifests are written (and, in tests, rewritten): pretty, with nulls kept. */
    static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    private final JsonObject json;
    private final int formatVersion;
    private final String libraryVersion;
    private final String djlVersion;
    private final String engine;
    private final String modelName;
    private final String parametersFile;
    private final String baseBlockFactory;
    private final Map<String, FileEntry> files;
    private final List<Rewrite> rewrites = new ArrayList<>();
    private final List<LayerRecord> layers = new ArrayList<>();
    private final Map<String, String> architecture;
    private final Map<String, String> parameters;
    private final List<String> int8Chains = new ArrayList<>();

    /**
     * Reads the fields of a manifest whose format and version {@link ManifestReader} has checked.
     *
     * @param json the document
     * @throws IllegalArgumentException naming the first field that is missing or wrong
     */
    ArtifactManifest(JsonObject json) {
        this.json = json;
        String w = FILE_NAME;
        formatVersion = (int) Json.integer(json, Manifest.FORMAT_VERSION, w);
        libraryVersion = Json.string(json, Manifest.LIBRARY_VERSION, w);
        djlVersion = Json.string(json, Manifest.DJL_VERSION, w);
        engine = Json.string(json, Manifest.ENGINE, w);
        modelName = Json.string(json, Manifest.MODEL_NAME, w);
        if (!ArtifactFiles.isPlainName(modelName)) {
            throw invalid(Manifest.MODEL_NAME, "'" + modelName + "' is not a plain file name");
        }
        parametersFile = Json.string(json, Manifest.PARAMETERS_FILE, w);
        String expected = ArtifactFormat.parametersFile(modelName);
        if (!parametersFile.equals(expected)) {
            throw invalid(
                    Manifest.PARAMETERS_FILE,
                    "is '" + parametersFile + "', expected '" + expected + "'");
        }
        baseBlockFactory = Json.string(json, Manifest.BASE_BLOCK_FACTORY, w);
        JsonArray rw = Json.array(json, Manifest.REWRITES, w);
        for (int i = 0; i < rw.size(); i++) {
            rewrites.add(Rewrite.fromJson(rw.get(i), field(Manifest.REWRITES) + "[" + i + "]"));
        }
        JsonArray ls = Json.array(json, Manifest.LAYERS, w);
        for (int i = 0; i < ls.size(); i++) {
            layers.add(LayerRecord.fromJson(ls.get(i), field(Manifest.LAYERS) + "[" + i + "]"));
        }
        architecture = Json.strings(json, Manifest.ARCHITECTURE, w);
        parameters = Json.strings(json, Manifest.PARAMETERS, w);
        JsonElement chains = json.get(Manifest.INT8_CHAINS);
        if (chains != null && !chains.isJsonNull()) {
            if (!chains.isJsonArray()) {
                throw invalid(Manifest.INT8_CHAINS, "is not a JSON array of chain names");
            }
            for (JsonElement c : chains.getAsJsonArray()) {
                if (!c.isJsonPrimitive() || !c.getAsJsonPrimitive().isString()) {
                    throw invalid(Manifest.INT8_CHAINS, "holds " + c + ", not a chain name");
                }
                int8Chains.add(c.getAsString());
            }
        }
        files =
                ArtifactFiles.fromJson(
                        Json.object(json, Manifest.FILES, w), field(Manifest.FILES));
        for (String required : new String[] {parametersFile, SERVING_PROPERTIES}) {
            if (!files.containsKey(required)) {
                throw invalid(
                        Manifest.FILES,
                        "does not list " + required + ", so it cannot be verified");
            }
        }
        for (String key :
                new String[] {
                    Manifest.CALIBRATION, Manifest.ACCURACY, Manifest.WEIGHT_BYTES, Manifest.REPORT
                }) {
            JsonElement e = json.get(key);
            if (e != null && !e.isJsonNull() && !e.isJsonObject()) {
                throw invalid(key, "is not a JSON object");
            }
        }
    }

    /** A top-level field as messages name it: {@code quantization.json.key}. */
    private static String field(String key) {
        return FILE_NAME + "." + key;
    }

    private static IllegalArgumentException invalid(String key, String what) {
        return new IllegalArgumentException(field(key) + " " + what);
    }

    /**
     * Reads and checks an artifact's manifest (not its other files: see {@link #verifyFiles}).
     *
     * @param dir the artifact directory
     * @return the manifest
     * @throws ArtifactException if the directory or manifest is missing, not valid JSON, of an
     *     unknown or newer format version, or lacks a field (named in the message)
     */
    public static ArtifactManifest read(Path dir) throws ArtifactException {
        return ManifestReader.read(dir);
    }

    /**
     * Checks every file the manifest lists: present, of the recorded size, with the recorded
     * SHA-256; and that the directory holds no other file (DJL puts the jars and classes it finds
     * in a model directory on the class path, so an unlisted one would run unchecked).
     *
     * @param dir the artifact directory
     * @throws ArtifactException naming the first file that is missing, truncated, changed or not
     *     listed
     */
    public void verifyFiles(Path dir) throws ArtifactException {
        ArtifactFiles.verify(dir, files);
    }

    /**
     * Computes the SHA-256 of a file.
     *
     * @param file the file
     * @return 64 lower-case hex digits
     * @throws IOException if the file cannot be read
     */
    public static String sha256(Path file) throws IOException {
        return ArtifactFiles.sha256(file);
    }

    /**
     * Returns the version of this library (the one that writes artifacts).
     *
     * @return the version, or "unknown" when run from classes without the filtered resource
     */
    public static String libraryVersion() {
        try (InputStream in = ArtifactManifest.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.startsWith("${")) {
                    return v;
                }
            }
        } catch (IOException e) {
            // fall through: the version is informative only
        }
        return "unknown";
    }

    /**
     * Returns the format version of the manifest.
     *
     * @return the format version
     */
    public int getFormatVersion() {
        return formatVersion;
    }

    /**
     * Returns the djl-quant version that wrote the artifact.
     *
     * @return the version
     */
    public String getLibraryVersion() {
        return libraryVersion;
    }

    /**
     * Returns the DJL version the artifact was written with.
     *
     * @return the DJL version
     */
    public String getDjlVersion() {
        return djlVersion;
    }

    /**
     * Returns the engine the artifact runs on.
     *
     * @return the engine name ("PyTorch")
     */
    public String getEngine() {
        return engine;
    }

    /**
     * Returns the model name (the prefix of the parameter file).
     *
     * @return the model name
     */
    public String getModelName() {
        return modelName;
    }

    /**
     * Returns the parameter file's name.
     *
     * @return {@code <name>-0000.params}
     */
    public String getParametersFile() {
        return parametersFile;
    }

    /**
     * Returns the class name of the block factory that builds the float architecture.
     *
     * @return the class name
     */
    public String getBaseBlockFactory() {
        return baseBlockFactory;
    }

    /**
     * Returns the files the manifest covers, with their checksums and sizes.
     *
     * @return file name to entry
     */
    public Map<String, FileEntry> getFiles() {
        return Collections.unmodifiableMap(files);
    }

    /**
     * Returns the number of int8 layers.
     *
     * @return the count
     */
    public int getInt8LayerCount() {
        return layers.size();
    }

    /**
     * Returns the number of places of the tree the artifact replaces (int8 blocks, pass-throughs,
     * folded layers).
     *
     * @return the count
     */
    public int getRewriteCount() {
        return rewrites.size();
    }

    /**
     * Returns a number from the manifest, for example {@code (Manifest.ACCURACY,
     * Accuracy.INT8_TOP1)}.
     *
     * @param section the object ({@link Manifest#CALIBRATION}, {@link Manifest#ACCURACY}, {@link
     *     Manifest#WEIGHT_BYTES})
     * @param key the field (see {@link ArtifactFormat})
     * @return the number, or null if the section or field is absent or not a number
     */
    public Double getNumber(String section, String key) {
        JsonElement e = field(section, key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()
                ? e.getAsDouble()
                : null;
    }

    /**
     * Returns a text field from the manifest, for example {@code (Manifest.CALIBRATION,
     * Calibration.METHOD)}.
     *
     * @param section the object
     * @param key the field
     * @return the text, or null if absent or not a string
     */
    public String getText(String section, String key) {
        JsonElement e = field(section, key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()
                ? e.getAsString()
                : null;
    }

    private JsonElement field(String section, String key) {
        JsonElement s = json.get(section);
        if (s == null || !s.isJsonObject()) {
            return null;
        }
        JsonElement e = s.getAsJsonObject().get(key);
        return e == null || e.isJsonNull() ? null : e;
    }

    /**
     * Returns the quantizer's report as recorded (the JSON of {@code QuantizationReport.toJson()}).
     *
     * @return the report's JSON text, or null if the export had none
     */
    public String getReportJson() {
        JsonElement r = json.get(Manifest.REPORT);
        return r == null || r.isJsonNull() ? null : GSON.toJson(r);
    }

    /**
     * Returns the per-layer plan as recorded: one JSON object per int8 layer (path, type, mode,
     * fused ReLU, activation and weight quantization parameters).
     *
     * @return the layers' JSON text (an array)
     */
    public String getLayersJson() {
        return GSON.toJson(json.get(Manifest.LAYERS));
    }

    /**
     * Returns the whole document.
     *
     * @return the JSON text
     */
    public String toJson() {
        return GSON.toJson(json);
    }

    /** The names of the int8 chains the exported model ran, in the model's order; empty: none. */
    List<String> int8Chains() {
        return Collections.unmodifiableList(int8Chains);
    }

    /** The rewrites, in pre-order. */
    List<Rewrite> rewrites() {
        return Collections.unmodifiableList(rewrites);
    }

    /** The int8 layers, in pre-order. */
    List<LayerRecord> layers() {
        return Collections.unmodifiableList(layers);
    }

    /** Every place of the quantized tree, path to {@link BlockSpec#describe}. */
    Map<String, String> architecture() {
        return Collections.unmodifiableMap(architecture);
    }

    /** Every parameter, {@code path/name} to data type and shape. */
    Map<String, String> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /**
     * A file's recorded SHA-256 and size.
     *
     * @param sha256 64 lower-case hex digits
     * @param bytes the size
     */
    public record FileEntry(String sha256, long bytes) {

        /**
         * Returns the SHA-256 (the same as {@link #sha256()}, for callers written before this was
         * a record).
         *
         * @return 64 lower-case hex digits
         */
        public String getSha256() {
            return sha256;
        }

        /**
         * Returns the size (the same as {@link #bytes()}, for callers written before this was a
         * record).
         *
         * @return bytes
         */
        public long getBytes() {
            return bytes;
        }
    }
}

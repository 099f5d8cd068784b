package ai.djlquant.artifact;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * An artifact's {@code quantization.json}: the format version, the library that wrote it, the model
 * name and parameter file, the base block factory and the rewrites that turn its tree into the
 * quantized one, the per-layer plan with every int8 layer's quantization parameters, the
 * calibration, the accuracy and size, the quantizer's report, and the SHA-256 and size of every
 * other file of the artifact.
 *
 * <p>{@link #read(Path)} parses and checks the document (format, version, every field it uses);
 * {@link #verifyFiles(Path)} checks the files against their checksums. Both throw an {@link
 * ArtifactException} that names the field or file at fault.
 */
public final class ArtifactManifest {

    /** The manifest's file name in an artifact directory. */
    public static final String FILE_NAME = "quantization.json";

    /** The {@code serving.properties} file name. */
    public static final String SERVING_PROPERTIES = "serving.properties";

    /** The format version this library writes and the newest it reads. */
    public static final int FORMAT_VERSION = 1;

    /** The value of the manifest's {@code format} field. */
    static final String FORMAT_NAME = "djl-quant artifact";

    static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    /** Far above any real manifest (a BERT-base model's is about 2 MB). */
    static final long MAX_MANIFEST_BYTES = 64L << 20;

    private static final Pattern PLAIN_FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final JsonObject json;
    private final int formatVersion;
    private final String libraryVersion;
    private final String djlVersion;
    private final String engine;
    private final String modelName;
    private final String parametersFile;
    private final String baseBlockFactory;
    private final Map<String, FileEntry> files = new LinkedHashMap<>();
    final List<TreeRewrites.Rewrite> rewrites = new ArrayList<>();
    final List<LayerRecord> layers = new ArrayList<>();
    final Map<String, String> architecture = new LinkedHashMap<>();
    final Map<String, String> parameters = new LinkedHashMap<>();

    private ArtifactManifest(JsonObject json) {
        this.json = json;
        String w = FILE_NAME;
        formatVersion = (int) Json.integer(json, "formatVersion", w);
        libraryVersion = Json.string(json, "libraryVersion", w);
        djlVersion = Json.string(json, "djlVersion", w);
        engine = Json.string(json, "engine", w);
        modelName = Json.string(json, "modelName", w);
        if (!isPlainName(modelName)) {
            throw new IllegalArgumentException(
                    w + ".modelName '" + modelName + "' is not a plain file name");
        }
        parametersFile = Json.string(json, "parametersFile", w);
        if (!parametersFile.equals(ParamsFile.fileName(modelName))) {
            throw new IllegalArgumentException(
                    w
                            + ".parametersFile is '"
                            + parametersFile
                            + "', expected '"
                            + ParamsFile.fileName(modelName)
                            + "'");
        }
        baseBlockFactory = Json.string(json, "baseBlockFactory", w);
        JsonArray rw = Json.array(json, "rewrites", w);
        for (int i = 0; i < rw.size(); i++) {
            String where = w + ".rewrites[" + i + "]";
            JsonObject o = Json.object(rw.get(i), where);
            rewrites.add(
                    new TreeRewrites.Rewrite(
                            Json.string(o, "path", where),
                            Json.string(o, "base", where),
                            BlockSpec.fromJson(o.get("block"), where + ".block")));
        }
        JsonArray ls = Json.array(json, "layers", w);
        for (int i = 0; i < ls.size(); i++) {
            layers.add(LayerRecord.fromJson(ls.get(i), w + ".layers[" + i + "]"));
        }
        readStrings(Json.object(json, "architecture", w), architecture, w + ".architecture");
        readStrings(Json.object(json, "parameters", w), parameters, w + ".parameters");
        JsonObject f = Json.object(json, "files", w);
        for (Map.Entry<String, JsonElement> e : f.entrySet()) {
            String where = w + ".files." + e.getKey();
            if (!isPlainName(e.getKey()) || e.getKey().equals(FILE_NAME)) {
                throw new IllegalArgumentException(
                        w
                                + ".files lists '"
                                + e.getKey()
                                + "', which is not a plain file name of the artifact");
            }
            JsonObject o = Json.object(e.getValue(), where);
            String sha = Json.string(o, "sha256", where);
            if (!SHA256.matcher(sha).matches()) {
                throw new IllegalArgumentException(where + ".sha256 is not 64 hex digits");
            }
            long bytes = Json.integer(o, "bytes", where);
            if (bytes < 0) {
                throw new IllegalArgumentException(where + ".bytes is negative");
            }
            files.put(e.getKey(), new FileEntry(sha, bytes));
        }
        for (String required : new String[] {parametersFile, SERVING_PROPERTIES}) {
            if (!files.containsKey(required)) {
                throw new IllegalArgumentException(
                        w + ".files does not list " + required + ", so it cannot be verified");
            }
        }
        optionalObject("calibration");
        optionalObject("accuracy");
        optionalObject("weightBytes");
        optionalObject("report");
    }

    private void optionalObject(String key) {
        JsonElement e = json.get(key);
        if (e != null && !e.isJsonNull() && !e.isJsonObject()) {
            throw new IllegalArgumentException(FILE_NAME + "." + key + " is not a JSON object");
        }
    }

    private static void readStrings(JsonObject o, Map<String, String> into, String where) {
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            into.put(e.getKey(), Json.string(e.getValue(), where + "." + e.getKey()));
        }
    }

    static boolean isPlainName(String name) {
        return PLAIN_FILE_NAME.matcher(name).matches() && name.length() <= 200;
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
        if (!Files.isDirectory(dir)) {
            throw new ArtifactException(
                    dir
                            + " is not a directory"
                            + (Files.exists(dir) ? "" : " (it does not exist)")
                            + "; an artifact is a model directory.");
        }
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new ArtifactException(
                    dir + " is not a djl-quant artifact: " + FILE_NAME + " is missing.");
        }
        String text;
        try {
            long size = Files.size(file);
            if (size > MAX_MANIFEST_BYTES) {
                throw new ArtifactException(
                        file + " is " + size + " bytes, more than a manifest ever is ("
                                + MAX_MANIFEST_BYTES + "): it was replaced by another file.");
            }
            text =
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(Files.readAllBytes(file)))
                            .toString();
        } catch (ArtifactException e) {
            throw e;
        } catch (CharacterCodingException e) {
            throw new ArtifactException(file + " is not UTF-8 text: it was damaged.", e);
        } catch (IOException e) {
            throw new ArtifactException(file + " cannot be read: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /**
     * Parses a manifest's text.
     *
     * @param text the JSON text
     * @param where the file, for messages
     * @return the manifest
     * @throws ArtifactException if the text is not a manifest this version reads
     */
    static ArtifactManifest parse(String text, String where) throws ArtifactException {
        JsonElement root;
        try {
            root = JsonParser.parseString(text);
        } catch (JsonParseException | StackOverflowError e) {
            throw new ArtifactException(where + " is not valid JSON: " + rootMessage(e) + ".", e);
        }
        if (root == null || !root.isJsonObject()) {
            throw new ArtifactException(where + " is not a JSON object.");
        }
        JsonObject o = root.getAsJsonObject();
        JsonElement format = o.get("format");
        if (format == null
                || !format.isJsonPrimitive()
                || !FORMAT_NAME.equals(format.getAsString())) {
            throw new ArtifactException(
                    where
                            + " is not a djl-quant artifact manifest: its field 'format' is "
                            + (format == null ? "missing" : format.toString())
                            + ", expected \""
                            + FORMAT_NAME
                            + "\".");
        }
        long version;
        try {
            version = Json.integer(o, "formatVersion", FILE_NAME);
        } catch (IllegalArgumentException e) {
            throw new ArtifactException(where + ": " + e.getMessage() + ".", e);
        }
        if (version > FORMAT_VERSION) {
            JsonElement by = o.get("libraryVersion");
            throw new ArtifactException(
                    where
                            + " has format version "
                            + version
                            + ", newer than the "
                            + FORMAT_VERSION
                            + " this djl-quant ("
                            + libraryVersion()
                            + ") reads; it was written by djl-quant "
                            + (by != null && by.isJsonPrimitive() ? by.getAsString() : "(unknown)")
                            + ": load it with that version or newer.");
        }
        if (version < 1) {
            throw new ArtifactException(
                    where + " has format version " + version + ", which no djl-quant wrote.");
        }
        try {
            return new ArtifactManifest(o);
        } catch (IllegalArgumentException e) {
            throw new ArtifactException(where + ": " + e.getMessage() + ".", e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.toString() : t.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl); // Gson adds a line with a troubleshooting link
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
        for (Map.Entry<String, FileEntry> e : files.entrySet()) {
            Path file = dir.resolve(e.getKey());
            FileEntry want = e.getValue();
            if (!Files.isRegularFile(file)) {
                throw new ArtifactException(
                        file + " is missing (" + FILE_NAME + " lists it with its checksum).");
            }
            long size;
            String sha;
            try {
                size = Files.size(file);
                sha = sha256(file);
            } catch (IOException ex) {
                throw new ArtifactException(file + " cannot be read: " + ex.getMessage(), ex);
            }
            if (size != want.bytes) {
                throw new ArtifactException(
                        file
                                + (size < want.bytes ? " is truncated: " : " has grown: ")
                                + size
                                + " bytes, "
                                + FILE_NAME
                                + " records "
                                + want.bytes
                                + ".");
            }
            if (!sha.equals(want.sha256)) {
                throw new ArtifactException(
                        file
                                + " was changed after export: its SHA-256 is "
                                + sha
                                + ", "
                                + FILE_NAME
                                + " records "
                                + want.sha256
                                + ".");
            }
        }
        checkNothingUnlisted(dir);
    }

    private void checkNothingUnlisted(Path dir) throws ArtifactException {
        List<Path> unlisted;
        try (Stream<Path> walk = Files.walk(dir)) {
            unlisted =
                    walk.filter(f -> !Files.isDirectory(f))
                            .filter(
                                    f -> {
                                        String rel = dir.relativize(f).toString();
                                        return !rel.equals(FILE_NAME) && !files.containsKey(rel);
                                    })
                            .sorted()
                            .collect(Collectors.toList());
        } catch (IOException | UncheckedIOException e) {
            throw new ArtifactException(dir + " cannot be listed: " + e.getMessage(), e);
        }
        if (!unlisted.isEmpty()) {
            throw new ArtifactException(
                    unlisted.get(0)
                            + " is not listed in "
                            + FILE_NAME
                            + (unlisted.size() > 1
                                    ? " (nor are " + (unlisted.size() - 1) + " more files)"
                                    : "")
                            + ": an artifact holds only the files it lists with their checksums"
                            + " (a jar or class there would be loaded unchecked); remove it, or"
                            + " export again with it as an extra file.");
        }
    }

    /**
     * Reads the artifact's {@code serving.properties} (after {@link #verifyFiles}).
     *
     * @param dir the artifact directory
     * @return the properties
     * @throws ArtifactException if the file cannot be read
     */
    Properties readServingProperties(Path dir) throws ArtifactException {
        Path file = dir.resolve(SERVING_PROPERTIES);
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new ArtifactException(file + " cannot be read: " + e.getMessage(), e);
        }
        return p;
    }

    /**
     * Computes the SHA-256 of a file.
     *
     * @param file the file
     * @return 64 lower-case hex digits
     * @throws IOException if the file cannot be read
     */
    public static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e); // required of every JDK
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        StringBuilder sb = new StringBuilder(64);
        for (byte b : md.digest()) {
            sb.append(String.format(Locale.ROOT, "%02x", b));
        }
        return sb.toString();
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
     * Returns a number from the manifest, for example {@code ("accuracy", "int8Top1")}.
     *
     * @param section the object ({@code calibration}, {@code accuracy}, {@code weightBytes})
     * @param key the field
     * @return the number, or null if the section or field is absent or not a number
     */
    public Double getNumber(String section, String key) {
        JsonElement e = field(section, key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()
                ? e.getAsDouble()
                : null;
    }

    /**
     * Returns a text field from the manifest, for example {@code ("calibration", "method")}.
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
        JsonElement r = json.get("report");
        return r == null || r.isJsonNull() ? null : GSON.toJson(r);
    }

    /**
     * Returns the per-layer plan as recorded: one JSON object per int8 layer (path, type, mode,
     * fused ReLU, activation and weight quantization parameters).
     *
     * @return the layers' JSON text (an array)
     */
    public String getLayersJson() {
        return GSON.toJson(json.get("layers"));
    }

    /**
     * Returns the whole document.
     *
     * @return the JSON text
     */
    public String toJson() {
        return GSON.toJson(json);
    }

    /** A file's recorded SHA-256 and size. */
    public static final class FileEntry {

        private final String sha256;
        private final long bytes;

        FileEntry(String sha256, long bytes) {
            this.sha256 = sha256;
            this.bytes = bytes;
        }

        /**
         * Returns the SHA-256.
         *
         * @return 64 lower-case hex digits
         */
        public String getSha256() {
            return sha256;
        }

        /**
         * Returns the size.
         *
         * @return bytes
         */
        public long getBytes() {
            return bytes;
        }
    }
}

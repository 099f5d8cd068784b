package ai.djlquant.artifact;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djl.nn.Parameter;
import ai.djl.util.ClassLoaderUtils;
import ai.djl.util.Pair;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Exports a quantized model as an artifact: a model directory that DJL's {@code Criteria} (and
 * {@link ArtifactLoader#load}) loads.
 *
 * <pre>{@code
 * ArtifactWriter.builder()
 *         .setModel(model)                              // quantized in place by Quantizer
 *         .setBaseBlockFactory(MyBlockFactory.class)    // builds the float architecture
 *         .optReport(report.toJson())
 *         .optTranslatorFactory(MyTranslatorFactory.class.getName())
 *         .build()
 *         .write(Paths.get("build/my-model-int8"));
 * }</pre>
 *
 * <p>The directory holds {@code <name>-0000.params} (DJL's format; int8 weights as INT8 parameters,
 * quantization parameters in the int8 blocks' metadata), {@code serving.properties} ({@code
 * blockFactory=}{@link QuantizedBlockFactory}, {@value ArtifactLoader#BASE_BLOCK_FACTORY}, the
 * model name, {@code option.hasParameter=false}) and {@code quantization.json} (see {@link
 * ArtifactManifest}).
 *
 * <p>The base block factory must build the model's float architecture: the tree the model had
 * before quantization. The writer builds it, compares it with the quantized tree place by place,
 * and records the places that differ (int8 blocks, pass-throughs where BatchNorms were folded or
 * ReLUs fused); any other difference fails the export, naming the place.
 *
 * <p>Atomic: everything is written to a temporary directory beside the target, loaded back and
 * compared parameter by parameter with the model, then renamed into place. An existing target is
 * replaced only with {@link Builder#optOverwrite(boolean)}, and only if it is an artifact (or
 * empty); a failed export leaves it as it was. The model itself is never changed.
 */
public final class ArtifactWriter {

    private static final Pattern CLASS_NAME =
            Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*");

    private final Model model;
    private final String baseFactory;
    private final String modelName;
    private final String translatorFactory;
    private final Map<String, String> arguments;
    private final JsonObject report;
    private final JsonObject accuracy;
    private final List<Path> extraFiles;
    private final boolean overwrite;
    private final boolean verify;

    private ArtifactWriter(Builder b) {
        this.model = b.model;
        this.baseFactory = b.baseFactory;
        this.modelName = b.modelName != null ? b.modelName : b.model.getName();
        this.translatorFactory = b.translatorFactory;
        this.arguments = new TreeMap<>(b.arguments);
        this.report = b.report;
        this.accuracy = b.accuracy;
        this.extraFiles = new ArrayList<>(b.extraFiles);
        this.overwrite = b.overwrite;
        this.verify = b.verify;
    }

    /**
     * Creates a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Writes the artifact.
     *
     * @param dir the artifact directory to create (its parent is created if needed)
     * @return the artifact's manifest, as written
     * @throws ArtifactException if the model cannot be exported or the directory cannot be written
     *     (the target is then as it was)
     */
    public ArtifactManifest write(Path dir) throws ArtifactException {
        Path target = dir.toAbsolutePath().normalize();
        checkTarget(target);
        Block root = model.getBlock();
        if (root == null || !root.isInitialized()) {
            throw new ArtifactException(
                    "model '" + model.getName() + "' has no initialised block to export.");
        }
        BlockTree quantized = BlockTree.walk(root);
        List<TreeRewrites.Rewrite> rewrites = rewrites(quantized);
        Path parent = target.getParent();
        Path tmp;
        try {
            Files.createDirectories(parent);
            tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".export-");
        } catch (IOException e) {
            throw new ArtifactException("cannot create a directory in " + parent + ": " + e, e);
        }
        try {
            ArtifactManifest m = writeFiles(tmp, quantized, rewrites);
            if (verify) {
                verifyExport(tmp, root);
            }
            moveIntoPlace(tmp, target);
            return m;
        } catch (ArtifactException | Error e) {
            deleteQuietly(tmp, e);
            throw e;
        } catch (RuntimeException e) {
            deleteQuietly(tmp, e);
            throw new ArtifactException("cannot export model '" + model.getName() + "': " + e, e);
        } catch (IOException e) {
            deleteQuietly(tmp, e);
            throw new ArtifactException("cannot write the artifact " + target + ": " + e, e);
        }
    }

    private void checkTarget(Path target) throws ArtifactException {
        if (target.getParent() == null) {
            throw new ArtifactException("the artifact directory cannot be the root directory.");
        }
        if (!Files.exists(target)) {
            return;
        }
        if (!overwrite) {
            throw new ArtifactException(
                    target
                            + " already exists; overwrite it explicitly (optOverwrite(true),"
                            + " --overwrite) or choose another directory.");
        }
        if (!Files.isDirectory(target)) {
            throw new ArtifactException(target + " exists and is not a directory.");
        }
        if (!Files.isRegularFile(target.resolve(ArtifactManifest.FILE_NAME))
                && !isEmptyDirectory(target)) {
            throw new ArtifactException(
                    target
                            + " exists and is not an artifact (no "
                            + ArtifactManifest.FILE_NAME
                            + "); it is not replaced.");
        }
    }

    private static boolean isEmptyDirectory(Path dir) throws ArtifactException {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        } catch (IOException e) {
            throw new ArtifactException(dir + " cannot be listed: " + e, e);
        }
    }

    private List<TreeRewrites.Rewrite> rewrites(BlockTree quantized) throws ArtifactException {
        BlockFactory factory;
        try {
            factory =
                    ClassLoaderUtils.initClass(
                            ClassLoaderUtils.getContextClassLoader(),
                            BlockFactory.class,
                            baseFactory);
        } catch (RuntimeException | LinkageError e) {
            throw new ArtifactException(
                    "the block factory " + baseFactory + " cannot be created: " + e, e);
        }
        if (factory == null) {
            throw new ArtifactException(
                    "the block factory "
                            + baseFactory
                            + " is not on the classpath (or is not a"
                            + " public BlockFactory with a public no-argument constructor).");
        }
        Block base;
        try {
            base = factory.newBlock(model, model.getModelPath(), new HashMap<>(arguments));
        } catch (Exception e) {
            throw new ArtifactException(
                    "the block factory " + baseFactory + " failed to build the architecture: " + e,
                    e);
        }
        if (base == null) {
            throw new ArtifactException(
                    "the block factory " + baseFactory + " built no block (null).");
        }
        return TreeRewrites.diff(BlockTree.walk(base), quantized, baseFactory);
    }

    private ArtifactManifest writeFiles(
            Path tmp, BlockTree quantized, List<TreeRewrites.Rewrite> rewrites) throws IOException {
        Block root = quantized.getRoot().getBlock();
        String params = ParamsFile.fileName(modelName);
        ParamsFile.write(tmp.resolve(params), modelName, root);
        Files.writeString(
                tmp.resolve(ArtifactManifest.SERVING_PROPERTIES),
                servingProperties(),
                StandardCharsets.UTF_8);
        for (Path extra : extraFiles) {
            Files.copy(extra, tmp.resolve(extra.getFileName().toString()));
        }

        JsonObject m = new JsonObject();
        m.addProperty("format", ArtifactManifest.FORMAT_NAME);
        m.addProperty("formatVersion", ArtifactManifest.FORMAT_VERSION);
        m.addProperty("libraryVersion", ArtifactManifest.libraryVersion());
        m.addProperty("djlVersion", Engine.getDjlVersion());
        m.addProperty("engine", model.getNDManager().getEngine().getEngineName());
        m.addProperty("modelName", modelName);
        m.addProperty("parametersFile", params);
        m.addProperty("baseBlockFactory", baseFactory);
        m.add("calibration", calibration());
        m.add("accuracy", accuracy);
        m.add("weightBytes", weightBytes(root));
        JsonArray layers = new JsonArray();
        for (BlockNode n : quantized.getNodes()) {
            if (LayerRecord.isInt8(n.getBlock())) {
                layers.add(LayerRecord.of(n.getPath(), n.getBlock()).toJson());
            }
        }
        m.add("layers", layers);
        JsonArray rw = new JsonArray();
        for (TreeRewrites.Rewrite r : rewrites) {
            JsonObject o = new JsonObject();
            o.addProperty("path", r.path);
            o.addProperty("base", r.base);
            o.add("block", r.spec.toJson());
            rw.add(o);
        }
        m.add("rewrites", rw);
        m.add("architecture", strings(TreeRewrites.architecture(quantized)));
        m.add("parameters", strings(ParamsFile.describeParameters(root)));
        m.add("report", report);
        JsonObject files = new JsonObject();
        try (Stream<Path> s = Files.list(tmp)) {
            List<Path> list = new ArrayList<>();
            s.forEach(list::add);
            list.sort(Comparator.comparing(p -> p.getFileName().toString()));
            for (Path f : list) {
                JsonObject o = new JsonObject();
                o.addProperty("sha256", ArtifactManifest.sha256(f));
                o.addProperty("bytes", Files.size(f));
                files.add(f.getFileName().toString(), o);
            }
        }
        m.add("files", files);
        String text = ArtifactManifest.GSON.toJson(m) + "\n";
        Files.writeString(tmp.resolve(ArtifactManifest.FILE_NAME), text, StandardCharsets.UTF_8);
        return ArtifactManifest.parse(text, ArtifactManifest.FILE_NAME);
    }

    private String servingProperties() {
        StringBuilder sb = new StringBuilder();
        sb.append("# djl-quant artifact: load with Criteria.builder().optModelPath(<this dir>)")
                .append(" or ArtifactLoader.load(<this dir>)\n");
        sb.append("engine=").append(model.getNDManager().getEngine().getEngineName()).append('\n');
        sb.append("blockFactory=").append(QuantizedBlockFactory.class.getName()).append('\n');
        sb.append(ArtifactLoader.BASE_BLOCK_FACTORY).append('=').append(baseFactory).append('\n');
        if (translatorFactory != null) {
            sb.append("translatorFactory=").append(translatorFactory).append('\n');
        }
        for (Map.Entry<String, String> e : arguments.entrySet()) {
            sb.append(escape(e.getKey(), true)).append('=').append(escape(e.getValue(), false));
            sb.append('\n');
        }
        sb.append("option.modelName=").append(modelName).append('\n');
        sb.append("# the block factory loads (and checks) the parameters itself\n");
        sb.append("option.hasParameter=false\n");
        return sb.toString();
    }

    /** Escapes text for a properties file (java.util.Properties syntax), ASCII only. */
    static String escape(String s, boolean key) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\'
                    || c == '='
                    || c == ':'
                    || c == '#'
                    || c == '!'
                    || (c == ' ' && (key || i == 0))) {
                sb.append('\\').append(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (c < 0x20 || c > 0x7e) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private JsonObject calibration() {
        if (report == null) {
            return null;
        }
        JsonElement c = report.get("calibration");
        if (c == null || !c.isJsonObject()) {
            return null;
        }
        JsonObject r = c.getAsJsonObject();
        JsonObject o = new JsonObject();
        String estimator = text(r, "estimator");
        String observer = text(r, "observer");
        o.addProperty(
                "method",
                (estimator == null ? "?" : estimator)
                        + " on "
                        + (observer == null ? "?" : observer));
        copy(r, o, "samples");
        copy(r, o, "batches");
        copy(r, o, "source");
        copy(r, o, "activationBits");
        copy(r, o, "backend");
        return o;
    }

    private JsonObject weightBytes(Block root) {
        JsonObject o = new JsonObject();
        JsonElement totals = report == null ? null : report.get("totals");
        if (totals != null && totals.isJsonObject()) {
            copy(totals.getAsJsonObject(), o, "modelFloatBytes", "fp32");
        }
        long bytes = 0;
        for (Pair<String, Parameter> p : root.getParameters()) {
            NDArray a = p.getValue().getArray();
            bytes += a.size() * a.getDataType().getNumOfBytes();
        }
        o.addProperty("int8", bytes);
        return o;
    }

    private static String text(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() ? e.getAsString() : null;
    }

    private static void copy(JsonObject from, JsonObject to, String key) {
        copy(from, to, key, key);
    }

    private static void copy(JsonObject from, JsonObject to, String key, String as) {
        JsonElement e = from.get(key);
        if (e != null && !e.isJsonNull()) {
            to.add(as, e);
        }
    }

    private static JsonObject strings(Map<String, String> map) {
        JsonObject o = new JsonObject();
        for (Map.Entry<String, String> e : map.entrySet()) {
            o.addProperty(e.getKey(), e.getValue());
        }
        return o;
    }

    /** Loads the written directory and compares every parameter with the model's, bit for bit. */
    private void verifyExport(Path tmp, Block root) throws ArtifactException {
        ArtifactManifest m = ArtifactLoader.verify(tmp);
        try (Model check = Model.newInstance(m.getModelName(), m.getEngine())) {
            Map<String, Object> args = new HashMap<>(arguments);
            Block loaded = ArtifactLoader.rebuild(check, tmp, m, args);
            Map<String, NDArray> want = arrays(root);
            Map<String, NDArray> got = arrays(loaded);
            for (Map.Entry<String, NDArray> e : want.entrySet()) {
                NDArray a = e.getValue();
                NDArray b = got.get(e.getKey());
                if (b == null
                        || a.getDataType() != b.getDataType()
                        || !a.getShape().equals(b.getShape())
                        || !Arrays.equals(a.toByteArray(), b.toByteArray())) {
                    throw new ArtifactException(
                            "the exported artifact does not load back identically: parameter "
                                    + e.getKey()
                                    + " differs.");
                }
            }
        } catch (ArtifactException e) {
            throw new ArtifactException("the export check failed: " + e.getMessage(), e);
        }
    }

    private static Map<String, NDArray> arrays(Block root) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        for (BlockNode n : BlockTree.walk(root).getNodes()) {
            for (Pair<String, Parameter> p : n.getBlock().getDirectParameters()) {
                m.put(n.getPath() + "/" + p.getKey(), p.getValue().getArray());
            }
        }
        return m;
    }

    /** Renames the finished directory into place, replacing an old artifact only at the end. */
    private static void moveIntoPlace(Path tmp, Path target) throws IOException {
        if (!Files.exists(target)) {
            atomicMove(tmp, target);
            return;
        }
        Path old =
                Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".old-");
        Files.delete(old);
        atomicMove(target, old);
        try {
            atomicMove(tmp, target);
        } catch (IOException e) {
            atomicMove(old, target); // put the old artifact back
            throw e;
        }
        try {
            deleteTree(old);
        } catch (IOException e) {
            // the new artifact is in place; a leftover hidden directory is only untidy
        }
    }

    private static void atomicMove(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException(
                    "the file system cannot rename " + from + " to " + to + " atomically", e);
        }
    }

    private static void deleteQuietly(Path dir, Throwable failure) {
        try {
            deleteTree(dir);
        } catch (IOException | UncheckedIOException e) {
            failure.addSuppressed(e);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.forEach(all::add);
        }
        all.sort(Comparator.reverseOrder());
        for (Path p : all) {
            Files.delete(p);
        }
    }

    /** Builds an {@link ArtifactWriter}. */
    public static final class Builder {

        private Model model;
        private String baseFactory;
        private String modelName;
        private String translatorFactory;
        private final Map<String, String> arguments = new LinkedHashMap<>();
        private JsonObject report;
        private JsonObject accuracy;
        private final List<Path> extraFiles = new ArrayList<>();
        private boolean overwrite;
        private boolean verify = true;

        Builder() {}

        /**
         * Sets the quantized model to export.
         *
         * @param model the model (quantized in place by {@code Quantizer.quantize})
         * @return this builder
         */
        public Builder setModel(Model model) {
            this.model = model;
            return this;
        }

        /**
         * Sets the block factory that builds the model's float architecture (named in the
         * artifact's {@code serving.properties}; it must be on the classpath where the artifact is
         * loaded).
         *
         * @param factory the factory class (public, with a public no-argument constructor)
         * @return this builder
         */
        public Builder setBaseBlockFactory(Class<? extends BlockFactory> factory) {
            return setBaseBlockFactory(factory.getName());
        }

        /**
         * Sets the block factory that builds the model's float architecture, by class name.
         *
         * @param className the factory's class name
         * @return this builder
         */
        public Builder setBaseBlockFactory(String className) {
            this.baseFactory = className;
            return this;
        }

        /**
         * Sets the model name (the parameter file's prefix); default: the model's name.
         *
         * @param name letters, digits, '.', '_' and '-'
         * @return this builder
         */
        public Builder optModelName(String name) {
            this.modelName = name;
            return this;
        }

        /**
         * Names a translator factory in {@code serving.properties} (DJL uses it for {@code Input ->
         * Output}, as in DJL Serving).
         *
         * @param className the translator factory's class name
         * @return this builder
         */
        public Builder optTranslatorFactory(String className) {
            this.translatorFactory = className;
            return this;
        }

        /**
         * Adds an argument to {@code serving.properties}; DJL hands it to the block factories (for
         * a base factory that takes arguments).
         *
         * @param key the key (not {@code engine}, {@code blockFactory}, ...: the keys the writer
         *     sets itself)
         * @param value the value
         * @return this builder
         */
        public Builder optArgument(String key, String value) {
            arguments.put(key, value);
            return this;
        }

        /**
         * Records the quantizer's report ({@code QuantizationReport.toJson()}): it is kept in
         * {@code quantization.json}, and its calibration and size totals are summarised there.
         *
         * @param reportJson the report's JSON text
         * @return this builder
         */
        public Builder optReport(String reportJson) {
            JsonElement e;
            try {
                e = JsonParser.parseString(reportJson);
            } catch (JsonParseException ex) {
                throw new IllegalArgumentException("report is not valid JSON: " + ex.getMessage());
            }
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException("report is not a JSON object.");
            }
            this.report = e.getAsJsonObject();
            return this;
        }

        /**
         * Records measured top-1 accuracy of the float and the quantized model.
         *
         * @param dataset what was measured on (for example "Fashion-MNIST test split")
         * @param samples the number of samples
         * @param fp32Top1 the float model's top-1, as a fraction
         * @param int8Top1 the quantized model's top-1, as a fraction
         * @return this builder
         */
        public Builder optAccuracy(String dataset, long samples, double fp32Top1, double int8Top1) {
            if (!(fp32Top1 >= 0 && fp32Top1 <= 1 && int8Top1 >= 0 && int8Top1 <= 1)) {
                throw new IllegalArgumentException(
                        "accuracy must be fractions in [0, 1], got fp32 "
                                + fp32Top1
                                + " and int8 "
                                + int8Top1
                                + ".");
            }
            JsonObject o = new JsonObject();
            o.addProperty("dataset", dataset);
            o.addProperty("samples", samples);
            o.addProperty("fp32Top1", fp32Top1);
            o.addProperty("int8Top1", int8Top1);
            this.accuracy = o;
            return this;
        }

        /**
         * Copies a file into the artifact (for example a {@code synset.txt} the translator reads);
         * it is covered by the checksums.
         *
         * @param file the file
         * @return this builder
         */
        public Builder optExtraFile(Path file) {
            extraFiles.add(file);
            return this;
        }

        /**
         * Sets whether an existing artifact at the target is replaced (default false).
         *
         * @param overwrite whether to replace
         * @return this builder
         */
        public Builder optOverwrite(boolean overwrite) {
            this.overwrite = overwrite;
            return this;
        }

        /**
         * Sets whether the written directory is loaded back and compared with the model before it
         * is moved into place (default true).
         *
         * @param verify whether to check
         * @return this builder
         */
        public Builder optVerify(boolean verify) {
            this.verify = verify;
            return this;
        }

        /**
         * Builds the writer.
         *
         * @return the writer
         * @throws IllegalArgumentException naming the setting that is missing or invalid
         */
        public ArtifactWriter build() {
            Objects.requireNonNull(model, "setModel is required");
            if (baseFactory == null || !CLASS_NAME.matcher(baseFactory).matches()) {
                throw new IllegalArgumentException(
                        "baseBlockFactory must be a class name, got " + baseFactory + ".");
            }
            if (baseFactory.equals(QuantizedBlockFactory.class.getName())) {
                throw new IllegalArgumentException(
                        "baseBlockFactory must build the float architecture, not be "
                                + QuantizedBlockFactory.class.getSimpleName()
                                + ".");
            }
            if (translatorFactory != null && !CLASS_NAME.matcher(translatorFactory).matches()) {
                throw new IllegalArgumentException(
                        "translatorFactory must be a class name, got " + translatorFactory + ".");
            }
            String name = modelName != null ? modelName : model.getName();
            if (name == null || !ArtifactManifest.isPlainName(name)) {
                throw new IllegalArgumentException(
                        "modelName '"
                                + name
                                + "' is not a plain file name (letters, digits, '.',"
                                + " '_', '-'); set one with optModelName.");
            }
            for (String key : arguments.keySet()) {
                if (key.isEmpty()
                        || key.startsWith("option.")
                        || Arrays.asList(
                                        "engine",
                                        "blockFactory",
                                        "translatorFactory",
                                        ArtifactLoader.BASE_BLOCK_FACTORY)
                                .contains(key)) {
                    throw new IllegalArgumentException(
                            "argument '" + key + "' is set by the writer itself.");
                }
            }
            for (Path f : extraFiles) {
                String n = f.getFileName() == null ? "" : f.getFileName().toString();
                if (!Files.isRegularFile(f)
                        || !ArtifactManifest.isPlainName(n)
                        || n.equals(ArtifactManifest.FILE_NAME)
                        || n.equals(ArtifactManifest.SERVING_PROPERTIES)
                        || n.equals(ParamsFile.fileName(name))) {
                    throw new IllegalArgumentException(
                            "extra file "
                                    + f
                                    + " is not a readable file with a plain name of its"
                                    + " own.");
                }
            }
            return new ArtifactWriter(this);
        }
    }
}

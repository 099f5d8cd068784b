package ai.djlquant.artifact;

import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djlquant.QuantizationReport;
import ai.djlquant.transform.BlockTree;

import com.google.gson.JsonObject;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Exports a quantized model as an artifact: a model directory that DJL's {@code Criteria} (and
 * {@link ArtifactLoader#load}) loads.
 *
 * <pre>{@code
 * ArtifactWriter.builder()
 *         .setModel(model)                              // quantized in place by Quantizer
 *         .setBaseBlockFactory(MyBlockFactory.class)    // builds the float architecture
 *         .optReport(report)
 *         .optTranslatorFactory(MyTranslatorFactory.class.getName())
 *         .build()
 *         .write(Paths.get("build/my-model-int8"));
 * }</pre>
 *
 * <p>The directory holds {@code <name>-0000.params} (DJL's format; int8 weights as INT8 parameters,
 * quantization parameters in the int8 blocks' metadata), {@code serving.properties} ({@code
 * blockFactory=}{@link QuantizedBlockFactory}, {@value ArtifactFormat.Serving#BASE_BLOCK_FACTORY}, the
 * model name, {@code option.hasParameter=false}) and {@code quantization.json} (see {@link
 * ArtifactManifest}).
 *
 * <p>The base block factory must build the model's float architecture: the tree the model had
 * before quantization. The writer builds it, compares it with the quantized tree place by place,
 * and records the places that differ (int8 blocks, pass-throughs where BatchNorms were folded or
 * ReLUs fused); any other difference fails the export, naming the place.
 *
 * <p>Atomic: the files go to a new directory (a new generation of the artifact, see {@link
 * ArtifactLayout}), are loaded back and compared parameter by parameter with the model, and only
 * then put in place by one rename, so that at every instant the target is the complete old
 * artifact or the complete new one, even if the process is killed. An existing target is replaced
 * only with {@link Builder#optOverwrite(boolean)}, and only if it is an artifact (or empty); a
 * failed export leaves it as it was, and the next export deletes what a killed one left. The model
 * itself is never changed.
 */
public final class ArtifactWriter {

    private static final Pattern CLASS_NAME =
            Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*");

    private final Model model;
    private final String baseFactory;
    private final String modelName;
    private final String translatorFactory;
    private final Map<String, String> arguments;
    private final QuantizationReport report;
    private final JsonObject accuracy;
    private final List<Path> extraFiles;
    private final boolean overwrite;
    private final boolean verify;
    private final PrivateKey signingKey;

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
        this.signingKey = b.signingKey;
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
     * Checks, before any work, that {@link #write} may write {@code dir}: absent, or (with
     * overwrite) an artifact or an empty directory. {@code write} checks the same again.
     *
     * @param dir the artifact directory
     * @param overwrite whether an existing artifact may be replaced
     * @throws ArtifactException naming why the directory must be left alone
     */
    public static void checkTarget(Path dir, boolean overwrite) throws ArtifactException {
        ExportDirectory.checkTarget(dir.toAbsolutePath().normalize(), overwrite);
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
        return write(dir, step -> {});
    }

    /**
     * Writes the artifact, calling {@code steps} after each step of the write ("staging created",
     * "files written", "verified", then the landing's steps: "link created", "new linked in", "old
     * deleted" for a swap, "new moved in" for a new target, "old moved aside", "new moved in" for a
     * replaced one; see {@link ExportDirectory}): where the fault-injection test kills a child JVM.
     */
    ArtifactManifest write(Path dir, java.util.function.Consumer<String> steps)
            throws ArtifactException {
        Path target = dir.toAbsolutePath().normalize();
        // first what killed exports left (an old artifact moved aside is put back)
        ExportDirectory.cleanLeftovers(target);
        ExportDirectory.checkTarget(target, overwrite);
        Block root = model.getBlock();
        if (root == null || !root.isInitialized()) {
            throw new ArtifactException(
                    "model '" + model.getName() + "' has no initialised block to export.");
        }
        BlockTree quantized = BlockTree.walk(root);
        List<Rewrite> rewrites = rewrites(quantized);
        return writeStaged(target, quantized, rewrites, root, steps);
    }

    private ArtifactManifest writeStaged(
            Path target,
            BlockTree quantized,
            List<Rewrite> rewrites,
            Block root,
            java.util.function.Consumer<String> steps)
            throws ArtifactException {
        ExportDirectory.Export export = ExportDirectory.begin(target);
        Path tmp = export.files();
        try {
            steps.accept("staging created");
            ArtifactManifest m = writeFiles(tmp, quantized, rewrites);
            if (signingKey != null) {
                ArtifactSigning.sign(tmp, signingKey);
            }
            steps.accept("files written");
            if (verify) {
                ExportCheck.verify(tmp, root, arguments);
            }
            steps.accept("verified");
            ExportDirectory.commit(export, steps);
            return m;
        } catch (ArtifactException | Error e) {
            ExportDirectory.abort(export, e);
            throw e;
        } catch (RuntimeException e) {
            ExportDirectory.abort(export, e);
            throw new ArtifactException("cannot export model '" + model.getName() + "': " + e, e);
        } catch (IOException e) {
            ExportDirectory.abort(export, e);
            throw new ArtifactException("cannot write the artifact " + target + ": " + e, e);
        }
    }

    /** The places where the quantized tree differs from the one the base factory builds. */
    private List<Rewrite> rewrites(BlockTree quantized) throws ArtifactException {
        BlockFactory factory = BaseArchitecture.forExport(baseFactory);
        Block base =
                BaseArchitecture.build(
                        factory,
                        baseFactory,
                        model,
                        model.getModelPath(),
                        new HashMap<>(arguments));
        return TreeRewrites.diff(BlockTree.walk(base), quantized, baseFactory);
    }

    private ArtifactManifest writeFiles(Path tmp, BlockTree quantized, List<Rewrite> rewrites)
            throws IOException, ArtifactException {
        String engine = model.getNDManager().getEngine().getEngineName();
        ParamsFile.write(
                tmp.resolve(ArtifactFormat.parametersFile(modelName)),
                modelName,
                quantized.getRoot().getBlock());
        Files.writeString(
                tmp.resolve(ArtifactFormat.SERVING_PROPERTIES_FILE),
                ServingProperties.text(
                        engine, baseFactory, translatorFactory, arguments, modelName),
                StandardCharsets.UTF_8);
        for (Path extra : extraFiles) {
            Files.copy(extra, tmp.resolve(extra.getFileName().toString()));
        }
        return new ManifestWriter(modelName, baseFactory, report, accuracy)
                .write(tmp, engine, quantized, rewrites);
    }

    /** Builds an {@link ArtifactWriter}. */
    public static final class Builder {

        private Model model;
        private String baseFactory;
        private String modelName;
        private String translatorFactory;
        private final Map<String, String> arguments = new LinkedHashMap<>();
        private QuantizationReport report;
        private JsonObject accuracy;
        private final List<Path> extraFiles = new ArrayList<>();
        private boolean overwrite;
        private boolean verify = true;
        private PrivateKey signingKey;

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
         * loaded). Default: the {@code blockFactory} of the {@code serving.properties} in the
         * directory the model was loaded from ({@code model.getModelPath()}).
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
         * Records the quantizer's report: it is kept in {@code quantization.json} (as {@link
         * QuantizationReport#toJson()} writes it), and its calibration and size totals are
         * summarised there.
         *
         * @param report the report {@code Quantizer.quantize} returned for this model
         * @return this builder
         */
        public Builder optReport(QuantizationReport report) {
            this.report = report;
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
            this.accuracy = ManifestWriter.accuracy(dataset, samples, fp32Top1, int8Top1);
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
         * Signs the artifact: an Ed25519 signature of its manifest (which holds every file's
         * SHA-256) in {@value ArtifactFormat#SIGNATURE_FILE}, which {@link
         * ArtifactLoader#load(Path, java.security.PublicKey)} checks against a trusted key. Read a
         * PEM key with {@link ArtifactSigning#readPrivateKey}.
         *
         * @param key the Ed25519 private key, or null for no signature
         * @return this builder
         */
        public Builder optSigningKey(PrivateKey key) {
            this.signingKey = key;
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
         * The {@code blockFactory} named in the {@code serving.properties} of the directory the
         * model was loaded from, or null (no directory, no file, no such entry, unreadable).
         */
        private static String sourceBlockFactory(Model model) {
            Path dir = model.getModelPath();
            if (dir == null) {
                return null;
            }
            Path file = dir.resolve(ArtifactFormat.SERVING_PROPERTIES_FILE);
            if (!Files.isRegularFile(file)) {
                return null;
            }
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException | IllegalArgumentException e) {
                return null;
            }
            String name = p.getProperty(ArtifactFormat.Serving.BLOCK_FACTORY);
            return name == null || name.isBlank() ? null : name.trim();
        }

        /**
         * Builds the writer.
         *
         * @return the writer
         * @throws IllegalArgumentException naming the setting that is missing or invalid
         */
        public ArtifactWriter build() {
            Objects.requireNonNull(model, "setModel is required");
            if (baseFactory == null) {
                baseFactory = sourceBlockFactory(model);
            }
            if (baseFactory == null) {
                throw new IllegalArgumentException(
                        "setBaseBlockFactory is required: the model was not loaded from a directory"
                                + " whose serving.properties names a blockFactory ("
                                + (model.getModelPath() == null ? "it has no model path" : model.getModelPath())
                                + ").");
            }
            if (!CLASS_NAME.matcher(baseFactory).matches()) {
                throw new IllegalArgumentException(
                        ArtifactFormat.Serving.BASE_BLOCK_FACTORY
                                + " must be a class name, got " + baseFactory + ".");
            }
            if (baseFactory.equals(QuantizedBlockFactory.class.getName())) {
                throw new IllegalArgumentException(
                        ArtifactFormat.Serving.BASE_BLOCK_FACTORY
                                + " must build the float architecture, not be "
                                + QuantizedBlockFactory.class.getSimpleName()
                                + ".");
            }
            if (translatorFactory != null && !CLASS_NAME.matcher(translatorFactory).matches()) {
                throw new IllegalArgumentException(
                        ArtifactFormat.Serving.TRANSLATOR_FACTORY
                                + " must be a class name, got "
                                + translatorFactory
                                + ".");
            }
            String name = modelName != null ? modelName : model.getName();
            if (name == null || !ArtifactFiles.isPlainName(name)) {
                throw new IllegalArgumentException(
                        "modelName '"
                                + name
                                + "' is not a plain file name (letters, digits, '.',"
                                + " '_', '-'); set one with optModelName.");
            }
            for (String key : arguments.keySet()) {
                if (ServingProperties.isWriterKey(key)) {
                    throw new IllegalArgumentException(
                            "argument '" + key + "' is set by the writer itself.");
                }
            }
            for (Path f : extraFiles) {
                String n = f.getFileName() == null ? "" : f.getFileName().toString();
                if (!Files.isRegularFile(f)
                        || !ArtifactFiles.isPlainName(n)
                        || n.equals(ArtifactFormat.MANIFEST_FILE)
                        || n.equals(ArtifactFormat.SERVING_PROPERTIES_FILE)
                        || n.equals(ArtifactFormat.parametersFile(name))) {
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

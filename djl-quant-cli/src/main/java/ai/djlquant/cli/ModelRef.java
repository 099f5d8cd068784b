package ai.djlquant.cli;

import ai.djl.MalformedModelException;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslatorFactory;
import ai.djl.util.ClassLoaderUtils;
import ai.djl.util.Utils;
import ai.djlquant.artifact.ArtifactManifest;
import ai.djlquant.examples.models.ReferenceModel;
import ai.djlquant.torchscript.TorchScriptBlockFactory;

import picocli.CommandLine;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;

/**
 * A {@code --model} argument: a reference model by name ({@code cnn}, {@code resnet}, {@code mlp},
 * found under {@code examples/models/} of the djl-quant home), or a model directory: a float DJL
 * model ({@code serving.properties} naming a {@code blockFactory}) or an artifact ({@code
 * quantization.json}). Loaded through {@code Criteria} as {@code Image -> Classifications}, with
 * the translator factory the directory names (or {@code --translator-factory}).
 */
final class ModelRef {

    final String argument;
    final Path dir;
    final ReferenceModel reference;
    /** The traced TorchScript file {@code --model} names, or null for a directory. */
    final Path torchScript;
    private final Properties serving;
    private String inputShape;

    private ModelRef(
            String argument, Path dir, ReferenceModel reference, Path torchScript,
            Properties serving) {
        this.argument = argument;
        this.dir = dir;
        this.reference = reference;
        this.torchScript = torchScript;
        this.serving = serving;
    }

    /**
     * Sets the input shape a TorchScript file is imported for ({@code --input-shape}).
     *
     * @param shape {@code 1,1,28,28}, or null
     * @return this
     */
    ModelRef withInputShape(String shape) {
        this.inputShape = shape;
        return this;
    }

    /**
     * Resolves a {@code --model} value.
     *
     * @param spec the command, for the error
     * @param option the option's name
     * @param value the value
     * @return the model
     * @throws CommandLine.ParameterException if the value is neither a reference model nor a model
     *     directory
     */
    static ModelRef resolve(CommandLine.Model.CommandSpec spec, String option, String value) {
        Path path = Paths.get(value);
        ReferenceModel ref = null;
        if (!Files.exists(path)) {
            try {
                ref = ReferenceModel.of(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        option
                                + " '"
                                + value
                                + "' is neither a reference model (cnn, resnet, mlp)"
                                + " nor an existing model directory.");
            }
            path = Home.modelsDir().resolve(ref.modelName());
            if (!Files.isDirectory(path)) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        option
                                + " "
                                + value
                                + ": the reference model directory "
                                + path
                                + " is missing (set -Ddjlquant.home to the repository root).");
            }
        }
        if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".pt")) {
            Path file = path.toAbsolutePath();
            return new ModelRef(value, file.getParent(), null, file, new Properties());
        }
        if (!Files.isDirectory(path)) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    option + " " + value + " is not a directory (nor a TorchScript .pt file).");
        }
        Path sp = servingProperties(path);
        Properties serving = new Properties();
        if (Files.isRegularFile(sp)) {
            try {
                // strict UTF-8, as DJL reads it: a damaged file is named here, not by DJL's
                // MalformedInputException later
                String text =
                        StandardCharsets.UTF_8
                                .newDecoder()
                                .onMalformedInput(CodingErrorAction.REPORT)
                                .onUnmappableCharacter(CodingErrorAction.REPORT)
                                .decode(ByteBuffer.wrap(Files.readAllBytes(sp)))
                                .toString();
                serving.load(new StringReader(text));
            } catch (CharacterCodingException e) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        option + " " + value + ": " + sp + " is not UTF-8 text.");
            } catch (IOException | IllegalArgumentException e) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        option
                                + " "
                                + value
                                + ": "
                                + sp
                                + " cannot be read ("
                                + e.getMessage()
                                + ").");
            }
        }
        return new ModelRef(value, path, ref, null, serving);
    }

    /**
     * Where DJL reads a model directory's {@code serving.properties}: an artifact keeps its files
     * in its one visible sub-directory, {@code current}.
     */
    private static Path servingProperties(Path dir) {
        return Utils.getNestedModelDir(dir).resolve(ArtifactManifest.SERVING_PROPERTIES);
    }

    /** Whether the directory is an artifact (it has a quantization.json, under current/ or not). */
    boolean isArtifact() {
        return Files.isRegularFile(Utils.getNestedModelDir(dir).resolve(ArtifactManifest.FILE_NAME));
    }

    /** A short name for tables: the reference name, the .pt file name or the directory name. */
    String displayName() {
        if (torchScript != null) {
            return torchScript.getFileName().toString();
        }
        return reference != null ? reference.modelName() : dir.getFileName().toString();
    }

    /**
     * The block factory of the float architecture: {@code --block-factory}, or the one the
     * directory names.
     */
    String blockFactory(String override) {
        if (override != null) {
            return override;
        }
        if (torchScript != null) {
            return TorchScriptBlockFactory.class.getName();
        }
        if (isArtifact()) {
            return serving.getProperty("baseBlockFactory");
        }
        return serving.getProperty("blockFactory");
    }

    /** The translator factory the directory's serving.properties names, or null. */
    String translatorFactory() {
        return serving.getProperty("translatorFactory");
    }

    /**
     * Loads the model as {@code Image -> Classifications}.
     *
     * @param spec the command, for argument errors
     * @param blockFactory {@code --block-factory}, or null
     * @param translatorFactory {@code --translator-factory}, or null
     * @return the model
     * @throws IOException if a file cannot be read or the artifact is not valid
     * @throws ModelNotFoundException if DJL finds no model in the directory
     * @throws MalformedModelException if the parameters do not fit the block
     */
    ZooModel<Image, Classifications> load(
            CommandLine.Model.CommandSpec spec, String blockFactory, String translatorFactory)
            throws IOException, ModelNotFoundException, MalformedModelException {
        String tf = translatorFactory != null ? translatorFactory : translatorFactory();
        if (tf == null) {
            boolean hasServing =
                    Files.isRegularFile(servingProperties(dir));
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--model "
                            + argument
                            + (torchScript != null
                                    ? ": a TorchScript file names no translator;"
                                    : hasServing
                                            ? ": its serving.properties names no"
                                                    + " translatorFactory;"
                                            : ": the directory has no serving.properties;")
                            + " give --translator-factory CLASS (Image -> Classifications).");
        }
        TranslatorFactory factory =
                ClassLoaderUtils.initClass(
                        ClassLoaderUtils.getContextClassLoader(), TranslatorFactory.class, tf);
        if (factory == null) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "translator factory "
                            + tf
                            + " is not on the classpath (or has no public"
                            + " no-argument constructor).");
        }
        Criteria.Builder<Image, Classifications> b =
                Criteria.builder()
                        .setTypes(Image.class, Classifications.class)
                        .optModelPath(dir)
                        .optTranslatorFactory(factory);
        if (torchScript != null) {
            torchScriptArguments(spec, b);
        } else if (!isArtifact()) {
            b.optArgument("blockFactory", requireBlockFactory(spec, blockFactory));
        }
        return b.build().loadModel();
    }

    /**
     * Loads the model as {@code NDList -> NDList} (a model that does not take images: no
     * translator).
     *
     * @param spec the command, for argument errors
     * @param blockFactory {@code --block-factory}, or null
     * @return the model
     * @throws IOException if a file cannot be read or the artifact is not valid
     * @throws ModelNotFoundException if DJL finds no model in the directory
     * @throws MalformedModelException if the parameters do not fit the block
     */
    ZooModel<NDList, NDList> loadTensors(CommandLine.Model.CommandSpec spec, String blockFactory)
            throws IOException, ModelNotFoundException, MalformedModelException {
        Criteria.Builder<NDList, NDList> b =
                Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optModelPath(dir)
                        .optTranslator(new NoopTranslator());
        if (torchScript != null) {
            torchScriptArguments(spec, b);
        } else if (!isArtifact()) {
            b.optArgument("blockFactory", requireBlockFactory(spec, blockFactory));
        }
        return b.build().loadModel();
    }

    /**
     * Loads a {@code .pt} as {@link TorchScriptBlockFactory} does for a directory: imported as a
     * walkable tree for {@code --input-shape}, its weights from the file (no {@code .params}).
     */
    private void torchScriptArguments(CommandLine.Model.CommandSpec spec, Criteria.Builder<?, ?> b) {
        if (inputShape == null) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--model "
                            + argument
                            + " is a TorchScript file: give --input-shape (for example"
                            + " 1,1,28,28), the shape it is imported for (only quantize takes"
                            + " one).");
        }
        String file = torchScript.getFileName().toString();
        b.optModelName(file.substring(0, file.length() - 3))
                .optArgument("blockFactory", TorchScriptBlockFactory.class.getName())
                .optArgument(TorchScriptBlockFactory.FILE, file)
                .optArgument(TorchScriptBlockFactory.INPUT_SHAPE, inputShape)
                .optOption("hasParameter", "false");
    }

    /** The float architecture's block factory, or an argument error naming what to give. */
    private String requireBlockFactory(CommandLine.Model.CommandSpec spec, String override) {
        String bf = blockFactory(override);
        if (bf == null) {
            boolean hasServing =
                    Files.isRegularFile(servingProperties(dir));
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--model "
                            + argument
                            + (hasServing
                                    ? ": its serving.properties names no blockFactory;"
                                    : ": the directory has no serving.properties;")
                            + " give --block-factory CLASS (the BlockFactory of its"
                            + " architecture).");
        }
        return bf;
    }
}

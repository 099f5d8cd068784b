package ai.djlquant.torchscript;

import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djlquant.artifact.ArtifactWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The {@link BlockFactory} that loads a directory holding a traced TorchScript {@code .pt}
 * through plain {@code Criteria} as a walkable DJL tree (see {@link TorchScriptImporter}), so
 * that it can be quantized. Its {@code serving.properties}:
 *
 * <pre>
 * engine=PyTorch
 * blockFactory=ai.djlquant.torchscript.TorchScriptBlockFactory
 * option.hasParameter=false
 * torchscript=model.pt        # optional: default the only .pt in the directory
 * inputShape=1,3,224,224      # required; several inputs separated by ';'
 * inputType=float32           # optional (int64 for token ids); ';' between inputs
 * </pre>
 *
 * <p>({@code option.hasParameter=false}: the weights come from the {@code .pt}, there is no
 * {@code .params} file.) The same arguments can be given as {@code Criteria.optArgument}. An
 * artifact exported from the model names this factory as its base block factory and carries the
 * {@code .pt} ({@link #artifactWriter}), so the int8 artifact rebuilds its float architecture from
 * the file it carries.
 */
public class TorchScriptBlockFactory implements BlockFactory {

    /** The argument naming the {@code .pt} file in the model directory. */
    public static final String FILE = "torchscript";

    /** The argument giving the input shapes, {@code 1,3,224,224}, {@code ;} between inputs. */
    public static final String INPUT_SHAPE = "inputShape";

    /** The argument giving the input data types ({@code float32}, {@code int64}, ...). */
    public static final String INPUT_TYPE = "inputType";

    private static final long serialVersionUID = 1L;

    /** Creates the factory (DJL instantiates it by its class name). */
    public TorchScriptBlockFactory() {}

    /**
     * Imports the directory's {@code .pt}.
     *
     * @param model the model DJL is loading
     * @param modelPath the model directory
     * @param arguments {@code serving.properties} and Criteria arguments
     * @return the imported tree, initialised with the archive's weights
     * @throws IOException if the file is missing or cannot be imported (a {@link
     *     TorchScriptFormatException} naming the module and source line)
     */
    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments)
            throws IOException {
        Path file = locate(modelPath, arguments);
        Shape[] shapes = shapes(arguments, file);
        DataType[] types = types(arguments, shapes.length, file);
        Block block = TorchScriptImporter.importBlock(file, model.getNDManager(), shapes, types);
        remember(model, file, arguments.get(INPUT_SHAPE).toString(), types);
        return block;
    }

    /**
     * An artifact writer for a model this package imported: its base block factory is this
     * factory, its arguments name the {@code .pt} and the input shapes and types, and the {@code
     * .pt} is copied into the artifact (covered by the manifest's checksums).
     *
     * @param model a model from {@link TorchScriptImporter} or loaded with this factory
     * @return a writer builder with the model set; add the report, translator factory, ...
     * @throws IllegalArgumentException if the model was not imported from a TorchScript archive
     */
    public static ArtifactWriter.Builder artifactWriter(Model model) {
        String file = model.getProperty(FILE);
        String shape = model.getProperty(INPUT_SHAPE);
        String type = model.getProperty(INPUT_TYPE);
        if (file == null || shape == null || model.getModelPath() == null) {
            throw new IllegalArgumentException("model '" + model.getName() + "' was not imported"
                    + " from a TorchScript archive (TorchScriptImporter or "
                    + TorchScriptBlockFactory.class.getSimpleName() + ").");
        }
        return ArtifactWriter.builder()
                .setModel(model)
                .setBaseBlockFactory(TorchScriptBlockFactory.class)
                .optArgument(FILE, file)
                .optArgument(INPUT_SHAPE, shape)
                .optArgument(INPUT_TYPE, type)
                .optExtraFile(model.getModelPath().resolve(file));
    }

    /**
     * Records on the model what {@link #artifactWriter} needs.
     *
     * @param model the model
     * @param file the archive
     * @param shapes the input shapes as written in the arguments
     * @param types the input types
     */
    static void remember(Model model, Path file, String shapes, DataType[] types) {
        model.setProperty(FILE, file.getFileName().toString());
        model.setProperty(INPUT_SHAPE, shapes);
        List<String> names = new ArrayList<>();
        for (DataType t : types) {
            names.add(t.name().toLowerCase(Locale.ROOT));
        }
        model.setProperty(INPUT_TYPE, String.join(";", names));
    }

    /**
     * The input shapes as the {@value #INPUT_SHAPE} argument writes them.
     *
     * @param shapes the shapes
     * @return {@code 1,3,224,224;1,10}
     */
    static String format(Shape[] shapes) {
        List<String> out = new ArrayList<>();
        for (Shape s : shapes) {
            List<String> dims = new ArrayList<>();
            for (long d : s.getShape()) {
                dims.add(Long.toString(d));
            }
            out.add(String.join(",", dims));
        }
        return String.join(";", out);
    }

    private static Path locate(Path dir, Map<String, ?> arguments) throws IOException {
        Object named = arguments.get(FILE);
        if (named != null) {
            String n = named.toString();
            if (n.isEmpty() || n.contains("/") || n.contains("\\") || n.equals("..")
                    || n.equals(".")) {
                throw new IOException("argument " + FILE + "=" + n + " must be a file name in the"
                        + " model directory " + dir + ".");
            }
            Path f = dir.resolve(n);
            if (!Files.isRegularFile(f)) {
                throw new IOException("the TorchScript file " + n + " (argument " + FILE
                        + ") is not in the model directory " + dir + ".");
            }
            return f;
        }
        List<Path> found;
        try (Stream<Path> s = Files.list(dir)) {
            found = s.filter(p -> p.getFileName().toString().endsWith(".pt") && Files.isRegularFile(p))
                    .sorted().toList();
        }
        if (found.size() != 1) {
            throw new IOException("the model directory " + dir + " holds " + found.size()
                    + " .pt files" + (found.isEmpty() ? "" : " " + found) + "; name one with the"
                    + " argument " + FILE + "=FILE.pt.");
        }
        return found.get(0);
    }

    private static Shape[] shapes(Map<String, ?> arguments, Path file) throws IOException {
        Object v = arguments.get(INPUT_SHAPE);
        if (v == null) {
            throw new IOException("the argument " + INPUT_SHAPE + " is required to import " + file
                    + " (a TorchScript archive records no input shapes), e.g. "
                    + INPUT_SHAPE + "=1,3,224,224.");
        }
        List<Shape> out = new ArrayList<>();
        for (String one : v.toString().split(";")) {
            try {
                long[] dims = Arrays.stream(one.trim().split(","))
                        .mapToLong(d -> Long.parseLong(d.trim())).toArray();
                for (long d : dims) {
                    if (d < 1) {
                        throw new NumberFormatException("dimension " + d);
                    }
                }
                out.add(new Shape(dims));
            } catch (NumberFormatException e) {
                throw new IOException("the argument " + INPUT_SHAPE + "=" + v + " is not a list of"
                        + " positive dimensions like 1,3,224,224 (" + e.getMessage() + ").", e);
            }
        }
        return out.toArray(new Shape[0]);
    }

    private static DataType[] types(Map<String, ?> arguments, int inputs, Path file)
            throws IOException {
        DataType[] out = new DataType[inputs];
        Arrays.fill(out, DataType.FLOAT32);
        Object v = arguments.get(INPUT_TYPE);
        if (v == null) {
            return out;
        }
        String[] names = v.toString().split(";");
        if (names.length != inputs) {
            throw new IOException("the argument " + INPUT_TYPE + "=" + v + " names " + names.length
                    + " types for " + inputs + " inputs (" + file + ").");
        }
        for (int i = 0; i < inputs; i++) {
            try {
                out[i] = DataType.valueOf(names[i].trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IOException("the argument " + INPUT_TYPE + " names the unknown type "
                        + names[i] + " (float32, int64, ...).", e);
            }
        }
        return out;
    }
}

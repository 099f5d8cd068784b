package ai.djlquant.torchscript;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Imports a traced TorchScript model (the {@code .pt} file {@code torch.jit.trace(model,
 * example).save(path)} writes) as a DJL model on the PyTorch engine whose block is a walkable
 * tree: {@code Linear}, {@code Conv1d}/{@code Conv2d}, {@code BatchNorm} and ReLU modules become
 * DJL's own blocks with the archive's weights; every other module becomes a {@link
 * ScriptModuleBlock} that runs its traced forward with DJL NDArray operations; straight chains of
 * module calls become plain SequentialBlocks ({@link ScriptSequence}). The quantizer then treats
 * the model like any DJL model: BatchNorm folding, ReLU fusion, int8 layers, artifact export.
 *
 * <pre>{@code
 * Model model = TorchScriptImporter.builder(Path.of("resnet18.pt"))
 *         .optInputShapes(new Shape(1, 3, 224, 224))
 *         .build()
 *         .importModel();
 * }</pre>
 *
 * <p>The archive records no input shapes, so they are given: the tree is initialised by running
 * the forward once on zeros of those shapes (and data types, float32 unless set). Everything is
 * checked before the model is returned: the archive (see {@link TorchScriptArchive}), every
 * source file (the TorchScript subset of traced modules), every name, op and literal of every
 * method that is called, and the forward on the given shapes. A refusal is one {@link
 * TorchScriptFormatException} naming the archive, the module path and the source line; nothing is
 * left open.
 */
public final class TorchScriptImporter {

    private final Path file;
    private final Shape[] inputShapes;
    private final DataType[] inputTypes;
    private final Device device;
    private final String name;

    private TorchScriptImporter(Builder b) {
        this.file = b.file;
        this.inputShapes = b.inputShapes;
        this.inputTypes = b.inputTypes;
        this.device = b.device;
        this.name = b.name;
    }

    /**
     * Starts an import.
     *
     * @param file the {@code .pt} file
     * @return the builder
     */
    public static Builder builder(Path file) {
        return new Builder(file);
    }

    /**
     * Imports the model.
     *
     * @return a model on the PyTorch engine whose block is the imported tree, initialised with
     *     the archive's weights and frozen for inference
     * @throws TorchScriptFormatException if the archive cannot be read or holds something the
     *     importer does not cover (nothing is left open)
     */
    public Model importModel() throws TorchScriptFormatException {
        String modelName = name != null ? name : defaultName(file);
        Model model = Model.newInstance(modelName, device, "PyTorch");
        try {
            model.setBlock(importBlock(file, model.getNDManager(), inputShapes, inputTypes));
            // the model's directory is the archive's, as when Criteria loads it with
            // TorchScriptBlockFactory: an artifact export builds the base architecture from it
            model.load(file.toAbsolutePath().getParent(), modelName, Map.of("hasParameter", "false"));
            TorchScriptBlockFactory.remember(model, file,
                    TorchScriptBlockFactory.format(inputShapes), inputTypes);
            return model;
        } catch (TorchScriptFormatException e) {
            model.close();
            throw e;
        } catch (java.io.IOException | ai.djl.MalformedModelException e) {
            model.close();
            throw new TorchScriptFormatException(file + ": cannot set the model directory: " + e, e);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Imports the block tree of an archive, initialised (used by the model import and by {@link
     * TorchScriptBlockFactory}).
     *
     * @param file the archive
     * @param manager the manager of the weights
     * @param shapes the input shapes
     * @param types the input data types, one per shape
     * @return the root block, initialised and frozen
     * @throws TorchScriptFormatException if anything cannot be imported
     */
    static Block importBlock(Path file, NDManager manager, Shape[] shapes, DataType[] types)
            throws TorchScriptFormatException {
        Block root = buildTree(file, manager);
        if (root instanceof ScriptModuleBlock s) {
            s.setInputTypes(types);
        }
        try {
            root.initialize(manager, DataType.FLOAT32, shapes);
        } catch (RuntimeException e) {
            throw new TorchScriptFormatException(file + ": the imported forward fails on inputs "
                    + java.util.Arrays.toString(shapes) + " " + java.util.Arrays.toString(types)
                    + ": " + sentence(e.getMessage()), e);
        }
        root.freezeParameters(true);
        return root;
    }

    /**
     * Builds the block tree of an archive without initialising it (its weights are set).
     *
     * @param file the archive
     * @param manager the manager of the weights
     * @return the root block
     * @throws TorchScriptFormatException if anything cannot be imported
     */
    static Block buildTree(Path file, NDManager manager) throws TorchScriptFormatException {
        TorchScriptArchive archive = TorchScriptArchive.read(file);
        Map<String, ScriptClass> classes = new HashMap<>();
        Map<String, ScriptSyntaxException> unreadable = new HashMap<>();
        for (Map.Entry<String, String> e : archive.sources().entrySet()) {
            List<ScriptClass> parsed;
            try {
                parsed = ScriptParser.parse(e.getKey(), e.getValue());
            } catch (ScriptSyntaxException x) {
                unreadable.put(ScriptParser.moduleName(e.getKey()), x);
                continue; // refused when one of its classes is needed, naming the module
            }
            for (ScriptClass c : parsed) {
                if (classes.put(c.qualifiedName(), c) != null) {
                    throw new TorchScriptFormatException(file + ": the class " + c.qualifiedName()
                            + " is defined twice under code/ (" + c.file() + ":" + c.line() + ").");
                }
            }
        }
        ImportContext context = new ImportContext(file.toString(), classes, unreadable, archive.constants());
        return new TreeBuilder(context, manager).build(archive.root(), "", List.of("forward"));
    }

    private static String sentence(String message) {
        String m = message == null ? "" : message.strip();
        int newline = m.indexOf('\n');
        m = newline < 0 ? m : m.substring(0, newline); // libtorch appends a C++ stack trace
        return m.endsWith(".") ? m : m + ".";
    }

    private static String defaultName(Path file) {
        String n = file.getFileName().toString();
        return n.endsWith(".pt") ? n.substring(0, n.length() - 3) : n;
    }

    /** Builds a {@link TorchScriptImporter}. */
    public static final class Builder {

        private final Path file;
        private Shape[] inputShapes;
        private DataType[] inputTypes;
        private Device device;
        private String name;

        private Builder(Path file) {
            this.file = file;
        }

        /**
         * Sets the shapes of the forward's inputs (required): the tree is initialised for them.
         *
         * @param shapes one shape per input
         * @return this builder
         */
        public Builder optInputShapes(Shape... shapes) {
            this.inputShapes = shapes.clone();
            return this;
        }

        /**
         * Sets the data types of the inputs (default float32 each; {@code INT64} for token ids).
         *
         * @param types one type per input
         * @return this builder
         */
        public Builder optInputTypes(DataType... types) {
            this.inputTypes = types.clone();
            return this;
        }

        /**
         * Sets the device (default the engine's default device).
         *
         * @param device the device
         * @return this builder
         */
        public Builder optDevice(Device device) {
            this.device = device;
            return this;
        }

        /**
         * Sets the model's name (default the file name without {@code .pt}).
         *
         * @param name the name
         * @return this builder
         */
        public Builder optName(String name) {
            this.name = name;
            return this;
        }

        /**
         * Builds the importer.
         *
         * @return the importer
         * @throws IllegalArgumentException if no input shapes are set, or the types do not match
         */
        public TorchScriptImporter build() {
            if (file == null) {
                throw new IllegalArgumentException("the .pt file is null.");
            }
            if (inputShapes == null || inputShapes.length == 0) {
                throw new IllegalArgumentException("optInputShapes is required: a TorchScript"
                        + " archive records no input shapes, and the tree is initialised for"
                        + " them (" + file + ").");
            }
            if (inputTypes == null) {
                inputTypes = new DataType[inputShapes.length];
                java.util.Arrays.fill(inputTypes, DataType.FLOAT32);
            } else if (inputTypes.length != inputShapes.length) {
                throw new IllegalArgumentException(inputTypes.length + " input types for "
                        + inputShapes.length + " input shapes.");
            }
            return new TorchScriptImporter(this);
        }
    }
}

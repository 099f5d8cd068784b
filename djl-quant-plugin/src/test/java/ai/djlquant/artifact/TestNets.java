package ai.djlquant.artifact;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.nn.transformer.TransformerEncoderBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.TestConfigs;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Block factories of small networks (the user's own architectures, as far as the artifact knows),
 * and quantized models made from them with seeded random weights and calibration batches.
 */
final class TestNets {

    /** Input of every test network: one 12x12 grayscale image per sample. */
    static final Shape INPUT = new Shape(1, 1, 12, 12);

    private TestNets() {}

    /** Conv-BN-ReLU stem, one residual unit with a projection, Linear-ReLU-Linear head. */
    public static final class ResidualNet implements BlockFactory {
        private static final long serialVersionUID = 1L;

        /** {@inheritDoc} */
        @Override
        public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
            return residualNet(32);
        }
    }

    /** The same layers with a wider head: same paths, other shapes. */
    public static final class WideHeadNet implements BlockFactory {
        private static final long serialVersionUID = 1L;

        /** {@inheritDoc} */
        @Override
        public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
            return residualNet(64);
        }
    }

    private static Block residualNet(int headUnits) {
        return new SequentialBlock()
                .add(conv(16, 3, 1))
                .add(BatchNorm.builder().build())
                .add(Activation.reluBlock())
                .add(residual(32))
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(headUnits).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(10).build());
    }

    /**
     * Two transformer encoder layers (their projections live in typed fields of DJL's attention
     * block) and a Linear head, on (N, 8, 32) input.
     */
    public static final class Transformer implements BlockFactory {
        private static final long serialVersionUID = 1L;

        /** {@inheritDoc} */
        @Override
        public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
            return new SequentialBlock()
                    .add(new TransformerEncoderBlock(32, 4, 64, 0f, Activation::relu))
                    .add(new TransformerEncoderBlock(32, 4, 64, 0f, Activation::gelu))
                    .add(Linear.builder().setUnits(5).build());
        }
    }

    /** A single Linear: the root itself is replaced by quantization. */
    public static final class LinearRoot implements BlockFactory {
        private static final long serialVersionUID = 1L;

        /** {@inheritDoc} */
        @Override
        public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
            return Linear.builder().setUnits(16).build();
        }
    }

    /** The input shape (batch 1) of a test network. */
    static Shape inputOf(BlockFactory factory) {
        if (factory instanceof Transformer) {
            return new Shape(1, 8, 32);
        }
        if (factory instanceof LinearRoot) {
            return new Shape(1, 64);
        }
        return INPUT;
    }

    /**
     * ReLU6 after a convolution + BatchNorm (DJL's relu6Block), after a depthwise convolution (a
     * lambda of {@code Activation::relu6}, recognised by its effect) and after a Linear.
     */
    public static final class Relu6Net implements BlockFactory {
        private static final long serialVersionUID = 1L;

        /** {@inheritDoc} */
        @Override
        public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
            return new SequentialBlock()
                    .add(conv(16, 3, 1))
                    .add(BatchNorm.builder().build())
                    .add(Activation.relu6Block())
                    .add(Conv2d.builder()
                            .setKernelShape(new Shape(3, 3))
                            .setFilters(16)
                            .optGroups(16)
                            .optPadding(new Shape(1, 1))
                            .build())
                    .add(Activation::relu6)
                    .add(Blocks.batchFlattenBlock())
                    .add(Linear.builder().setUnits(32).build())
                    .add(Activation.relu6Block())
                    .add(Linear.builder().setUnits(10).build());
        }
    }

    /**
     * MobileNetV2's shape in small: a conv-BN-ReLU6 stem, an inverted residual of stride 2 (its
     * main branch alone), one of stride 1 with the input added back, a 1x1 conv-BN-ReLU6 head,
     * global average pooling and a Linear; every conv-BN-ReLU6 a nested SequentialBlock.
     */
    public static final class InvertedResidualNet implements BlockFactory {
        private static final long serialVersionUID = 1L;

        /** {@inheritDoc} */
        @Override
        public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
            ParallelBlock residual =
                    new ParallelBlock(
                            l ->
                                    new NDList(
                                            l.get(0)
                                                    .singletonOrThrow()
                                                    .add(l.get(1).singletonOrThrow())),
                            Arrays.asList(invertedMain(12, 72, 12, 1), Blocks.identityBlock()));
            return new SequentialBlock()
                    .add(convBnRelu6(8, 3, 1, 1))
                    .add(invertedMain(8, 48, 12, 2))
                    .add(residual)
                    .add(convBnRelu6(32, 1, 1, 1))
                    .add(ai.djl.nn.pooling.Pool.globalAvgPool2dBlock())
                    .add(Linear.builder().setUnits(10).build());
        }

        private static SequentialBlock invertedMain(int in, int hidden, int out, int stride) {
            return new SequentialBlock()
                    .add(convBnRelu6(hidden, 1, 1, 1))
                    .add(convBnRelu6(hidden, 3, stride, hidden))
                    .add(grouped(out, 1, 1, 1))
                    .add(BatchNorm.builder().build());
        }

        private static SequentialBlock convBnRelu6(int c, int kernel, int stride, int groups) {
            return new SequentialBlock()
                    .add(grouped(c, kernel, stride, groups))
                    .add(BatchNorm.builder().build())
                    .add(Activation.relu6Block());
        }

        private static Conv2d grouped(int c, int kernel, int stride, int groups) {
            return Conv2d.builder()
                    .setKernelShape(new Shape(kernel, kernel))
                    .optStride(new Shape(stride, stride))
                    .optPadding(new Shape(kernel / 2, kernel / 2))
                    .optGroups(groups)
                    .setFilters(c)
                    .optBias(false)
                    .build();
        }
    }

    /**
     * The reference CNN's shape with a third convolution: conv-BN-ReLU blocks with DJL max
     * poolings between them (2x2; 3x3 stride 2 padding 1 in ceil mode), then a Linear head:
     * (N,1,12,12) -&gt; 8x12x12 -&gt; pool 8x6x6 -&gt; 16x6x6 -&gt; pool 16x4x4 -&gt; 16x4x4 -&gt;
     * flatten, Linear 32, ReLU, Linear 10.
     */
    public static final class PooledCnn implements BlockFactory {
        private static final long serialVersionUID = 1L;

        /** {@inheritDoc} */
        @Override
        public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
            return new SequentialBlock()
                    .add(convBnRelu(8))
                    .add(Pool.maxPool2dBlock(new Shape(2, 2)))
                    .add(convBnRelu(16))
                    .add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), true))
                    .add(convBnRelu(16))
                    .add(Blocks.batchFlattenBlock())
                    .add(Linear.builder().setUnits(32).build())
                    .add(Activation.reluBlock())
                    .add(Linear.builder().setUnits(10).build());
        }

        private static SequentialBlock convBnRelu(int c) {
            return new SequentialBlock()
                    .add(conv(c, 3, 1))
                    .add(BatchNorm.builder().build())
                    .add(Activation.reluBlock());
        }
    }

    /** An MLP: another architecture altogether. */
    public static final class Mlp implements BlockFactory {
        private static final long serialVersionUID = 1L;

        /** {@inheritDoc} */
        @Override
        public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
            return new SequentialBlock()
                    .add(Blocks.batchFlattenBlock())
                    .add(Linear.builder().setUnits(48).build())
                    .add(Activation.reluBlock())
                    .add(Linear.builder().setUnits(10).build());
        }
    }

    private static Conv2d conv(int filters, int kernel, int stride) {
        return Conv2d.builder()
                .setKernelShape(new Shape(kernel, kernel))
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(kernel / 2, kernel / 2))
                .setFilters(filters)
                .optBias(false)
                .build();
    }

    private static Block residual(int channels) {
        SequentialBlock main =
                new SequentialBlock()
                        .add(conv(channels, 3, 2))
                        .add(BatchNorm.builder().build())
                        .add(Activation.reluBlock())
                        .add(conv(channels, 3, 1))
                        .add(BatchNorm.builder().build());
        SequentialBlock shortcut =
                new SequentialBlock().add(conv(channels, 1, 2)).add(BatchNorm.builder().build());
        ParallelBlock sum =
                new ParallelBlock(
                        l ->
                                new NDList(
                                        l.get(0)
                                                .singletonOrThrow()
                                                .add(l.get(1).singletonOrThrow())),
                        Arrays.asList(main, shortcut));
        return new SequentialBlock().add(sum).add(Activation.reluBlock());
    }

    /**
     * A float model of a factory's architecture with seeded random weights and BatchNorm
     * statistics.
     */
    static Model floatModel(BlockFactory factory, String name, int seed) throws IOException {
        return floatModel(factory, name, seed, inputOf(factory));
    }

    /** A float model for an input shape (batch 1). */
    static Model floatModel(BlockFactory factory, String name, int seed, Shape input)
            throws IOException {
        Model model = Model.newInstance(name);
        Block block = factory.newBlock(model, null, null);
        model.setBlock(block);
        NDManager m = model.getNDManager();
        m.getEngine().setRandomSeed(seed);
        block.initialize(m, DataType.FLOAT32, input);
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray a = p.getValue().getArray();
            String key = p.getKey();
            if (key.endsWith("runningMean") || key.endsWith("beta") || key.endsWith("bias")) {
                a.addi(m.randomNormal(0, 0.2f, a.getShape(), DataType.FLOAT32));
            } else if (key.endsWith("runningVar") || key.endsWith("gamma")) {
                a.muli(m.randomUniform(0.5f, 1.5f, a.getShape(), DataType.FLOAT32));
            }
        }
        return model;
    }

    /** Seeded calibration (or test) batches of 8 samples. */
    static List<NDList> batches(NDManager m, int count, int seed) {
        return batches(m, count, seed, INPUT);
    }

    /** Seeded batches of 8 samples of an input shape (batch 1). */
    static List<NDList> batches(NDManager m, int count, int seed, Shape input) {
        m.getEngine().setRandomSeed(seed);
        long[] shape = input.getShape().clone();
        shape[0] = 8;
        List<NDList> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(new NDList(m.randomNormal(new Shape(shape))));
        }
        return out;
    }

    /** Quantizes a model in place with 32 calibration samples. */
    static QuantizationReport quantize(Model model) {
        return quantize(model, INPUT);
    }

    /** Quantizes a model in place with 32 calibration samples of an input shape. */
    static QuantizationReport quantize(Model model, Shape input) {
        return Quantizer.quantize(
                model,
                CalibrationData.fromBatches(batches(model.getNDManager(), 4, 3, input)),
                TestConfigs.builder().optCalibrationSamples(32).build());
    }

    /** Runs a block on one input in inference mode and returns the output's float values. */
    static float[] run(Model model, NDArray x) {
        try (NDManager scope = model.getNDManager().newSubManager()) {
            NDArray in = x.duplicate();
            in.attach(scope);
            NDList out =
                    model.getBlock()
                            .forward(new ParameterStore(scope, false), new NDList(in), false);
            return out.singletonOrThrow().toFloatArray();
        }
    }

    /**
     * Copies an artifact's files flat into a new directory and edits the copy's manifest.
     *
     * @param artifact the artifact directory
     * @param dir the directory to create
     * @param edit what to do to the manifest
     * @return {@code dir}
     * @throws IOException if a file cannot be copied or written
     */
    static Path copyWithManifest(Path artifact, Path dir, Consumer<JsonObject> edit)
            throws IOException {
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(ArtifactLoader.filesDirectory(artifact))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        JsonObject o = manifest(dir);
        edit.accept(o);
        Files.writeString(
                dir.resolve("quantization.json"), ArtifactManifest.GSON.toJson(o), StandardCharsets.UTF_8);
        return dir;
    }

    /**
     * Asserts that an exported chained artifact records exactly {@code chains} and that {@link
     * ArtifactLoader} and plain Criteria both load it with those chains formed again and outputs
     * {@code want} on {@code x}.
     */
    static void assertLoadsWithChains(Path artifact, List<String> chains, NDArray x, float[] want)
            throws Exception {
        com.google.gson.JsonArray recorded =
                manifest(ArtifactLoader.filesDirectory(artifact)).getAsJsonArray("int8Chains");
        org.junit.jupiter.api.Assertions.assertEquals(chains.size(), recorded.size(), recorded.toString());
        for (int i = 0; i < chains.size(); i++) {
            org.junit.jupiter.api.Assertions.assertEquals(chains.get(i), recorded.get(i).getAsString());
        }
        try (Model loaded = ArtifactLoader.load(artifact)) {
            org.junit.jupiter.api.Assertions.assertEquals(
                    chains, ai.djlquant.transform.ChainTargets.formed(
                            ai.djlquant.transform.BlockTree.walk(loaded.getBlock())));
            org.junit.jupiter.api.Assertions.assertArrayEquals(want, run(loaded, x));
        }
        ai.djl.repository.zoo.Criteria<NDList, NDList> plain =
                ai.djl.repository.zoo.Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optModelPath(artifact)
                        .build();
        try (ai.djl.repository.zoo.ZooModel<NDList, NDList> loaded = plain.loadModel()) {
            org.junit.jupiter.api.Assertions.assertEquals(
                    chains, ai.djlquant.transform.ChainTargets.formed(
                            ai.djlquant.transform.BlockTree.walk(loaded.getBlock())));
            org.junit.jupiter.api.Assertions.assertArrayEquals(want, run(loaded, x));
        }
    }

    /**
     * Reads a files directory's manifest as JSON.
     *
     * @param filesDir the directory holding quantization.json
     * @return the manifest
     * @throws IOException if it cannot be read
     */
    static JsonObject manifest(Path filesDir) throws IOException {
        return JsonParser.parseString(Files.readString(filesDir.resolve("quantization.json")))
                .getAsJsonObject();
    }
}

package ai.djlquant.examples.bench;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.basicmodelzoo.cv.classification.ResNetV1;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.transformer.TransformerEncoderBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djlquant.CalibrationData;
import ai.djlquant.HostProfile;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.SideBySideTimer;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.models.ReferenceModel;
import ai.djlquant.examples.quantize.CalibrationImages;
import ai.djlquant.kernel.Int8Backend;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.kernel.OneDnnBackend;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.plan.SpeedComparison;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Whole models, fp32 against int8, in one process with the same thread count on both sides (DJL's
 * intra-op threads, which the int8 blocks pass on to oneDNN):
 *
 * <ul>
 *   <li>{@code cnn}: the trained reference CNN, quantized with the default config on the committed
 *       calibration subset; batch 1 and 32 of 28x28 images;
 *   <li>{@code resnet50}: DJL's basic model zoo ResNet-50 ({@code ResNetV1}, 224x224, 1000
 *       classes, random weights), quantized with the default config on 8 random images; batch 1
 *       and 16;
 *   <li>{@code encoder}: a BERT-base-shaped encoder, 12 DJL {@code TransformerEncoderBlock}s
 *       (hidden 768, feed-forward 3072, 12 heads, GELU; random weights) on sequences of 128, with
 *       every Linear quantized dynamically; batch 1 and 8.
 * </ul>
 *
 * <p>The float and the int8 model are two copies with the same weights (the float parameters are
 * copied through DJL's parameter format before quantizing one). Timing: {@link SideBySideTimer}
 * (warm-up, then alternating rounds, median of the mean call time); inputs are random normal (the
 * speed of these kernels does not depend on the values).
 *
 * <pre>
 * nice -n 10 mvn -B -q verify -DskipTests -Prun \
 *     -Drun.main=ai.djlquant.examples.bench.ModelBenchmark \
 *     -Drun.args="--json model-benchmark.json"
 * </pre>
 *
 * Options: {@code --models cnn,resnet50,encoder}, {@code --threads 2} (comma-separated), {@code
 * --quick} (fewer, shorter rounds), {@code --json FILE} (rows as the layer benchmark writes them:
 * {@code op}, {@code shape}, {@code threads}, {@code fp32_us}, {@code int8_us}, {@code speedup}),
 * {@code --models-dir examples/models}, {@code --calibration calibration-data/calibration}.
 */
public final class ModelBenchmark {

    private final SideBySideTimer timer;
    private final List<LayerBenchmark.Row> rows = new ArrayList<>();

    private ModelBenchmark(SideBySideTimer timer) {
        this.timer = timer;
    }

    /**
     * Runs the benchmark.
     *
     * @param args see the class documentation
     * @throws Exception if a model or the data cannot be loaded, or the JSON cannot be written
     */
    public static void main(String[] args) throws Exception {
        List<String> models = Arrays.asList("cnn", "resnet50", "encoder");
        int[] threads = null;
        boolean quick = false;
        Path json = null;
        Path modelsDir = Paths.get("examples/models");
        Path calibrationDir = Paths.get("calibration-data/calibration");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--models":
                    models = Arrays.asList(args[++i].split(","));
                    break;
                case "--threads":
                    threads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt)
                            .toArray();
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--json":
                    json = Paths.get(args[++i]);
                    break;
                case "--models-dir":
                    modelsDir = Paths.get(args[++i]);
                    break;
                case "--calibration":
                    calibrationDir = Paths.get(args[++i]);
                    break;
                default:
                    throw new IllegalArgumentException(
                            "unknown option " + args[i] + " (see the class documentation)");
            }
        }
        Int8Backend backend = Int8Backends.get();
        Engine engine = Engine.getEngine("PyTorch");
        if (threads == null) {
            threads = new int[] {JniUtils.getNumThreads()};
        }
        System.out.printf(
                "# DJL %s, PyTorch %s, int8 backend %s%s, %d-bit activations, %d CPUs%n",
                Engine.getDjlVersion(),
                engine.getVersion(),
                backend.getName(),
                backend instanceof OneDnnBackend
                        ? " (" + ((OneDnnBackend) backend).getIsa() + ")"
                        : "",
                backend.getActivationBits(),
                Runtime.getRuntime().availableProcessors());
        // the host line of the project's standards: ISA as oneDNN sees it and this host's measured
        // int8-vs-fp32 GEMM ratio, at each thread count the table uses
        for (int t : threads) {
            System.out.println("# " + HostProfile.current(t).toLine());
        }
        ModelBenchmark bench =
                new ModelBenchmark(
                        SideBySideTimer.forBenchmarks(quick ? 5 : 9, quick ? 200 : 500));
        System.out.printf(
                "%-9s %-16s %7s %14s %14s %8s%n",
                "op", "shape", "threads", "fp32_us", "int8_us", "speedup");
        for (String name : models) {
            try (Pair pair = bench.build(name, modelsDir, calibrationDir)) {
                for (int t : threads) {
                    JniUtils.setNumThreads(t);
                    for (int batch : pair.batches) {
                        bench.measure(name, pair, batch, t);
                    }
                }
            }
        }
        if (json != null) {
            LayerBenchmark.writeJson(json, bench.rows);
        }
    }

    /** A float model and its int8 copy, with the input shape per batch size. */
    private static final class Pair implements AutoCloseable {
        final Model fp32;
        final Model int8;
        final int[] batches;
        final long[] sample;

        Pair(Model fp32, Model int8, int[] batches, long... sample) {
            this.fp32 = fp32;
            this.int8 = int8;
            this.batches = batches;
            this.sample = sample;
        }

        @Override
        public void close() {
            fp32.close();
            int8.close();
        }
    }

    private Pair build(String name, Path modelsDir, Path calibrationDir) throws Exception {
        QuantizationReport report;
        Pair pair;
        switch (name) {
            case "cnn":
                {
                    Model fp32 = ReferenceModel.CNN.load(modelsDir);
                    Model int8 = ReferenceModel.CNN.load(modelsDir);
                    report =
                            Quantizer.quantize(
                                    int8,
                                    CalibrationData.fromInputs(
                                            CalibrationImages.load(calibrationDir),
                                            FashionMnist.newTranslator(),
                                            32),
                                    QuantizationConfig.defaults());
                    pair = new Pair(fp32, int8, new int[] {1, 32}, 1, 28, 28);
                    break;
                }
            case "resnet50":
                {
                    Shape image = new Shape(3, 224, 224);
                    Supplier<Block> resnet =
                            () ->
                                    ResNetV1.builder()
                                            .setImageShape(image)
                                            .setNumLayers(50)
                                            .setOutSize(1000)
                                            .build();
                    Model fp32 = newModel(resnet, new Shape(1, 3, 224, 224));
                    Model int8 = copyOf(fp32, resnet, new Shape(1, 3, 224, 224));
                    report =
                            Quantizer.quantize(
                                    int8,
                                    CalibrationData.fromBatches(
                                            randomBatches(int8, 2, new Shape(4, 3, 224, 224))),
                                    QuantizationConfig.defaults());
                    pair = new Pair(fp32, int8, new int[] {1, 16}, 3, 224, 224);
                    break;
                }
            case "encoder":
                {
                    Shape in = new Shape(1, 128, 768);
                    Model fp32 = newModel(ModelBenchmark::encoder, in);
                    Model int8 = copyOf(fp32, ModelBenchmark::encoder, in);
                    report =
                            Quantizer.quantize(
                                    int8,
                                    CalibrationData.fromBatches(
                                            randomBatches(int8, 2, new Shape(2, 128, 768))),
                                    QuantizationConfig.builder()
                                            .optDefaultMode(QuantizationMode.DYNAMIC)
                                            .build());
                    pair = new Pair(fp32, int8, new int[] {1, 8}, 128, 768);
                    break;
                }
            default:
                throw new IllegalArgumentException(
                        "unknown model " + name + " (cnn, resnet50, encoder)");
        }
        System.out.printf(
                Locale.ROOT,
                "# %s: %d static, %d dynamic, %d fp32 layers; parameters %d -> %d bytes;"
                        + " quantized in %.1f s%n",
                name,
                report.count(QuantizationMode.STATIC),
                report.count(QuantizationMode.DYNAMIC),
                report.count(QuantizationMode.FP32),
                report.getModelFloatBytes(),
                report.getModelQuantizedBytes(),
                report.getTotalSeconds());
        int chains = 0;
        for (String note : report.getNotes()) {
            if (note.startsWith("int8 chain (")) {
                chains++;
            } else if (note.startsWith("int8 chains")) {
                System.out.println("# " + name + ": " + note); // kept or not, with the timings
            }
        }
        System.out.println("# " + name + ": " + chains + " int8 chain(s) in the model timed");
        return pair;
    }

    /** BERT-base's encoder stack: 12 layers, hidden 768, 12 heads, feed-forward 3072, GELU. */
    private static Block encoder() {
        SequentialBlock s = new SequentialBlock();
        for (int i = 0; i < 12; i++) {
            s.add(new TransformerEncoderBlock(768, 12, 3072, 0f, Activation::gelu));
        }
        return s;
    }

    /** Makes a model around a new block, initialised with seeded random weights. */
    private static Model newModel(Supplier<Block> blocks, Shape input) {
        Model model = Model.newInstance("fp32");
        Block block = blocks.get();
        model.setBlock(block);
        model.getNDManager().getEngine().setRandomSeed(42);
        block.initialize(model.getNDManager(), DataType.FLOAT32, input);
        return model;
    }

    /** A second model with the same architecture and the same parameters as {@code source}. */
    private static Model copyOf(Model source, Supplier<Block> blocks, Shape input)
            throws IOException, MalformedModelException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            source.getBlock().saveParameters(out);
        }
        Model model = Model.newInstance("int8");
        Block block = blocks.get();
        model.setBlock(block);
        block.initialize(model.getNDManager(), DataType.FLOAT32, input);
        try (DataInputStream in =
                new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            block.loadParameters(model.getNDManager(), in);
        }
        return model;
    }

    private static List<NDList> randomBatches(Model model, int count, Shape shape) {
        NDManager m = model.getNDManager();
        m.getEngine().setRandomSeed(7);
        List<NDList> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(new NDList(m.randomNormal(shape)));
        }
        return out;
    }

    private void measure(String name, Pair pair, int batch, int threads) {
        long[] dims = new long[pair.sample.length + 1];
        dims[0] = batch;
        System.arraycopy(pair.sample, 0, dims, 1, pair.sample.length);
        Shape shape = new Shape(dims);
        try (NDManager manager = pair.fp32.getNDManager().newSubManager()) {
            NDList x = new NDList(manager.randomNormal(shape));
            SpeedComparison c = timer.compare(pair.fp32.getBlock(), pair.int8.getBlock(), x, manager);
            LayerBenchmark.Row row =
                    new LayerBenchmark.Row(
                            name, shape.toString().replaceAll("[() ]", "").replace(',', 'x'),
                            threads, c.fp32Micros(), c.int8Micros());
            rows.add(row);
            System.out.printf(
                    Locale.ROOT,
                    "%-9s %-16s %7d %14.1f %14.1f %7.2fx%n",
                    row.op,
                    row.shape,
                    threads,
                    row.fp32,
                    row.int8,
                    row.speedup());
        }
    }
}

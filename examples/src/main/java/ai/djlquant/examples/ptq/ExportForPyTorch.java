package ai.djlquant.examples.ptq;

import ai.djl.inference.Predictor;
import ai.djl.metric.Metrics;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Dataset;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import ai.djl.util.Pair;
import ai.djlquant.HostProfile;
import ai.djlquant.LayerReport;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.models.ReferenceModel;
import ai.djlquant.examples.quantize.CalibrationImages;
import ai.djlquant.examples.quantize.QuantizeReferenceModels;
import ai.djlquant.observe.MinMaxEstimator;
import ai.djlquant.observe.MseEstimator;
import ai.djlquant.observe.RangeEstimator;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.quant.Granularity;

import com.google.gson.GsonBuilder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Exports what PyTorch needs to quantize the reference models the way we do, and our own numbers
 * from the same run, for {@code examples/scripts/ptq/compare_pytorch.py}.
 *
 * <pre>
 * mvn -B -q verify -DskipTests -Prun -Drun.main=ai.djlquant.examples.ptq.ExportForPyTorch \
 *     -Drun.args="/tmp/ptq calibration-data/test calibration-data/calibration \
 *                 examples/models/cnn examples/models/resnet examples/models/mlp"
 * </pre>
 *
 * <p>{@code --variants} also quantizes each model under the observer and weight variants
 * PyTorch's table has (min-max, percentile or least-squares ranges, per-tensor or per-channel
 * weights, every layer int8), so that the best of ours meets the best of PyTorch's on equal
 * terms; {@code --variants=mse,minmax} tries only those estimators.
 *
 * <p>{@code --seed N} draws another calibration subset (the config's seed; 42 by default), with
 * which both tools calibrate: a second draw tells a real gap between them from calibration noise.
 *
 * <p>Into the output directory it writes
 *
 * <ul>
 *   <li>{@code data.npz}: {@code calib_x} (512, 1, 28, 28) float32, the calibration images our
 *       quantizer uses with {@link QuantizationConfig#defaults()} (of the folder's images in {@link
 *       CalibrationImages#load(Path)} order, the seeded uniform subset of {@code
 *       getCalibrationSamples()} the quantizer draws, kept in folder order), through the serving
 *       translator; {@code calib_index} (512) int64, their positions in the folder order; {@code
 *       test_x} (10000, 1, 28, 28) float32, the test split through {@link
 *       FashionMnist#newPipeline()}; {@code test_y} (10000) int64, its labels;
 *   <li>{@code <model>.npz}: {@code param/<DJL parameter name>} for every parameter of the float
 *       block ({@link Block#getParameters()}, in its order, BatchNorm running mean and variance
 *       included), and {@code ours/fp32_test_logits} (10000, 10), the float block's logits on
 *       {@code test_x};
 *   <li>{@code <model>.json}: our fp32 and int8 top-1 measured by the harness ({@link
 *       QuantizeReferenceModels#run}) with the default config on the whole folder, and the int8
 *       top-1 with objective {@link Objective#SIZE} on exactly the exported 512 images (every layer
 *       int8, no timing: the default's objective BALANCED keeps a layer fp32 where this host times
 *       it slower, which depends on the load), each with its layer modes; the host line.
 * </ul>
 *
 * <p>Two checks keep the export honest, each failing the run with the model named. The argmax of
 * the exported logits gives the harness's fp32 top-1 (so {@code test_x} is what the harness
 * evaluates). The SIZE run, calibrated on the exported 512 images alone, gives every layer the
 * same calibration input range as the default run on the whole folder (so {@code calib_x} is what
 * the quantizer saw; calibration comes before any decision, so the objective does not change it).
 */
public final class ExportForPyTorch {

    /** The range estimators {@code --variants} tries, by the names its JSON keys use. */
    private static final List<String> ESTIMATORS = List.of("minmax", "hist", "mse");

    private static final int LOGIT_BATCH = 500;

    private ExportForPyTorch() {}

    /**
     * Returns the calibration subset the quantizer draws from a source read at any index: the
     * positions {@code CalibrationData} picks (a seeded shuffle of all positions, the first {@code
     * n} of it, sorted back into source order), or every position when the source holds no more
     * than {@code n}. {@link #checkSameCalibration} verifies the result against the quantizer.
     *
     * @param size the number of inputs in the source
     * @param n the number of calibration samples
     * @param seed the config's seed
     * @return the positions, ascending
     */
    static List<Integer> calibrationSubset(int size, int n, long seed) {
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            all.add(i);
        }
        if (size <= n) {
            return all;
        }
        Collections.shuffle(all, new Random(seed));
        List<Integer> some = new ArrayList<>(all.subList(0, n));
        Collections.sort(some);
        return some;
    }

    /**
     * Writes every parameter of a block as a float32 array named {@code param/<name>}.
     *
     * @param block the initialised block
     * @param out the archive
     * @return the parameter names written, in block order
     * @throws java.io.IOException if the archive cannot be written
     * @throws IllegalArgumentException naming the parameter if it is not initialised
     */
    static List<String> writeParameters(Block block, NpzWriter out) throws java.io.IOException {
        List<String> names = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (!p.getValue().isInitialized()) {
                throw new IllegalArgumentException(
                        "parameter " + p.getKey() + " is not initialised: load the model first");
            }
            NDArray a = p.getValue().getArray();
            out.addFloats("param/" + p.getKey(), a.getShape().getShape(), a.toFloatArray());
            names.add(p.getKey());
        }
        return names;
    }

    /**
     * Runs the export.
     *
     * @param args the output, test and calibration directories, then one or more model
     *     directories (each named after its reference model)
     * @throws Exception if a model or the data cannot be loaded, or a check fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println(
                    "usage: ExportForPyTorch <out-dir> <test-idx-dir> <calibration-dir>"
                            + " <model-dir>... [--seed N] [--variants]");
            System.exit(2);
        }
        Path outDir = Paths.get(args[0]);
        Path testDir = Paths.get(args[1]);
        Path calibrationDir = Paths.get(args[2]);
        List<Path> modelDirs = new ArrayList<>();
        long seed = QuantizationConfig.defaults().getSeed();
        List<String> variants = List.of();
        for (int i = 3; i < args.length; i++) {
            if ("--variants".equals(args[i])) {
                variants = ESTIMATORS;
            } else if (args[i].startsWith("--variants=")) {
                variants = List.of(args[i].substring("--variants=".length()).split(","));
                for (String v : variants) {
                    if (!ESTIMATORS.contains(v)) {
                        throw new IllegalArgumentException(
                                "--variants: no range estimator named '" + v + "' (one of "
                                        + String.join(", ", ESTIMATORS) + ")");
                    }
                }
            } else if ("--seed".equals(args[i])) {
                if (i + 1 == args.length) {
                    throw new IllegalArgumentException("--seed needs a value, e.g. --seed 7");
                }
                seed = Long.parseLong(args[++i]);
            } else {
                modelDirs.add(Paths.get(args[i]).toAbsolutePath().normalize());
            }
        }
        Files.createDirectories(outDir);
        IdxDataset test =
                IdxDataset.builder().setDirectory(testDir).optUsage(Dataset.Usage.TEST).build();
        test.prepare();
        int testSize = Math.toIntExact(test.size());
        List<Image> calibration = CalibrationImages.load(calibrationDir);
        QuantizationConfig config = QuantizationConfig.builder().optSeed(seed).build();
        List<Integer> subset =
                calibrationSubset(
                        calibration.size(), config.getCalibrationSamples(), config.getSeed());
        List<Image> used = new ArrayList<>();
        for (int i : subset) {
            used.add(calibration.get(i));
        }
        HostProfile host = HostProfile.current();
        System.out.println("# host: " + host.toLine());
        System.out.printf(
                "calibration: %d of %d images of %s (seed %d); test: %d images%n",
                used.size(), calibration.size(), calibrationDir, config.getSeed(), testSize);

        float[] testX;
        try (NDManager manager = NDManager.newBaseManager()) {
            testX = preprocessedTest(test, manager, 0, testSize).toFloatArray();
            try (ZooModel<Image, Classifications> any =
                            ReferenceModel.loadDirectory(modelDirs.get(0));
                    NpzWriter data = NpzWriter.create(outDir.resolve("data.npz"))) {
                float[] calibX = translated(used, any, FashionMnist.newTranslator());
                data.addFloats("calib_x", new long[] {used.size(), 1, 28, 28}, calibX);
                data.addLongs(
                        "calib_index",
                        new long[] {subset.size()},
                        subset.stream().mapToLong(Integer::longValue).toArray());
                data.addFloats("test_x", new long[] {testSize, 1, 28, 28}, testX);
                long[] labels = new long[testSize];
                for (int i = 0; i < testSize; i++) {
                    labels[i] = test.getLabel(i);
                }
                data.addLongs("test_y", new long[] {testSize}, labels);
            }
        }
        for (Path dir : modelDirs) {
            exportModel(dir, test, calibration, used, config, variants, host, outDir);
        }
        System.out.println("written to " + outDir.toAbsolutePath().normalize());
    }

    private static void exportModel(
            Path dir,
            IdxDataset test,
            List<Image> calibration,
            List<Image> used,
            QuantizationConfig config,
            List<String> variants,
            HostProfile host,
            Path outDir)
            throws Exception {
        ReferenceModel m = ReferenceModel.of(dir.getFileName().toString());
        String name = m.modelName();
        QuantizeReferenceModels.Result ours =
                QuantizeReferenceModels.run(
                        m, dir.getParent(), test, calibration, null, true, config);
        QuantizationConfig allInt8 =
                QuantizationConfig.builder()
                        .optObjective(Objective.SIZE)
                        .optSeed(config.getSeed())
                        .build();
        QuantizeReferenceModels.Result again =
                QuantizeReferenceModels.run(m, dir.getParent(), test, used, null, false, allInt8);
        int compared = checkSameCalibration(name, ours.report, again.report);
        int testSize = Math.toIntExact(test.size());
        List<String> names;
        try (ZooModel<Image, Classifications> fp32 = m.load(dir.getParent());
                NpzWriter out = NpzWriter.create(outDir.resolve(name + ".npz"))) {
            names = writeParameters(fp32.getBlock(), out);
            float[] logits = logits(fp32, test, testSize);
            int correct = 0;
            for (int i = 0; i < testSize; i++) {
                correct += argmax(logits, i * 10, 10) == test.getLabel(i) ? 1 : 0;
            }
            double top1 = (double) correct / testSize;
            if (Math.abs(top1 - ours.fp32Top1) > 0.5 / testSize) {
                throw new IllegalStateException(
                        name + ": the exported logits give top-1 " + top1 + " but the harness "
                                + ours.fp32Top1 + ": test_x is not what the harness evaluates");
            }
            out.addFloats("ours/fp32_test_logits", new long[] {testSize, 10}, logits);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", name);
        json.put("directory", dir.toString());
        json.put("fp32_top1", ours.fp32Top1);
        json.put("int8_top1", ours.int8Top1);
        json.put("static", ours.report.count(QuantizationMode.STATIC));
        json.put("dynamic", ours.report.count(QuantizationMode.DYNAMIC));
        json.put("fp32", ours.report.count(QuantizationMode.FP32));
        json.put("size_int8_top1", again.int8Top1);
        json.put("size_static", again.report.count(QuantizationMode.STATIC));
        json.put("size_dynamic", again.report.count(QuantizationMode.DYNAMIC));
        json.put("size_fp32", again.report.count(QuantizationMode.FP32));
        json.put("calibration_samples", ours.report.getCalibrationSamples());
        json.put("calibration_ranges_compared", compared);
        json.put("parameters", names.size());
        json.put("config", config.toString());
        json.put("size_config", allInt8.toString());
        json.put("host", host.toLine());
        if (!variants.isEmpty()) {
            json.put(
                    "variants",
                    variants(m, dir, test, used, variants, config.getSeed(), again.int8Top1));
        }
        List<Map<String, Object>> layers = layerRows(ours);
        json.put("layers", layers);
        json.put("size_layers", layerRows(again));
        Files.writeString(
                outDir.resolve(name + ".json"),
                new GsonBuilder().setPrettyPrinting().create().toJson(json) + "\n",
                StandardCharsets.UTF_8);
        System.out.printf(
                "%-9s fp32 %.2f%%  int8 %.2f%% (S/D/F %d/%d/%d), objective SIZE %.2f%% (%d/%d/%d)"
                        + "  %d parameters, %d calibration ranges equal%n",
                name,
                ours.fp32Top1 * 100,
                ours.int8Top1 * 100,
                ours.report.count(QuantizationMode.STATIC),
                ours.report.count(QuantizationMode.DYNAMIC),
                ours.report.count(QuantizationMode.FP32),
                again.int8Top1 * 100,
                again.report.count(QuantizationMode.STATIC),
                again.report.count(QuantizationMode.DYNAMIC),
                again.report.count(QuantizationMode.FP32),
                names.size(),
                compared);
    }

    /**
     * Our top-1 under the observer and weight variants PyTorch's table has, every layer int8
     * (objective SIZE) as PyTorch quantizes every layer: activation ranges by min-max, by our
     * default 99.99th percentile of the histogram ({@code hist}), or by the histogram's least
     * squared error ({@code mse}, what PyTorch's HistogramObserver minimises), each with
     * per-tensor or per-channel weights. The {@code hist/c} variant is the SIZE run already made.
     */
    private static Map<String, Double> variants(
            ReferenceModel m,
            Path dir,
            IdxDataset test,
            List<Image> used,
            List<String> estimators,
            long seed,
            double sizeTop1)
            throws Exception {
        Map<String, Double> top1 = new LinkedHashMap<>();
        for (String estimator : estimators) {
            for (Granularity weights : Granularity.values()) {
                String key = estimator + "/" + (weights == Granularity.PER_TENSOR ? "t" : "c");
                if ("hist/c".equals(key)) {
                    top1.put(key, sizeTop1);
                    continue;
                }
                QuantizationConfig.Builder b =
                        QuantizationConfig.builder()
                                .optObjective(Objective.SIZE)
                                .optSeed(seed)
                                .optWeightGranularity(weights)
                                .optRangeEstimator(estimator(estimator));
                QuantizeReferenceModels.Result r =
                        QuantizeReferenceModels.run(
                                m, dir.getParent(), test, used, null, false, b.build());
                top1.put(key, r.int8Top1);
                System.out.printf("%-9s ours %s %.2f%%%n", m.modelName(), key, r.int8Top1 * 100);
            }
        }
        return top1;
    }

    private static RangeEstimator estimator(String name) {
        switch (name) {
            case "minmax":
                return new MinMaxEstimator();
            case "mse":
                return new MseEstimator();
            default:
                return QuantizationConfig.defaults().getRangeEstimator();
        }
    }

    private static List<Map<String, Object>> layerRows(QuantizeReferenceModels.Result r) {
        List<Map<String, Object>> layers = new ArrayList<>();
        for (LayerReport l : r.report.getLayers()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("path", l.getPath());
            row.put("type", l.getBlockType());
            row.put("mode", String.valueOf(l.getMode()));
            row.put("reason", l.getReason());
            layers.add(row);
        }
        return layers;
    }

    /**
     * Checks that two quantizations of one model saw the same calibration data: every layer both
     * reports has the same input range.
     *
     * @param model the model's name, for the message
     * @param a one quantization's report
     * @param b the other's
     * @return the number of layers compared
     * @throws IllegalStateException naming the model and layer if a range differs, or if no layer
     *     has a range in both
     */
    static int checkSameCalibration(String model, QuantizationReport a, QuantizationReport b) {
        int compared = 0;
        for (LayerReport la : a.getLayers()) {
            LayerReport lb = b.getLayer(la.getPath());
            if (lb == null || la.getInputBounds() == null || lb.getInputBounds() == null) {
                continue;
            }
            if (!la.getInputBounds().equals(lb.getInputBounds())) {
                throw new IllegalStateException(
                        model + ": layer " + la.getPath() + " saw input range "
                                + la.getInputBounds() + " calibrating on the folder but "
                                + lb.getInputBounds() + " on the exported subset: the subset is"
                                + " not the quantizer's");
            }
            compared++;
        }
        if (compared == 0) {
            throw new IllegalStateException(model + ": no layer reports an input range to compare");
        }
        return compared;
    }

    private static NDArray preprocessedTest(IdxDataset test, NDManager manager, int from, int n) {
        return FashionMnist.newPipeline()
                .transform(new NDList(test.rawImages(manager, from, n)))
                .singletonOrThrow();
    }

    /** The images through the translator's own preprocessing, as calibration runs them. */
    private static float[] translated(
            List<Image> images, ZooModel<?, ?> model, Translator<Image, ?> translator)
            throws Exception {
        try (NDManager manager = model.getNDManager().newSubManager();
                TranslatorContext ctx =
                        new Predictor.PredictorContext(model, manager, new Metrics())) {
            translator.prepare(ctx);
            return translator.batchProcessInput(ctx, images).singletonOrThrow().toFloatArray();
        }
    }

    private static float[] logits(ZooModel<?, ?> model, IdxDataset test, int n) {
        float[] out = new float[n * 10];
        Block block = model.getBlock();
        for (int from = 0; from < n; from += LOGIT_BATCH) {
            int count = Math.min(LOGIT_BATCH, n - from);
            try (NDManager manager = model.getNDManager().newSubManager()) {
                NDArray x = preprocessedTest(test, manager, from, count);
                NDArray y =
                        block.forward(new ParameterStore(manager, false), new NDList(x), false)
                                .singletonOrThrow();
                System.arraycopy(y.toFloatArray(), 0, out, from * 10, count * 10);
            }
        }
        return out;
    }

    private static int argmax(float[] v, int offset, int length) {
        int best = 0;
        for (int i = 1; i < length; i++) {
            if (v[offset + i] > v[offset + best]) {
                best = i;
            }
        }
        return best;
    }
}

package ai.djlquant.examples.quantize;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.dataset.Dataset;
import ai.djlquant.CalibrationData;
import ai.djlquant.HostProfile;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.SideBySideTimer;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.eval.EvaluationResult;
import ai.djlquant.examples.eval.ModelEvaluator;
import ai.djlquant.examples.models.ReferenceModel;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.plan.SpeedComparison;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The end-to-end measurement: for each reference model, the float model as committed and a copy
 * quantized with the default {@link QuantizationConfig} on the committed calibration subset (the
 * PNGs run through the serving translator), compared on the committed test split: top-1 through
 * the harness's Predictor, parameter bytes, and forward time at batch 1 and 32 (preprocessed test
 * images; fp32 and int8 alternate in rounds in this process, see {@link SideBySideTimer}).
 *
 * <pre>
 * mvn -B -q verify -DskipTests -Prun \
 *     -Drun.main=ai.djlquant.examples.quantize.QuantizeReferenceModels \
 *     -Drun.args="examples/models calibration-data/test calibration-data/calibration"
 * </pre>
 *
 * Options after the three directories: {@code --models cnn,resnet,mlp,mobilenet,vit} (default:
 * all five), {@code --json FILE} (one object per model), {@code --reports DIR} (each model's
 * quantization report as JSON), {@code --threads N} (DJL's intra-op threads, passed on to
 * oneDNN; default PyTorch's), {@code --objective balanced|latency|size} (default balanced), {@code
 * --quick} (fewer timing rounds).
 */
public final class QuantizeReferenceModels {

    private QuantizeReferenceModels() {}

    /** One model's numbers. */
    public static final class Result {
        /** The model's name. */
        public String model;
        /** Test top-1 of the float model. */
        public double fp32Top1;
        /** Test top-1 of the quantized model. */
        public double int8Top1;
        /** Parameter bytes of the float model. */
        public long fp32Bytes;
        /** Parameter bytes of the quantized model. */
        public long int8Bytes;
        /** Forward microseconds at batch 1 and 32, float. */
        public double[] fp32Micros = new double[2];
        /** Forward microseconds at batch 1 and 32, int8. */
        public double[] int8Micros = new double[2];
        /** The quantization report. */
        public transient QuantizationReport report;

        /**
         * Returns the top-1 drop in percentage points.
         *
         * @return the drop (positive when int8 is worse)
         */
        public double dropPoints() {
            return (fp32Top1 - int8Top1) * 100;
        }

        /**
         * Returns the int8 model's parameter bytes as a fraction of the float model's.
         *
         * @return the ratio
         */
        public double bytesRatio() {
            return (double) int8Bytes / fp32Bytes;
        }

        String row() {
            return String.format(
                    Locale.ROOT,
                    "%-7s %8.2f%% %8.2f%% %+7.2f %10d %10d %6.3fx %10.0f %10.0f %6.2fx %10.0f %10.0f"
                            + " %6.2fx  %d/%d/%d",
                    model,
                    fp32Top1 * 100,
                    int8Top1 * 100,
                    -dropPoints(),
                    fp32Bytes,
                    int8Bytes,
                    bytesRatio(),
                    fp32Micros[0],
                    int8Micros[0],
                    fp32Micros[0] / int8Micros[0],
                    fp32Micros[1],
                    int8Micros[1],
                    fp32Micros[1] / int8Micros[1],
                    report.count(QuantizationMode.STATIC),
                    report.count(QuantizationMode.DYNAMIC),
                    report.count(QuantizationMode.FP32));
        }

        String json() {
            return String.format(
                    Locale.ROOT,
                    "{\"model\": \"%s\", \"fp32_top1\": %.4f, \"int8_top1\": %.4f,"
                            + " \"drop_points\": %.2f, \"fp32_bytes\": %d, \"int8_bytes\": %d,"
                            + " \"bytes_ratio\": %.4f, \"b1_fp32_us\": %.1f, \"b1_int8_us\": %.1f,"
                            + " \"b1_speedup\": %.3f, \"b32_fp32_us\": %.1f, \"b32_int8_us\": %.1f,"
                            + " \"b32_speedup\": %.3f, \"static\": %d, \"dynamic\": %d,"
                            + " \"fp32\": %d, \"quantize_seconds\": %.1f}",
                    model,
                    fp32Top1,
                    int8Top1,
                    dropPoints(),
                    fp32Bytes,
                    int8Bytes,
                    bytesRatio(),
                    fp32Micros[0],
                    int8Micros[0],
                    fp32Micros[0] / int8Micros[0],
                    fp32Micros[1],
                    int8Micros[1],
                    fp32Micros[1] / int8Micros[1],
                    report.count(QuantizationMode.STATIC),
                    report.count(QuantizationMode.DYNAMIC),
                    report.count(QuantizationMode.FP32),
                    report.getTotalSeconds());
        }
    }

    /**
     * Quantizes one reference model and measures both versions.
     *
     * @param m the model
     * @param modelsDir the committed models directory
     * @param test the test split
     * @param calibration the calibration images
     * @param timer the side-by-side timer, or null to skip speed
     * @param measureFloat whether to measure the float model's top-1 (otherwise its {@code
     *     metrics.json} value, which the main job checks against the harness)
     * @param config the quantization config
     * @return the numbers
     * @throws Exception if a model or the data cannot be loaded
     */
    public static Result run(
            ReferenceModel m,
            Path modelsDir,
            IdxDataset test,
            List<Image> calibration,
            SideBySideTimer timer,
            boolean measureFloat,
            QuantizationConfig config)
            throws Exception {
        ModelEvaluator accuracy =
                ModelEvaluator.builder()
                        .setTestSet(test)
                        .setTranslator(FashionMnist.newTranslator())
                        .optMeasureLatency(false)
                        .build();
        Result r = new Result();
        r.model = m.modelName();
        try (ZooModel<Image, Classifications> fp32 = m.load(modelsDir);
                ZooModel<Image, Classifications> int8 = m.load(modelsDir)) {
            if (measureFloat) {
                r.fp32Top1 = accuracy.evaluate(r.model + " fp32", fp32).getTop1();
            } else {
                r.fp32Top1 = ReferenceModel.recordedTop1(modelsDir.resolve(r.model));
            }
            r.fp32Bytes = ModelEvaluator.parameterBytes(fp32.getBlock());
            r.report =
                    Quantizer.quantize(
                            int8,
                            CalibrationData.fromInputs(calibration, FashionMnist.newTranslator(), 32),
                            config);
            EvaluationResult after = accuracy.evaluate(r.model + " int8", int8);
            r.int8Top1 = after.getTop1();
            r.int8Bytes = after.getParameterBytes();
            if (timer != null) {
                int[] batches = {1, 32};
                for (int i = 0; i < batches.length; i++) {
                    try (NDManager manager = fp32.getNDManager().newSubManager()) {
                        NDList x =
                                FashionMnist.newPipeline()
                                        .transform(
                                                new NDList(
                                                        test.rawImages(manager, 0, batches[i])));
                        SpeedComparison c = timer.compare(fp32.getBlock(), int8.getBlock(), x, manager);
                        r.fp32Micros[i] = c.fp32Micros();
                        r.int8Micros[i] = c.int8Micros();
                    }
                }
            }
        }
        return r;
    }

    /**
     * Runs the program.
     *
     * @param args the models, test and calibration directories, then options
     * @throws Exception if a model or the data cannot be loaded
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println(
                    "usage: QuantizeReferenceModels <models-dir> <test-idx-dir> <calibration-dir>"
                            + " [--models cnn,resnet,mlp,mobilenet,vit] [--json FILE] [--reports DIR]"
                            + " [--threads N]"
                            + " [--quick]");
            System.exit(2);
        }
        Path modelsDir = Paths.get(args[0]);
        Path testDir = Paths.get(args[1]);
        Path calibrationDir = Paths.get(args[2]);
        List<String> names = new ArrayList<>();
        for (ReferenceModel m : ReferenceModel.values()) {
            names.add(m.modelName());
        }
        Path json = null;
        Path reports = null;
        boolean quick = false;
        int threads = 0;
        Objective objective = Objective.BALANCED;
        for (int i = 3; i < args.length; i++) {
            switch (args[i]) {
                case "--models":
                    names = Arrays.asList(args[++i].split(","));
                    break;
                case "--json":
                    json = Paths.get(args[++i]);
                    break;
                case "--reports":
                    reports = Paths.get(args[++i]);
                    break;
                case "--objective":
                    objective = Objective.valueOf(args[++i].toUpperCase(Locale.ROOT));
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--threads":
                    threads = Integer.parseInt(args[++i]);
                    break;
                default:
                    throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        IdxDataset test =
                IdxDataset.builder().setDirectory(testDir).optUsage(Dataset.Usage.TEST).build();
        test.prepare();
        List<Image> calibration = CalibrationImages.load(calibrationDir);
        if (threads > 0) {
            ModelEvaluator.torchThreads(); // loads the engine
            JniUtils.setNumThreads(threads); // the int8 blocks pass the same count to oneDNN
        }
        SideBySideTimer timer = SideBySideTimer.forBenchmarks(quick ? 5 : 9, quick ? 50 : 200);
        System.out.printf(
                "Fashion-MNIST test split: %d images; calibration: %d images from %s%n",
                test.size(), calibration.size(), calibrationDir.normalize());
        System.out.println(ModelEvaluator.threadInfo());
        HostProfile host = HostProfile.current();
        System.out.println("# host: " + host.toLine());
        QuantizationConfig config = QuantizationConfig.builder().optObjective(objective).build();
        System.out.println("config: " + config);
        List<Result> results = new ArrayList<>();
        for (String name : names) {
            Result r =
                    run(ReferenceModel.of(name), modelsDir, test, calibration, timer, true, config);
            System.out.println();
            System.out.println("== " + name + " quantization report");
            System.out.print(r.report.toTable());
            if (reports != null) {
                Files.createDirectories(reports);
                Files.writeString(
                        reports.resolve(name + "-quantization.json"),
                        r.report.toJson(),
                        StandardCharsets.UTF_8);
            }
            results.add(r);
        }
        System.out.println();
        System.out.printf(
                "%-7s %9s %9s %7s %10s %10s %7s %10s %10s %7s %10s %10s %7s  %-8s %s%n",
                "model",
                "fp32 top1",
                "int8 top1",
                "change",
                "fp32 B",
                "int8 B",
                "size",
                "b1 fp32us",
                "b1 int8us",
                "speed",
                "b32 fp32us",
                "b32 int8us",
                "speed",
                "S/D/F",
                "host x");
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "%s  %.2fx%n", r.row(), host.ratio());
        }
        System.out.println(
                "change: int8 top-1 minus fp32 top-1 in points; size: int8 / fp32 parameter"
                        + " bytes; speed: fp32 / int8 forward time (median of alternating rounds);"
                        + " S/D/F: static / dynamic / fp32 layers; host x: this host's int8 / fp32"
                        + " GEMM throughput ratio (the host line above), objective " + objective
                        + ".");
        if (json != null) {
            StringBuilder sb = new StringBuilder("[\n");
            for (int i = 0; i < results.size(); i++) {
                sb.append("  ").append(results.get(i).json());
                sb.append(i + 1 < results.size() ? ",\n" : "\n");
            }
            Files.writeString(json, sb.append("]\n").toString(), StandardCharsets.UTF_8);
            System.out.println("results written to " + json);
        }
    }
}

// Over 400 lines: one program that runs the whole calibration script (quantize, evaluate, time,
// export, reload, compare, summarise) in the order it prints; each step is a short method.
package ai.djlquant.examples.quantize;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.dataset.Dataset;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.SideBySideTimer;
import ai.djlquant.Quantizer;
import ai.djlquant.artifact.ArtifactManifest;
import ai.djlquant.artifact.ArtifactWriter;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.FashionMnistTranslatorFactory;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.eval.EvaluationResult;
import ai.djlquant.examples.eval.ModelEvaluator;
import ai.djlquant.examples.models.ReferenceModel;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.SpeedComparison;

import com.google.gson.GsonBuilder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The calibration script of a reference model, in one run: load the float model through {@code
 * Criteria}, quantize it with the committed calibration subset, measure fp32 and int8 side by side
 * on the committed test split (top-1, parameter bytes, latency at batch 1 and 32), export the
 * artifact, reload it through {@code Criteria} and check that the reloaded model gives the same
 * float32 outputs bit for bit on the whole test split, then print a short summary.
 *
 * <p>Usage (from the repository root; {@code examples/scripts/quantize-<model>.sh} runs it):
 *
 * <pre>
 * QuantizeReferenceModel &lt;cnn|resnet|mlp|mobilenet|vit&gt; [--models DIR] [--calibration DIR] [--test DIR]
 *     [--samples N] [--output DIR] [--overwrite] [--rounds N] [--threads N] [--limit N] [--json FILE]
 * </pre>
 *
 * <p>Defaults: {@code examples/models}, {@code calibration-data/calibration} (the quantizer's
 * default {@value QuantizationConfig#DEFAULT_CALIBRATION_SAMPLES} of its 1,000 images; {@code
 * --samples} to change), {@code calibration-data/test}, {@code build/artifacts/<model>-int8};
 * forward time at batch 1 and 32 as the median of 9 alternating rounds ({@code --rounds}, see
 * {@link SideBySideTimer}); PyTorch's (and so oneDNN's) thread count as the engine sets it ({@code
 * --threads} to change); accuracy and the comparison on the whole test split ({@code --limit} N for
 * its first N images). Exit status 1 if the reloaded model does not predict identically, 2 on bad
 * arguments.
 */
public final class QuantizeReferenceModel {

    /** The batch sizes of the speed comparison. */
    static final int[] BATCHES = {1, 32};

    private QuantizeReferenceModel() {}

    /**
     * Runs the script.
     *
     * @param args the model name and options (see the class documentation)
     * @throws Exception if a model, the data or the artifact cannot be read or written
     */
    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("QuantizeReferenceModel: " + e.getMessage());
            System.err.println(
                    "usage: QuantizeReferenceModel <cnn|resnet|mlp|mobilenet|vit> [--models DIR]"
                        + " [--calibration DIR] [--test DIR] [--samples N] [--output DIR] [--overwrite] [--rounds"
                        + " N] [--threads N] [--limit N] [--json FILE]");
            System.exit(2);
            return;
        }
        Summary s = run(o);
        System.exit(s.identical ? 0 : 1);
    }

    /**
     * Runs the script with parsed options and prints its progress and summary.
     *
     * @param o the options
     * @return the summary
     * @throws Exception if a model, the data or the artifact cannot be read or written
     */
    static Summary run(Options o) throws Exception {
        o.checkOutput();
        ReferenceModel ref = o.model;
        if (o.threads > 0) {
            ModelEvaluator.torchThreads(); // loads the engine, which sets its own count first
            JniUtils.setNumThreads(o.threads);
        }
        System.out.printf(
                "== djl-quant: quantize the reference model '%s' (%s) ==%n",
                ref.modelName(), ref.getBlockFactory().getSimpleName());
        System.out.println(ModelEvaluator.threadInfo() + "; int8 backend " + backendInfo());

        IdxDataset test =
                IdxDataset.builder().setDirectory(o.test).optUsage(Dataset.Usage.TEST).build();
        ModelEvaluator accuracy =
                ModelEvaluator.builder()
                        .setTestSet(test)
                        .setTranslator(FashionMnist.newTranslator())
                        .optMeasureLatency(false)
                        .optLimit(o.limit)
                        .build();
        int testImages = (int) Math.min(test.size(), o.limit);
        Summary s = new Summary();
        s.model = ref.modelName();
        // two copies of the float model: one stays fp32, the other is quantized in place
        try (ZooModel<Image, Classifications> fp32 = ref.load(o.models);
                ZooModel<Image, Classifications> model = ref.load(o.models)) {
            System.out.printf(
                    "%n1. float model %s loaded through Criteria (twice: fp32 and to quantize)%n",
                    o.models.resolve(ref.modelName()));

            List<Image> images = CalibrationImages.load(o.calibration);
            QuantizationConfig.Builder builder = QuantizationConfig.builder();
            if (o.samples > 0) {
                builder.optCalibrationSamples(o.samples);
            }
            if (o.objective != null) {
                builder.optObjective(o.objective);
            }
            QuantizationConfig config = builder.build();
            System.out.printf(
                    "%n2. quantize with the default config: %d of the %d calibration images in"
                        + " %s%n",
                    Math.min(images.size(), config.getCalibrationSamples()),
                    images.size(),
                    o.calibration);
            QuantizationReport report =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromInputs(images, FashionMnist.newTranslator(), 32),
                            config);
            System.out.print(report.toTable());
            s.quantizeSeconds = report.getTotalSeconds();

            System.out.printf("%n3. accuracy on the test split (%d images)%n", testImages);
            s.fp32 = accuracy.evaluate(ref.modelName() + " fp32", fp32);
            s.int8 = accuracy.evaluate(ref.modelName() + " int8", model);
            System.out.printf(
                    Locale.ROOT,
                    "   top-1 fp32 %.2f%%, int8 %.2f%%; parameters %,d -> %,d bytes%n",
                    s.fp32.getTop1() * 100,
                    s.int8.getTop1() * 100,
                    s.fp32.getParameterBytes(),
                    s.int8.getParameterBytes());

            System.out.printf(
                    "%n4. forward time, fp32 and int8 alternating in rounds (median of %d)%n",
                    o.rounds);
            SideBySideTimer timer = SideBySideTimer.forBenchmarks(o.rounds, 100);
            System.out.println("   batch | fp32 us    int8 us  fp32/int8  (quartiles of the rounds)");
            for (int b : BATCHES) {
                try (NDManager manager = fp32.getNDManager().newSubManager()) {
                    NDList x =
                            FashionMnist.newPipeline()
                                    .transform(new NDList(test.rawImages(manager, 0, b)));
                    SpeedComparison c = timer.compare(fp32.getBlock(), model.getBlock(), x, manager);
                    s.fp32Micros.add(c.fp32Micros());
                    s.int8Micros.add(c.int8Micros());
                    System.out.printf(
                            Locale.ROOT,
                            "   %5d | %7.0f %10.0f %9.2fx  (%.2f-%.2f)%n",
                            b,
                            c.fp32Micros(),
                            c.int8Micros(),
                            c.speedup(),
                            c.lowQuartile(),
                            c.highQuartile());
                }
            }

            System.out.printf("%n5. export the artifact to %s%n", o.output);
            ArtifactManifest m =
                    ArtifactWriter.builder()
                            .setModel(model)
                            .setBaseBlockFactory(ref.getBlockFactory())
                            .optTranslatorFactory(FashionMnistTranslatorFactory.class.getName())
                            .optReport(report)
                            .optAccuracy(
                                    "Fashion-MNIST test split",
                                    s.int8.getSamples(),
                                    s.fp32.getTop1(),
                                    s.int8.getTop1())
                            .optOverwrite(o.overwrite)
                            .build()
                            .write(o.output);
            for (Map.Entry<String, ArtifactManifest.FileEntry> e : m.getFiles().entrySet()) {
                System.out.printf(
                        "   %-22s %,10d bytes  sha256 %s%n",
                        e.getKey(), e.getValue().getBytes(), e.getValue().getSha256());
            }
            s.paramsFileBytes = m.getFiles().get(m.getParametersFile()).getBytes();
            s.floatParamsFileBytes =
                    Files.size(
                            o.models
                                    .resolve(ref.modelName())
                                    .resolve(ref.modelName() + "-0000.params"));

            System.out.printf("%n6. reload the artifact through Criteria and compare%n");
            try (ZooModel<Image, Classifications> reloaded =
                    ReferenceModel.loadDirectory(o.output)) {
                PredictionCheck check = PredictionCheck.compare(model, reloaded, test, testImages);
                s.identical = check.isIdentical();
                s.compared = check.getCompared();
                System.out.println("   " + check);
            }
        }
        System.out.println();
        System.out.print(s.toText());
        if (o.json != null) {
            Files.writeString(o.json, s.toJson(), StandardCharsets.UTF_8);
            System.out.println("summary written to " + o.json);
        }
        return s;
    }

    private static String backendInfo() {
        return Int8Backends.get().getName()
                + " ("
                + Int8Backends.get().getActivationBits()
                + "-bit activations)";
    }

    /** The script's options. */
    static final class Options {
        ReferenceModel model;
        Path models = Paths.get("examples/models");
        Path calibration = Paths.get("calibration-data/calibration");
        Path test = Paths.get("calibration-data/test");
        int samples;
        Path output;
        boolean overwrite;
        Path json;
        int rounds = 9;
        int threads;
        int limit = Integer.MAX_VALUE;
        Objective objective;

        static Options parse(String[] args) {
            Options o = new Options();
            List<String> rest = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--models":
                        o.models = Paths.get(value(args, ++i, a));
                        break;
                    case "--calibration":
                        o.calibration = Paths.get(value(args, ++i, a));
                        break;
                    case "--test":
                        o.test = Paths.get(value(args, ++i, a));
                        break;
                    case "--samples":
                        o.samples = positive(value(args, ++i, a), a);
                        break;
                    case "--output":
                        o.output = Paths.get(value(args, ++i, a));
                        break;
                    case "--rounds":
                        o.rounds = positive(value(args, ++i, a), a);
                        if (o.rounds % 2 == 0) {
                            throw new IllegalArgumentException("--rounds must be odd (a median)");
                        }
                        break;
                    case "--threads":
                        o.threads = positive(value(args, ++i, a), a);
                        break;
                    case "--limit":
                        o.limit = positive(value(args, ++i, a), a);
                        break;
                    case "--overwrite":
                        o.overwrite = true;
                        break;
                    case "--json":
                        o.json = Paths.get(value(args, ++i, a));
                        break;
                    case "--objective":
                        String v = value(args, ++i, a);
                        try {
                            o.objective = Objective.valueOf(v.toUpperCase(Locale.ROOT));
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException(
                                    "--objective takes balanced, latency or size, got " + v);
                        }
                        break;
                    default:
                        if (a.startsWith("--")) {
                            throw new IllegalArgumentException("unknown option " + a);
                        }
                        rest.add(a);
                }
            }
            if (rest.size() != 1) {
                throw new IllegalArgumentException("name one reference model: cnn, resnet, mlp, mobilenet or vit");
            }
            o.model = ReferenceModel.of(rest.get(0));
            if (o.output == null) {
                o.output = Paths.get("build/artifacts/" + o.model.modelName() + "-int8");
            }
            o.checkOutput();
            return o;
        }

        /** Refuses an existing output before any work, unless --overwrite. */
        void checkOutput() {
            if (Files.exists(output) && !overwrite) {
                throw new IllegalArgumentException(
                        "--output " + output + " already exists; add --overwrite to replace it");
            }
        }

        private static int positive(String text, String option) {
            int v;
            try {
                v = Integer.parseInt(text);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " takes a whole number, got " + text);
            }
            if (v < 1) {
                throw new IllegalArgumentException(option + " must be at least 1, got " + v);
            }
            return v;
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }
    }

    /** What the script measured. */
    static final class Summary {
        String model;
        EvaluationResult fp32;
        EvaluationResult int8;
        final List<Double> fp32Micros = new ArrayList<>();
        final List<Double> int8Micros = new ArrayList<>();
        double quantizeSeconds;
        long paramsFileBytes;
        long floatParamsFileBytes;
        boolean identical;
        int compared;

        String toText() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "summary (%s)%n", model));
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "  accuracy  top-1 fp32 %.2f%% -> int8 %.2f%% (%+.2f points) on %d"
                                    + " test images%n",
                            fp32.getTop1() * 100,
                            int8.getTop1() * 100,
                            (int8.getTop1() - fp32.getTop1()) * 100,
                            int8.getSamples()));
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "  size      parameters %,d -> %,d bytes (%.3fx); params file %,d ->"
                                    + " %,d bytes%n",
                            fp32.getParameterBytes(),
                            int8.getParameterBytes(),
                            (double) int8.getParameterBytes() / fp32.getParameterBytes(),
                            floatParamsFileBytes,
                            paramsFileBytes));
            sb.append("  speed     forward time fp32/int8 (above 1: int8 faster):");
            for (int i = 0; i < BATCHES.length; i++) {
                sb.append(
                        String.format(
                                Locale.ROOT,
                                " batch %d %.2fx (%.0f -> %.0f us)%s",
                                BATCHES[i],
                                fp32Micros.get(i) / int8Micros.get(i),
                                fp32Micros.get(i),
                                int8Micros.get(i),
                                i + 1 < BATCHES.length ? "," : ""));
            }
            sb.append(System.lineSeparator());
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "  artifact  reloaded through Criteria: %s%n",
                            identical
                                    ? "identical outputs on " + compared + " test images"
                                    : "OUTPUTS DIFFER at test image " + compared));
            sb.append(String.format(Locale.ROOT, "  quantize  %.1f s%n", quantizeSeconds));
            return sb.toString();
        }

        String toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model", model);
            m.put("fp32Top1", fp32.getTop1());
            m.put("int8Top1", int8.getTop1());
            m.put("testSamples", int8.getSamples());
            m.put("fp32ParameterBytes", fp32.getParameterBytes());
            m.put("int8ParameterBytes", int8.getParameterBytes());
            m.put("fp32ParamsFileBytes", floatParamsFileBytes);
            m.put("int8ParamsFileBytes", paramsFileBytes);
            List<Object> speed = new ArrayList<>();
            for (int i = 0; i < BATCHES.length; i++) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("batch", BATCHES[i]);
                row.put("fp32ForwardMicros", fp32Micros.get(i));
                row.put("int8ForwardMicros", int8Micros.get(i));
                row.put("speedup", fp32Micros.get(i) / int8Micros.get(i));
                speed.add(row);
            }
            m.put("forward", speed);
            m.put("reloadIdentical", identical);
            m.put("comparedImages", compared);
            m.put("quantizeSeconds", quantizeSeconds);
            return new GsonBuilder().setPrettyPrinting().create().toJson(m) + "\n";
        }
    }
}

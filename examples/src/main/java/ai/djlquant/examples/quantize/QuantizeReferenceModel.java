package ai.djlquant.examples.quantize;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.dataset.Dataset;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
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
 * QuantizeReferenceModel &lt;cnn|resnet|mlp&gt; [--models DIR] [--calibration DIR] [--test DIR]
 *     [--samples N] [--output DIR] [--overwrite] [--iterations N] [--rounds N] [--json FILE]
 * </pre>
 *
 * <p>Defaults: {@code examples/models}, {@code calibration-data/calibration} (all 1,000 images),
 * {@code calibration-data/test}, {@code build/artifacts/<model>-int8}; latency: the best median
 * of 2 alternating rounds ({@code --rounds}) of 100 timed calls at batch 1 and 20 at batch 32
 * ({@code --iterations}), see {@link LatencyComparison}. Exit status 1 if the
 * reloaded model does not predict identically, 2 on bad arguments.
 */
public final class QuantizeReferenceModel {

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
                    "usage: QuantizeReferenceModel <cnn|resnet|mlp> [--models DIR]"
                            + " [--calibration DIR] [--test DIR] [--samples N] [--output DIR]"
                            + " [--overwrite] [--iterations N] [--rounds N] [--json FILE]");
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
        ReferenceModel ref = o.model;
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
                        .build();
        Summary s = new Summary();
        s.model = ref.modelName();
        // two copies of the float model: one stays fp32, the other is quantized in place
        try (ZooModel<Image, Classifications> fp32 = ref.load(o.models);
                ZooModel<Image, Classifications> model = ref.load(o.models)) {
            System.out.printf(
                    "%n1. float model %s loaded through Criteria (twice: fp32 and to quantize)%n",
                    o.models.resolve(ref.modelName()));

            List<Image> images = CalibrationImages.load(o.calibration, o.samples);
            System.out.printf(
                    "%n2. quantize: %d calibration images from %s%n", images.size(), o.calibration);
            QuantizationConfig config =
                    QuantizationConfig.builder().optCalibrationSamples(images.size()).build();
            QuantizationReport report =
                    Quantizer.quantize(
                            model,
                            CalibrationData.fromInputs(images, FashionMnist.newTranslator(), 32),
                            config);
            System.out.print(report.toTable());
            s.quantizeSeconds = report.getTotalSeconds();

            System.out.printf("%n3. accuracy on the test split (%d images)%n", test.size());
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
                    "%n4. latency, fp32 and int8 in alternating rounds (best median of %d)%n",
                    o.rounds);
            s.latency =
                    LatencyComparison.measure(
                            fp32,
                            model,
                            test,
                            FashionMnist.newTranslator(),
                            new int[] {1, 32},
                            o.iterations,
                            o.rounds);
            System.out.println(
                    "   batch | forward fp32 ms  int8 ms  fp32/int8 | predictor fp32 ms  int8 ms"
                            + "  fp32/int8");
            for (LatencyComparison.Row r : s.latency.getRows()) {
                System.out.printf(
                        Locale.ROOT,
                        "   %5d | %15.3f %8.3f %9.2fx | %17.3f %8.3f %9.2fx%n",
                        r.getBatch(),
                        r.getFp32ForwardMs(),
                        r.getInt8ForwardMs(),
                        r.getForwardSpeedup(),
                        r.getFp32PredictorMs(),
                        r.getInt8PredictorMs(),
                        r.getPredictorSpeedup());
            }

            System.out.printf("%n5. export the artifact to %s%n", o.output);
            ArtifactManifest m =
                    ArtifactWriter.builder()
                            .setModel(model)
                            .setBaseBlockFactory(ref.getBlockFactory())
                            .optTranslatorFactory(FashionMnistTranslatorFactory.class.getName())
                            .optReport(report.toJson())
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
                            o.models.resolve(ref.modelName())
                                    .resolve(ref.modelName() + "-0000.params"));

            System.out.printf("%n6. reload the artifact through Criteria and compare%n");
            try (ZooModel<Image, Classifications> reloaded =
                    ReferenceModel.loadDirectory(o.output)) {
                PredictionCheck check =
                        PredictionCheck.compare(model, reloaded, test, (int) test.size());
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
        int samples = 1000;
        Path output;
        boolean overwrite;
        Path json;
        int iterations = 100;
        int rounds = 2;

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
                        try {
                            o.samples = Integer.parseInt(value(args, ++i, a));
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--samples takes a whole number");
                        }
                        if (o.samples < 1) {
                            throw new IllegalArgumentException("--samples must be at least 1");
                        }
                        break;
                    case "--output":
                        o.output = Paths.get(value(args, ++i, a));
                        break;
                    case "--iterations":
                        try {
                            o.iterations = Integer.parseInt(value(args, ++i, a));
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--iterations takes a whole number");
                        }
                        if (o.iterations < 5) {
                            throw new IllegalArgumentException("--iterations must be at least 5");
                        }
                        break;
                    case "--rounds":
                        try {
                            o.rounds = Integer.parseInt(value(args, ++i, a));
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--rounds takes a whole number");
                        }
                        if (o.rounds < 1) {
                            throw new IllegalArgumentException("--rounds must be at least 1");
                        }
                        break;
                    case "--overwrite":
                        o.overwrite = true;
                        break;
                    case "--json":
                        o.json = Paths.get(value(args, ++i, a));
                        break;
                    default:
                        if (a.startsWith("--")) {
                            throw new IllegalArgumentException("unknown option " + a);
                        }
                        rest.add(a);
                }
            }
            if (rest.size() != 1) {
                throw new IllegalArgumentException("name one reference model: cnn, resnet or mlp");
            }
            o.model = ReferenceModel.of(rest.get(0));
            if (o.output == null) {
                o.output = Paths.get("build/artifacts/" + o.model.modelName() + "-int8");
            }
            return o;
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
        LatencyComparison latency;
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
            sb.append("  speed     fp32/int8 (above 1: int8 faster):");
            for (LatencyComparison.Row r : latency.getRows()) {
                sb.append(
                        String.format(
                                Locale.ROOT,
                                " batch %d forward %.2fx, predictor %.2fx;",
                                r.getBatch(),
                                r.getForwardSpeedup(),
                                r.getPredictorSpeedup()));
            }
            sb.setLength(sb.length() - 1);
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
            for (LatencyComparison.Row r : latency.getRows()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("batch", r.getBatch());
                row.put("fp32ForwardMs", r.getFp32ForwardMs());
                row.put("int8ForwardMs", r.getInt8ForwardMs());
                row.put("forwardSpeedup", r.getForwardSpeedup());
                row.put("fp32PredictorMs", r.getFp32PredictorMs());
                row.put("int8PredictorMs", r.getInt8PredictorMs());
                row.put("predictorSpeedup", r.getPredictorSpeedup());
                speed.add(row);
            }
            m.put("latency", speed);
            m.put("reloadIdentical", identical);
            m.put("comparedImages", compared);
            m.put("quantizeSeconds", quantizeSeconds);
            return new GsonBuilder().setPrettyPrinting().create().toJson(m) + "\n";
        }
    }
}

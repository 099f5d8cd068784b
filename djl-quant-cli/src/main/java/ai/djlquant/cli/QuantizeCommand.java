package ai.djlquant.cli;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.Translator;
import ai.djlquant.CalibrationData;
import ai.djlquant.HtmlReport;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.artifact.ArtifactException;
import ai.djlquant.artifact.ArtifactManifest;
import ai.djlquant.artifact.ArtifactSigning;
import ai.djlquant.artifact.ArtifactWriter;
import ai.djlquant.examples.quantize.CalibrationImages;
import ai.djlquant.observe.EntropyEstimator;
import ai.djlquant.observe.MinMaxEstimator;
import ai.djlquant.observe.MseEstimator;
import ai.djlquant.observe.PercentileEstimator;
import ai.djlquant.observe.RangeEstimator;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.quant.Granularity;
import ai.djlquant.torchscript.TorchScriptBlockFactory;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code djl-quant quantize}: a float model and calibration images to an artifact. */
@Command(
        name = "quantize",
        mixinStandardHelpOptions = true,
        description = {
            "Quantize a float model and export the artifact.",
            "Calibrates with images through the model's own translator, prints the per-layer"
                    + " report and, with --evaluate, fp32 vs int8 top-1 on test data."
        },
        sortOptions = false)
final class QuantizeCommand implements Callable<Integer> {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--model",
            required = true,
            paramLabel = "NAME|DIR",
            description =
                    "Reference model (cnn, resnet, mlp), float model directory, or a traced"
                            + " TorchScript .pt file (with --input-shape).")
    String model;

    @Option(
            names = "--output",
            required = true,
            paramLabel = "DIR",
            description = "The artifact directory to write.")
    Path output;

    @Option(
            names = "--sign",
            paramLabel = "KEY",
            description =
                    "Sign the artifact with this Ed25519 private key (PKCS#8 PEM, as openssl"
                            + " genpkey -algorithm ed25519 writes it).")
    Path sign;

    @Option(names = "--overwrite", description = "Replace an existing artifact at --output.")
    boolean overwrite;

    @Option(
            names = "--calibration",
            paramLabel = "DIR",
            description =
                    "Calibration images: a labelled folder (class sub-folders) or a flat folder"
                            + " (default: the committed calibration-data/calibration).")
    Path calibration;

    @Option(
            names = "--samples",
            paramLabel = "N",
            defaultValue = "512",
            description = "Calibration samples (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(
            names = "--batch-size",
            paramLabel = "N",
            defaultValue = "32",
            description = "Calibration batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
            names = "--mode",
            paramLabel = "MODE",
            defaultValue = "auto",
            description =
                    "Mode of every layer: auto, static, dynamic, fp32, or weight-only for Linear"
                            + " layers: w8 (8-bit per channel), w4g32, w4g64, w4g128 (4-bit, a"
                            + " scale per group), w4g32m, w4g64m, w4g128m (and a minimum per"
                            + " group) (default: auto).")
    String mode;

    @Option(
            names = "--mode-for",
            paramLabel = "GLOB=MODE",
            description = "Mode of the layers whose path matches GLOB (repeatable).")
    Map<String, String> modeFor;

    @Option(
            names = "--exclude",
            paramLabel = "GLOB",
            description = "Keep the layers whose path matches GLOB in fp32 (repeatable).")
    List<String> exclude;

    @Option(
            names = "--estimator",
            paramLabel = "NAME",
            defaultValue = "percentile",
            description =
                    "Activation range estimator: minmax, percentile[:P], entropy, mse"
                            + " (default: percentile, P = 99.99).")
    String estimator;

    @Option(
            names = "--weights",
            paramLabel = "GRANULARITY",
            defaultValue = "per-channel",
            description = "Weight scales: per-channel or per-tensor (default: per-channel).")
    String weights;

    @Option(
            names = "--objective",
            paramLabel = "NAME",
            defaultValue = "balanced",
            description =
                    "What AUTO asks of an int8 layer's speed on this CPU: balanced (fp32 only where"
                            + " int8 is measurably slower), latency (int8 only where measurably"
                            + " faster) or size (no timing). Default: balanced.")
    String objective;

    @Option(
            names = "--serving-batch-sizes",
            paramLabel = "N",
            split = ",",
            description =
                    "Batch sizes the model will serve at; layers and the model are timed at each"
                            + " (default: 1 and --batch-size).")
    int[] servingBatchSizes;

    @Option(names = "--no-fold-batchnorm", description = "Do not fold BatchNorms into layers.")
    boolean noFold;

    @Option(names = "--no-fuse-relu", description = "Do not fuse ReLUs into int8 layers.")
    boolean noFuse;

    @Option(
            names = "--no-bias-correction",
            description =
                    "Do not correct the static int8 layers' mean output shift in their biases"
                            + " (on by default; taken back where the whole model measures lower).")
    boolean noBiasCorrection;

    @Option(
            names = "--no-int8-chains",
            description =
                    "Do not form int8 chains (uint8 between consecutive int8 layers; on by"
                            + " default and kept where the model is not slower with them).")
    boolean noInt8Chains;

    @Option(
            names = "--evaluate",
            description = "Measure fp32 and int8 top-1 on --test and record them in the artifact.")
    boolean evaluate;

    @Option(
            names = "--test",
            paramLabel = "DIR",
            description =
                    "Labelled test images: IDX split or image folder (default: the committed"
                            + " calibration-data/test).")
    Path test;

    @Option(
            names = "--limit",
            paramLabel = "N",
            defaultValue = "10000",
            description = "Evaluate on at most N test images (default: ${DEFAULT-VALUE}).")
    int limit;

    @CommandLine.Mixin FactoryOptions factories;

    @Option(
            names = "--report-json",
            paramLabel = "FILE",
            description = "Also write the quantization report as JSON.")
    Path reportJson;

    @Option(
            names = "--report-html",
            paramLabel = "FILE",
            description =
                    "Also write the report as one self-contained HTML page (opens offline; with"
                            + " --evaluate it shows both top-1s).")
    Path reportHtml;

    @Option(
            names = "--input-shape",
            paramLabel = "DIMS",
            description =
                    "For a TorchScript .pt --model: the input shape it is imported for, e.g."
                            + " 1,1,28,28 (';' between several inputs).")
    String inputShape;

    /** {@inheritDoc} */
    @Override
    public Integer call() throws Exception {
        QuantizationConfig config = config();
        ModelRef ref = ModelRef.resolve(spec, "--model", model).withInputShape(inputShape);
        if (ref.isArtifact()) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--model " + model + " is already an artifact (quantized).");
        }
        if (Files.exists(output) && !overwrite) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--output " + output + " already exists; add --overwrite to replace it.");
        }
        try {
            // before the quantization runs: a directory that is no artifact is never replaced
            ArtifactWriter.checkTarget(output, overwrite);
        } catch (ArtifactException e) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--output " + output + ": " + e.getMessage());
        }
        PrivateKey signingKey;
        try {
            // a key that cannot sign is refused before the quantization runs too
            signingKey = sign == null ? null : ArtifactSigning.readPrivateKey(sign);
        } catch (ArtifactException e) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--sign " + sign + ": " + e.getMessage());
        }
        Path calDir = Home.orDefault(calibration, Home.calibrationDir());
        if (!Files.isDirectory(calDir)) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--calibration " + calDir + " is not a directory.");
        }
        LabelledImages testData = null;
        if (evaluate) {
            testData = TestDataOption.open(spec, "--test", test);
        }
        PrintWriter out = spec.commandLine().getOut();
        String factory = ref.blockFactory(factories.blockFactory);
        try (ZooModel<Image, Classifications> m =
                ref.load(spec, factories.blockFactory, factories.translatorFactory)) {
            Accuracy fp32 = null;
            if (testData != null) {
                fp32 = Accuracy.measure(m, testData, limit);
                out.printf(
                        Locale.ROOT,
                        "fp32 top-1 %.2f%% on %d images of %s%n",
                        fp32.top1() * 100,
                        fp32.samples,
                        testData.describe());
            }
            List<Image> images = CalibrationImages.load(calDir, samples);
            if (images.size() < samples) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        "--samples "
                                + samples
                                + ": "
                                + calDir
                                + " holds only "
                                + images.size()
                                + " images.");
            }
            out.printf(
                    "quantizing %s with %d calibration images from %s%n",
                    ref.displayName(), images.size(), calDir);
            out.flush();
            Translator<Image, Classifications> translator = m.getTranslator();
            QuantizationReport report =
                    Quantizer.quantize(
                            m, CalibrationData.fromInputs(images, translator, batchSize), config);
            out.print(report.toTable());
            // a TorchScript import names its factory, its arguments and carries the .pt
            ArtifactWriter.Builder w =
                    (ref.torchScript != null
                                    ? TorchScriptBlockFactory.artifactWriter(m)
                                    : ArtifactWriter.builder()
                                            .setModel(m)
                                            .setBaseBlockFactory(factory))
                            .optReport(report)
                            .optOverwrite(overwrite)
                            .optSigningKey(signingKey);
            String tf =
                    factories.translatorFactory != null
                            ? factories.translatorFactory
                            : ref.translatorFactory();
            if (tf != null) {
                w.optTranslatorFactory(tf);
            }
            HtmlReport.Top1 top1 = null;
            if (testData != null) {
                Accuracy int8 = Accuracy.measure(m, testData, limit);
                top1 = new HtmlReport.Top1(testData.describe(), int8.samples, fp32.top1(), int8.top1());
                out.printf(
                        Locale.ROOT,
                        "int8 top-1 %.2f%% (fp32 %.2f%%, %+.2f points) on %d images%n",
                        int8.top1() * 100,
                        fp32.top1() * 100,
                        (int8.top1() - fp32.top1()) * 100,
                        int8.samples);
                w.optAccuracy(testData.describe(), int8.samples, fp32.top1(), int8.top1());
            }
            ArtifactManifest written = w.build().write(output);
            if (reportJson != null) {
                Files.writeString(reportJson, report.toJson(), StandardCharsets.UTF_8);
            }
            if (reportHtml != null) {
                HtmlReport.fromJson(report.toJson())
                        .withTitle(ref.displayName() + ": djl-quant int8 report")
                        .withTop1(top1)
                        .write(reportHtml);
                out.printf("wrote the report page %s%n", reportHtml);
            }
            out.printf(
                    "wrote %s%s:%n", output, sign == null ? "" : " (signed with " + sign + ")");
            for (Map.Entry<String, ArtifactManifest.FileEntry> e : written.getFiles().entrySet()) {
                out.printf("  %-24s %,10d bytes%n", e.getKey(), e.getValue().getBytes());
            }
            out.printf("  %-24s (checksums of the files above)%n", ArtifactManifest.FILE_NAME);
        }
        return 0;
    }

    /** The configuration from the options; bad values are argument errors naming the option. */
    private QuantizationConfig config() {
        if (samples < 1) {
            throw bad("--samples must be at least 1, got " + samples + ".");
        }
        if (batchSize < 1) {
            throw bad("--batch-size must be at least 1, got " + batchSize + ".");
        }
        if (limit < 1) {
            throw bad("--limit must be at least 1, got " + limit + ".");
        }
        QuantizationConfig.Builder b =
                QuantizationConfig.builder()
                        .optCalibrationSamples(samples)
                        .optDefaultMode(mode("--mode", mode))
                        .optRangeEstimator(estimator())
                        .optWeightGranularity(granularity())
                        .optFoldBatchNorm(!noFold)
                        .optFuseRelu(!noFuse)
                        .optBiasCorrection(!noBiasCorrection)
                        .optInt8Chains(!noInt8Chains)
                        .optObjective(objective());
        if (servingBatchSizes != null) {
            b.optServingBatchSizes(servingBatchSizes);
        }
        if (modeFor != null) {
            for (Map.Entry<String, String> e : modeFor.entrySet()) {
                b.optMode(e.getKey(), mode("--mode-for " + e.getKey(), e.getValue()));
            }
        }
        if (exclude != null) {
            for (String g : exclude) {
                b.optExclude(g);
            }
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
    }

    private Objective objective() {
        try {
            return Objective.valueOf(objective.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw bad("--objective '" + objective + "' is not an objective: balanced, latency or size.");
        }
    }

    private QuantizationMode mode(String option, String value) {
        try {
            return QuantizationMode.fromWord(value);
        } catch (IllegalArgumentException e) {
            throw bad(option + " " + e.getMessage());
        }
    }

    private RangeEstimator estimator() {
        String[] parts = estimator.toLowerCase(Locale.ROOT).split(":", 2);
        switch (parts[0]) {
            case "minmax":
            case "min-max":
                return new MinMaxEstimator();
            case "entropy":
                return new EntropyEstimator();
            case "mse":
                return new MseEstimator();
            case "percentile":
                if (parts.length == 1) {
                    return PercentileEstimator.builder().build();
                }
                try {
                    return PercentileEstimator.builder()
                            .optPercentile(Double.parseDouble(parts[1]))
                            .build();
                } catch (IllegalArgumentException e) {
                    throw bad("--estimator " + estimator + ": " + e.getMessage());
                }
            default:
                throw bad(
                        "--estimator '"
                                + estimator
                                + "' is not an estimator: minmax,"
                                + " percentile[:P], entropy or mse.");
        }
    }

    private Granularity granularity() {
        switch (weights.toLowerCase(Locale.ROOT)) {
            case "per-channel":
                return Granularity.PER_CHANNEL;
            case "per-tensor":
                return Granularity.PER_TENSOR;
            default:
                throw bad("--weights '" + weights + "' is not per-channel or per-tensor.");
        }
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}

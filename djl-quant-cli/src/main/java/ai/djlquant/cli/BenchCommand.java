package ai.djlquant.cli;

import ai.djl.engine.Engine;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.repository.zoo.ZooModel;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.examples.eval.ModelEvaluator;
import ai.djlquant.examples.quantize.CalibrationImages;
import ai.djlquant.examples.quantize.LatencyComparison;
import ai.djlquant.kernel.Int8Backends;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code djl-quant bench}: fp32 vs int8 latency of one model, side by side in one run. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "fp32 vs int8 latency of a model, side by side in one run.",
            "Median milliseconds per call through Block.forward (preprocessed batch) and through",
            "the Predictor (translator included), at each batch size and thread count. The int8",
            "model is --artifact, or the float model quantized in memory."
        },
        sortOptions = false)
final class BenchCommand implements Callable<Integer> {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--model",
            required = true,
            paramLabel = "NAME|DIR",
            description = "Reference model (cnn, resnet, mlp) or float model directory.")
    String model;

    @Option(
            names = "--artifact",
            paramLabel = "DIR",
            description = "The int8 artifact (default: quantize --model in memory first).")
    String artifact;

    @Option(
            names = "--calibration",
            paramLabel = "DIR",
            description =
                    "Calibration images when quantizing in memory (default: the committed"
                            + " calibration-data/calibration).")
    Path calibration;

    @Option(
            names = "--samples",
            paramLabel = "N",
            defaultValue = "256",
            description = "Calibration samples when quantizing in memory (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(
            names = "--data",
            paramLabel = "DIR",
            description = "Input images: an IDX split (default: the committed calibration-data/test).")
    Path data;

    @Option(
            names = "--batch-sizes",
            paramLabel = "N[,N...]",
            split = ",",
            defaultValue = "1,32",
            description = "Batch sizes (default: ${DEFAULT-VALUE}).")
    int[] batchSizes;

    @Option(
            names = "--threads",
            paramLabel = "N[,N...]",
            split = ",",
            description = "PyTorch and oneDNN intra-op threads (default: the engine's).")
    int[] threads;

    @Option(
            names = "--iterations",
            paramLabel = "N",
            defaultValue = "100",
            description = "Timed calls at batch 1, a fifth of them at larger batches (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(
            names = "--rounds",
            paramLabel = "N",
            defaultValue = "2",
            description =
                    "Alternating fp32/int8 rounds; each number is the best median (default:"
                            + " ${DEFAULT-VALUE}).")
    int rounds;

    @Option(
            names = "--block-factory",
            paramLabel = "CLASS",
            description = "BlockFactory of a float model directory (default: serving.properties).")
    String blockFactory;

    @Option(
            names = "--translator-factory",
            paramLabel = "CLASS",
            description =
                    "TranslatorFactory for Image -> Classifications (default: serving.properties).")
    String translatorFactory;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as JSON.")
    Path json;

    /** One measured row (the layer benchmark's JSON row format). */
    private static final class Row {
        final String op;
        final int batch;
        final int threads;
        final double fp32Ms;
        final double int8Ms;

        Row(String op, int batch, int threads, double fp32Ms, double int8Ms) {
            this.op = op;
            this.batch = batch;
            this.threads = threads;
            this.fp32Ms = fp32Ms;
            this.int8Ms = int8Ms;
        }

        double speedup() {
            return fp32Ms / int8Ms;
        }

        String json() {
            return String.format(
                    Locale.ROOT,
                    "{\"op\": \"%s\", \"shape\": \"batch %d\", \"threads\": %d, \"fp32_us\": %.1f,"
                            + " \"int8_us\": %.1f, \"speedup\": %.3f}",
                    op,
                    batch,
                    threads,
                    fp32Ms * 1000,
                    int8Ms * 1000,
                    speedup());
        }
    }

    /** {@inheritDoc} */
    @Override
    public Integer call() throws Exception {
        for (int b : batchSizes) {
            if (b < 1) {
                throw bad("--batch-sizes must be positive, got " + b + ".");
            }
        }
        if (threads != null) {
            for (int t : threads) {
                if (t < 1) {
                    throw bad("--threads must be positive, got " + t + ".");
                }
            }
        }
        if (iterations < 5) {
            throw bad("--iterations must be at least 5, got " + iterations + ".");
        }
        if (samples < 1) {
            throw bad("--samples must be at least 1, got " + samples + ".");
        }
        if (rounds < 1) {
            throw bad("--rounds must be at least 1, got " + rounds + ".");
        }
        ModelRef floatRef = ModelRef.resolve(spec, "--model", model);
        if (floatRef.isArtifact()) {
            throw bad("--model " + model + " is an artifact; give the float model, and the"
                    + " artifact with --artifact.");
        }
        ModelRef int8Ref = artifact == null ? null : ModelRef.resolve(spec, "--artifact", artifact);
        if (int8Ref != null && !int8Ref.isArtifact()) {
            throw bad("--artifact " + artifact + " is not an artifact (no quantization.json).");
        }
        LabelledImages images = TestDataOption.open(spec, "--data", data);
        if (images.idx() == null) {
            throw bad("--data must be an IDX split for bench (the harness times IDX images).");
        }
        PrintWriter out = spec.commandLine().getOut();
        Engine.getEngine("PyTorch");
        try (ZooModel<Image, Classifications> fp32 =
                        floatRef.load(spec, blockFactory, translatorFactory);
                ZooModel<Image, Classifications> int8 =
                        int8Ref != null
                                ? int8Ref.load(spec, null, translatorFactory)
                                : floatRef.load(spec, blockFactory, translatorFactory)) {
            if (int8Ref == null) {
                Path cal = Home.orDefault(calibration, Home.calibrationDir());
                List<Image> cali = CalibrationImages.load(cal, samples);
                out.printf(
                        "quantizing %s in memory with %d images from %s%n",
                        floatRef.displayName(), cali.size(), cal);
                QuantizationReport r =
                        Quantizer.quantize(
                                int8,
                                CalibrationData.fromInputs(cali, int8.getTranslator(), 32),
                                QuantizationConfig.builder()
                                        .optCalibrationSamples(cali.size())
                                        .build());
                out.printf(
                        "%d static, %d dynamic, %d fp32 layers%n",
                        r.count(ai.djlquant.plan.QuantizationMode.STATIC),
                        r.count(ai.djlquant.plan.QuantizationMode.DYNAMIC),
                        r.count(ai.djlquant.plan.QuantizationMode.FP32));
            }
            int[] threadCounts = threads != null ? threads : new int[] {JniUtils.getNumThreads()};
            out.printf(
                    "%s; int8 backend %s (%d-bit activations); best median of %d alternating"
                            + " rounds of %d calls at batch 1, %d at larger batches%n",
                    ModelEvaluator.threadInfo(),
                    Int8Backends.get().getName(),
                    Int8Backends.get().getActivationBits(),
                    rounds,
                    iterations,
                    Math.max(5, iterations / 5));
            String fmt = "%-9s %7s %5s | %10s %10s %8s%n";
            out.printf(fmt, "measure", "threads", "batch", "fp32 ms", "int8 ms", "fp32/int8");
            List<Row> rows = new ArrayList<>();
            String name = floatRef.displayName();
            for (int t : threadCounts) {
                JniUtils.setNumThreads(t);
                LatencyComparison c =
                        LatencyComparison.measure(
                                fp32,
                                int8,
                                images.idx(),
                                fp32.getTranslator(),
                                batchSizes,
                                iterations,
                                rounds);
                for (LatencyComparison.Row r : c.getRows()) {
                    rows.add(new Row(name + " forward", r.getBatch(), t, r.getFp32ForwardMs(),
                            r.getInt8ForwardMs()));
                    rows.add(new Row(name + " predictor", r.getBatch(), t,
                            r.getFp32PredictorMs(), r.getInt8PredictorMs()));
                }
            }
            for (Row r : rows) {
                out.printf(
                        Locale.ROOT,
                        fmt,
                        r.op.substring(r.op.indexOf(' ') + 1),
                        r.threads,
                        r.batch,
                        String.format(Locale.ROOT, "%.3f", r.fp32Ms),
                        String.format(Locale.ROOT, "%.3f", r.int8Ms),
                        String.format(Locale.ROOT, "%.2fx", r.speedup()));
            }
            out.println(
                    "forward = Block.forward on a preprocessed batch; predictor = Predictor with"
                            + " the translator (what users see). fp32/int8 above 1: int8 faster.");
            if (json != null) {
                StringBuilder sb = new StringBuilder("[\n");
                for (int i = 0; i < rows.size(); i++) {
                    sb.append("  ").append(rows.get(i).json())
                            .append(i + 1 < rows.size() ? ",\n" : "\n");
                }
                Files.writeString(json, sb.append("]\n").toString(), StandardCharsets.UTF_8);
                out.println("rows written to " + json);
            }
        }
        return 0;
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}

package ai.djlquant.cli;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.repository.zoo.ZooModel;
import ai.djlquant.CalibrationData;
import ai.djlquant.HostProfile;
import ai.djlquant.ProgressSink;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.SideBySideTimer;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.eval.ModelEvaluator;
import ai.djlquant.examples.quantize.CalibrationImages;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.plan.SpeedComparison;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;

/** {@code djl-quant bench}: fp32 vs int8 latency of one model, side by side in one run. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "fp32 vs int8 latency of a model, side by side in one run.",
            "Microseconds per Block.forward of a batch of preprocessed images (an IDX split,"
                    + " the Fashion-MNIST preprocessing), fp32 and int8 alternating in rounds, at each"
                    + " batch size and thread count. The int8 model is --artifact, or --model quantized"
                    + " in memory."
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
            description =
                    "Calibration samples when quantizing in memory (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(
            names = "--data",
            paramLabel = "DIR",
            description =
                    "Input images: an IDX split (default: the committed calibration-data/test).")
    Path data;

    @Option(
            names = "--batch-sizes",
            paramLabel = "N",
            split = ",",
            defaultValue = "1,32",
            description = "Batch sizes (default: ${DEFAULT-VALUE}).")
    int[] batchSizes;

    @Option(
            names = "--threads",
            paramLabel = "N",
            split = ",",
            description = "PyTorch and oneDNN intra-op threads (default: the engine's).")
    int[] threads;

    @Option(
            names = "--round-ms",
            paramLabel = "MS",
            defaultValue = "100",
            description =
                    "Length of a round per model; the warm-up is 3 rounds (default:"
                        + " ${DEFAULT-VALUE}).")
    int roundMillis;

    @Option(
            names = "--rounds",
            paramLabel = "N",
            defaultValue = "9",
            description =
                    "Rounds, fp32 and int8 alternating; each time is the median (odd; default:"
                            + " ${DEFAULT-VALUE}).")
    int rounds;

    @CommandLine.Mixin FactoryOptions factories;

    @CommandLine.Mixin TensorInputs tensors;

    @Option(
            names = "--no-int8-chains",
            description =
                    "Quantize in memory without int8 chains (QuantizationConfig.optInt8Chains; on"
                            + " by default and kept where the model is not slower with them)."
                            + " An --artifact runs the chains it was exported with, so not with"
                            + " --artifact.")
    boolean noInt8Chains;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as JSON.")
    Path json;

    /** One measured row (the layer benchmark's JSON row format, with the rounds' spread). */
    private record Row(String op, int threads, SpeedComparison c) {

        String json() {
            return String.format(
                    Locale.ROOT,
                    "{\"op\": \"%s\", \"shape\": \"batch %d\", \"threads\": %d, \"fp32_us\": %.1f,"
                            + " \"int8_us\": %.1f, \"speedup\": %.3f, \"speedup_min\": %.3f,"
                            + " \"speedup_max\": %.3f, \"rounds\": %d, \"calls_per_round\": %d,"
                            + " \"verdict\": \"%s\"}",
                    op,
                    c.batchSize(),
                    threads,
                    c.fp32Micros(),
                    c.int8Micros(),
                    c.speedup(),
                    c.minSpeedup(),
                    c.maxSpeedup(),
                    c.rounds(),
                    c.callsPerRound(),
                    c.verdict());
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
        if (roundMillis < 1) {
            throw bad("--round-ms must be at least 1, got " + roundMillis + ".");
        }
        if (samples < 1) {
            throw bad("--samples must be at least 1, got " + samples + ".");
        }
        if (rounds < 1 || rounds % 2 == 0) {
            throw bad("--rounds must be odd (the median of the rounds), got " + rounds + ".");
        }
        ModelRef floatRef = ModelRef.resolve(spec, "--model", model);
        if (floatRef.isArtifact()) {
            throw bad(
                    "--model "
                            + model
                            + " is an artifact; give the float model, and the"
                            + " artifact with --artifact.");
        }
        if (noInt8Chains && artifact != null) {
            throw bad(
                    "--no-int8-chains quantizes in memory; an --artifact runs the chains it was"
                            + " exported with: give one or the other.");
        }
        ModelRef int8Ref = artifact == null ? null : ModelRef.resolve(spec, "--artifact", artifact);
        if (int8Ref != null && !int8Ref.isArtifact()) {
            throw bad("--artifact " + artifact + " is not an artifact (no quantization.json).");
        }
        PrintWriter out = spec.commandLine().getOut();
        Engine.getEngine("PyTorch");
        if (tensors.isSet()) {
            try (NDManager inputs = NDManager.newBaseManager();
                    ZooModel<NDList, NDList> fp32 =
                            floatRef.loadTensors(spec, factories.blockFactory);
                    ZooModel<NDList, NDList> int8 =
                            int8Ref != null
                                    ? int8Ref.loadTensors(spec, null)
                                    : floatRef.loadTensors(spec, factories.blockFactory)) {
                tensors.open(spec, inputs);
                out.println(tensors.describe());
                if (int8Ref == null) {
                    out.printf(
                            "quantizing %s in memory with %d samples of those inputs%n",
                            floatRef.displayName(), samples);
                    List<NDList> cal = tensors.calibration(inputs, samples, 32);
                    printCounts(
                            out, quantize(int8, CalibrationData.fromBatches(cal), samples, !noInt8Chains));
                }
                time(out, floatRef, fp32, int8, (m, b) -> tensors.batch(m, b, 7));
            }
            return 0;
        }
        LabelledImages images = TestDataOption.open(spec, "--data", data);
        if (images.idx() == null) {
            throw bad("--data must be an IDX split for bench (the harness times IDX images).");
        }
        try (ZooModel<Image, Classifications> fp32 =
                        floatRef.load(spec, factories.blockFactory, factories.translatorFactory);
                ZooModel<Image, Classifications> int8 =
                        int8Ref != null
                                ? int8Ref.load(spec, null, factories.translatorFactory)
                                : floatRef.load(
                                        spec,
                                        factories.blockFactory,
                                        factories.translatorFactory)) {
            if (int8Ref == null) {
                Path cal = Home.orDefault(calibration, Home.calibrationDir());
                List<Image> cali = CalibrationImages.load(cal, samples);
                out.printf(
                        "quantizing %s in memory with %d images from %s%n",
                        floatRef.displayName(), cali.size(), cal);
                printCounts(
                        out,
                        quantize(
                                int8,
                                CalibrationData.fromInputs(cali, int8.getTranslator(), 32),
                                cali.size(),
                                !noInt8Chains));
            }
            time(
                    out,
                    floatRef,
                    fp32,
                    int8,
                    (m, b) ->
                            FashionMnist.newPipeline()
                                    .transform(new NDList(images.idx().rawImages(m, 0, b))));
        }
        return 0;
    }

    private static QuantizationReport quantize(
            Model model, CalibrationData data, int samples, boolean chains) {
        return Quantizer.quantize(
                model,
                data,
                QuantizationConfig.builder()
                        .optCalibrationSamples(samples)
                        .optInt8Chains(chains)
                        .build());
    }

    private static void printCounts(PrintWriter out, QuantizationReport r) {
        out.printf(
                "%d static, %d dynamic, %d fp32 layers%n",
                r.count(QuantizationMode.STATIC),
                r.count(QuantizationMode.DYNAMIC),
                r.count(QuantizationMode.FP32));
        for (String note : r.getNotes()) {
            if (note.startsWith("int8 chain")) {
                out.println(note);
            }
        }
    }

    /** Times both models at every thread count and batch size and prints the rows. */
    private void time(
            PrintWriter out,
            ModelRef floatRef,
            Model fp32,
            Model int8,
            BiFunction<NDManager, Integer, NDList> inputs)
            throws IOException {
        int[] threadCounts = threads != null ? threads : new int[] {JniUtils.getNumThreads()};
        out.printf(
                "%s; int8 backend %s (%d-bit activations); rows at %s thread(s); %d rounds of"
                        + " %d ms per model, fp32 and int8 alternating (the shared timer:"
                        + " warm-up until settled, 500 calls first)%n",
                ModelEvaluator.threadInfo(),
                Int8Backends.get().getName(),
                Int8Backends.get().getActivationBits(),
                Arrays.toString(threadCounts).replaceAll("[\\[\\] ]", ""),
                rounds,
                roundMillis);
        // the host line (ISA, measured int8/fp32 GEMM ratio) at each thread count timed
        for (int t : threadCounts) {
            out.println(HostProfile.current(t).toLine());
        }
        List<Row> rows = new ArrayList<>();
        String name = floatRef.displayName();
        SideBySideTimer timer = SideBySideTimer.forBenchmarks(rounds, roundMillis);
        ProgressSink bar =
                new ProgressSink(null, "Timing", (long) threadCounts.length * batchSizes.length);
        for (int t : threadCounts) {
            if (JniUtils.getNumThreads() != t) {
                JniUtils.setNumThreads(t);
            }
            for (int b : batchSizes) {
                try (NDManager manager = fp32.getNDManager().newSubManager()) {
                    NDList x = inputs.apply(manager, b);
                    SpeedComparison c = timer.compare(fp32.getBlock(), int8.getBlock(), x, manager);
                    rows.add(new Row(name + " forward", t, c));
                    bar.advance(1);
                }
            }
        }
        bar.end();
        String fmt = "%-12s %7s %5s | %10s %10s | %9s %9s %9s  %s%n";
        out.printf(
                fmt, "model", "threads", "batch", "fp32 us", "int8 us", "min", "median", "max",
                "verdict");
        boolean shortRounds = false;
        for (Row r : rows) {
            SpeedComparison c = r.c();
            shortRounds |= c.callsPerRound() < MIN_CALLS_PER_ROUND;
            out.printf(
                    Locale.ROOT,
                    fmt,
                    name,
                    r.threads(),
                    c.batchSize(),
                    String.format(Locale.ROOT, "%.1f", c.fp32Micros()),
                    String.format(Locale.ROOT, "%.1f", c.int8Micros()),
                    String.format(Locale.ROOT, "%.2fx", c.minSpeedup()),
                    String.format(Locale.ROOT, "%.2fx", c.speedup()),
                    String.format(Locale.ROOT, "%.2fx", c.maxSpeedup()),
                    c.verdict().name().toLowerCase(Locale.ROOT).replace('_', ' '));
        }
        out.println(
                "fp32 us, int8 us: microseconds per Block.forward of a batch in the median round"
                        + " (for images, preprocessed: the translator's work is the same for"
                        + " both); min/median/max: fp32/int8 time ratio over the rounds, above 1"
                        + " int8 faster; verdict: faster or slower beyond noise (median beyond 5%"
                        + " and 3 rounds of 4 agreeing), else within noise.");
        if (shortRounds) {
            out.println(
                    "warning: a round held fewer than " + MIN_CALLS_PER_ROUND + " calls of one"
                            + " side, so each round times few calls and the spread is wide;"
                            + " raise --round-ms.");
        }
        double load = busyLoad();
        if (load > Runtime.getRuntime().availableProcessors()) {
            out.printf(
                    Locale.ROOT,
                    "warning: the machine is busy (load average %.1f over the last minute on %d"
                            + " cores): other jobs share the cores, and the times move with"
                            + " them.%n",
                    load,
                    Runtime.getRuntime().availableProcessors());
        }
        if (json != null) {
            StringBuilder sb = new StringBuilder("[\n");
            for (int i = 0; i < rows.size(); i++) {
                sb.append("  ")
                        .append(rows.get(i).json())
                        .append(i + 1 < rows.size() ? ",\n" : "\n");
            }
            Files.writeString(json, sb.append("]\n").toString(), StandardCharsets.UTF_8);
            out.println("rows written to " + json);
        }
    }

    /** Fewer calls per round than this make a warning. */
    static final int MIN_CALLS_PER_ROUND = 5;

    /** The one-minute load average, or 0 where the system does not say. */
    private static double busyLoad() {
        return Math.max(0, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}

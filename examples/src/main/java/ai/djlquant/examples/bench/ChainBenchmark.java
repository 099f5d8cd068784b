package ai.djlquant.examples.bench;

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
import ai.djlquant.examples.eval.ModelEvaluator;
import ai.djlquant.examples.models.ReferenceModel;
import ai.djlquant.examples.quantize.CalibrationImages;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.plan.SpeedComparison;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Int8 chains on the reference models: fp32, int8 unchained and int8 chained ({@code
 * QuantizationConfig.Builder#optInt8Chains}) side by side in one process with the same threads,
 * and the top-1 of the two int8 models on the committed test split.
 *
 * <p>Both int8 models are quantized with the same config on the same calibration images; only the
 * option differs. The config is the defaults with every layer STATIC and objective SIZE (chains
 * link static layers only, and the AUTO rule picks DYNAMIC for the MLP's middle Linear on this
 * host, which leaves no chain; SIZE forms every chain untimed), or with {@code --auto} the
 * defaults as they are, where the quantizer times the model with its chains against without and
 * keeps them only if it is not slower (the report's note, printed, says which). Timing: {@link
 * SideBySideTimer#time(List, NDList, NDManager)}, the three models in the same rounds, the order
 * rotated every round, batch 1 and 32 of test images; each column is a model's median over the
 * rounds and each ratio the median of its two models' per-round ratios ({@code int8/chain}, the
 * chain's gain), all from the same rounds.
 *
 * <pre>
 * nice -n 10 mvn -B -q verify -DskipTests -Prun \
 *     -Drun.main=ai.djlquant.examples.bench.ChainBenchmark \
 *     -Drun.args="--threads 1"
 * </pre>
 *
 * <p>The MobileNet's chains are its inverted residuals' main branches (1x1 expansion, depthwise
 * 3x3, 1x1 projection, uint8 NHWC between them); its stem, head and residual adds stay
 * float32 at the chains' edges.
 *
 * <p>Options: {@code --models mlp,cnn,mobilenet} (the default), {@code --threads 1}, {@code --quick}, {@code --auto}, {@code --models-dir
 * examples/models}, {@code --test calibration-data/test}, {@code --calibration
 * calibration-data/calibration}.
 */
public final class ChainBenchmark {

    private ChainBenchmark() {}

    /**
     * Runs the benchmark.
     *
     * @param args see the class documentation
     * @throws Exception if a model or the data cannot be loaded
     */
    public static void main(String[] args) throws Exception {
        List<String> models = Arrays.asList("mlp", "cnn", "mobilenet");
        int threads = 1;
        boolean quick = false;
        boolean auto = false;
        Path modelsDir = Paths.get("examples/models");
        Path testDir = Paths.get("calibration-data/test");
        Path calibrationDir = Paths.get("calibration-data/calibration");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--models" -> models = Arrays.asList(args[++i].split(","));
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--quick" -> quick = true;
                case "--auto" -> auto = true;
                case "--models-dir" -> modelsDir = Paths.get(args[++i]);
                case "--test" -> testDir = Paths.get(args[++i]);
                case "--calibration" -> calibrationDir = Paths.get(args[++i]);
                default ->
                        throw new IllegalArgumentException(
                                "unknown option " + args[i] + " (see the class documentation)");
            }
        }
        IdxDataset test =
                IdxDataset.builder().setDirectory(testDir).optUsage(Dataset.Usage.TEST).build();
        test.prepare();
        List<Image> calibration = CalibrationImages.load(calibrationDir);
        ModelEvaluator.torchThreads(); // loads the engine
        JniUtils.setNumThreads(threads); // the int8 blocks pass the same count to oneDNN
        System.out.println("# " + HostProfile.current(threads).toLine());
        SideBySideTimer timer = SideBySideTimer.forBenchmarks(quick ? 5 : 9, quick ? 100 : 300);
        ModelEvaluator accuracy =
                ModelEvaluator.builder()
                        .setTestSet(test)
                        .setTranslator(FashionMnist.newTranslator())
                        .optMeasureLatency(false)
                        .build();
        System.out.println("# config: " + config(auto, true) + " (unchained: the same without it)");
        for (String name : models) {
            ReferenceModel m = ReferenceModel.of(name);
            try (ZooModel<Image, Classifications> fp32 = m.load(modelsDir);
                    ZooModel<Image, Classifications> plain = m.load(modelsDir);
                    ZooModel<Image, Classifications> chained = m.load(modelsDir)) {
                quantize(plain, calibration, config(auto, false));
                QuantizationReport r = quantize(chained, calibration, config(auto, true));
                StringBuilder modes = new StringBuilder();
                for (ai.djlquant.LayerReport l : r.getLayers()) {
                    modes.append(' ').append(l.getPath()).append('=').append(l.getMode());
                }
                System.out.println("# " + name + " layers:" + modes);
                boolean any = false;
                for (String note : r.getNotes()) {
                    if (note.startsWith("int8 chain")) {
                        System.out.println("# " + name + ": " + note);
                        any = true;
                    }
                }
                if (!any) {
                    System.out.println("# " + name + ": no int8 chain formed");
                }
                double top1Plain = accuracy.evaluate(name + " int8", plain).getTop1();
                double top1Chained = accuracy.evaluate(name + " int8 chained", chained).getTop1();
                System.out.printf(
                        Locale.ROOT,
                        "# %s top-1 on %d test images: int8 %.2f%%, int8 chained %.2f%% (%+.2f"
                                + " points)%n",
                        name,
                        test.size(),
                        top1Plain * 100,
                        top1Chained * 100,
                        (top1Chained - top1Plain) * 100);
                System.out.printf(
                        "%-9s %5s %7s %10s %12s %12s %10s %11s %10s%n",
                        "model", "batch", "threads", "fp32_us", "int8_us", "chained_us",
                        "fp32/int8", "fp32/chain", "int8/chain");
                for (int batch : new int[] {1, 32}) {
                    try (NDManager manager = fp32.getNDManager().newSubManager()) {
                        NDList x =
                                FashionMnist.newPipeline()
                                        .transform(new NDList(test.rawImages(manager, 0, batch)));
                        SideBySideTimer.Rounds rounds =
                                timer.time(
                                        List.of(fp32.getBlock(), plain.getBlock(), chained.getBlock()),
                                        x,
                                        manager);
                        SpeedComparison a = rounds.compare(0, 1);
                        SpeedComparison b = rounds.compare(0, 2);
                        SpeedComparison c = rounds.compare(1, 2);
                        System.out.printf(
                                Locale.ROOT,
                                "%-9s %5d %7d %10.1f %12.1f %12.1f %9.2fx %10.2fx %9.2fx%n",
                                name,
                                batch,
                                threads,
                                median(rounds.micros()[0]),
                                median(rounds.micros()[1]),
                                median(rounds.micros()[2]),
                                a.speedup(),
                                b.speedup(),
                                c.speedup());
                    }
                }
            }
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static QuantizationConfig config(boolean auto, boolean chains) {
        QuantizationConfig.Builder b = QuantizationConfig.builder().optInt8Chains(chains);
        // SIZE: the chains formed untimed, so that the chained model holds them all
        return auto
                ? b.build()
                : b.optDefaultMode(QuantizationMode.STATIC).optObjective(Objective.SIZE).build();
    }

    private static QuantizationReport quantize(
            ZooModel<Image, Classifications> model, List<Image> calibration, QuantizationConfig c) {
        return Quantizer.quantize(
                model, CalibrationData.fromInputs(calibration, FashionMnist.newTranslator(), 32), c);
    }
}

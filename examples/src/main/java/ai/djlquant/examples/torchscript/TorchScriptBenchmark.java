package ai.djlquant.examples.torchscript;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djlquant.CalibrationData;
import ai.djlquant.HostProfile;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.SideBySideTimer;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.plan.SpeedComparison;
import ai.djlquant.torchscript.TorchScriptImporter;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;

/**
 * What a DJL user of a traced model gains: the {@code .pt} run the way DJL runs it today (loaded
 * with {@code Criteria} on the PyTorch engine, a TorchScript {@code SymbolBlock}) against the same
 * file imported with {@link TorchScriptImporter} and quantized with {@code
 * QuantizationConfig.defaults()}, side by side in one process with the same threads ({@link
 * SideBySideTimer#forBenchmarks}: warm-up, alternating rounds, median of the mean call time), at
 * batch 1 and 32 of 1x28x28 inputs (random normal; these kernels' speed does not depend on the
 * values). The host line says which int8 kernels this CPU has and what they gain here. A second
 * row times the float import itself against the TorchScript module, to separate the import's
 * own cost from what quantizing gains.
 *
 * <pre>
 * nice -n 10 mvn -B -q verify -DskipTests -Prun \
 *     -Drun.main=ai.djlquant.examples.torchscript.TorchScriptBenchmark
 * </pre>
 *
 * Options: {@code --pt FILE} (default {@code
 * djl-quant-plugin/src/test/resources/torchscript/fmnist_resnet.pt}), {@code --calibration DIR},
 * {@code --quick} (fewer, shorter rounds).
 */
public final class TorchScriptBenchmark {

    private TorchScriptBenchmark() {}

    private static void row(int batch, String other, int threads, SpeedComparison c) {
        System.out.printf(Locale.ROOT, "%-14s %-22s %7d %12.1f %12.1f %7.2fx%n",
                batch + "x1x28x28", other, threads, c.fp32Micros(), c.int8Micros(),
                c.fp32Micros() / c.int8Micros());
    }

    /**
     * Runs the benchmark.
     *
     * @param args see the class documentation
     * @throws Exception if the model cannot be loaded or imported
     */
    public static void main(String[] args) throws Exception {
        Path pt = Paths.get("djl-quant-plugin/src/test/resources/torchscript/fmnist_resnet.pt");
        Path calibration = Paths.get("calibration-data/calibration");
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--pt" -> pt = Paths.get(args[++i]);
                case "--calibration" -> calibration = Paths.get(args[++i]);
                case "--quick" -> quick = true;
                default -> throw new IllegalArgumentException(
                        "unknown option " + args[i] + " (see the class documentation)");
            }
        }
        Engine.getEngine("PyTorch"); // loads libtorch before JniUtils is called
        int threads = JniUtils.getNumThreads();
        System.out.println("# " + HostProfile.current(threads).toLine());
        String name = pt.getFileName().toString().replaceAll("\\.pt$", "");
        Criteria<NDList, NDList> criteria = Criteria.builder()
                .setTypes(NDList.class, NDList.class)
                .optModelPath(pt.toAbsolutePath().getParent())
                .optModelName(name)
                .optEngine("PyTorch")
                .build();
        try (ZooModel<NDList, NDList> fp32 = criteria.loadModel();
                Model imported = TorchScriptImporter.builder(pt)
                        .optInputShapes(new Shape(1, 1, 28, 28)).build().importModel();
                Model int8 = TorchScriptImporter.builder(pt)
                        .optInputShapes(new Shape(1, 1, 28, 28)).build().importModel()) {
            QuantizationReport report = Quantizer.quantize(int8,
                    CalibrationData.fromImageFolder(calibration, FashionMnist.newTranslator(), 32),
                    QuantizationConfig.defaults());
            System.out.printf(Locale.ROOT,
                    "# %s: fp32 = DJL's TorchScript SymbolBlock (%s); int8 = imported + quantized:"
                            + " %d static, %d dynamic, %d fp32 layers%n",
                    name, fp32.getBlock().getClass().getSimpleName(),
                    report.count(QuantizationMode.STATIC), report.count(QuantizationMode.DYNAMIC),
                    report.count(QuantizationMode.FP32));
            SideBySideTimer timer = SideBySideTimer.forBenchmarks(quick ? 5 : 9, quick ? 200 : 500);
            // the second row separates the import's own cost (the float tree run block by block
            // instead of as one TorchScript graph) from what quantizing gains
            System.out.printf("%-14s %-22s %7s %12s %12s %8s%n",
                    "shape", "vs TorchScript fp32", "threads", "fp32_us", "other_us", "speedup");
            for (int batch : new int[] {1, 32}) {
                try (NDManager m = int8.getNDManager().newSubManager()) {
                    Shape shape = new Shape(batch, 1, 28, 28);
                    NDList x = new NDList(m.randomNormal(shape));
                    SpeedComparison c = timer.compare(fp32.getBlock(), int8.getBlock(), x, m);
                    SpeedComparison f = timer.compare(fp32.getBlock(), imported.getBlock(), x, m);
                    row(batch, "int8 (imported)", threads, c);
                    row(batch, "fp32 (imported)", threads, f);
                }
            }
        }
    }
}

package ai.djlquant.examples.torchscript;

import ai.djl.Model;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Dataset;
import ai.djlquant.CalibrationData;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.Quantizer;
import ai.djlquant.examples.data.FashionMnist;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.eval.ModelEvaluator;
import ai.djlquant.torchscript.TorchScriptImporter;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;

/**
 * Imports a traced Fashion-MNIST classifier ({@code fmnist_resnet.pt}, written by {@code
 * examples/scripts/torchscript/make_fixtures.py train-fmnist}), quantizes it with {@code
 * QuantizationConfig.defaults()} calibrated on the committed calibration images (through {@link
 * FashionMnist#newTranslator()}, the preprocessing the model was trained with), and prints the
 * top-1 of the float import and of the int8 model on the committed test split.
 *
 * <pre>
 * nice -n 10 mvn -B -q verify -DskipTests -Prun \
 *     -Drun.main=ai.djlquant.examples.torchscript.QuantizeTorchScript
 * </pre>
 *
 * Options: {@code --pt FILE} (default {@code
 * djl-quant-plugin/src/test/resources/torchscript/fmnist_resnet.pt}), {@code --test DIR} (default
 * {@code calibration-data/test}), {@code --calibration DIR} (default {@code
 * calibration-data/calibration}).
 */
public final class QuantizeTorchScript {

    /**
     * The outcome.
     *
     * @param fp32Top1 the imported float model's top-1 on the test split
     * @param int8Top1 the quantized model's top-1
     * @param samples the test images
     * @param report the quantizer's report
     */
    public record Result(double fp32Top1, double int8Top1, int samples, QuantizationReport report) {

        /**
         * The top-1 lost by quantizing, in percentage points.
         *
         * @return fp32 minus int8 top-1, times 100
         */
        public double dropPoints() {
            return (fp32Top1 - int8Top1) * 100;
        }
    }

    private QuantizeTorchScript() {}

    /**
     * Runs the example.
     *
     * @param args see the class documentation
     * @throws Exception if a file cannot be read or the model cannot be imported
     */
    public static void main(String[] args) throws Exception {
        Path pt = Paths.get("djl-quant-plugin/src/test/resources/torchscript/fmnist_resnet.pt");
        Path test = Paths.get("calibration-data/test");
        Path calibration = Paths.get("calibration-data/calibration");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--pt" -> pt = Paths.get(args[++i]);
                case "--test" -> test = Paths.get(args[++i]);
                case "--calibration" -> calibration = Paths.get(args[++i]);
                default -> throw new IllegalArgumentException(
                        "unknown option " + args[i] + " (see the class documentation)");
            }
        }
        Result r = run(pt, test, calibration);
        System.out.print(r.report().toTable());
        System.out.printf(Locale.ROOT,
                "%s: fp32 (imported) top-1 %.2f%%, int8 top-1 %.2f%% (%+.2f points) on %d"
                        + " test images%n",
                pt.getFileName(), r.fp32Top1() * 100, r.int8Top1() * 100, -r.dropPoints(),
                r.samples());
    }

    /**
     * Imports, evaluates, quantizes and evaluates again.
     *
     * @param pt the traced model (input 1x1x28x28)
     * @param testDir the IDX test split
     * @param calibrationDir the calibration image folder
     * @return the top-1s and the report
     * @throws Exception if a file cannot be read or the model cannot be imported
     */
    public static Result run(Path pt, Path testDir, Path calibrationDir) throws Exception {
        IdxDataset test = IdxDataset.builder().setDirectory(testDir)
                .optUsage(Dataset.Usage.TEST).build();
        test.prepare();
        ModelEvaluator evaluator = ModelEvaluator.builder().setTestSet(test)
                .setTranslator(FashionMnist.newTranslator()).optMeasureLatency(false).build();
        try (Model model = TorchScriptImporter.builder(pt)
                .optInputShapes(new Shape(1, 1, 28, 28)).build().importModel()) {
            double fp32 = evaluator.evaluate("fp32", model).getTop1();
            QuantizationReport report = Quantizer.quantize(model,
                    CalibrationData.fromImageFolder(calibrationDir, FashionMnist.newTranslator(), 32),
                    QuantizationConfig.defaults());
            var int8 = evaluator.evaluate("int8", model);
            return new Result(fp32, int8.getTop1(), int8.getSamples(), report);
        }
    }
}

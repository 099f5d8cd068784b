package ai.djlquant.examples.quantize;

import ai.djl.modality.cv.Image;
import ai.djl.training.dataset.Dataset;
import ai.djlquant.HostProfile;
import ai.djlquant.QuantizationConfig;
import ai.djlquant.QuantizationReport;
import ai.djlquant.examples.data.IdxDataset;
import ai.djlquant.examples.models.ReferenceModel;
import ai.djlquant.plan.Objective;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The accuracy-recovery measurement: each reference model quantized with no technique, each of
 * cross-layer equalization, SmoothQuant (alpha 0.5) and bias correction alone, and all three, on
 * the committed calibration subset; whole-model SQNR (the report's) and top-1 on the committed
 * test split, one process. Objective SIZE and no model timing, so the plan is made by accuracy
 * alone and the runs differ by the technique only.
 *
 * <pre>
 * mvn -B -q verify -DskipTests -Prun \
 *     -Drun.main=ai.djlquant.examples.quantize.MeasureRecovery \
 *     -Drun.args="examples/models calibration-data/test calibration-data/calibration --models cnn,resnet,mlp"
 * </pre>
 */
public final class MeasureRecovery {

    private MeasureRecovery() {}

    /**
     * Runs the measurement.
     *
     * @param args models directory, test split, calibration images, then {@code --models a,b} and
     *     {@code --techniques} (a comma-separated subset of the five rows, e.g. {@code
     *     "none,bias-correction"}, a hyphen or underscore for each space)
     * @throws Exception if a model or the data cannot be loaded
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println(
                    "usage: MeasureRecovery <models-dir> <test-idx-dir> <calibration-dir> [--models cnn,resnet,mlp]"
                            + " [--techniques none,CLE,SmoothQuant,bias-correction,all-three]");
            System.exit(2);
        }
        Path modelsDir = Paths.get(args[0]);
        List<String> names = Arrays.asList("cnn", "resnet", "mlp");
        String[] techniques = {"none", "CLE", "SmoothQuant", "bias correction", "all three"};
        List<String> chosen = Arrays.asList(techniques);
        for (int i = 3; i < args.length; i++) {
            if (args[i].equals("--models")) {
                names = Arrays.asList(args[++i].split(","));
            } else if (args[i].equals("--techniques")) {
                // "bias-correction" or "all_three" where a shell argument cannot hold a space
                chosen = Arrays.asList(args[++i].replace('-', ' ').replace('_', ' ').split(","));
                for (String t : chosen) {
                    if (!Arrays.asList(techniques).contains(t)) {
                        throw new IllegalArgumentException(
                                "unknown technique '" + t + "', expected some of " + Arrays.toString(techniques));
                    }
                }
            } else {
                throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        IdxDataset test =
                IdxDataset.builder().setDirectory(Paths.get(args[1])).optUsage(Dataset.Usage.TEST).build();
        test.prepare();
        List<Image> calibration = CalibrationImages.load(Paths.get(args[2]));
        System.out.println("# host: " + HostProfile.current().toLine());
        System.out.println("# load: " + Files.readString(Paths.get("/proc/loadavg")).trim());
        System.out.printf(
                "%-10s %-16s %9s %9s %9s %11s%n",
                "model", "technique", "whole dB", "fp32 top1", "int8 top1", "quantize s");
        for (String name : names) {
            ReferenceModel m = ReferenceModel.of(name);
            for (int k = 0; k < techniques.length; k++) {
                if (!chosen.contains(techniques[k])) {
                    continue;
                }
                QuantizationConfig.Builder b =
                        QuantizationConfig.builder().optObjective(Objective.SIZE).optTimeModel(false);
                if (k == 1 || k == 4) {
                    b.optCrossLayerEqualization(true);
                }
                if (k == 2 || k == 4) {
                    b.optSmoothQuant(0.5);
                }
                b.optBiasCorrection(k == 3 || k == 4); // on by default: off in the other rows
                QuantizeReferenceModels.Result r =
                        QuantizeReferenceModels.run(m, modelsDir, test, calibration, null, k == 0, b.build());
                System.out.printf(
                        Locale.ROOT,
                        "%-10s %-16s %9.2f %8.2f%% %8.2f%% %11.1f%n",
                        name,
                        techniques[k],
                        r.report.getWholeModelSqnrDb(),
                        r.fp32Top1 * 100,
                        r.int8Top1 * 100,
                        r.report.getTiming().totalSeconds());
                for (QuantizationReport.Recovery t : r.report.getRecovery()) {
                    System.out.printf(
                            Locale.ROOT,
                            "    %-24s whole %6.2f -> %6.2f dB; %s%n",
                            t.technique(),
                            t.wholeBeforeDb(),
                            t.wholeAfterDb(),
                            t.note());
                    for (QuantizationReport.LayerChange c : t.layers()) {
                        System.out.printf(Locale.ROOT, "        %-50s %6.2f -> %6.2f dB%n", c.path(), c.beforeDb(), c.afterDb());
                    }
                }
            }
        }
        System.out.println("# load: " + Files.readString(Paths.get("/proc/loadavg")).trim());
    }
}

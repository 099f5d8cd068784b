package ai.djlquant;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which accuracy-recovery techniques run, in the order of the flow: cross-layer equalization
 * (equalize, after fold), SmoothQuant (smooth, after equalize) and bias correction (in decide);
 * and how their before and after are measured.
 *
 * <p>Technique {@code k}'s "before" is the model quantized with techniques {@code 0..k-1} (the ones
 * before it in the flow) and its "after" with {@code 0..k}: so the quantize call runs the flow
 * from fold to measure once per technique turned on before the run it keeps, each such trial rolled
 * back through its own undo log. The whole-model SQNR is the measure step's; a layer's SQNR is the
 * one of the mode it ended in (static or dynamic), on its own kept calibration inputs, which differ
 * between the runs where an earlier layer changed.
 *
 * @param equalize whether cross-layer equalization runs
 * @param smoothAlpha SmoothQuant's alpha, or NaN where it does not run
 * @param biasCorrection whether bias correction runs
 */
record RecoveryTechniques(boolean equalize, double smoothAlpha, boolean biasCorrection) {

    /** The techniques a config turns on. */
    static RecoveryTechniques of(QuantizationConfig config) {
        return new RecoveryTechniques(
                config.isCrossLayerEqualization(),
                config.getSmoothQuantAlpha(),
                config.isBiasCorrection());
    }

    /** Whether SmoothQuant runs. */
    boolean smooth() {
        return !Double.isNaN(smoothAlpha);
    }

    /** The number turned on. */
    int count() {
        return (equalize ? 1 : 0) + (smooth() ? 1 : 0) + (biasCorrection ? 1 : 0);
    }

    /** The first {@code k} of those turned on, in flow order. */
    RecoveryTechniques first(int k) {
        boolean e = false;
        double a = Double.NaN;
        boolean b = false;
        int left = k;
        if (equalize && left > 0) {
            e = true;
            left--;
        }
        if (smooth() && left > 0) {
            a = smoothAlpha;
            left--;
        }
        if (biasCorrection && left > 0) {
            b = true;
        }
        return new RecoveryTechniques(e, a, b);
    }

    /**
     * What the techniques did in a run.
     *
     * @param equalized cross-layer equalization's result, or null
     * @param smoothed SmoothQuant's result, or null
     * @param corrected bias correction's outcome per layer path (empty where it did not run)
     */
    record Steps(
            Equalization.Result equalized,
            Smoothing.Result smoothed,
            Map<String, BiasCorrection.Outcome> corrected) {}

    /**
     * The numbers of one run.
     *
     * @param layerDb each int8 layer's SQNR in its mode, by path
     * @param wholeDb the whole model's SQNR (NaN if not measured)
     */
    record Measured(Map<String, Double> layerDb, double wholeDb) {

        static Measured of(List<DecidedLayer> decided, WholeModelError whole) {
            Map<String, Double> m = new HashMap<>();
            for (DecidedLayer d : decided) {
                double db =
                        switch (d.mode()) {
                            case STATIC -> d.decision().staticSqnr();
                            case DYNAMIC -> d.decision().dynamicSqnr();
                            default -> d.mode().isWeightOnly() ? d.decision().weightOnlySqnr() : Double.NaN;
                        };
                m.put(d.layer().path(), db);
            }
            return new Measured(m, whole.sqnrDb());
        }

        double layer(String path) {
            return layerDb.getOrDefault(path, Double.NaN);
        }
    }

    /**
     * The report's rows: one per technique that ran, with its affected layers.
     *
     * @param before the runs without technique {@code k} (one per technique, in flow order)
     * @param last the run kept (all techniques)
     * @param steps what the techniques did in the run kept
     * @return the rows
     */
    List<QuantizationReport.Recovery> report(List<Measured> before, Measured last, Steps steps) {
        List<QuantizationReport.Recovery> out = new ArrayList<>();
        int k = 0;
        if (equalize) {
            out.add(row("cross-layer equalization", steps.equalized().note(),
                    steps.equalized().affected(), before, last, k++));
        }
        if (smooth()) {
            out.add(row("SmoothQuant", steps.smoothed().note(), steps.smoothed().affected(), before, last, k++));
        }
        if (biasCorrection) {
            List<String> paths = new ArrayList<>(steps.corrected().keySet());
            long applied = steps.corrected().values().stream().filter(BiasCorrection.Outcome::applied).count();
            double shiftBefore = 0;
            double shiftAfter = 0;
            for (BiasCorrection.Outcome o : steps.corrected().values()) {
                shiftBefore += o.meanAbsShift();
                shiftAfter += o.meanAbsShiftAfter();
            }
            int n = Math.max(1, steps.corrected().size());
            String note =
                    String.format(
                            java.util.Locale.ROOT,
                            "bias correction: %d static layer(s) measured, %d kept corrected (SQNR not"
                                    + " lower on their kept inputs); mean |E[y_int8 - y_fp32]| per"
                                    + " channel %.3g before, %.3g after (averaged over layers)",
                            steps.corrected().size(),
                            applied,
                            shiftBefore / n,
                            shiftAfter / n);
            out.add(row("bias correction", note, paths, before, last, k));
        }
        return out;
    }

    private static QuantizationReport.Recovery row(
            String name, String note, List<String> affected, List<Measured> before, Measured last, int k) {
        Measured b = before.get(k);
        Measured a = k + 1 < before.size() ? before.get(k + 1) : last;
        List<QuantizationReport.LayerChange> layers = new ArrayList<>();
        for (String path : affected) {
            layers.add(new QuantizationReport.LayerChange(path, b.layer(path), a.layer(path)));
        }
        return new QuantizationReport.Recovery(name, note, b.wholeDb(), a.wholeDb(), layers);
    }
}

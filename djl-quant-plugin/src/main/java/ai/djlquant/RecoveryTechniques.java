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
 * <p>Equalization and SmoothQuant change what calibration sees, so each one's "before" is a run of
 * the flow from fold to measure with only the techniques before it in the flow (no goal, no model
 * timing), rolled back through its own undo log: one extra run per such technique turned on. Its
 * "after" is the next such run, or the run kept with bias correction's blocks swapped back where
 * bias correction is on. Bias correction's before is measured in the run kept, without another
 * calibration ({@link BiasCorrectionCheck}: the same plan with the uncorrected blocks). A layer's
 * SQNR is the one of the mode it ended in (static or dynamic) on its own kept calibration inputs,
 * which differ between runs where an earlier layer changed.
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

    /** The number of runs rolled back for the "before" numbers: one per technique before calibration. */
    int baselines() {
        return (equalize ? 1 : 0) + (smooth() ? 1 : 0);
    }

    /** The first {@code k} of equalization and SmoothQuant as turned on, no bias correction. */
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
        return new RecoveryTechniques(e, a, b);
    }

    /**
     * What the techniques did in a run.
     *
     * @param equalized cross-layer equalization's result, or null
     * @param smoothed SmoothQuant's result, or null
     * @param corrected bias correction's outcome per layer path (empty where it did not run)
     * @param check the whole model with and without the corrections, or null
     */
    record Steps(
            Equalization.Result equalized,
            Smoothing.Result smoothed,
            Map<String, BiasCorrection.Outcome> corrected,
            BiasCorrectionCheck.Result check) {}

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

        /** The same run without bias correction: its uncorrected SQNRs, and the check's whole. */
        Measured withoutCorrection(Steps steps) {
            if (steps.check() == null) {
                return this;
            }
            Map<String, Double> m = new HashMap<>(layerDb);
            for (Map.Entry<String, BiasCorrection.Outcome> e : steps.corrected().entrySet()) {
                if (e.getValue().applied() && m.containsKey(e.getKey())) {
                    m.put(e.getKey(), e.getValue().beforeDb());
                }
            }
            return new Measured(m, steps.check().wholeBeforeDb());
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
        List<Measured> runs = new ArrayList<>(before);
        runs.add(last.withoutCorrection(steps));
        int k = 0;
        if (equalize) {
            out.add(row("cross-layer equalization", steps.equalized().note(),
                    steps.equalized().affected(), runs.get(k), runs.get(k + 1)));
            k++;
        }
        if (smooth()) {
            out.add(row("SmoothQuant", steps.smoothed().note(), steps.smoothed().affected(),
                    runs.get(k), runs.get(k + 1)));
        }
        if (biasCorrection) {
            List<QuantizationReport.LayerChange> layers = new ArrayList<>();
            long applied = 0;
            double shiftBefore = 0;
            double shiftAfter = 0;
            for (Map.Entry<String, BiasCorrection.Outcome> e : steps.corrected().entrySet()) {
                BiasCorrection.Outcome o = e.getValue();
                applied += o.applied() ? 1 : 0;
                shiftBefore += o.meanAbsShift();
                shiftAfter += o.meanAbsShiftAfter();
                layers.add(new QuantizationReport.LayerChange(
                        e.getKey(), o.beforeDb(), o.applied() ? o.afterDb() : o.beforeDb()));
            }
            int n = Math.max(1, steps.corrected().size());
            String note =
                    String.format(
                            java.util.Locale.ROOT,
                            "bias correction: %d static layer(s) measured, %d kept corrected (SQNR not"
                                    + " lower on their kept inputs); mean |E[y_int8 - y_fp32]| per"
                                    + " channel %.3g before, %.3g after (averaged over layers); the"
                                    + " whole model before it is the same plan with the uncorrected blocks",
                            steps.corrected().size(),
                            applied,
                            shiftBefore / n,
                            shiftAfter / n);
            BiasCorrectionCheck.Result check = steps.check();
            double wb = check == null ? last.wholeDb() : check.wholeBeforeDb();
            double wa = check == null ? last.wholeDb() : check.wholeAfterDb();
            if (check != null && check.reverted()) {
                note +=
                        String.format(
                                java.util.Locale.ROOT,
                                "; reverted: the whole model measured %.2f dB corrected, %.2f dB"
                                        + " without, so every layer keeps its uncorrected block",
                                wa,
                                wb);
                wa = wb;
                List<QuantizationReport.LayerChange> kept = new ArrayList<>();
                for (QuantizationReport.LayerChange c : layers) {
                    kept.add(new QuantizationReport.LayerChange(c.path(), c.beforeDb(), c.beforeDb()));
                }
                layers = kept;
            }
            out.add(new QuantizationReport.Recovery("bias correction", note, wb, wa, layers));
        }
        return out;
    }

    private static QuantizationReport.Recovery row(
            String name, String note, List<String> affected, Measured b, Measured a) {
        List<QuantizationReport.LayerChange> layers = new ArrayList<>();
        for (String path : affected) {
            layers.add(new QuantizationReport.LayerChange(path, b.layer(path), a.layer(path)));
        }
        return new QuantizationReport.Recovery(name, note, b.wholeDb(), a.wholeDb(), layers);
    }
}

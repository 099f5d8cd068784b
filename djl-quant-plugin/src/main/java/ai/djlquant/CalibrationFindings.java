package ai.djlquant;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Calibration data that cannot stand for real inputs, said in one sentence per layer naming the
 * statistic and what to do: an activation range of zero width (every input one value: all-zeros
 * or constant calibration data), a range set by a handful of values many orders beyond the rest
 * ({@link KeptInputScreen#outlierRange()}), and kept batches left out of the measurement for
 * NaN or infinite values. The per-layer SQNRs cannot show these: they are measured on the same
 * inputs.
 */
final class CalibrationFindings {

    private CalibrationFindings() {}

    /**
     * Returns the warnings: degenerate statistics, one per layer.
     *
     * @param layers the decided layers
     * @return the warnings, in tree order
     */
    static List<String> warnings(List<DecidedLayer> layers) {
        List<String> out = new ArrayList<>();
        for (DecidedLayer d : layers) {
            CalibrationStatistics s = d.statistics();
            String path = d.layer().path();
            if (s != null && s.input() != null && s.input().min() == s.input().max()) {
                out.add(
                        String.format(
                                Locale.ROOT,
                                "layer %s saw one value, %s, in every calibration input (an"
                                        + " activation range of zero width): its static grid"
                                        + " holds no other value; calibrate with real inputs, not"
                                        + " constant or all-zero data",
                                path,
                                String.valueOf((float) s.input().min())));
            } else if (d.screen().outlierRange()) {
                KeptInputScreen k = d.screen();
                out.add(
                        String.format(
                                Locale.ROOT,
                                "layer %s: its calibration input range (largest magnitude %.4g)"
                                        + " is set by %d of %d non-zero values, the rest more"
                                        + " than %.0fx smaller: its int8 grid is wasted on them and"
                                        + " its SQNR is measured on them; remove such values from"
                                        + " the calibration data",
                                path,
                                k.maxAbs(),
                                k.nearMax(),
                                k.nonZero(),
                                KeptInputScreen.OUTLIER_FACTOR));
            }
        }
        return out;
    }

    /**
     * Returns the notes: kept batches left out of a layer's measurement for non-finite values.
     *
     * @param layers the decided layers
     * @return the notes
     */
    static List<String> notes(List<DecidedLayer> layers) {
        List<String> out = new ArrayList<>();
        for (DecidedLayer d : layers) {
            KeptInputScreen k = d.screen();
            if (k.nonFiniteBatches() > 0) {
                out.add(
                        "layer "
                                + d.layer().path()
                                + ": "
                                + k.nonFiniteBatches()
                                + " of its "
                                + k.batches()
                                + " kept calibration batches held NaN or infinite inputs and were"
                                + " left out of its SQNR measurement (the observer skipped and"
                                + " counted those values).");
            }
        }
        return out;
    }
}

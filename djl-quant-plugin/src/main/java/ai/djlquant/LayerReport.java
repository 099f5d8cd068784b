// Over 400 lines: one documented getter per reported fact, and the builder the report step fills
// each row with (so that a row is made in one place).
package ai.djlquant;

import ai.djlquant.quant.FusedActivation;
import ai.djlquant.observe.HistogramObserver;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.plan.SpeedComparison;
import ai.djlquant.quant.QuantParams;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What quantization did to one layer: its mode and why, its parameters, the measured cost in
 * output precision and the bytes of its weights. Layers that stay fp32 are listed too, with the
 * reason. Numbers are kept as numbers; the {@code String} getters format them for people.
 */
public final class LayerReport {

    /**
     * A range of values, {@code [min, max]}.
     *
     * @param min the least value
     * @param max the greatest value
     */
    public record Range(double min, double max) {

        /** {@inheritDoc} */
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "[%.4g, %.4g]", min, max);
        }
    }

    /**
     * The activation histogram calibration observed at the layer's input, downsampled to at most
     * {@value #MAX_BINS} bins by merging neighbouring bins of the observer's own (so no count is
     * moved between values: a bin here is the exact sum of the observer's bins it covers).
     *
     * @param start the low edge of bin 0
     * @param binWidth the width of every bin
     * @param counts the number of finite values seen in each bin; bin {@code k} covers {@code
     *     [start + k * binWidth, start + (k + 1) * binWidth)}
     */
    public record Histogram(double start, double binWidth, List<Long> counts) {

        /** The most bins a report's histogram holds (enough to see a distribution's shape). */
        public static final int MAX_BINS = 128;

        /**
         * Checks and copies the counts.
         *
         * @param start the low edge of bin 0
         * @param binWidth the bin width, positive
         * @param counts the counts, at most {@value #MAX_BINS}
         */
        public Histogram {
            counts = List.copyOf(counts);
            if (!(binWidth > 0) || counts.isEmpty() || counts.size() > MAX_BINS) {
                throw new IllegalArgumentException(
                        "a report histogram needs a positive bin width and 1 to "
                                + MAX_BINS
                                + " bins, got width "
                                + binWidth
                                + " and "
                                + counts.size()
                                + " bins.");
            }
        }

        /**
         * Returns the high edge of the last bin.
         *
         * @return the end of the histogram's range
         */
        public double end() {
            return start + binWidth * counts.size();
        }

        /**
         * Merges an observer's bins into at most {@value #MAX_BINS}, from the first to the last
         * bin holding a value (the observer's window may extend past the data).
         *
         * @param counts the observer's counts
         * @param start the low edge of the observer's bin 0
         * @param binWidth the observer's bin width
         * @return the downsampled histogram, or null if every count is 0
         */
        static Histogram downsample(long[] counts, double start, double binWidth) {
            int first = 0;
            while (first < counts.length && counts[first] == 0) {
                first++;
            }
            if (first == counts.length) {
                return null;
            }
            int last = counts.length - 1;
            while (counts[last] == 0) {
                last--;
            }
            int span = last - first + 1;
            int factor = (span + MAX_BINS - 1) / MAX_BINS;
            long[] merged = new long[(span + factor - 1) / factor];
            for (int k = first; k <= last; k++) {
                merged[(k - first) / factor] += counts[k];
            }
            List<Long> out = new ArrayList<>(merged.length);
            for (long c : merged) {
                out.add(c);
            }
            return new Histogram(start + first * binWidth, binWidth * factor, out);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("start", start);
            m.put("binWidth", binWidth);
            m.put("counts", counts);
            return m;
        }
    }

    private final String path;
    private final String blockType;
    private final QuantizationMode mode;
    private final String reason;
    private final String foldedBatchNorm;
    private final String fusedRelu;
    private final String fusedActivation;
    private final String fusedActivationPath;
    private final Range weightScales;
    private final int weightChannels;
    private final boolean perTensorWeights;
    private final QuantParams activation;
    private final int activationBits;
    private final double staticSqnrDb;
    private final double dynamicSqnrDb;
    private final double weightOnlySqnrDb;
    private final String weightFormat;
    private final long floatBytes;
    private final long quantizedBytes;
    private final long inputNonFinite;
    private final long outputNonFinite;
    private final long planSamples;
    private final Range inputRange;
    private final Range outputRange;
    private final List<SpeedComparison> speeds;
    private final Histogram inputHistogram;

    private LayerReport(Builder b) {
        path = b.path;
        blockType = b.blockType;
        mode = b.mode;
        reason = b.reason;
        foldedBatchNorm = b.foldedBatchNorm;
        fusedRelu = b.fusedRelu;
        fusedActivation = b.fusedActivation;
        fusedActivationPath = b.fusedActivationPath;
        weightScales = b.weightScales;
        weightChannels = b.weightChannels;
        perTensorWeights = b.perTensorWeights;
        activation = b.activation;
        activationBits = b.activationBits;
        staticSqnrDb = b.staticSqnrDb;
        dynamicSqnrDb = b.dynamicSqnrDb;
        weightOnlySqnrDb = b.weightOnlySqnrDb;
        weightFormat = b.weightFormat;
        floatBytes = b.floatBytes;
        quantizedBytes = b.quantizedBytes;
        inputNonFinite = b.inputNonFinite;
        outputNonFinite = b.outputNonFinite;
        planSamples = b.planSamples;
        inputRange = b.inputRange;
        outputRange = b.outputRange;
        speeds = b.speeds;
        inputHistogram = b.inputHistogram;
    }

    /** Starts a row (the report step fills each row in one place). */
    static Builder builder(String path, String blockType) {
        return new Builder(path, blockType);
    }

    /**
     * Returns the layer's path in the block tree (children keys joined by {@code /}).
     *
     * @return the path
     */
    public String getPath() {
        return path;
    }

    /**
     * Returns the float layer's type ({@code Linear}, {@code Conv2d}, ...).
     *
     * @return the block type
     */
    public String getBlockType() {
        return blockType;
    }

    /**
     * Returns the mode the layer runs in now.
     *
     * @return STATIC, DYNAMIC or FP32
     */
    public QuantizationMode getMode() {
        return mode;
    }

    /**
     * Returns why the layer has its mode.
     *
     * @return the reason
     */
    public String getReason() {
        return reason;
    }

    /**
     * Returns the path of the BatchNorm folded into this layer, or null.
     *
     * @return the BatchNorm's path, or null
     */
    public String getFoldedBatchNorm() {
        return foldedBatchNorm;
    }

    /**
     * Returns the path of the ReLU fused into this layer, or null.
     *
     * @return the ReLU's path, or null
     */
    public String getFusedRelu() {
        return fusedRelu;
    }

    /**
     * Returns the activation fused into this layer: {@code relu} or {@code relu6}, or null if none.
     *
     * @return the fused activation's name, or null
     */
    public String getFusedActivation() {
        return fusedActivation;
    }

    /**
     * Returns the path of the ReLU or ReLU6 fused into this layer, or null ({@link #getFusedRelu()}
     * names a ReLU only).
     *
     * @return the fused activation's path, or null
     */
    public String getFusedActivationPath() {
        return fusedActivationPath;
    }

    /**
     * Returns the least and greatest weight scale of an int8 layer (equal for per-tensor
     * weights), or null for an fp32 layer.
     *
     * @return the scales' range, or null
     */
    public Range getWeightScales() {
        return weightScales;
    }

    /**
     * Returns the static activation parameters (scale, zero point, grid), or null for dynamic
     * and fp32 layers.
     *
     * @return the parameters, or null
     */
    public QuantParams getActivationQuantization() {
        return activation;
    }

    /**
     * Returns a summary of the weight's quantization parameters (empty for fp32 layers).
     *
     * @return the summary
     */
    public String getWeightParams() {
        if (weightScales == null) {
            return "";
        }
        if (weightFormat != null) {
            return String.format(
                    Locale.ROOT,
                    "%s weight-only, %d scales %.3g..%.3g",
                    weightFormat,
                    weightChannels,
                    (float) weightScales.min(),
                    (float) weightScales.max());
        }
        return perTensorWeights
                ? String.format(Locale.ROOT, "int8 symmetric per-tensor, scale %.3g", (float) weightScales.max())
                : String.format(
                        Locale.ROOT,
                        "int8 symmetric per-channel x%d, scales %.3g..%.3g",
                        weightChannels,
                        (float) weightScales.min(),
                        (float) weightScales.max());
    }

    /**
     * Returns a summary of the activation's quantization parameters ({@code dynamic uint7/8} for
     * dynamic layers, empty for fp32 layers).
     *
     * @return the summary
     */
    public String getActivationParams() {
        if (mode == QuantizationMode.DYNAMIC) {
            return "dynamic uint" + activationBits;
        }
        if (mode != QuantizationMode.STATIC || activation == null) {
            return "";
        }
        float scale = activation.scale();
        int zp = activation.zeroPoint();
        int qmax = activation.getScheme().qmax();
        return String.format(
                Locale.ROOT,
                "uint%d scale %.4g zero point %d, range [%.4g, %.4g]",
                activation.getScheme().getBits(),
                scale,
                zp,
                -zp * scale,
                (qmax - zp) * scale);
    }

    /**
     * Returns the output SQNR of the static int8 layer against fp32, on calibration inputs.
     *
     * @return dB, NaN if not measured
     */
    public double getStaticSqnrDb() {
        return staticSqnrDb;
    }

    /**
     * Returns the output SQNR of the dynamic int8 layer against fp32, on calibration inputs.
     *
     * @return dB, NaN if not measured
     */
    public double getDynamicSqnrDb() {
        return dynamicSqnrDb;
    }

    /**
     * Returns the output SQNR of the layer's weight-only block against fp32, on calibration inputs
     * (measured where a rule gave the layer a weight-only mode, or AUTO was offered one).
     *
     * @return dB, NaN if not measured
     */
    public double getWeightOnlySqnrDb() {
        return weightOnlySqnrDb;
    }

    /**
     * Returns the weight-only format the layer runs in ({@code w8}, {@code w4g64}, {@code
     * w4g64a}), or null for other modes.
     *
     * @return the format's name, or null
     */
    public String getWeightFormat() {
        return weightFormat;
    }

    /**
     * Returns the bytes of the layer's own parameters before (with a folded BatchNorm's; a block
     * with children counts its direct parameters only).
     *
     * @return bytes
     */
    public long getFloatBytes() {
        return floatBytes;
    }

    /**
     * Returns the bytes of the layer's parameters after (int8 weight, float32 bias).
     *
     * @return bytes
     */
    public long getQuantizedBytes() {
        return quantizedBytes;
    }

    /**
     * Returns the number of NaN and infinite input values calibration saw (skipped by the
     * observer).
     *
     * @return the count
     */
    public long getInputNonFinite() {
        return inputNonFinite;
    }

    /**
     * Returns the number of NaN and infinite fp32 output values calibration saw.
     *
     * @return the count
     */
    public long getOutputNonFinite() {
        return outputNonFinite;
    }

    /**
     * Returns the number of input samples the SQNRs were measured on.
     *
     * @return the number of samples
     */
    public long getPlanSamples() {
        return planSamples;
    }

    /**
     * Returns the observed finite input range, or null.
     *
     * @return the range, or null
     */
    public Range getInputBounds() {
        return inputRange;
    }

    /**
     * Returns the observed finite fp32 output range, or null.
     *
     * @return the range, or null
     */
    public Range getOutputBounds() {
        return outputRange;
    }

    /**
     * Returns the observed input range as text, {@code [min, max]}, or empty.
     *
     * @return the range
     */
    public String getInputRange() {
        return inputRange == null ? "" : inputRange.toString();
    }

    /**
     * Returns the observed fp32 output range as text, {@code [min, max]}, or empty.
     *
     * @return the range
     */
    public String getOutputRange() {
        return outputRange == null ? "" : outputRange.toString();
    }

    /**
     * Returns the layer's int8 block timed against its fp32 block at each serving batch size: the
     * int8 mode it runs in, or the one turned down for speed (then the mode is FP32). Empty if it
     * was not timed (objective SIZE, a forced mode, or not quantizable).
     *
     * @return the comparisons, by batch size
     */
    public List<SpeedComparison> getSpeeds() {
        return speeds;
    }

    /**
     * Returns the activation histogram calibration observed at the layer's input (at most {@value
     * Histogram#MAX_BINS} bins), or null if the activation observer keeps no histogram or saw no
     * finite value.
     *
     * @return the histogram, or null
     */
    public Histogram getInputHistogram() {
        return inputHistogram;
    }

    /**
     * Returns the input range a static layer's activation grid covers ({@code [-zp * scale, (qmax
     * - zp) * scale]}: the estimator's range widened to include 0 and rounded to the grid), or
     * null for dynamic and fp32 layers. Inputs outside it are clipped.
     *
     * @return the range, or null
     */
    public Range getActivationRange() {
        if (mode != QuantizationMode.STATIC || activation == null) {
            return null;
        }
        double scale = activation.scale();
        int zp = activation.zeroPoint();
        return new Range(-zp * scale, (activation.getScheme().qmax() - zp) * scale);
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", path);
        m.put("type", blockType);
        m.put("mode", mode.name());
        m.put("reason", reason);
        m.put("foldedBatchNorm", foldedBatchNorm);
        m.put("fusedRelu", fusedRelu);
        m.put("fusedActivation", fusedActivation);
        m.put("fusedActivationPath", fusedActivationPath);
        m.put("weightParams", getWeightParams());
        m.put("activationParams", getActivationParams());
        m.put("staticSqnrDb", QuantizationReport.jsonNumber(staticSqnrDb));
        m.put("dynamicSqnrDb", QuantizationReport.jsonNumber(dynamicSqnrDb));
        m.put("floatBytes", floatBytes);
        m.put("quantizedBytes", quantizedBytes);
        m.put("inputNonFinite", inputNonFinite);
        m.put("outputNonFinite", outputNonFinite);
        m.put("planSamples", planSamples);
        m.put("inputRange", getInputRange());
        m.put("outputRange", getOutputRange());
        List<Object> timed = new ArrayList<>();
        for (SpeedComparison c : speeds) {
            timed.add(c.toMap());
        }
        m.put("speeds", timed);
        // added after format version 1's fields: the numbers the HTML report draws
        Range chosen = getActivationRange();
        if (chosen != null) {
            m.put("activationRange", List.of(chosen.min(), chosen.max()));
        }
        if (inputHistogram != null) {
            m.put("inputHistogram", inputHistogram.toMap());
        }
        // added after the histogram: weight-only layers (issue 13); absent where not measured
        if (!Double.isNaN(weightOnlySqnrDb)) {
            m.put("weightOnlySqnrDb", QuantizationReport.jsonNumber(weightOnlySqnrDb));
        }
        if (weightFormat != null) {
            m.put("weightFormat", weightFormat);
        }
        return m;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return path + " " + blockType + " " + mode + " (" + reason + ")";
    }

    /** Fills one row; used by the report step only. */
    static final class Builder {
        private final String path;
        private final String blockType;
        private QuantizationMode mode = QuantizationMode.FP32;
        private String reason = "";
        private String foldedBatchNorm;
        private String fusedRelu;
        private String fusedActivation;
        private String fusedActivationPath;
        private Range weightScales;
        private int weightChannels;
        private boolean perTensorWeights;
        private QuantParams activation;
        private int activationBits;
        private double staticSqnrDb = Double.NaN;
        private double dynamicSqnrDb = Double.NaN;
        private double weightOnlySqnrDb = Double.NaN;
        private String weightFormat;
        private long floatBytes;
        private long quantizedBytes;
        private long inputNonFinite;
        private long outputNonFinite;
        private long planSamples;
        private Range inputRange;
        private Range outputRange;
        private List<SpeedComparison> speeds = List.of();
        private Histogram inputHistogram;

        private Builder(String path, String blockType) {
            this.path = path;
            this.blockType = blockType;
        }

        Builder mode(QuantizationMode m, String why) {
            this.mode = m;
            this.reason = why;
            return this;
        }

        Builder speeds(List<SpeedComparison> timed) {
            this.speeds = List.copyOf(timed);
            return this;
        }

        Builder sqnr(double staticDb, double dynamicDb) {
            this.staticSqnrDb = staticDb;
            this.dynamicSqnrDb = dynamicDb;
            return this;
        }

        Builder weightOnlySqnr(double db) {
            this.weightOnlySqnrDb = db;
            return this;
        }

        Builder weightOnly(String format) {
            this.weightFormat = format;
            return this;
        }

        Builder fused(String batchNormPath, String activationPath, FusedActivation activation) {
            this.foldedBatchNorm = batchNormPath;
            boolean any = activationPath != null && activation != FusedActivation.NONE;
            this.fusedRelu = any && activation == FusedActivation.RELU ? activationPath : null;
            this.fusedActivation = any ? activation.word() : null;
            this.fusedActivationPath = any ? activationPath : null;
            return this;
        }

        Builder bytes(long before, long after) {
            this.floatBytes = before;
            this.quantizedBytes = after;
            return this;
        }

        Builder weights(Range scales, int channels, boolean perTensor) {
            this.weightScales = scales;
            this.weightChannels = channels;
            this.perTensorWeights = perTensor;
            return this;
        }

        Builder activation(QuantParams params, int bits) {
            this.activation = params;
            this.activationBits = bits;
            return this;
        }

        Builder calibration(CalibrationStatistics s, long measuredSamples) {
            this.planSamples = measuredSamples;
            if (s != null && s.calls() > 0) {
                inputNonFinite = s.inputNonFinite();
                outputNonFinite = s.outputNonFinite();
                inputRange = s.input();
                outputRange = s.output();
                if (s.activation() instanceof HistogramObserver h && !h.isEmpty()) {
                    inputHistogram =
                            Histogram.downsample(h.getCounts(), h.getBinStart(), h.getBinWidth());
                }
            }
            return this;
        }

        LayerReport build() {
            return new LayerReport(this);
        }
    }
}

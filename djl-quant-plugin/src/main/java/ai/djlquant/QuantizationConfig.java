// Over 400 lines: the public configuration and its builder, one documented option each; splitting
// the builder out would change the type users name (QuantizationConfig.Builder).
package ai.djlquant;

import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.util.Progress;
import ai.djlquant.kind.LayerKinds;
import ai.djlquant.observe.HistogramObserver;
import ai.djlquant.observe.HistogramRangeEstimator;
import ai.djlquant.observe.Observer;
import ai.djlquant.observe.PercentileEstimator;
import ai.djlquant.observe.RangeEstimator;
import ai.djlquant.observe.TensorRangeObserver;
import ai.djlquant.plan.ModeChooser;
import ai.djlquant.plan.ModeRules;
import ai.djlquant.plan.Objective;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.quant.Granularity;

import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * What {@link Quantizer#quantize} does: how activations are observed and turned into parameters,
 * which mode each layer gets, how much calibration data is used. Immutable; every value is
 * checked when the config is built, and a bad one fails {@link Builder#build()} with a message
 * that names the field.
 *
 * <pre>{@code
 * QuantizationConfig config = QuantizationConfig.builder()
 *         .optCalibrationSamples(500)
 *         .optMode(Linear.class, QuantizationMode.DYNAMIC)   // every Linear dynamic
 *         .optExclude("**}{@code /01Conv2d")                   // leave these layers alone
 *         .build();
 * }</pre>
 */
public final class QuantizationConfig {

    /** Calibration samples used when none are asked for (fewer if the source has fewer). */
    public static final int DEFAULT_CALIBRATION_SAMPLES = 512;

    /** Default bytes of layer inputs kept per layer to measure its int8 choices. */
    public static final long DEFAULT_PLAN_SAMPLE_BYTES = 8L << 20;

    /** Default number of input samples kept per layer to measure its int8 choices. */
    public static final int DEFAULT_PLAN_MAX_SAMPLES = 256;

    /**
     * Default number of calibration samples on which the whole int8 model is compared with fp32
     * (their inputs and fp32 outputs are kept during calibration).
     */
    public static final int DEFAULT_WHOLE_MODEL_SAMPLES = 64;

    /**
     * Default floor of the whole model's output SQNR, in dB, under which the report warns: the
     * output noise has more than a tenth of the signal's amplitude (the per-layer AUTO floor).
     */
    public static final double DEFAULT_WHOLE_MODEL_FLOOR_DB = 20.0;

    /**
     * Default margin, in dB, by which the whole model's SQNR may fall below its worst int8
     * layer's before the report warns of error accumulation (10 dB: the noise of ten layers as
     * bad as the worst, adding up independently).
     */
    public static final double DEFAULT_WHOLE_MODEL_MARGIN_DB = 10.0;

    /** The largest serving batch size accepted. */
    public static final int MAX_SERVING_BATCH_SIZE = 4096;

    private final int calibrationSamples;
    private final boolean exactSamples;
    private final Supplier<? extends Observer> activationObserver;
    private final RangeEstimator rangeEstimator;
    private final Granularity weightGranularity;
    private final ModeRules modeRules;
    private final double autoMarginDb;
    private final double autoFloorDb;
    private final boolean foldBatchNorm;
    private final boolean fuseRelu;
    private final boolean int8Chains;
    private final boolean crossLayerEqualization;
    private final double smoothQuantAlpha;
    private final boolean biasCorrection;
    private final long planSampleBytes;
    private final int planMaxSamples;
    private final long seed;
    private final Progress progress;
    private final boolean releaseFloatWeights;
    private final int wholeModelSamples;
    private final double wholeModelFloorDb;
    private final double wholeModelMarginDb;
    private final Objective objective;
    private final QuantizationMode autoWeightOnly;
    private final List<Integer> servingBatchSizes;
    private final boolean timeModel;
    private final AccuracyGoal accuracyGoal;

    private QuantizationConfig(Builder b) {
        calibrationSamples = b.calibrationSamples;
        exactSamples = b.exactSamples;
        activationObserver = b.activationObserver;
        rangeEstimator = b.rangeEstimator;
        weightGranularity = b.weightGranularity;
        modeRules = b.rules.build();
        autoMarginDb = b.autoMarginDb;
        autoFloorDb = b.autoFloorDb;
        foldBatchNorm = b.foldBatchNorm;
        fuseRelu = b.fuseRelu;
        int8Chains = b.int8Chains;
        crossLayerEqualization = b.crossLayerEqualization;
        smoothQuantAlpha = b.smoothQuantAlpha;
        biasCorrection = b.biasCorrection;
        planSampleBytes = b.planSampleBytes;
        planMaxSamples = b.planMaxSamples;
        seed = b.seed;
        progress = b.progress;
        releaseFloatWeights = b.releaseFloatWeights;
        wholeModelSamples = b.wholeModelSamples;
        wholeModelFloorDb = b.wholeModelFloorDb;
        wholeModelMarginDb = b.wholeModelMarginDb;
        objective = b.objective;
        autoWeightOnly = b.autoWeightOnly;
        servingBatchSizes = b.servingBatchSizes;
        timeModel = b.timeModel;
        accuracyGoal = b.accuracyGoal;
    }

    /**
     * Creates a builder with the defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the default configuration.
     *
     * @return the defaults
     */
    public static QuantizationConfig defaults() {
        return builder().build();
    }

    /**
     * Returns the number of calibration samples used.
     *
     * @return the number of samples
     */
    public int getCalibrationSamples() {
        return calibrationSamples;
    }

    /**
     * Returns whether the source must hold at least {@link #getCalibrationSamples()} samples (true
     * when they were asked for with {@link Builder#optCalibrationSamples}); otherwise fewer are
     * used if that is all there is.
     *
     * @return whether the sample count is required
     */
    public boolean isExactSamples() {
        return exactSamples;
    }

    /**
     * Returns a new activation observer, one per layer.
     *
     * @return a new observer
     */
    public Observer newActivationObserver() {
        return activationObserver.get();
    }

    /**
     * Returns the range estimator that makes static activation parameters.
     *
     * @return the estimator
     */
    public RangeEstimator getRangeEstimator() {
        return rangeEstimator;
    }

    /**
     * Returns the weight granularity.
     *
     * @return PER_CHANNEL or PER_TENSOR
     */
    public Granularity getWeightGranularity() {
        return weightGranularity;
    }

    /**
     * Returns the mode rules (default mode, by type, by path, exclusions).
     *
     * @return the rules
     */
    public ModeRules getModeRules() {
        return modeRules;
    }

    /**
     * Returns the AUTO margin.
     *
     * @return the margin in dB
     */
    public double getAutoMarginDb() {
        return autoMarginDb;
    }

    /**
     * Returns the AUTO floor.
     *
     * @return the floor in dB
     */
    public double getAutoFloorDb() {
        return autoFloorDb;
    }

    /**
     * Returns whether BatchNorms are folded into the layer before them.
     *
     * @return whether to fold
     */
    public boolean isFoldBatchNorm() {
        return foldBatchNorm;
    }

    /**
     * Returns whether a ReLU after an int8 layer is fused into it.
     *
     * @return whether to fuse
     */
    public boolean isFuseRelu() {
        return fuseRelu;
    }

    /**
     * Returns whether runs of int8 layers are formed into int8 chains (where the objective keeps
     * them).
     *
     * @return whether to form chains
     */
    public boolean isInt8Chains() {
        return int8Chains;
    }

    /**
     * Returns whether cross-layer equalization runs (see {@link
     * Builder#optCrossLayerEqualization}).
     *
     * @return whether it runs
     */
    public boolean isCrossLayerEqualization() {
        return crossLayerEqualization;
    }

    /**
     * Returns SmoothQuant's migration strength alpha, or NaN where SmoothQuant is off (see {@link
     * Builder#optSmoothQuant}).
     *
     * @return alpha in (0, 1), or NaN
     */
    public double getSmoothQuantAlpha() {
        return smoothQuantAlpha;
    }

    /**
     * Returns whether bias correction runs (see {@link Builder#optBiasCorrection}).
     *
     * @return whether it runs
     */
    public boolean isBiasCorrection() {
        return biasCorrection;
    }

    /**
     * Returns the bytes of inputs kept per layer for the plan's measurements.
     *
     * @return the bytes
     */
    public long getPlanSampleBytes() {
        return planSampleBytes;
    }

    /**
     * Returns the most input samples kept per layer for the plan's measurements.
     *
     * @return the number of samples
     */
    public int getPlanMaxSamples() {
        return planMaxSamples;
    }

    /**
     * Returns the seed of the sampling of layer inputs.
     *
     * @return the seed
     */
    public long getSeed() {
        return seed;
    }

    /**
     * Returns the progress listener of the calibration pass, or null for the default (a DJL {@code
     * ProgressBar} once the pass has run for two seconds).
     *
     * @return the progress listener, or null
     */
    public Progress getProgress() {
        return progress;
    }

    /**
     * Returns whether the float weights of replaced layers are freed when quantization succeeds.
     *
     * @return whether float weights are freed
     */
    public boolean isReleaseFloatWeights() {
        return releaseFloatWeights;
    }

    /**
     * Returns the most calibration samples on which the whole int8 model is compared with fp32
     * (0: not compared).
     *
     * @return the number of samples
     */
    public int getWholeModelSamples() {
        return wholeModelSamples;
    }

    /**
     * Returns the whole-model SQNR under which the report warns.
     *
     * @return the floor in dB
     */
    public double getWholeModelFloorDb() {
        return wholeModelFloorDb;
    }

    /**
     * Returns by how much the whole-model SQNR may fall below the worst int8 layer's before the
     * report warns of error accumulation.
     *
     * @return the margin in dB
     */
    public double getWholeModelMarginDb() {
        return wholeModelMarginDb;
    }

    /**
     * Returns the weight-only mode AUTO may choose for Linear layers, or null (the default: AUTO
     * chooses among STATIC, DYNAMIC and FP32).
     *
     * @return a weight-only mode, or null
     */
    public QuantizationMode getAutoWeightOnly() {
        return autoWeightOnly;
    }

    /**
     * Returns the objective: what AUTO asks of an int8 layer's speed.
     *
     * @return the objective
     */
    public Objective getObjective() {
        return objective;
    }

    /**
     * Returns the batch sizes the model must serve well at, as set; empty means the default: 1
     * and the calibration batch size.
     *
     * @return the batch sizes, ascending, possibly empty
     */
    public List<Integer> getServingBatchSizes() {
        return servingBatchSizes;
    }

    /**
     * Returns whether the whole model is timed, fp32 against int8, at the serving batch sizes
     * after convert.
     *
     * @return whether it is timed
     */
    public boolean isTimeModel() {
        return timeModel;
    }

    /**
     * Returns the accuracy goal, if one was set.
     *
     * @return the goal, or null
     */
    public AccuracyGoal getAccuracyGoal() {
        return accuracyGoal;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "QuantizationConfig(samples="
                + calibrationSamples
                + (exactSamples ? "" : " at most")
                + ", observer="
                + activationObserver.get().getClass().getSimpleName()
                + ", estimator="
                + rangeEstimator
                + ", weights="
                + weightGranularity
                + ", defaultMode="
                + modeRules.getDefaultMode()
                + ", margin="
                + autoMarginDb
                + " dB, floor="
                + autoFloorDb
                + " dB, objective="
                + objective
                + ", servingBatchSizes="
                + (servingBatchSizes.isEmpty() ? "1 and calibration's" : servingBatchSizes)
                + (accuracyGoal == null ? "" : ", " + accuracyGoal)
                + (int8Chains ? "" : ", no int8Chains")
                + ")";
    }

    /** Builds a {@link QuantizationConfig}. */
    public static final class Builder {

        private int calibrationSamples = DEFAULT_CALIBRATION_SAMPLES;
        private boolean exactSamples;
        private Supplier<? extends Observer> activationObserver = HistogramObserver.builder()::build;
        private RangeEstimator rangeEstimator = PercentileEstimator.builder().build();
        private Granularity weightGranularity = Granularity.PER_CHANNEL;
        private final ModeRules.Builder rules = ModeRules.builder();
        private double autoMarginDb = ModeChooser.DEFAULT_MARGIN_DB;
        private double autoFloorDb = ModeChooser.DEFAULT_FLOOR_DB;
        private boolean foldBatchNorm = true;
        private boolean fuseRelu = true;
        private boolean int8Chains = true;
        private boolean crossLayerEqualization;
        private double smoothQuantAlpha = Double.NaN;
        private boolean biasCorrection = true;
        private long planSampleBytes = DEFAULT_PLAN_SAMPLE_BYTES;
        private int planMaxSamples = DEFAULT_PLAN_MAX_SAMPLES;
        private long seed = 42;
        private Progress progress;
        private boolean releaseFloatWeights = true;
        private int wholeModelSamples = DEFAULT_WHOLE_MODEL_SAMPLES;
        private double wholeModelFloorDb = DEFAULT_WHOLE_MODEL_FLOOR_DB;
        private double wholeModelMarginDb = DEFAULT_WHOLE_MODEL_MARGIN_DB;
        private Objective objective = Objective.BALANCED;
        private QuantizationMode autoWeightOnly;
        private List<Integer> servingBatchSizes = List.of();
        private boolean timeModel = true;
        private AccuracyGoal accuracyGoal;
        private RuntimeException deferred;

        Builder() {}

        /**
         * Sets the number of calibration samples; the source must hold at least this many
         * (default: up to {@value #DEFAULT_CALIBRATION_SAMPLES}, fewer if the source has fewer).
         *
         * @param samples the number of samples, at least 1
         * @return this builder
         */
        public Builder optCalibrationSamples(int samples) {
            this.calibrationSamples = samples;
            this.exactSamples = true;
            return this;
        }

        /**
         * Sets how activations are observed: a new observer per layer (default: a {@link
         * HistogramObserver} of 2048 bins, which every estimator can use).
         *
         * @param observer makes one observer per layer
         * @return this builder
         */
        public Builder optActivationObserver(Supplier<? extends Observer> observer) {
            this.activationObserver = observer;
            return this;
        }

        /**
         * Sets how an observer's statistics become static activation parameters (default: the
         * 99.99th percentile, {@link PercentileEstimator}).
         *
         * @param estimator the estimator
         * @return this builder
         */
        public Builder optRangeEstimator(RangeEstimator estimator) {
            this.rangeEstimator = estimator;
            return this;
        }

        /**
         * Sets the weight granularity: PER_CHANNEL (the default, one scale per output channel) or
         * PER_TENSOR (one scale for the whole weight).
         *
         * @param granularity the granularity
         * @return this builder
         */
        public Builder optWeightGranularity(Granularity granularity) {
            this.weightGranularity = granularity;
            return this;
        }

        /**
         * Sets the mode of layers no other rule names (default AUTO).
         *
         * @param mode the mode
         * @return this builder
         */
        public Builder optDefaultMode(QuantizationMode mode) {
            try {
                rules.optDefaultMode(mode);
            } catch (RuntimeException e) {
                defer("defaultMode must not be null.", e);
            }
            return this;
        }

        /**
         * Sets the mode of every layer of a type: {@code Linear.class} or another quantizable
         * type (the float types of {@code kind.LayerKinds}).
         *
         * @param layerType the layer type
         * @param mode the mode
         * @return this builder
         */
        public Builder optMode(Class<? extends Block> layerType, QuantizationMode mode) {
            if (layerType == null || mode == null) {
                defer("optMode(Class, QuantizationMode) needs a layer type and a mode, got "
                        + layerType + " and " + mode + ".", null);
            } else if (LayerKinds.ofFloatType(layerType) == null) {
                defer("optMode(Class, QuantizationMode): " + layerType.getSimpleName()
                        + " is not a quantizable layer type (" + LayerKinds.names() + ").", null);
            } else if (mode.isWeightOnly()
                    && LayerKinds.ofFloatType(layerType).weightOnlyType() == null) {
                defer("optMode(Class, QuantizationMode): " + layerType.getSimpleName()
                        + " has no weight-only mode (" + mode.word() + " is for Linear layers).", null);
            } else {
                rules.optMode(layerType, mode);
            }
            return this;
        }

        /**
         * Sets the mode of the layers whose path matches a glob ({@code *} within a path segment,
         * {@code **} across segments). Path rules win over type rules; the first matching
         * pattern wins.
         *
         * @param pathGlob the glob
         * @param mode the mode
         * @return this builder
         */
        public Builder optMode(String pathGlob, QuantizationMode mode) {
            if (pathGlob == null || mode == null) {
                defer("optMode(String, QuantizationMode) needs a pattern and a mode, got "
                        + pathGlob + " and " + mode + ".", null);
                return this;
            }
            try {
                rules.optMode(pathGlob, mode);
            } catch (IllegalArgumentException e) {
                defer("optMode(String, QuantizationMode): " + e.getMessage(), e);
            }
            return this;
        }

        /**
         * Leaves the layers whose path matches a glob exactly as they are: not folded, not
         * observed, not quantized.
         *
         * @param pathGlob the glob
         * @return this builder
         */
        public Builder optExclude(String pathGlob) {
            if (pathGlob == null) {
                defer("optExclude(String) needs a pattern, got null.", null);
                return this;
            }
            try {
                rules.optExclude(pathGlob);
            } catch (IllegalArgumentException e) {
                defer("optExclude(String): " + e.getMessage(), e);
            }
            return this;
        }

        /**
         * Sets the AUTO margin: static is chosen while its SQNR is at least dynamic's minus this
         * (default {@value ModeChooser#DEFAULT_MARGIN_DB} dB).
         *
         * @param db the margin in dB, non-negative
         * @return this builder
         */
        public Builder optAutoMargin(double db) {
            this.autoMarginDb = db;
            return this;
        }

        /**
         * Sets the AUTO floor: a layer whose static and dynamic SQNR are both below it stays fp32
         * (default {@value ModeChooser#DEFAULT_FLOOR_DB} dB).
         *
         * @param db the floor in dB
         * @return this builder
         */
        public Builder optAutoFloor(double db) {
            this.autoFloorDb = db;
            return this;
        }

        /**
         * Sets whether a BatchNorm right after a Conv or Linear is folded into it (default true).
         *
         * @param fold whether to fold
         * @return this builder
         */
        public Builder optFoldBatchNorm(boolean fold) {
            this.foldBatchNorm = fold;
            return this;
        }

        /**
         * Sets whether a ReLU that alone reads an int8 layer's output is fused into it (default
         * true).
         *
         * @param fuse whether to fuse
         * @return this builder
         */
        public Builder optFuseRelu(boolean fuse) {
            this.fuseRelu = fuse;
            return this;
        }

        /**
         * Sets whether runs of int8 Linear layers, or of int8 Conv2d layers, among a
         * SequentialBlock's children (static after the first; a child may also be a
         * SequentialBlock left holding one such layer, as {@code Seq(conv, bn, relu6)} is after
         * folding and fusion; only folded BatchNorms' and fused ReLUs' pass-throughs between) run
         * as int8 chains: each layer writes uint8 on the next one's input grid instead of float32 that
         * the next one quantizes again (default true). Formed once the plan is final; under an
         * objective that times layers the model with its chains is timed against the model
         * without them at every serving batch size and they are kept only where the objective
         * keeps them (BALANCED: not measurably slower; LATENCY: measurably faster), since a chain
         * changes no output, only the time. The report lists each chain formed and the timing.
         * An exported artifact names its chains and loads with them formed again; a model saved
         * with {@code Model.save} runs the same layers unchained, with the same arithmetic.
         *
         * @param chains whether to form chains
         * @return this builder
         */
        public Builder optInt8Chains(boolean chains) {
            this.int8Chains = chains;
            return this;
        }

        /**
         * Sets whether cross-layer equalization runs (default false; measured in the README's
         * accuracy-recovery table). After BatchNorm folding, for every pair {@code layer1 -> f ->
         * layer2} of consecutive layers with {@code f} the identity or ReLU (positively
         * homogeneous; ReLU6 is not, so those pairs are left alone), per channel {@code i} of
         * layer1's output: {@code s_i = sqrt(r1_i * r2_i) / r2_i} with {@code r1_i = max|W1[i,
         * ...]|} and {@code r2_i = max|W2[:, i, ...]|} (a depthwise layer2: {@code W2[i, ...]});
         * {@code W1[i] /= s_i}, {@code b1_i /= s_i}, {@code W2[:, i] *= s_i}. Exact in real
         * arithmetic (Nagel et al. 2019); the report says which pairs were equalized and the
         * SQNRs before and after.
         *
         * @param equalize whether to equalize
         * @return this builder
         */
        public Builder optCrossLayerEqualization(boolean equalize) {
            this.crossLayerEqualization = equalize;
            return this;
        }

        /**
         * Turns SmoothQuant on with a migration strength (default off). For every LayerNorm
         * (normalising the last axis) whose output only Linear layers read (one Linear, or the
         * query, key and value projections of a self-attention {@code
         * ScaledDotProductAttentionBlock}, sharing one scale): {@code s_j = max|X_j|^alpha /
         * max|W_j|^(1 - alpha)} with {@code X_j} the LayerNorm's output channel {@code j} over the
         * calibration data (a first pass over the source) and {@code W_j} column {@code j} of the
         * consumers' weights (the maximum over all of them); gamma and beta divided by {@code
         * s_j}, the columns multiplied by {@code s_j} (Xiao et al. 2022; exact in real
         * arithmetic). The calibration pass that follows observes the migrated activations.
         *
         * @param alpha the strength in (0, 1); 0.5 is the paper's default
         * @return this builder
         * @throws IllegalArgumentException if alpha is not strictly between 0 and 1
         */
        public Builder optSmoothQuant(double alpha) {
            if (!(alpha > 0 && alpha < 1)) {
                throw new IllegalArgumentException(
                        "optSmoothQuant: alpha must be strictly between 0 and 1, got " + alpha + ".");
            }
            this.smoothQuantAlpha = alpha;
            return this;
        }

        /**
         * Turns SmoothQuant off (the default).
         *
         * @return this builder
         */
        public Builder optNoSmoothQuant() {
            this.smoothQuantAlpha = Double.NaN;
            return this;
        }

        /**
         * Sets whether bias correction runs (default true). For each layer with a static int8
         * block, the mean output error per output channel {@code shift_c = mean(y_int8 -
         * y_fp32)} is measured on the layer's kept calibration inputs (the int8 block without its
         * fused activation) and subtracted from the bias ({@code b'_c = b_c - shift_c}; a layer
         * without bias gains one); the corrected block is kept where its SQNR on those inputs is
         * not lower. Each layer's mode is chosen on its uncorrected SQNR, so correction never
         * changes the plan, only the static blocks in it. Then the whole model is measured with
         * and without the kept corrections, and where it measures higher without them they are
         * all taken back (layers' corrections can add up to a worse model). Dynamic blocks are
         * not corrected.
         *
         * @param correct whether to correct
         * @return this builder
         */
        public Builder optBiasCorrection(boolean correct) {
            this.biasCorrection = correct;
            return this;
        }

        /**
         * Sets how many bytes of inputs are kept per layer to measure its int8 choices (default 8
         * MiB; at least one sample is always kept).
         *
         * @param bytes the bytes, positive
         * @return this builder
         */
        public Builder optPlanSampleBytes(long bytes) {
            this.planSampleBytes = bytes;
            return this;
        }

        /**
         * Sets the most input samples kept per layer to measure its int8 choices (default {@value
         * #DEFAULT_PLAN_MAX_SAMPLES}).
         *
         * @param samples the number of samples, at least 1
         * @return this builder
         */
        public Builder optPlanMaxSamples(int samples) {
            this.planMaxSamples = samples;
            return this;
        }

        /**
         * Sets the seed of the random choice of kept layer inputs (default 42).
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Sets the progress listener of the long steps: calibrating (samples), planning (layers)
         * and the accuracy goal's trials, each started with {@code reset(message, total)}
         * (default: a DJL ProgressBar once a step has run for two seconds; {@code
         * DJL_DISABLE_PROGRESS_BAR=true} turns it off).
         *
         * @param progress the listener
         * @return this builder
         */
        public Builder optProgress(Progress progress) {
            this.progress = progress;
            return this;
        }

        /**
         * Sets whether the float weights of the replaced layers are freed when quantization
         * succeeds (default true; they are kept if the model's root block itself was replaced,
         * since predictors made before hold it).
         *
         * @param release whether to free them
         * @return this builder
         */
        public Builder optReleaseFloatWeights(boolean release) {
            this.releaseFloatWeights = release;
            return this;
        }

        /**
         * Sets the most calibration samples on which the whole int8 model is compared with fp32
         * after convert (default {@value #DEFAULT_WHOLE_MODEL_SAMPLES}; whole calibration batches
         * are kept, at least one; 0 turns the check off). Their inputs and fp32 outputs are kept
         * in memory during the call.
         *
         * @param samples the number of samples, non-negative
         * @return this builder
         */
        public Builder optWholeModelSamples(int samples) {
            this.wholeModelSamples = samples;
            return this;
        }

        /**
         * Sets the whole-model SQNR under which the report warns (default {@value
         * #DEFAULT_WHOLE_MODEL_FLOOR_DB} dB).
         *
         * @param db the floor in dB
         * @return this builder
         */
        public Builder optWholeModelFloor(double db) {
            this.wholeModelFloorDb = db;
            return this;
        }

        /**
         * Sets by how much the whole-model SQNR may fall below the worst int8 layer's SQNR before
         * the report warns of error accumulation (default {@value #DEFAULT_WHOLE_MODEL_MARGIN_DB}
         * dB).
         *
         * @param db the margin in dB, non-negative
         * @return this builder
         */
        public Builder optWholeModelMargin(double db) {
            this.wholeModelMarginDb = db;
            return this;
        }

        /**
         * Sets what AUTO asks of an int8 layer's speed on this CPU (default {@link
         * Objective#BALANCED}: a layer stays fp32 where its int8 block is measurably slower at a
         * serving batch size). Layers are timed on their own calibration inputs, fp32 against
         * int8, at every serving batch size ({@link #optServingBatchSizes}).
         *
         * @param objective BALANCED, LATENCY or SIZE
         * @return this builder
         */
        public Builder optObjective(Objective objective) {
            this.objective = objective;
            return this;
        }

        /**
         * Offers AUTO a weight-only mode for Linear layers (default: none). A Linear under AUTO
         * then also gets that weight-only block, measured (output SQNR at least the AUTO floor)
         * and timed against fp32 at every serving batch size; it is kept where it is faster than
         * the int8 mode the accuracy and speed rules chose at every serving batch size (or, where
         * they chose FP32, where the objective keeps it against fp32). Only under {@link
         * Objective#BALANCED} and {@link Objective#LATENCY}, which time layers: {@link
         * Objective#SIZE} keeps choosing int8, whose weights are as small as 8-bit weight-only
         * ones. Off by default so that AUTO's plans stay what they were.
         *
         * @param mode a weight-only mode ({@link QuantizationMode#WEIGHT_INT8}, ...), or null
         * @return this builder
         */
        public Builder optAutoWeightOnly(QuantizationMode mode) {
            if (mode != null && !mode.isWeightOnly()) {
                defer("optAutoWeightOnly takes a weight-only mode (w8, w4g64, ...), got " + mode + ".", null);
            } else {
                this.autoWeightOnly = mode;
            }
            return this;
        }

        /**
         * Sets the batch sizes the model will serve at (default: 1 and the calibration batch
         * size). Under {@link Objective#BALANCED} and {@link Objective#LATENCY} every int8 layer
         * must hold its own at each of them; the whole model is timed at each. Inputs of a size
         * other than the calibration batch's are made from the calibration rows (the first rows,
         * or the rows repeated).
         *
         * @param sizes the batch sizes, each from 1 to {@value #MAX_SERVING_BATCH_SIZE}
         * @return this builder
         */
        public Builder optServingBatchSizes(int... sizes) {
            if (sizes == null || sizes.length == 0) {
                defer("servingBatchSizes must name at least one batch size.", null);
                return this;
            }
            TreeSet<Integer> set = new TreeSet<>();
            for (int n : sizes) {
                if (n < 1 || n > MAX_SERVING_BATCH_SIZE) {
                    defer(
                            "servingBatchSizes must each be from 1 to "
                                    + MAX_SERVING_BATCH_SIZE
                                    + ", got "
                                    + n
                                    + ".",
                            null);
                    return this;
                }
                set.add(n);
            }
            this.servingBatchSizes = List.copyOf(set);
            return this;
        }

        /**
         * Sets whether the whole model is timed, fp32 against int8, at every serving batch size
         * after convert (default true; the report's speed summary and its warning if the int8
         * model is slower come from it). Turning it off saves a few seconds per call.
         *
         * @param time whether to time the model
         * @return this builder
         */
        public Builder optTimeModel(boolean time) {
            this.timeModel = time;
            return this;
        }

        /**
         * Sets what the quantized model must still achieve on the user's validation data (default:
         * no goal). The metric is measured on the fp32 model before anything changes and on the
         * int8 model after conversion; if the drop is larger than the goal allows, int8 layers are
         * restored to fp32, the most sensitive first, until it holds or the goal's trial budget
         * is spent; the best model found is kept, and the report lists every trial. See {@link
         * AccuracyGoal}.
         *
         * @param goal the goal, or null for none
         * @return this builder
         */
        public Builder optAccuracyGoal(AccuracyGoal goal) {
            this.accuracyGoal = goal;
            return this;
        }

        /**
         * Sets an accuracy goal on a metric the caller computes from the model, higher is better:
         * shorthand for {@code optAccuracyGoal(AccuracyGoal.of("metric", metric, maxDrop))}.
         *
         * @param metric computes the metric on the model as it is when called
         * @param maxDrop the largest acceptable drop from fp32, in the metric's units
         * @return this builder
         */
        public Builder optAccuracyGoal(ToDoubleFunction<Model> metric, double maxDrop) {
            try {
                this.accuracyGoal = AccuracyGoal.of("metric", metric, maxDrop);
            } catch (IllegalArgumentException | NullPointerException e) {
                defer(e.getMessage(), e);
            }
            return this;
        }

        private void defer(String message, RuntimeException cause) {
            if (deferred == null) {
                deferred = new IllegalArgumentException(message, cause);
            }
        }

        /**
         * Checks every value and builds the config.
         *
         * @return the config
         * @throws IllegalArgumentException naming the first field at fault
         */
        public QuantizationConfig build() {
            if (deferred != null) {
                throw deferred;
            }
            if (calibrationSamples < 1) {
                throw new IllegalArgumentException(
                        "calibrationSamples must be at least 1, got " + calibrationSamples + ".");
            }
            if (rangeEstimator == null) {
                throw new IllegalArgumentException("rangeEstimator must not be null.");
            }
            if (activationObserver == null) {
                throw new IllegalArgumentException("activationObserver must not be null.");
            }
            Observer sample;
            try {
                sample = activationObserver.get();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        "activationObserver failed to make an observer: " + e.getMessage(), e);
            }
            if (sample == null) {
                throw new IllegalArgumentException("activationObserver made a null observer.");
            }
            if (rangeEstimator instanceof HistogramRangeEstimator
                    && !(sample instanceof HistogramObserver)) {
                throw new IllegalArgumentException(
                        "rangeEstimator "
                                + rangeEstimator
                                + " needs a HistogramObserver, but activationObserver makes a "
                                + sample.getClass().getSimpleName()
                                + ".");
            }
            if (!(rangeEstimator instanceof HistogramRangeEstimator)
                    && rangeEstimator.getClass().getPackageName().equals("ai.djlquant.observe")
                    && !(sample instanceof TensorRangeObserver)) {
                throw new IllegalArgumentException(
                        "rangeEstimator "
                                + rangeEstimator
                                + " needs a per-tensor range observer, but activationObserver"
                                + " makes a "
                                + sample.getClass().getSimpleName()
                                + ".");
            }
            if (weightGranularity != Granularity.PER_CHANNEL
                    && weightGranularity != Granularity.PER_TENSOR) {
                throw new IllegalArgumentException(
                        "weightGranularity must be PER_CHANNEL or PER_TENSOR, got "
                                + weightGranularity
                                + ".");
            }
            new ModeChooser(autoMarginDb, autoFloorDb); // checks autoMarginDb and autoFloorDb
            if (planSampleBytes < 1) {
                throw new IllegalArgumentException(
                        "planSampleBytes must be positive, got " + planSampleBytes + ".");
            }
            if (planMaxSamples < 1) {
                throw new IllegalArgumentException(
                        "planMaxSamples must be at least 1, got " + planMaxSamples + ".");
            }
            if (wholeModelSamples < 0) {
                throw new IllegalArgumentException(
                        "wholeModelSamples must be non-negative, got " + wholeModelSamples + ".");
            }
            if (!Double.isFinite(wholeModelFloorDb)) {
                throw new IllegalArgumentException(
                        "wholeModelFloorDb must be finite, got " + wholeModelFloorDb + ".");
            }
            if (objective == null) {
                throw new IllegalArgumentException("objective must not be null.");
            }
            if (!Double.isFinite(wholeModelMarginDb) || wholeModelMarginDb < 0) {
                throw new IllegalArgumentException(
                        "wholeModelMarginDb must be finite and non-negative, got "
                                + wholeModelMarginDb
                                + ".");
            }
            return new QuantizationConfig(this);
        }
    }
}

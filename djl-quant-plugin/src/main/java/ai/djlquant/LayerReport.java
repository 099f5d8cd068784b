package ai.djlquant;

import ai.djlquant.plan.QuantizationMode;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What quantization did to one layer: its mode and why, its parameters, the measured cost in
 * output precision and the bytes of its weights. Layers that stay fp32 are listed too, with the
 * reason.
 */
public final class LayerReport {

    String path;
    String blockType;
    QuantizationMode mode = QuantizationMode.FP32;
    String reason = "";
    String foldedBatchNorm;
    String fusedRelu;
    String weightParams = "";
    String activationParams = "";
    double staticSqnrDb = Double.NaN;
    double dynamicSqnrDb = Double.NaN;
    long floatBytes;
    long quantizedBytes;
    long inputNonFinite;
    long outputNonFinite;
    long planSamples;
    String inputRange = "";
    String outputRange = "";

    LayerReport(String path, String blockType) {
        this.path = path;
        this.blockType = blockType;
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
     * Returns a summary of the weight's quantization parameters (empty for fp32 layers).
     *
     * @return the summary
     */
    public String getWeightParams() {
        return weightParams;
    }

    /**
     * Returns a summary of the activation's quantization parameters ({@code dynamic} for dynamic
     * layers, empty for fp32 layers).
     *
     * @return the summary
     */
    public String getActivationParams() {
        return activationParams;
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
     * Returns the bytes of the layer's parameters before (with a folded BatchNorm's).
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
     * Returns the observed input range, {@code [min, max]}, or empty.
     *
     * @return the range
     */
    public String getInputRange() {
        return inputRange;
    }

    /**
     * Returns the observed fp32 output range, {@code [min, max]}, or empty.
     *
     * @return the range
     */
    public String getOutputRange() {
        return outputRange;
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", path);
        m.put("type", blockType);
        m.put("mode", mode.name());
        m.put("reason", reason);
        m.put("foldedBatchNorm", foldedBatchNorm);
        m.put("fusedRelu", fusedRelu);
        m.put("weightParams", weightParams);
        m.put("activationParams", activationParams);
        m.put("staticSqnrDb", QuantizationReport.jsonNumber(staticSqnrDb));
        m.put("dynamicSqnrDb", QuantizationReport.jsonNumber(dynamicSqnrDb));
        m.put("floatBytes", floatBytes);
        m.put("quantizedBytes", quantizedBytes);
        m.put("inputNonFinite", inputNonFinite);
        m.put("outputNonFinite", outputNonFinite);
        m.put("planSamples", planSamples);
        m.put("inputRange", inputRange);
        m.put("outputRange", outputRange);
        return m;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return path + " " + blockType + " " + mode + " (" + reason + ")";
    }
}

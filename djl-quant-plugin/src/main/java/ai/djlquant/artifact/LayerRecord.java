package ai.djlquant.artifact;

import ai.djl.nn.Block;
import ai.djlquant.artifact.ArtifactFormat.LayerFields;
import ai.djlquant.nn.QuantizedBlock;
import ai.djlquant.nn.WeightOnlyBlock;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.util.Arrays;

/**
 * One int8 layer of an artifact as {@code quantization.json} records it: its path, type, mode
 * (static or dynamic), fused activation (ReLU or ReLU6), activation parameters (bits, scale, zero point) and per-channel
 * weight scales. The same numbers are in the parameter file (the blocks' metadata); loading checks
 * that both agree.
 *
 * <p>Compare records with {@link #differenceFrom}, not {@code equals}: the weight scales are an
 * array, which a record compares by identity.
 *
 * @param path the layer's path in the tree
 * @param type the int8 block's class name ("QuantizedConv2d")
 * @param dynamic whether activations are quantized at run time (no activation parameters)
 * @param activation the activation the block applies in place of the block that followed it:
 *     written as {@code fusedRelu} (true for RELU only, its meaning in every version) and, for
 *     RELU6, {@code fusedActivation: "relu6"} (read when present, {@code none}, {@code relu} or
 *     {@code relu6} and agreeing with {@code fusedRelu}; else {@code fusedRelu} decides)
 * @param bits the activation bits (0 when dynamic)
 * @param scale the activation scale (0 when dynamic)
 * @param zeroPoint the activation zero point (0 when dynamic)
 * @param weightScales the per-channel weight scales (per group for 4-bit weight-only layers)
 * @param weightFormat a weight-only layer's format ({@code w8}, {@code w4g64}, {@code w4g64m}), or
 *     null for an int8 layer (format version 2)
 * @param weightOffsets a {@code w4g*m} layer's per-group offsets, else null
 */
record LayerRecord(
        String path,
        String type,
        boolean dynamic,
        FusedActivation activation,
        int bits,
        float scale,
        int zeroPoint,
        float[] weightScales,
        String weightFormat,
        float[] weightOffsets) {

    private static final String RECORDS = ", " + ArtifactFormat.MANIFEST_FILE + " records ";

    /** Whether a block is one of the int8 or weight-only blocks (the ones the manifest lists). */
    static boolean isInt8(Block b) {
        return b instanceof QuantizedBlock || b instanceof WeightOnlyBlock;
    }

    /**
     * Records an int8 block (initialised or loaded).
     *
     * @param path its path
     * @param b the block, a {@link QuantizedBlock}
     * @return the record
     */
    static LayerRecord of(String path, Block b) {
        if (b instanceof WeightOnlyBlock w) {
            return new LayerRecord(
                    path,
                    b.getClass().getSimpleName(),
                    false,
                    FusedActivation.NONE,
                    0,
                    0f,
                    0,
                    w.getWeightScales(),
                    w.getFormatName(),
                    w.getWeightOffsets());
        }
        QuantizedBlock q = (QuantizedBlock) b;
        QuantParams act = q.getActivationParams();
        int bits = act == null ? 0 : act.getScheme().getBits();
        float scale = act == null ? 0f : act.scale();
        int zp = act == null ? 0 : act.zeroPoint();
        return new LayerRecord(
                path,
                b.getClass().getSimpleName(),
                q.isDynamic(),
                q.getFusedActivation(),
                bits,
                scale,
                zp,
                q.getWeightParams().getScales(),
                null,
                null);
    }

    /** The layer as an entry of the manifest's {@code layers} array. */
    JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty(LayerFields.PATH, path);
        o.addProperty(LayerFields.TYPE, type);
        o.addProperty(LayerFields.MODE, mode());
        o.addProperty(LayerFields.FUSED_RELU, activation == FusedActivation.RELU);
        if (activation != FusedActivation.NONE && activation != FusedActivation.RELU) {
            // only where fusedRelu does not say it all, so ReLU and plain layers are written as
            // before; a ReLU6 layer has fusedRelu false: an older reader then refuses its block
            // (whose saved activation reads as a ReLU there) instead of running a ReLU for it
            o.addProperty(LayerFields.FUSED_ACTIVATION, activation.word());
        }
        if (!dynamic && weightFormat == null) {
            JsonObject a = new JsonObject();
            a.addProperty(LayerFields.SCHEME, LayerFields.activationScheme(bits));
            a.addProperty(LayerFields.BITS, bits);
            a.addProperty(LayerFields.SCALE, scale);
            a.addProperty(LayerFields.ZERO_POINT, zeroPoint);
            o.add(LayerFields.ACTIVATION, a);
        }
        JsonObject w = new JsonObject();
        w.addProperty(LayerFields.SCHEME, weightFormat == null ? LayerFields.WEIGHT_SCHEME : weightFormat);
        w.addProperty(LayerFields.CHANNELS, weightScales.length);
        w.add(LayerFields.SCALES, floats(weightScales));
        if (weightOffsets != null) {
            w.add(LayerFields.OFFSETS, floats(weightOffsets));
        }
        o.add(LayerFields.WEIGHT, w);
        return o;
    }

    private static JsonArray floats(float[] v) {
        JsonArray a = new JsonArray();
        for (float f : v) {
            a.add(f);
        }
        return a;
    }

    private static float[] readFloats(JsonObject w, String field, String wt) {
        JsonArray s = Json.array(w, field, wt);
        float[] v = new float[s.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = Json.finiteFloat(s.get(i), wt + "." + field + "[" + i + "]");
        }
        return v;
    }

    /**
     * Reads an entry written by {@link #toJson()}.
     *
     * @param e the entry
     * @param where its place in the manifest, for messages
     * @return the record
     * @throws IllegalArgumentException naming the field that is missing or wrong
     */
    static LayerRecord fromJson(JsonElement e, String where) {
        JsonObject o = Json.object(e, where);
        String path = Json.string(o, LayerFields.PATH, where);
        String type = Json.string(o, LayerFields.TYPE, where);
        String mode = Json.string(o, LayerFields.MODE, where);
        boolean weightOnly = mode.equals(LayerFields.WEIGHT_ONLY);
        if (!mode.equals(LayerFields.STATIC) && !mode.equals(LayerFields.DYNAMIC) && !weightOnly) {
            throw new IllegalArgumentException(
                    where
                            + "."
                            + LayerFields.MODE
                            + " is '"
                            + mode
                            + "', expected "
                            + LayerFields.STATIC
                            + ", "
                            + LayerFields.DYNAMIC
                            + " or "
                            + LayerFields.WEIGHT_ONLY);
        }
        boolean dynamic = mode.equals(LayerFields.DYNAMIC);
        boolean relu = Json.bool(o, LayerFields.FUSED_RELU, where);
        FusedActivation act = relu ? FusedActivation.RELU : FusedActivation.NONE;
        if (o.has(LayerFields.FUSED_ACTIVATION)) {
            String fa = where + "." + LayerFields.FUSED_ACTIVATION;
            act = FusedActivation.fromWord(Json.string(o, LayerFields.FUSED_ACTIVATION, where), fa);
            if (relu != (act == FusedActivation.RELU)) {
                throw new IllegalArgumentException(
                        fa + " is '" + act.word() + "' but " + where + "." + LayerFields.FUSED_RELU
                                + " is " + relu + ".");
            }
        }
        int bits = 0;
        float scale = 0f;
        int zp = 0;
        if (!dynamic && !weightOnly) {
            JsonObject a = Json.object(o, LayerFields.ACTIVATION, where);
            String at = where + "." + LayerFields.ACTIVATION;
            bits = (int) Json.integer(a, LayerFields.BITS, at);
            scale = Json.finiteFloat(a.get(LayerFields.SCALE), at + "." + LayerFields.SCALE);
            zp = (int) Json.integer(a, LayerFields.ZERO_POINT, at);
        }
        String wt = where + "." + LayerFields.WEIGHT;
        JsonObject w = Json.object(o, LayerFields.WEIGHT, where);
        float[] scales = readFloats(w, LayerFields.SCALES, wt);
        String format = weightOnly ? Json.string(w, LayerFields.SCHEME, wt) : null;
        float[] offsets = weightOnly && w.has(LayerFields.OFFSETS) ? readFloats(w, LayerFields.OFFSETS, wt) : null;
        return new LayerRecord(path, type, dynamic, act, bits, scale, zp, scales, format, offsets);
    }

    /**
     * Compares this record with the block loaded at its path.
     *
     * @param loaded what the parameter file gave
     * @return what differs, or null if they agree
     */
    String differenceFrom(LayerRecord loaded) {
        if (!type.equals(loaded.type)) {
            return "it is a " + loaded.type + RECORDS + "a " + type;
        }
        if (dynamic != loaded.dynamic || activation != loaded.activation) {
            return "its mode is "
                    + loaded.describeMode()
                    + RECORDS
                    + describeMode();
        }
        if (!dynamic
                && (bits != loaded.bits
                        || Float.floatToIntBits(scale) != Float.floatToIntBits(loaded.scale)
                        || zeroPoint != loaded.zeroPoint)) {
            return "its activation parameters are ("
                    + loaded.bits
                    + " bits, scale "
                    + loaded.scale
                    + ", zero point "
                    + loaded.zeroPoint
                    + ")"
                    + RECORDS
                    + "("
                    + bits
                    + " bits, scale "
                    + scale
                    + ", zero point "
                    + zeroPoint
                    + ")";
        }
        if (!java.util.Objects.equals(weightFormat, loaded.weightFormat)) {
            return "its weight format is "
                    + (loaded.weightFormat == null ? "int8" : loaded.weightFormat)
                    + RECORDS
                    + (weightFormat == null ? "int8" : weightFormat);
        }
        if (!Arrays.equals(weightOffsets, loaded.weightOffsets)) {
            return "its weight offsets differ from those " + ArtifactFormat.MANIFEST_FILE + " records";
        }
        if (!Arrays.equals(weightScales, loaded.weightScales)) {
            return "its "
                    + loaded.weightScales.length
                    + " weight scales differ from the "
                    + weightScales.length
                    + " that "
                    + ArtifactFormat.MANIFEST_FILE
                    + " records";
        }
        return null;
    }

    private String mode() {
        if (weightFormat != null) {
            return LayerFields.WEIGHT_ONLY;
        }
        return dynamic ? LayerFields.DYNAMIC : LayerFields.STATIC;
    }

    private String describeMode() {
        return mode()
                + (activation == FusedActivation.NONE
                        ? ""
                        : activation == FusedActivation.RELU ? " with fused ReLU" : " with fused ReLU6");
    }
}

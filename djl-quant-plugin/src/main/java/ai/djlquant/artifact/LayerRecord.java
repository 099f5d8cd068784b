package ai.djlquant.artifact;

import ai.djl.nn.Block;
import ai.djlquant.nn.QuantizedBlock;
import ai.djlquant.quant.QuantParams;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.util.Arrays;

/**
 * One int8 layer of an artifact as {@code quantization.json} records it: its path, type, mode
 * (static or dynamic), fused ReLU, activation parameters (bits, scale, zero point) and per-channel
 * weight scales. The same numbers are in the parameter file (the blocks' metadata); loading checks
 * that both agree.
 */
final class LayerRecord {

    final String path;
    final String type;
    final boolean dynamic;
    final boolean fusedRelu;
    final int bits;
    final float scale;
    final int zeroPoint;
    final float[] weightScales;

    private LayerRecord(
            String path,
            String type,
            boolean dynamic,
            boolean fusedRelu,
            int bits,
            float scale,
            int zeroPoint,
            float[] weightScales) {
        this.path = path;
        this.type = type;
        this.dynamic = dynamic;
        this.fusedRelu = fusedRelu;
        this.bits = bits;
        this.scale = scale;
        this.zeroPoint = zeroPoint;
        this.weightScales = weightScales;
    }

    /** Whether a block is one of the int8 blocks. */
    static boolean isInt8(Block b) {
        return b instanceof QuantizedBlock;
    }

    /**
     * Records an int8 block (initialised or loaded).
     *
     * @param path its path
     * @param b the block, a {@link QuantizedBlock}
     * @return the record
     */
    static LayerRecord of(String path, Block b) {
        QuantizedBlock q = (QuantizedBlock) b;
        QuantParams act = q.getActivationParams();
        int bits = act == null ? 0 : act.getScheme().getBits();
        float scale = act == null ? 0f : act.scale();
        int zp = act == null ? 0 : act.zeroPoint();
        return new LayerRecord(
                path,
                b.getClass().getSimpleName(),
                q.isDynamic(),
                q.isFusedRelu(),
                bits,
                scale,
                zp,
                q.getWeightParams().getScales());
    }

    JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("path", path);
        o.addProperty("type", type);
        o.addProperty("mode", dynamic ? "DYNAMIC" : "STATIC");
        o.addProperty("fusedRelu", fusedRelu);
        if (!dynamic) {
            JsonObject a = new JsonObject();
            a.addProperty("scheme", "uint" + bits + " asymmetric per-tensor");
            a.addProperty("bits", bits);
            a.addProperty("scale", scale);
            a.addProperty("zeroPoint", zeroPoint);
            o.add("activation", a);
        }
        JsonObject w = new JsonObject();
        w.addProperty("scheme", "int8 symmetric per-channel [-127, 127]");
        w.addProperty("channels", weightScales.length);
        JsonArray scales = new JsonArray();
        for (float f : weightScales) {
            scales.add(f);
        }
        w.add("scales", scales);
        o.add("weight", w);
        return o;
    }

    static LayerRecord fromJson(JsonElement e, String where) {
        JsonObject o = Json.object(e, where);
        String path = Json.string(o, "path", where);
        String type = Json.string(o, "type", where);
        String mode = Json.string(o, "mode", where);
        if (!mode.equals("STATIC") && !mode.equals("DYNAMIC")) {
            throw new IllegalArgumentException(
                    where + ".mode is '" + mode + "', expected STATIC or DYNAMIC");
        }
        boolean dynamic = mode.equals("DYNAMIC");
        boolean relu = Json.bool(o, "fusedRelu", where);
        int bits = 0;
        float scale = 0f;
        int zp = 0;
        if (!dynamic) {
            JsonObject a = Json.object(o, "activation", where);
            bits = (int) Json.integer(a, "bits", where + ".activation");
            scale = Json.finiteFloat(a.get("scale"), where + ".activation.scale");
            zp = (int) Json.integer(a, "zeroPoint", where + ".activation");
        }
        JsonArray s = Json.array(Json.object(o, "weight", where), "scales", where + ".weight");
        float[] scales = new float[s.size()];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = Json.finiteFloat(s.get(i), where + ".weight.scales[" + i + "]");
        }
        return new LayerRecord(path, type, dynamic, relu, bits, scale, zp, scales);
    }

    /**
     * Compares this record with the block loaded at its path.
     *
     * @param loaded what the parameter file gave
     * @return what differs, or null if they agree
     */
    String differenceFrom(LayerRecord loaded) {
        if (!type.equals(loaded.type)) {
            return "it is a " + loaded.type + ", quantization.json records a " + type;
        }
        if (dynamic != loaded.dynamic || fusedRelu != loaded.fusedRelu) {
            return "its mode is "
                    + loaded.describeMode()
                    + ", quantization.json records "
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
                    + "), quantization.json records ("
                    + bits
                    + " bits, scale "
                    + scale
                    + ", zero point "
                    + zeroPoint
                    + ")";
        }
        if (!Arrays.equals(weightScales, loaded.weightScales)) {
            return "its "
                    + loaded.weightScales.length
                    + " weight scales differ from the "
                    + weightScales.length
                    + " that quantization.json records";
        }
        return null;
    }

    String describeMode() {
        return (dynamic ? "DYNAMIC" : "STATIC") + (fusedRelu ? " with fused ReLU" : "");
    }
}

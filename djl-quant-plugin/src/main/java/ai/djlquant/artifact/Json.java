package ai.djlquant.artifact;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Strict readers of JSON fields: each throws {@link IllegalArgumentException} naming the field (as
 * {@code where.key}) and what is wrong with it, instead of Gson's silent conversions.
 */
final class Json {

    private Json() {}

    static JsonObject object(JsonElement e, String where) {
        if (e == null || !e.isJsonObject()) {
            throw new IllegalArgumentException(where + " is not a JSON object");
        }
        return e.getAsJsonObject();
    }

    static JsonObject object(JsonObject o, String key, String where) {
        return object(required(o, key, where), where + "." + key);
    }

    static JsonArray array(JsonObject o, String key, String where) {
        JsonElement e = required(o, key, where);
        if (!e.isJsonArray()) {
            throw new IllegalArgumentException(where + "." + key + " is not a JSON array");
        }
        return e.getAsJsonArray();
    }

    static String string(JsonObject o, String key, String where) {
        return string(required(o, key, where), where + "." + key);
    }

    static String string(JsonElement e, String where) {
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException(where + " is not a string");
        }
        return e.getAsString();
    }

    static Map<String, String> strings(JsonObject o, String key, String where) {
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : object(o, key, where).entrySet()) {
            m.put(e.getKey(), string(e.getValue(), where + "." + key + "." + e.getKey()));
        }
        return m;
    }

    static boolean bool(JsonObject o, String key, String where) {
        JsonElement e = required(o, key, where);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw new IllegalArgumentException(where + "." + key + " is not true or false");
        }
        return e.getAsBoolean();
    }

    static long integer(JsonObject o, String key, String where) {
        return integer(required(o, key, where), where + "." + key);
    }

    static long integer(JsonElement e, String where) {
        JsonPrimitive p = number(e, where);
        double d = p.getAsDouble();
        long l = p.getAsLong();
        if (d != l || Double.isInfinite(d)) {
            throw new IllegalArgumentException(where + " is not an integer: " + p);
        }
        return l;
    }

    static long positiveLong(JsonObject o, String key, String where) {
        long v = integer(o, key, where);
        if (v <= 0) {
            throw new IllegalArgumentException(where + "." + key + " must be positive, is " + v);
        }
        return v;
    }

    static float finiteFloat(JsonElement e, String where) {
        float f = number(e, where).getAsFloat();
        if (!Float.isFinite(f)) {
            throw new IllegalArgumentException(where + " is not a finite float32: " + e);
        }
        return f;
    }

    static long[] longs(JsonObject o, String key, int length, long min, String where) {
        JsonArray a = array(o, key, where);
        if (a.size() != length) {
            throw new IllegalArgumentException(
                    where + "." + key + " has " + a.size() + " values, expected " + length);
        }
        long[] out = new long[length];
        for (int i = 0; i < length; i++) {
            out[i] = integer(a.get(i), where + "." + key + "[" + i + "]");
            if (out[i] < min) {
                throw new IllegalArgumentException(
                        where + "." + key + "[" + i + "] is " + out[i] + ", below " + min);
            }
        }
        return out;
    }

    private static JsonPrimitive number(JsonElement e, String where) {
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new IllegalArgumentException(where + " is not a number");
        }
        return e.getAsJsonPrimitive();
    }

    private static JsonElement required(JsonObject o, String key, String where) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            throw new IllegalArgumentException(where + "." + key + " is missing");
        }
        return e;
    }
}

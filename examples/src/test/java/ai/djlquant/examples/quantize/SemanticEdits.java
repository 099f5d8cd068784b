package ai.djlquant.examples.quantize;

import ai.djl.Model;
import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.nn.core.Linear;
import ai.djl.util.Pair;
import ai.djlquant.artifact.ArtifactLoader;
import ai.djlquant.artifact.ArtifactManifest;
import ai.djlquant.artifact.QuantizedBlockFactory;
import ai.djlquant.examples.models.CnnBlockFactory;
import ai.djlquant.examples.models.MlpBlockFactory;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Semantic edits of a real artifact as an attacker who edits both the files and the manifest
 * would make them: weight and activation scales, zero points, bits, modes, int8 weights, float
 * values, parameter shapes and factory names, each written into the parameter file (where the
 * blocks read them) and {@code quantization.json} (where loading compares them), with the
 * checksums recomputed. Every edit but the no-op is implausible (a value outside what the kernels
 * assume, a shape the architecture cannot have, a class that is no usable factory) or
 * inconsistent between the two files: a plausible edit (a scale doubled) is beyond what loading
 * can check without a signature.
 *
 * <p>The values are found in the parameter file from what the loaded pristine model holds: each
 * parameter's {@code NDArray.encode()} bytes, and each int8 layer's saved quantization metadata
 * (mode, fused ReLU, bits, scale, zero point, then the weight scales, as {@code Int8Core} writes
 * them).
 */
final class SemanticEdits {

    /** How many times a planted class's static initialiser ran (it must stay 0). */
    static final AtomicInteger PLANTED_RAN = new AtomicInteger();

    private static final float[] BAD_SCALES = {
        1e38f, Float.MAX_VALUE, 1e-45f, 1e-30f, 0f, -0.5f, 0x1p41f, 1e20f, 1e-8f,
        Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY
    };
    private static final int[] BAD_ZERO_POINTS = {
        -1, 256, 1000, -100000, Integer.MIN_VALUE, Integer.MAX_VALUE
    };
    private static final int[] BAD_BITS = {0, 1, 6, 9, 16, -1, 127};
    private static final String[] BAD_MODES = {"static", "FAST", "", "INT4", "DYNAMIC "};

    /** The kinds of edit, each drawn equally often. */
    static final String[] KINDS = {
        "weightScale", "activationScale", "zeroPoint", "bits", "mode", "weight", "float",
        "shape", "factory", "noop"
    };

    private final Path pristine;
    private final String paramsName;
    private final byte[] params;
    private final JsonObject manifest;
    private final List<Layer> layers = new ArrayList<>();
    private final List<Param> arrays = new ArrayList<>();
    private final Model model;

    /** An int8 layer: its manifest entry and where its metadata lies in the parameter file. */
    private record Layer(int index, String path, boolean dynamic, int metaAt, int channels) {}

    /** A parameter: its manifest key, block, array and where its encoding lies in the file. */
    private record Param(String key, Block block, NDArray array, int at, int length) {}

    /** What one edit did: its kind and a description for messages. */
    record Edit(String kind, String description) {}

    /**
     * Reads the pristine artifact's anatomy.
     *
     * @param pristine the artifact directory
     * @throws Exception if it does not load or a value cannot be found exactly once
     */
    SemanticEdits(Path pristine) throws Exception {
        this.pristine = pristine;
        manifest =
                JsonParser.parseString(
                                Files.readString(pristine.resolve("quantization.json")))
                        .getAsJsonObject();
        paramsName = manifest.get("parametersFile").getAsString();
        params = Files.readAllBytes(pristine.resolve(paramsName));
        model = ArtifactLoader.load(pristine);
        for (BlockNode n : BlockTree.walk(model.getBlock()).getNodes()) {
            for (Pair<String, Parameter> p : n.getBlock().getDirectParameters()) {
                NDArray a = p.getValue().getArray();
                byte[] enc = a.encode();
                int at = find(params, enc, n.displayPath());
                if (a.getDataType() == DataType.INT8) {
                    // the weight edits below rely on the data being the encoding's last bytes
                    byte[] data = a.toByteArray();
                    byte[] tail = java.util.Arrays.copyOfRange(enc, enc.length - data.length, enc.length);
                    if (!java.util.Arrays.equals(data, tail)) {
                        throw new IllegalStateException(n.displayPath() + ": unexpected encoding");
                    }
                }
                String key = (n.getPath().isEmpty() ? "" : n.getPath() + "/") + p.getKey();
                arrays.add(new Param(key, n.getBlock(), a, at, enc.length));
            }
        }
        JsonArray ls = manifest.getAsJsonArray("layers");
        for (int i = 0; i < ls.size(); i++) {
            JsonObject l = ls.get(i).getAsJsonObject();
            JsonArray s = l.getAsJsonObject("weight").getAsJsonArray("scales");
            ByteArrayOutputStream tail = new ByteArrayOutputStream();
            DataOutputStream dos = new DataOutputStream(tail);
            dos.writeInt(s.size());
            for (int c = 0; c < s.size(); c++) {
                dos.writeFloat(s.get(c).getAsFloat());
            }
            String path = l.get("path").getAsString();
            int metaAt = find(params, tail.toByteArray(), path) - 11;
            boolean dynamic = l.get("mode").getAsString().equals("DYNAMIC");
            if ((params[metaAt] != 0) != dynamic) {
                throw new IllegalStateException("the metadata of " + path + " was not found");
            }
            layers.add(new Layer(i, path, dynamic, metaAt, s.size()));
        }
    }

    /** Closes the pristine model the arrays belong to. */
    void close() {
        model.close();
    }

    /** The number of int8 layers, static ones, and parameters found. */
    String describe() {
        long statics = layers.stream().filter(l -> !l.dynamic).count();
        return layers.size()
                + " int8 layers ("
                + statics
                + " static), "
                + arrays.size()
                + " parameters";
    }

    private static int find(byte[] hay, byte[] needle, String what) {
        int first = -1;
        for (int i = 0; i + needle.length <= hay.length; i++) {
            int j = 0;
            while (j < needle.length && hay[i + j] == needle[j]) {
                j++;
            }
            if (j == needle.length) {
                if (first >= 0) {
                    throw new IllegalStateException(what + "'s bytes occur twice");
                }
                first = i;
            }
        }
        if (first < 0) {
            throw new IllegalStateException(what + "'s bytes are not in the parameter file");
        }
        return first;
    }

    /**
     * Copies the pristine artifact into {@code dir} and applies one edit drawn from {@code r}.
     *
     * @param dir an empty directory
     * @param r the seeded source
     * @return what was done
     * @throws IOException if writing fails
     */
    Edit apply(Path dir, Random r) throws IOException {
        for (String f : List.of("quantization.json", "serving.properties", paramsName)) {
            Files.copy(pristine.resolve(f), dir.resolve(f));
        }
        JsonObject m = manifest.deepCopy();
        byte[] p = params.clone();
        String kind = KINDS[r.nextInt(KINDS.length)];
        Edit edit;
        switch (kind) {
            case "weightScale" -> {
                Layer l = layers.get(r.nextInt(layers.size()));
                int c = r.nextInt(l.channels);
                float v = BAD_SCALES[r.nextInt(BAD_SCALES.length)];
                ByteBuffer.wrap(p).putFloat(l.metaAt + 15 + 4 * c, v);
                if (Float.isFinite(v)) {
                    layer(m, l).getAsJsonObject("weight").getAsJsonArray("scales").set(c, num(v));
                }
                edit = new Edit(kind, l.path + " weight scale [" + c + "] = " + v);
            }
            case "activationScale" -> {
                Layer l = pickStatic(r);
                float v = BAD_SCALES[r.nextInt(BAD_SCALES.length)];
                ByteBuffer.wrap(p).putFloat(l.metaAt + 3, v);
                if (Float.isFinite(v)) {
                    layer(m, l).getAsJsonObject("activation").addProperty("scale", v);
                }
                edit = new Edit(kind, l.path + " activation scale = " + v);
            }
            case "zeroPoint" -> {
                Layer l = pickStatic(r);
                int v = BAD_ZERO_POINTS[r.nextInt(BAD_ZERO_POINTS.length)];
                ByteBuffer.wrap(p).putInt(l.metaAt + 7, v);
                layer(m, l).getAsJsonObject("activation").addProperty("zeroPoint", v);
                edit = new Edit(kind, l.path + " zero point = " + v);
            }
            case "bits" -> {
                Layer l = layers.get(r.nextInt(layers.size()));
                int v = BAD_BITS[r.nextInt(BAD_BITS.length)];
                p[l.metaAt + 2] = (byte) v;
                if (!l.dynamic) {
                    layer(m, l).getAsJsonObject("activation").addProperty("bits", v);
                }
                edit = new Edit(kind, l.path + " bits = " + v);
            }
            case "mode" -> edit = editMode(m, p, r);
            case "weight" -> {
                Param q = pick(r, DataType.INT8);
                int i = r.nextInt((int) q.array.size());
                p[q.at + q.length - (int) q.array.size() + i] = Byte.MIN_VALUE;
                edit = new Edit(kind, q.key + "[" + i + "] = -128");
            }
            case "float" -> {
                Param q = pick(r, DataType.FLOAT32);
                float[] f = q.array.toFloatArray();
                int i = r.nextInt(f.length);
                f[i] = new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}
                        [r.nextInt(3)];
                try (NDManager scope = NDManager.newBaseManager()) {
                    p = replace(p, q, scope.create(f, q.array.getShape()).encode());
                }
                edit = new Edit(kind, q.key + "[" + i + "] = " + f[i]);
            }
            case "shape" -> {
                Param q = pickShaped(r);
                Shape s = reshaped(q.array.getShape(), r);
                try (NDManager scope = NDManager.newBaseManager()) {
                    NDArray a = q.array.duplicate();
                    a.attach(scope);
                    NDArray b = a.reshape(s);
                    p = replace(p, q, b.encode());
                    m.getAsJsonObject("parameters")
                            .addProperty(q.key, b.getDataType() + " " + b.getShape());
                }
                edit = new Edit(kind, q.key + " " + q.array.getShape() + " -> " + s);
            }
            case "factory" -> edit = editFactory(dir, m, r);
            default -> {
                // a no-op: the manifest rewritten in another layout, the files untouched
                edit = new Edit(kind, "quantization.json re-formatted");
            }
        }
        Files.write(dir.resolve(paramsName), p);
        recomputeChecksums(dir, m);
        Gson gson =
                kind.equals("noop") ? new Gson() : new GsonBuilder().setPrettyPrinting().create();
        Files.writeString(dir.resolve("quantization.json"), gson.toJson(m));
        return edit;
    }

    private Edit editMode(JsonObject m, byte[] p, Random r) {
        Layer l = layers.get(r.nextInt(layers.size()));
        JsonObject entry = layer(m, l);
        switch (r.nextInt(4)) {
            case 0 -> {
                String v = BAD_MODES[r.nextInt(BAD_MODES.length)];
                entry.addProperty("mode", v);
                return new Edit("mode", l.path + " mode '" + v + "' in the manifest");
            }
            case 1 -> {
                p[l.metaAt] = (byte) (l.dynamic ? 0 : 1);
                return new Edit("mode", l.path + " dynamic flag flipped in " + paramsName);
            }
            case 2 -> {
                entry.addProperty("mode", l.dynamic ? "STATIC" : "DYNAMIC");
                return new Edit("mode", l.path + " mode flipped in the manifest");
            }
            default -> {
                if (r.nextBoolean()) {
                    p[l.metaAt + 1] = (byte) (p[l.metaAt + 1] == 0 ? 1 : 0);
                    return new Edit("mode", l.path + " fused ReLU flipped in " + paramsName);
                }
                entry.addProperty("fusedRelu", !entry.get("fusedRelu").getAsBoolean());
                return new Edit("mode", l.path + " fused ReLU flipped in the manifest");
            }
        }
    }

    private Edit editFactory(Path dir, JsonObject m, Random r) throws IOException {
        String[] names = {
            CnnBlockFactory.class.getName(),
            MlpBlockFactory.class.getName(),
            PlantedNotAFactory.class.getName(),
            PlantedAbstractFactory.class.getName(),
            PlantedNoDefaultConstructor.class.getName(),
            "java.lang.String",
            "com.example.Gone",
            QuantizedBlockFactory.class.getName(),
            BlockFactory.class.getName(),
            Image.class.getName()
        };
        String name = names[r.nextInt(names.length)];
        boolean base = r.nextInt(4) != 0;
        String key = base ? "baseBlockFactory" : "blockFactory";
        Path sp = dir.resolve("serving.properties");
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(sp, StandardCharsets.UTF_8)) {
            lines.add(line.startsWith(key + "=") ? key + "=" + name : line);
        }
        Files.write(sp, lines, StandardCharsets.UTF_8);
        if (base) {
            m.addProperty("baseBlockFactory", name);
        }
        return new Edit("factory", key + " = " + name);
    }

    private Layer pickStatic(Random r) {
        List<Layer> s = layers.stream().filter(l -> !l.dynamic).toList();
        return s.get(r.nextInt(s.size()));
    }

    private Param pick(Random r, DataType type) {
        List<Param> s = arrays.stream().filter(q -> q.array.getDataType() == type).toList();
        return s.get(r.nextInt(s.size()));
    }

    /** A weight or bias of a convolution or linear layer, whose shapes loading checks. */
    private Param pickShaped(Random r) {
        List<Param> s =
                arrays.stream()
                        .filter(q -> q.block instanceof Convolution || q.block instanceof Linear)
                        .toList();
        return s.get(r.nextInt(s.size()));
    }

    /** Another shape with the same number of elements. */
    private static Shape reshaped(Shape s, Random r) {
        long[] d = s.getShape();
        long n = s.size();
        List<Shape> options = new ArrayList<>();
        options.add(new Shape(n));
        options.add(new Shape(n, 1));
        options.add(new Shape(1, n));
        long[] reversed = new long[d.length];
        for (int i = 0; i < d.length; i++) {
            reversed[i] = d[d.length - 1 - i];
        }
        options.add(new Shape(reversed));
        long[] plusOne = new long[d.length + 1];
        System.arraycopy(d, 0, plusOne, 0, d.length);
        plusOne[d.length] = 1;
        options.add(new Shape(plusOne));
        if (d[0] % 2 == 0) {
            long[] half = d.clone();
            half[0] /= 2;
            if (d.length > 1) {
                half[1] *= 2;
                options.add(new Shape(half));
            }
        }
        options.removeIf(s::equals);
        return options.get(r.nextInt(options.size()));
    }

    private static byte[] replace(byte[] p, Param q, byte[] with) {
        byte[] out = new byte[p.length - q.length + with.length];
        System.arraycopy(p, 0, out, 0, q.at);
        System.arraycopy(with, 0, out, q.at, with.length);
        System.arraycopy(p, q.at + q.length, out, q.at + with.length, p.length - q.at - q.length);
        return out;
    }

    private static JsonObject layer(JsonObject m, Layer l) {
        return m.getAsJsonArray("layers").get(l.index).getAsJsonObject();
    }

    private static com.google.gson.JsonPrimitive num(float v) {
        return new com.google.gson.JsonPrimitive(v);
    }

    private static void recomputeChecksums(Path dir, JsonObject m) throws IOException {
        JsonObject files = m.getAsJsonObject("files");
        for (Map.Entry<String, com.google.gson.JsonElement> e : files.entrySet()) {
            Path f = dir.resolve(e.getKey());
            JsonObject entry = e.getValue().getAsJsonObject();
            entry.addProperty("sha256", ArtifactManifest.sha256(f));
            entry.addProperty("bytes", Files.size(f));
        }
    }

    /** A class on the classpath that is not a block factory; its code must never run. */
    public static final class PlantedNotAFactory {
        static {
            PLANTED_RAN.incrementAndGet();
        }
    }

    /** An abstract block factory (cannot be created); its code must never run. */
    public abstract static class PlantedAbstractFactory implements BlockFactory {
        private static final long serialVersionUID = 1L;

        static {
            PLANTED_RAN.incrementAndGet();
        }
    }

    /** A block factory without a no-argument constructor; its code must never run. */
    public static final class PlantedNoDefaultConstructor implements BlockFactory {
        private static final long serialVersionUID = 1L;

        static {
            PLANTED_RAN.incrementAndGet();
        }

        /**
         * Not what DJL or the loader can call.
         *
         * @param unused anything
         */
        public PlantedNoDefaultConstructor(String unused) {}

        /** {@inheritDoc} */
        @Override
        public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) {
            PLANTED_RAN.incrementAndGet();
            return null;
        }
    }
}

package ai.djlquant.artifact;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.Criteria;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.stream.Stream;

/**
 * Every way an artifact can be wrong gives one {@link ArtifactException} whose message names what
 * and where, through {@link ArtifactLoader#load} and through Criteria, and nothing is loaded.
 */
class ArtifactValidationTest {

    @TempDir static Path tmp;

    private static Path pristine;
    private static Path mlpParams;
    private static int cases;

    @BeforeAll
    static void export() throws Exception {
        pristine = tmp.resolve("pristine");
        try (Model m = TestNets.floatModel(new TestNets.ResidualNet(), "net", 1)) {
            TestNets.quantize(m);
            ArtifactWriter.builder()
                    .setModel(m)
                    .setBaseBlockFactory(TestNets.ResidualNet.class)
                    .build()
                    .write(pristine);
        }
        // an artifact of another architecture under the same model name
        try (Model m = TestNets.floatModel(new TestNets.Mlp(), "net", 2)) {
            TestNets.quantize(m);
            Path other = tmp.resolve("mlp");
            ArtifactWriter.builder()
                    .setModel(m)
                    .setBaseBlockFactory(TestNets.Mlp.class)
                    .build()
                    .write(other);
            mlpParams = ArtifactLoader.filesDirectory(other).resolve("net-0000.params");
        }
    }

    @AfterAll
    static void check() {
        assertTrue(cases >= 14, "ran " + cases + " cases");
    }

    /** A fresh copy of the pristine artifact. */
    private static Path copy() throws IOException {
        Path dir = tmp.resolve("case" + (++cases));
        Files.createDirectories(dir);
        // a flat copy of the files: an artifact directory may hold them itself
        try (Stream<Path> s = Files.list(ArtifactLoader.filesDirectory(pristine))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        return dir;
    }

    /** Both ways in fail with an ArtifactException whose message has every expected part. */
    private static void assertRefused(Path dir, String... parts) {
        ArtifactException direct =
                assertThrows(ArtifactException.class, () -> ArtifactLoader.load(dir).close());
        for (String p : parts) {
            assertTrue(direct.getMessage().contains(p), "'" + p + "' in: " + direct.getMessage());
        }
        assertTrue(!direct.getMessage().contains("\n"), "one line: " + direct.getMessage());
        if (Files.isRegularFile(dir.resolve("serving.properties"))) {
            Criteria<NDList, NDList> c =
                    Criteria.builder()
                            .setTypes(NDList.class, NDList.class)
                            .optModelPath(dir)
                            .build();
            ArtifactException viaCriteria =
                    assertThrows(ArtifactException.class, () -> c.loadModel().close());
            for (String p : parts) {
                assertTrue(viaCriteria.getMessage().contains(p), viaCriteria.getMessage());
            }
        }
    }

    private static void editManifest(Path dir, java.util.function.Consumer<JsonObject> edit)
            throws IOException {
        Path f = dir.resolve("quantization.json");
        JsonObject o = JsonParser.parseString(Files.readString(f)).getAsJsonObject();
        edit.accept(o);
        Files.writeString(f, ArtifactManifest.GSON.toJson(o), StandardCharsets.UTF_8);
    }

    /** Records a file's current checksum and size in the manifest (a consistent forgery). */
    private static void reseal(Path dir, String file) throws IOException {
        String sha = ArtifactManifest.sha256(dir.resolve(file));
        long bytes = Files.size(dir.resolve(file));
        editManifest(
                dir,
                o -> {
                    JsonObject e = o.getAsJsonObject("files").getAsJsonObject(file);
                    e.addProperty("sha256", sha);
                    e.addProperty("bytes", bytes);
                });
    }

    @Test
    void missingDirectoryAndManifest() throws Exception {
        assertRefused(tmp.resolve("nowhere"), "nowhere", "does not exist");
        Path dir = copy();
        Files.delete(dir.resolve("quantization.json"));
        // Criteria would see a serving.properties and call our factory, which refuses as well
        assertRefused(dir, "quantization.json is missing");
    }

    @Test
    void missingParameterFile() throws Exception {
        Path dir = copy();
        Files.delete(dir.resolve("net-0000.params"));
        assertRefused(dir, "net-0000.params is missing");
    }

    @Test
    void flippedByteInParameters() throws Exception {
        Path dir = copy();
        Path f = dir.resolve("net-0000.params");
        byte[] b = Files.readAllBytes(f);
        b[b.length / 2] ^= 0x10;
        Files.write(f, b);
        assertRefused(dir, "net-0000.params was changed after export", "SHA-256");
    }

    @Test
    void truncatedParameters() throws Exception {
        Path dir = copy();
        Path f = dir.resolve("net-0000.params");
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 100));
        assertRefused(dir, "net-0000.params is truncated", (b.length - 100) + " bytes");
    }

    @Test
    void unlistedFilesAreRefused() throws Exception {
        Path dir = copy();
        // DJL puts jars and classes/ of a model directory on the class path: nothing unlisted
        Files.write(dir.resolve("extra.jar"), new byte[] {0x50, 0x4b, 3, 4});
        assertRefused(dir, "extra.jar is not listed in quantization.json", "remove it");
        Files.delete(dir.resolve("extra.jar"));
        Files.createDirectories(dir.resolve("classes"));
        Files.write(dir.resolve("classes/Factory.class"), new byte[] {(byte) 0xca, (byte) 0xfe});
        assertRefused(dir, "Factory.class is not listed in quantization.json");
    }

    @Test
    void changedServingProperties() throws Exception {
        Path dir = copy();
        Files.writeString(
                dir.resolve("serving.properties"),
                Files.readString(dir.resolve("serving.properties")) + "extra=1\n");
        assertRefused(dir, "serving.properties has grown");
    }

    @Test
    void newerAndUnknownFormats() throws Exception {
        Path dir = copy();
        editManifest(dir, o -> o.addProperty("formatVersion", 3));
        assertRefused(dir, "format version 3", "newer than the 2");
        Path other = copy();
        editManifest(other, o -> o.addProperty("format", "something else"));
        assertRefused(other, "not a djl-quant artifact manifest");
        Path zero = copy();
        editManifest(zero, o -> o.addProperty("formatVersion", 0));
        assertRefused(zero, "format version 0");
    }

    @Test
    void brokenOrIncompleteManifest() throws Exception {
        Path dir = copy();
        Path f = dir.resolve("quantization.json");
        Files.writeString(f, Files.readString(f).substring(0, 300));
        assertRefused(dir, "quantization.json is not valid JSON");
        Path noFiles = copy();
        editManifest(noFiles, o -> o.remove("files"));
        assertRefused(noFiles, "quantization.json.files is missing");
        Path escape = copy();
        editManifest(escape, o -> o.getAsJsonObject("files").add("../x", new JsonObject()));
        assertRefused(escape, "'../x'", "not a plain file name");
    }

    @Test
    void parametersOfAnotherArchitectureWithForgedChecksums() throws Exception {
        Path dir = copy();
        Files.copy(mlpParams, dir.resolve("net-0000.params"), StandardCopyOption.REPLACE_EXISTING);
        reseal(dir, "net-0000.params");
        assertRefused(
                dir,
                "net-0000.params does not fit the architecture built by",
                TestNets.ResidualNet.class.getName(),
                "reading stopped at layer");
    }

    @Test
    void baseFactoryThatChangedSinceExport() throws Exception {
        Path dir = copy();
        Path sp = dir.resolve("serving.properties");
        Files.writeString(
                sp,
                Files.readString(sp)
                        .replace(
                                TestNets.ResidualNet.class.getName(),
                                TestNets.WideHeadNet.class.getName()));
        reseal(dir, "serving.properties");
        editManifest(
                dir, o -> o.addProperty("baseBlockFactory", TestNets.WideHeadNet.class.getName()));
        assertRefused(
                dir,
                TestNets.WideHeadNet.class.getName(),
                "06Linear",
                "Linear(units=64, bias=true)");
    }

    @Test
    void baseFactoryNotOnTheClasspath() throws Exception {
        Path dir = copy();
        Path sp = dir.resolve("serving.properties");
        Files.writeString(
                sp,
                Files.readString(sp)
                        .replace(TestNets.ResidualNet.class.getName(), "com.example.Gone"));
        reseal(dir, "serving.properties");
        editManifest(dir, o -> o.addProperty("baseBlockFactory", "com.example.Gone"));
        assertRefused(dir, "com.example.Gone", "is not on the classpath");
    }

    @Test
    void manifestAndParametersDisagreeOnQuantization() throws Exception {
        Path dir = copy();
        editManifest(
                dir,
                o -> {
                    JsonObject w =
                            o.getAsJsonArray("layers")
                                    .get(0)
                                    .getAsJsonObject()
                                    .getAsJsonObject("weight");
                    float s = w.getAsJsonArray("scales").get(0).getAsFloat();
                    w.getAsJsonArray("scales").set(0, new com.google.gson.JsonPrimitive(s * 2));
                });
        assertRefused(dir, "layer 01Conv2d", "weight scales differ");
    }

    @Test
    void editsOfInformativeFieldsDoNotStopLoading() throws Exception {
        Path dir = copy();
        editManifest(
                dir,
                o -> {
                    o.addProperty("libraryVersion", "edited");
                    o.add("report", new JsonObject());
                    o.remove("accuracy");
                });
        try (Model m = ArtifactLoader.load(dir)) {
            assertTrue(m.getBlock().isInitialized());
        }
    }

    @Test
    void failedLoadLeavesTheModelWithoutABlock() throws Exception {
        Path dir = copy();
        Files.copy(mlpParams, dir.resolve("net-0000.params"), StandardCopyOption.REPLACE_EXISTING);
        reseal(dir, "net-0000.params");
        ArtifactManifest m = ArtifactLoader.verify(dir);
        try (Model model = Model.newInstance("net")) {
            assertThrows(
                    ArtifactException.class,
                    () -> ArtifactLoader.rebuild(model, dir, m, new HashMap<>()));
            assertNull(model.getBlock(), "nothing half-loaded is handed out");
        }
    }

    /** Set by {@link NotAFactory}'s static initialiser (kept outside it: reading it runs nothing). */
    private static final java.util.concurrent.atomic.AtomicBoolean PLANTED_RAN =
            new java.util.concurrent.atomic.AtomicBoolean();

    /** A public class that is not a block factory: its static initialiser must never run. */
    public static final class NotAFactory {
        static {
            PLANTED_RAN.set(true);
        }
    }

    @Test
    void baseFactoryThatIsNoBlockFactoryIsRefusedWithoutRunningIt() throws Exception {
        Path dir = copy();
        Path sp = dir.resolve("serving.properties");
        String name = NotAFactory.class.getName();
        Files.writeString(
                sp, Files.readString(sp).replace(TestNets.ResidualNet.class.getName(), name));
        reseal(dir, "serving.properties");
        editManifest(dir, o -> o.addProperty("baseBlockFactory", name));
        assertRefused(dir, name, "is a class on the classpath, but not a BlockFactory");
        assertTrue(!PLANTED_RAN.get(), "the class's static initialiser did not run");
    }

    @Test
    void implausibleValuesWithChecksumsRecomputedAreRefused() throws Exception {
        JsonObject pristineManifest =
                JsonParser.parseString(Files.readString(ArtifactLoader.filesDirectory(pristine).resolve("quantization.json")))
                        .getAsJsonObject();
        JsonObject layer = pristineManifest.getAsJsonArray("layers").get(0).getAsJsonObject();
        com.google.gson.JsonArray scales = layer.getAsJsonObject("weight").getAsJsonArray("scales");
        java.io.ByteArrayOutputStream tail = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream dos = new java.io.DataOutputStream(tail);
        dos.writeInt(scales.size());
        for (int i = 0; i < scales.size(); i++) {
            dos.writeFloat(scales.get(i).getAsFloat());
        }
        byte[] params = Files.readAllBytes(ArtifactLoader.filesDirectory(pristine).resolve("net-0000.params"));
        int at = indexOf(params, tail.toByteArray());
        assertTrue(at > 11, "layer 0's metadata found in the parameter file");
        // the Int8Core metadata: dynamic, fused ReLU, bits, scale, zero point, n, scales
        float[][] edits = {{15, 1e38f}, {3, 1e-45f}, {3, 1e38f}};
        String[] expect = {
            "weight scale [0] 1.0E38", "activation scale 1.4E-45", "activation scale 1.0E38"
        };
        for (int k = 0; k < edits.length; k++) {
            Path dir = copy();
            byte[] p = params.clone();
            int offset = at - 11 + (int) edits[k][0];
            float v = edits[k][1];
            java.nio.ByteBuffer.wrap(p).putFloat(offset, v);
            Files.write(dir.resolve("net-0000.params"), p);
            reseal(dir, "net-0000.params");
            boolean weight = edits[k][0] == 15;
            editManifest(
                    dir,
                    o -> {
                        JsonObject l = o.getAsJsonArray("layers").get(0).getAsJsonObject();
                        if (weight) {
                            l.getAsJsonObject("weight")
                                    .getAsJsonArray("scales")
                                    .set(0, new com.google.gson.JsonPrimitive(v));
                        } else {
                            l.getAsJsonObject("activation").addProperty("scale", v);
                        }
                    });
            assertRefused(dir, "layer 01Conv2d", expect[k], "outside the plausible range");
        }
        // an int8 weight of -128: the first byte of the first int8 array's data is found from
        // the weight scales' position (the weight follows the block's metadata)
        Path dir = copy();
        byte[] p = params.clone();
        int w = findInt8Weight(p, at + tail.size());
        p[w] = Byte.MIN_VALUE;
        Files.write(dir.resolve("net-0000.params"), p);
        reseal(dir, "net-0000.params");
        assertRefused(dir, "layer 01Conv2d", "int8 value -128", "outside the weight grid");
    }

    /** The first data byte of the first int8 array after {@code from}. */
    private static int findInt8Weight(byte[] p, int from) throws Exception {
        try (Model m = ArtifactLoader.load(pristine)) {
            for (ai.djl.util.Pair<String, ai.djl.nn.Parameter> e :
                    ai.djlquant.transform.BlockTree.walk(m.getBlock())
                            .getNodes()
                            .get(0)
                            .getBlock()
                            .getParameters()) {
                ai.djl.ndarray.NDArray a = e.getValue().getArray();
                if (a.getDataType() == ai.djl.ndarray.types.DataType.INT8) {
                    byte[] enc = a.encode();
                    int start = indexOf(p, enc);
                    assertTrue(start >= from, "the int8 weight follows the metadata");
                    return start + enc.length - (int) a.size();
                }
            }
        }
        throw new AssertionError("no int8 weight");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void linksDirectoriesAndTrailingTextAreNamedForWhatTheyAre() throws Exception {
        // a link to an identical file outside the artifact: the bytes match, the link is refused
        Path dir = copy();
        Path outside = tmp.resolve("outside.params");
        Files.move(dir.resolve("net-0000.params"), outside);
        Files.createSymbolicLink(dir.resolve("net-0000.params"), outside);
        assertRefused(dir, "net-0000.params is a symbolic link", "regular files");

        // a link to a directory outside (DJL would put classes/ on the class path)
        Path linked = copy();
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        Files.createSymbolicLink(linked.resolve("classes"), elsewhere);
        assertRefused(linked, "classes is a symbolic link");

        // the artifact directory itself may be reached through a link
        Path alias = tmp.resolve("alias" + cases);
        Files.createSymbolicLink(alias, copy());
        try (Model m = ArtifactLoader.load(alias)) {
            assertTrue(m.getBlock().isInitialized());
        }

        Path manifestDir = copy();
        Files.delete(manifestDir.resolve("quantization.json"));
        Files.createDirectory(manifestDir.resolve("quantization.json"));
        assertRefused(manifestDir, "quantization.json is a directory");

        Path paramsDir = copy();
        Files.delete(paramsDir.resolve("net-0000.params"));
        Files.createDirectory(paramsDir.resolve("net-0000.params"));
        assertRefused(paramsDir, "net-0000.params is a directory, where quantization.json lists");

        Path trailing = copy();
        Path q = trailing.resolve("quantization.json");
        Files.writeString(q, Files.readString(q) + " trailing garbage");
        ArtifactException e =
                assertThrows(ArtifactException.class, () -> ArtifactLoader.load(trailing));
        assertTrue(e.getMessage().contains("is not valid JSON"), e.getMessage());
        assertTrue(!e.getMessage().contains("LENIENT"), e.getMessage());
        assertTrue(e.getMessage().contains("text after the end of the object"), e.getMessage());
    }
}

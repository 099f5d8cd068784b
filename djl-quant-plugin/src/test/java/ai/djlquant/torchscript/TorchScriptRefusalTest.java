package ai.djlquant.torchscript;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Corrupt, hostile or foreign files are refused with one sentence naming the file, the entry and
 * the fault, quickly, and without reading more than the limits allow.
 */
class TorchScriptRefusalTest {

    @TempDir Path tmp;

    /** The entries of a real fixture, to change one at a time. */
    private static Map<String, byte[]> entries(String fixture) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(Fixtures.path(fixture).toFile())) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                entries.put(entry.getName(), zip.getInputStream(entry).readAllBytes());
            }
        }
        return entries;
    }

    private Path write(String name, Map<String, byte[]> entries) throws IOException {
        Path file = tmp.resolve(name + ".pt");
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }

    /** A one-module archive around {@code data.pkl}, with the storages given. */
    private Path archive(String name, byte[] dataPkl, Map<String, byte[]> storages) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("m/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        entries.put("m/data.pkl", dataPkl);
        entries.put("m/code/__torch__.py", "class M(Module):\n  pass\n".getBytes(StandardCharsets.UTF_8));
        storages.forEach((k, v) -> entries.put("m/data/" + k, v));
        return write(name, entries);
    }

    /** Reads, expects a refusal, checks it is one sentence naming the file, and returns it. */
    private static String refused(Path file) {
        TorchScriptFormatException e = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(TorchScriptFormatException.class, () -> TorchScriptArchive.read(file)));
        String m = e.getMessage();
        assertTrue(m.startsWith("TorchScript archive " + file), m);
        assertTrue(m.endsWith(".") && !m.contains("\n"), m);
        return m;
    }

    private static void contains(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "'" + part + "' not in: " + message);
        }
    }

    @Test
    void aValidHandWrittenArchiveReads() throws Exception {
        byte[] pkl = new Pickle().proto().module("M").str("w")
                .tensor("0", 3, 0, new long[] {3}, new long[] {1}).endModule().stop().bytes();
        Path file = archive("ok", pkl, Map.of("0", new byte[12]));
        TorchScriptArchive a = TorchScriptArchive.read(file);
        assertEquals("__torch__.M", a.root().qualifiedName());
        assertEquals(3, a.root().tensor("w").orElseThrow().numel());
    }

    /** The opcodes torch's fixtures do not use but protocols 2-4 allow read to the same values. */
    @Test
    void otherOpcodesReadToTheSameValues() throws Exception {
        Pickle p = new Pickle().op(0x80, 4).op(0x95, 0, 0, 0, 0, 0, 0, 0, 0) // PROTO 4, FRAME
                .op(0x8c, 1, '_').str("M").op(0x93) // STACK_GLOBAL: a name only, harmless until called
                .op('0'); // POP it again
        p.str("__torch__").str("M").op(0x93).op(')', 0x81, 0x94, '}').mark(); // MEMOIZE the object
        p.op(0x8c, 1, 'a').op('M', 0x34, 0x12); // SHORT_BINUNICODE, BININT2 0x1234
        p.op(0x8c, 1, 'b').mark().integer(1).integer(2).op('l'); // LIST
        p.op(0x8c, 1, 'c').mark().str("k").op(0x88).op('d'); // DICT {k: True}
        p.op(0x8c, 1, 'd').integer(-5).op(0x85); // TUPLE1
        p.op(0x8c, 1, 'e').integer(1).integer(2).integer(3).op(0x87); // TUPLE3
        p.op(0x8c, 1, 'f').op('r').le32(0); // LONG_BINPUT of the key "f", then LONG_BINGET of it
        p.op('j').le32(0);
        p.op(0x8c, 1, 'g').global("torch.jit._pickle", "build_tensorlist").mark().op(']').mark();
        p.global("torch._utils", "_rebuild_parameter").mark()
                .tensor("0", 2, 0, new long[] {2}, new long[] {1}).op(0x88).global("collections", "OrderedDict")
                .op(')', 'R').tuple().op('R', '2').op('e').tuple().op('R'); // a parameter twice (DUP)
        p.op(0x8c, 1, 'h').op(0x8b).le32(2).op(0xFF, 0x7F); // LONG4 of 2 bytes: 32767
        p.op(0x8c, 1, 'i').op(0x8d, 2, 0, 0, 0, 0, 0, 0, 0, 'h', 'i'); // BINUNICODE8
        p.endModule().stop();
        ScriptObject m = TorchScriptArchive.read(archive("protocol4", p.bytes(), Map.of("0", new byte[8]))).root();
        Map<String, Object> a = m.attributes();
        assertEquals("__torch__.M", m.qualifiedName());
        assertEquals(0x1234L, a.get("a"));
        assertEquals(java.util.List.of(1L, 2L), a.get("b"));
        assertEquals(Map.of("k", true), a.get("c"));
        assertEquals(java.util.List.of(-5L), a.get("d"));
        assertEquals(java.util.List.of(1L, 2L, 3L), a.get("e"));
        assertEquals("f", a.get("f"));
        java.util.List<?> g = (java.util.List<?>) a.get("g");
        assertEquals(2, g.size());
        assertTrue(g.get(0) == g.get(1) && ((TensorData) g.get(0)).requiresGrad());
        assertEquals(32767L, a.get("h"));
        assertEquals("hi", a.get("i"));
    }

    @Test
    void notAFileNotAZipTruncatedZip() throws Exception {
        contains(refused(tmp.resolve("absent.pt")), "there is no such file");
        contains(refused(tmp), "it is not a regular file");
        Path text = tmp.resolve("text.pt");
        Files.writeString(text, "this is not a zip\n");
        contains(refused(text), "is not a readable zip archive");
        byte[] whole = Files.readAllBytes(Fixtures.path("views"));
        Path cut = tmp.resolve("cut.pt");
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2));
        contains(refused(cut), "is not a readable zip archive");
        Path empty = tmp.resolve("empty.pt");
        byte[] end = new byte[22]; // an end-of-central-directory record and nothing else
        end[0] = 'P';
        end[1] = 'K';
        end[2] = 5;
        end[3] = 6;
        Files.write(empty, end);
        contains(refused(empty), "the zip archive is empty");
    }

    /** Bytes inside an entry corrupted: the zip's CRC or the pickle's structure catches it. */
    @Test
    void corruptEntryBytes() throws Exception {
        byte[] whole = Files.readAllBytes(Fixtures.path("views"));
        byte[] pkl = entries("views").get("views/data.pkl");
        int at = indexOf(whole, pkl) + pkl.length / 2; // in the stored (uncompressed) data.pkl
        whole[at] ^= 0x5A;
        Path file = tmp.resolve("flipped.pt");
        Files.write(file, whole);
        contains(refused(file), "entry views/data.pkl", "CRC-32", "(corrupt)");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    @Test
    void versions() throws Exception {
        for (String bad : new String[] {"2", "11", "9999"}) {
            Map<String, byte[]> e = entries("views");
            e.put("views/version", (bad + "\n").getBytes(StandardCharsets.US_ASCII));
            contains(refused(write("v" + bad, e)), "entry views/version",
                    "format version " + bad + " is not one this reader accepts (3 to 10");
        }
        Map<String, byte[]> e = entries("views");
        e.put("views/version", "three".getBytes(StandardCharsets.US_ASCII));
        contains(refused(write("vtext", e)), "the format version is 'three', not a number");
        e = entries("views");
        e.remove("views/version");
        contains(refused(write("vnone", e)), "there is neither views/version nor views/.data/version");
        e = entries("views");
        e.put("views/.data/version", "4\n".getBytes(StandardCharsets.US_ASCII));
        contains(refused(write("vdiff", e)), "the format version is 3 but views/.data/version says 4");
        // 2.x records: .data/version alone, byteorder little, serialization_id
        e = entries("views");
        e.remove("views/version");
        e.put("views/.data/version", "10\n".getBytes(StandardCharsets.US_ASCII));
        e.put("views/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        e.put("views/.data/serialization_id", "1234567890".getBytes(StandardCharsets.US_ASCII));
        TorchScriptArchive a = TorchScriptArchive.read(write("v2x", e));
        assertEquals(10, a.formatVersion());
        assertEquals("little", a.byteOrder().orElseThrow());
        e.put("views/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
        contains(refused(write("big", e)), "entry views/byteorder", "big-endian");
        e.put("views/byteorder", "middle".getBytes(StandardCharsets.US_ASCII));
        contains(refused(write("middle", e)), "'middle', neither 'little' nor 'big'");
    }

    @Test
    void notTorchScript() throws Exception {
        Map<String, byte[]> e = entries("views");
        e.keySet().removeIf(k -> k.contains("/code/"));
        contains(refused(write("statedict", e)), "no views/code/ folder", "torch.save file");
        e = entries("views");
        e.remove("views/data.pkl");
        contains(refused(write("nodata", e)), "there is no views/data.pkl");
        e = entries("views");
        e.put("other/x", new byte[1]);
        contains(refused(write("twotops", e)), "entry other/x", "one top folder");
        e = entries("views");
        e.put("loose", new byte[1]);
        contains(refused(write("loose", e)), "entry loose", "not inside the archive's one top folder");
        byte[] tensorRoot = new Pickle().proto().tensor("0", 1, 0, new long[] {1}, new long[] {1}).stop().bytes();
        contains(refused(archive("tensorroot", tensorRoot, Map.of("0", new byte[4]))),
                "entry m/data.pkl", "holds a tensor, not a TorchScript module");
    }

    @Test
    void globalsOutsideTheAllowListAreRefused() throws Exception {
        byte[] pkl = new Pickle().proto().global("posix", "system").mark().str("echo hi").tuple().op('R').stop().bytes();
        contains(refused(archive("system", pkl, Map.of())), "entry m/data.pkl",
                "calls the global posix.system, which is not on this reader's allow-list", "(pickle byte 30)");
        pkl = new Pickle().proto().global("builtins", "eval").op(')', 0x81).stop().bytes();
        contains(refused(archive("eval", pkl, Map.of())), "builtins.eval; only TorchScript classes");
        pkl = new Pickle().proto().global("__torch__.torch.classes.quantized", "LinearPackedParamsBase")
                .op(')', 0x81).stop().bytes();
        contains(refused(archive("custom", pkl, Map.of())), "a C++ custom class");
        pkl = new Pickle().proto().global("__torch__", "M").op(')', 0x81).integer(1).op(0x85, 'b').stop().bytes();
        contains(refused(archive("setstate", pkl, Map.of())), "the state of __torch__.M is a tuple, not a dict");
        pkl = new Pickle().proto().module("M").str("s")
                .mark().str("storage").global("torch", "ComplexFloatStorage").str("0").str("cpu").integer(1).tuple()
                .op('Q').endModule().stop().bytes();
        contains(refused(archive("complex", pkl, Map.of("0", new byte[8]))), "a storage has type the global torch.ComplexFloatStorage");
        // a STACK_GLOBAL (protocol 4) is held to the same list
        pkl = new Pickle().proto().str("os").str("system").op(0x93).op(')', 'R').stop().bytes();
        contains(refused(archive("stackglobal", pkl, Map.of())), "os.system");
    }

    @Test
    void malformedPickles() throws Exception {
        contains(refused(archive("opcode", new Pickle().proto().op(0xFE).bytes(), Map.of())),
                "pickle opcode 0xfe is not one torch writes (pickle byte 2)");
        contains(refused(archive("protocol", new Pickle().op(0x80, 5).stop().bytes(), Map.of())), "protocol 5");
        byte[] good = new Pickle().proto().module("M").str("w")
                .tensor("0", 3, 0, new long[] {3}, new long[] {1}).endModule().stop().bytes();
        for (int cut : new int[] {1, 10, good.length / 2, good.length - 1}) {
            String m = refused(archive("cut" + cut, java.util.Arrays.copyOf(good, cut), Map.of("0", new byte[12])));
            assertTrue(m.contains("truncated") || m.contains("empty stack") || m.contains("MARK"), m);
        }
        byte[] extra = java.util.Arrays.copyOf(good, good.length + 1);
        contains(refused(archive("extra", extra, Map.of("0", new byte[12]))), "1 bytes after the pickle's STOP");
        contains(refused(archive("memo", new Pickle().proto().op('h', 7).stop().bytes(), Map.of())),
                "memo entry 7 is read before it is written");
        contains(refused(archive("hugestring", new Pickle().proto().op('X').le32(-1).bytes(), Map.of())),
                "a string of 4294967295 bytes runs past the end");
        contains(refused(archive("utf8", new Pickle().proto().op('X').le32(2).op(0xC3, 0x28).stop().bytes(), Map.of())),
                "not valid UTF-8");
        contains(refused(archive("twovalues", new Pickle().proto().integer(1).integer(2).stop().bytes(), Map.of())),
                "stops with 2 values");
        contains(refused(archive("listkey", new Pickle().proto().op('}', ']', 'K', 1, 's').stop().bytes(), Map.of())),
                "a dict key is a list");
        contains(refused(archive("bigint", new Pickle().proto().op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1).stop().bytes(), Map.of())),
                "an integer of 9 bytes does not fit 64 bits");
    }

    @Test
    void tensorsThatDoNotFitTheirStorage() throws Exception {
        byte[] pkl = new Pickle().proto().module("M").str("w")
                .tensor("0", 3, 0, new long[] {4}, new long[] {1}).endModule().stop().bytes();
        contains(refused(archive("shape", pkl, Map.of("0", new byte[12]))), "entry m/data.pkl",
                "the tensor on storage 0: shape [4] with strides [1] and offset 0 reaches element 3 of a storage of only 3 float32 elements");
        pkl = new Pickle().proto().module("M").str("w")
                .tensor("0", 3, 0, new long[] {1L << 40, 1L << 40}, new long[] {1, 1}).endModule().stop().bytes();
        contains(refused(archive("overflow", pkl, Map.of("0", new byte[12]))), "overflows a 64-bit element count");
        pkl = new Pickle().proto().module("M").str("w")
                .tensor("0", 3, 0, new long[] {3}, new long[] {1}).endModule().stop().bytes();
        contains(refused(archive("short", pkl, Map.of("0", new byte[8]))), "entry m/data/0",
                "the record holds 8 bytes but m/data.pkl says 3 float32 elements (12 bytes)");
        contains(refused(archive("missing", pkl, Map.of())), "storage 0 has no record m/data/0");
        pkl = new Pickle().proto().module("M").str("w")
                .tensor("0", 1L << 40, 0, new long[] {3}, new long[] {1}).endModule().stop().bytes();
        contains(refused(archive("claim", pkl, Map.of("0", new byte[12]))), "claims 1099511627776 elements, more than");
        pkl = new Pickle().proto().module("M").str("w")
                .tensor("../x", 3, 0, new long[] {3}, new long[] {1}).endModule().stop().bytes();
        contains(refused(archive("key", pkl, Map.of())), "the storage key '../x' is not a record name");
        pkl = new Pickle().proto().module("M").str("w")
                .tensor("0", 3, 0, new long[] {3}, new long[] {-1}).endModule().stop().bytes();
        contains(refused(archive("negative", pkl, Map.of("0", new byte[12]))), "has a negative entry");
    }

    /** Structures built to exhaust memory or the stack are refused quickly. */
    @Test
    void pickleBombs() throws Exception {
        // a list holding the previous list twice, 100 times: 2^100 nodes by reference, 1 KB of pickle
        Pickle dag = new Pickle().proto().op(']', 'q', 0, '0');
        for (int i = 0; i < 100; i++) {
            dag.op('(', 'h', 0, 'h', 0, 'l', 'q', 0, '0');
        }
        contains(refused(archive("dag", dag.op('h', 0).stop().bytes(), Map.of())), "more than 20000000 nodes");
        // lists nested 100,000 deep
        Pickle deep = new Pickle().proto();
        for (int i = 0; i < 100_000; i++) {
            deep.op(']');
        }
        for (int i = 0; i < 99_999; i++) {
            deep.op('a');
        }
        contains(refused(archive("deep", deep.stop().bytes(), Map.of())), "nest deeper than 200 levels");
        // a list that contains itself
        contains(refused(archive("cycle", new Pickle().proto().op(']', 'q', 0, 'h', 0, 'a').stop().bytes(), Map.of())),
                "a list contains itself");
        // a deflated storage record that inflates far past what the pickle claims
        byte[] pkl = new Pickle().proto().module("M").str("w")
                .tensor("0", 3, 0, new long[] {3}, new long[] {1}).endModule().stop().bytes();
        contains(refused(archive("inflate", pkl, Map.of("0", new byte[64 << 20]))), "entry m/data/0",
                "the record holds 67108864 bytes but m/data.pkl says 3 float32 elements (12 bytes)");
    }

    @Test
    void messagesNameWhereInTheFile() throws Exception {
        byte[] pkl = new Pickle().proto().module("M").str("w").integer(1).op('a').endModule().stop().bytes();
        String m = refused(archive("append", pkl, Map.of()));
        contains(m, "entry m/data.pkl", "APPEND targets a String (w), not a list", "(pickle byte");
        assertFalse(m.contains("Exception"), m);
    }
}

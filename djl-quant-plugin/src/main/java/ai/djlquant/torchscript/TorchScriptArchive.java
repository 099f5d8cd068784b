package ai.djlquant.torchscript;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A TorchScript archive, the file {@code torch.jit.save} writes and DJL's PyTorch engine loads,
 * read into memory without PyTorch: the module tree with its tensors, the constants, and the
 * TorchScript source of every class.
 *
 * <h2>The format</h2>
 *
 * <p>The archive is a zip (torch stores the records uncompressed, aligned to 64 bytes; deflated
 * records are read too; every entry read is checked against its CRC-32) whose entries all lie under one folder, the archive name ({@link
 * #archiveName()}, the file's stem when it was saved). Under it:
 *
 * <ul>
 *   <li>{@code version} or {@code .data/version}: the file format version as ASCII decimal ({@link
 *       #formatVersion()}). caffe2/serialize/versions.h: 3 ({@code kMinProducedFileFormatVersion},
 *       the type tags of typed containers in the pickles) is what torch writes for code that uses
 *       no operator whose meaning changed later; such an operator raises it to its "dynamic
 *       version" (4 {@code aten::div}, 5 {@code aten::full}, 6 torch.package, 7 the upgrader
 *       design, 8 {@code linspace}, 9 {@code logspace}, 10 {@code gelu}'s {@code approximate}
 *       argument). PyTorch 1.13 writes such versions under {@code .data/version}: the BERT fixture,
 *       which uses {@code gelu}, is version 10. Versions 3 to 10 (10 is {@code
 *       kMaxSupportedFileFormatVersion} of both 1.13 and 2.x) are accepted: they differ in
 *       operator semantics, which the reader of the code must know, not in the container. 1 and 2
 *       (older pickles without type tags) and anything newer are refused.
 *   <li>{@code byteorder} (PyTorch 2.1 and later, optional): {@code little} or {@code big}; the
 *       byte order of every tensor record ({@link #byteOrder()}). Without it the order is little
 *       endian (torch wrote the host's order, and before 2.1 every host it ran on was little
 *       endian). Big-endian archives are refused.
 *   <li>{@code data.pkl}: a pickle (protocol 2) of the root module ({@link #root()}): each module
 *       is an object of a class under {@code __torch__} (NEWOBJ) whose state dict (BUILD) holds its
 *       parameters, buffers, submodules and attributes. Typed containers are wrapped in {@code
 *       torch.jit._pickle} helpers ({@code build_intlist}, {@code restore_type_tag}, ...).
 *   <li>{@code data/<key>}: the raw bytes of each storage that {@code data.pkl} refers to. A tensor
 *       is {@code torch._utils._rebuild_tensor_v2(storage, offset, sizes, strides, requires_grad,
 *       hooks)} whose storage is the persistent id {@code ('storage', torch.FloatStorage, key,
 *       location, numel)}; the record holds exactly {@code numel} elements ({@link TensorData}).
 *   <li>{@code constants.pkl} and {@code constants/<key>}: the tuple of tensor constants the code
 *       refers to as {@code CONSTANTS.c0}, ... ({@link #constants()}), stored the same way.
 *   <li>{@code code/**.py}: the TorchScript source of every class, one file per Python module,
 *       e.g. {@code code/__torch__/torchvision/models/resnet.py} ({@link #sources()}); the {@code
 *       .debug_pkl} files beside them (source ranges for error messages) are not read.
 *   <li>PyTorch 2.x adds {@code .data/serialization_id} (an id for caching), not needed here.
 * </ul>
 *
 * <p>Tested writers: PyTorch 1.13 (the committed fixtures) and libtorch 2.7.1 (DJL 0.35's PyTorch
 * engine saving those fixtures again with {@code torch::jit::save}: top folder {@code archive},
 * {@code version} 3 or {@code .data/version} 10 as in 1.13, plus {@code byteorder} {@code little}
 * and {@code .data/serialization_id}; the pickles use the same opcodes and globals).
 *
 * <h2>Values</h2>
 *
 * <p>Attributes and constants are made of: {@code Long} (Python int, 64 bits), {@code Double}
 * (float), {@code Boolean}, {@code String}, {@code null} (None), {@code List<Object>}
 * (unmodifiable; pickled lists and tuples), {@code Map<Object, Object>} (unmodifiable, insertion
 * order; keys are {@code String}, {@code Long}, {@code Double} or {@code Boolean}), {@link
 * TensorData} and {@link ScriptObject}. A value the pickle shares (memo) is one Java object.
 *
 * <h2>Safety</h2>
 *
 * <p>The pickles are read by {@code PickleReader}, which executes nothing and constructs only an
 * allow-list of globals; entry sizes, nesting depth and the value tree are bounded, so a hostile
 * file is refused with a sentence rather than exhausting memory. Every failure is a {@link
 * TorchScriptFormatException} naming the archive, the entry and what is wrong.
 */
public final class TorchScriptArchive {

    /** The oldest format version accepted: 3, what PyTorch 1.13 (and 2.x) write for plain code. */
    public static final long MIN_FORMAT_VERSION = 3;

    /** The newest format version accepted: kMaxSupportedFileFormatVersion of PyTorch 1.13 and 2.x. */
    public static final long MAX_FORMAT_VERSION = 10;

    /** The largest pickle read (data.pkl of a big model is a few MB). */
    static final long MAX_PICKLE_BYTES = 256L << 20;

    /** The largest source file read, and the largest total of all of them. */
    static final long MAX_SOURCE_BYTES = 64L << 20;

    /** The largest storage: one Java array. */
    static final long MAX_STORAGE_BYTES = Integer.MAX_VALUE - 8;

    private final Path file;
    private final String archiveName;
    private final long formatVersion;
    private final ScriptObject root;
    private final List<Object> constants;
    private final SortedMap<String, String> sources;
    private final String byteOrder;

    private TorchScriptArchive(
            Path file,
            String archiveName,
            long formatVersion,
            ScriptObject root,
            List<Object> constants,
            SortedMap<String, String> sources,
            String byteOrder) {
        this.file = file;
        this.archiveName = archiveName;
        this.formatVersion = formatVersion;
        this.root = root;
        this.constants = constants;
        this.sources = sources;
        this.byteOrder = byteOrder;
    }

    /**
     * Reads a whole archive into memory.
     *
     * @param file the {@code .pt} file {@code torch.jit.save} wrote
     * @return the archive
     * @throws TorchScriptFormatException when the file is missing, not a zip, not TorchScript, of a
     *     version or byte order not accepted, or anything in it is malformed
     */
    public static TorchScriptArchive read(Path file) throws TorchScriptFormatException {
        if (!Files.exists(file)) {
            throw TorchScriptFormatException.at(file, null, "there is no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw TorchScriptFormatException.at(file, null, "it is not a regular file (a .pt archive)");
        }
        try (ZipFile zip = new ZipFile(file.toFile(), StandardCharsets.UTF_8)) {
            return new Reading(file, zip).read();
        } catch (ZipException e) {
            throw TorchScriptFormatException.at(
                    file, null, "the file is not a readable zip archive (" + e.getMessage() + ")", e);
        } catch (TorchScriptFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) { // e.g. IllegalArgumentException for a bad entry name
            throw TorchScriptFormatException.at(
                    file, null, "the archive cannot be read (" + e + ")", e);
        }
    }

    /** One read of one zip: the entries and the helpers that read them with limits. */
    private static final class Reading {
        private final Path file;
        private final ZipFile zip;
        private String prefix;

        Reading(Path file, ZipFile zip) {
            this.file = file;
            this.zip = zip;
        }

        TorchScriptArchive read() throws IOException {
            List<String> names = new ArrayList<>();
            String top = null;
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                int slash = name.indexOf('/');
                String folder = slash <= 0 ? "" : name.substring(0, slash);
                if (folder.isEmpty()) {
                    throw TorchScriptFormatException.at(file, name,
                            "the entry is not inside the archive's one top folder, so this is not a TorchScript archive");
                }
                if (top == null) {
                    top = folder;
                } else if (!top.equals(folder)) {
                    throw TorchScriptFormatException.at(file, name, "the entry lies under " + folder
                            + "/ but the archive's first entry under " + top + "/; a TorchScript archive has one top folder");
                }
                names.add(name);
            }
            if (top == null) {
                throw TorchScriptFormatException.at(file, null, "the zip archive is empty");
            }
            prefix = top + "/";
            long version = version();
            String order = byteOrderRecord();
            if (zip.getEntry(prefix + "data.pkl") == null) {
                throw TorchScriptFormatException.at(file, null,
                        "there is no " + prefix + "data.pkl, so this is not a TorchScript archive");
            }
            SortedMap<String, String> sources = sources(names);
            if (sources.isEmpty()) {
                throw TorchScriptFormatException.at(file, null, "there is no " + prefix
                        + "code/ folder, so this is a torch.save file (tensors or a state dict), not a module saved by torch.jit.save");
            }
            Object data = pickle("data");
            if (!(data instanceof ScriptObject root)) {
                throw TorchScriptFormatException.at(file, prefix + "data.pkl",
                        "the pickle holds " + kind(data) + ", not a TorchScript module");
            }
            List<Object> constants = List.of();
            if (zip.getEntry(prefix + "constants.pkl") != null) {
                Object value = pickle("constants");
                if (!(value instanceof List<?> list)) {
                    throw TorchScriptFormatException.at(file, prefix + "constants.pkl",
                            "the pickle holds " + kind(value) + ", not the tuple of constants");
                }
                @SuppressWarnings("unchecked")
                List<Object> items = (List<Object>) list;
                constants = items;
            }
            return new TorchScriptArchive(
                    file, top, version, root, constants, Collections.unmodifiableSortedMap(sources), order);
        }

        private long version() throws IOException {
            ZipEntry dataVersion = zip.getEntry(prefix + ".data/version");
            ZipEntry plain = zip.getEntry(prefix + "version");
            if (dataVersion == null && plain == null) {
                throw TorchScriptFormatException.at(file, null,
                        "there is neither " + prefix + "version nor " + prefix + ".data/version, so this is not a TorchScript archive");
            }
            long version = -1;
            for (ZipEntry entry : new ZipEntry[] {dataVersion, plain}) {
                if (entry == null) {
                    continue;
                }
                String text = text(entry, 64).trim();
                if (!text.matches("[0-9]{1,18}")) {
                    throw TorchScriptFormatException.at(file, entry.getName(),
                            "the format version is '" + text + "', not a number");
                }
                long v = Long.parseLong(text);
                if (version >= 0 && v != version) {
                    throw TorchScriptFormatException.at(file, entry.getName(), "the format version is " + v
                            + " but " + prefix + ".data/version says " + version);
                }
                version = v;
            }
            if (version < MIN_FORMAT_VERSION || version > MAX_FORMAT_VERSION) {
                throw TorchScriptFormatException.at(file, (dataVersion != null ? dataVersion : plain).getName(),
                        "format version " + version + " is not one this reader accepts (" + MIN_FORMAT_VERSION
                                + " to " + MAX_FORMAT_VERSION + ", what PyTorch 1.13 and 2.x write and read)");
            }
            return version;
        }

        private String byteOrderRecord() throws IOException {
            ZipEntry entry = zip.getEntry(prefix + "byteorder");
            if (entry == null) {
                return null;
            }
            String order = text(entry, 16).trim();
            if (order.equals("big")) {
                throw TorchScriptFormatException.at(file, entry.getName(),
                        "the tensors are big-endian, and this reader reads little-endian archives only");
            }
            if (!order.equals("little")) {
                throw TorchScriptFormatException.at(file, entry.getName(),
                        "the byte order is '" + order + "', neither 'little' nor 'big'");
            }
            return order;
        }

        private SortedMap<String, String> sources(List<String> names) throws IOException {
            String code = prefix + "code/";
            SortedMap<String, String> sources = new TreeMap<>();
            long total = 0;
            for (String name : names) {
                if (name.startsWith(code) && name.endsWith(".py")) {
                    ZipEntry entry = zip.getEntry(name);
                    String text = text(entry, MAX_SOURCE_BYTES);
                    total += text.length();
                    if (total > MAX_SOURCE_BYTES) {
                        throw TorchScriptFormatException.at(file, name,
                                "the sources add up to more than " + MAX_SOURCE_BYTES + " bytes");
                    }
                    sources.put(name.substring(code.length()), text);
                }
            }
            return sources;
        }

        /** Reads {@code <name>.pkl}, its storages from {@code <name>/<key>}. */
        private Object pickle(String name) throws IOException {
            String entryName = prefix + name + ".pkl";
            byte[] bytes = bytes(zip.getEntry(entryName), MAX_PICKLE_BYTES);
            return PickleReader.read(bytes, file, entryName, (key, dtype, numel) -> {
                String record = prefix + name + "/" + key;
                ZipEntry entry = zip.getEntry(record);
                if (entry == null) {
                    throw TorchScriptFormatException.at(file, entryName,
                            "storage " + key + " has no record " + record);
                }
                long expected;
                try {
                    expected = Math.multiplyExact(numel, (long) TensorData.elementSize(dtype));
                } catch (ArithmeticException e) {
                    expected = Long.MAX_VALUE;
                }
                if (expected > MAX_STORAGE_BYTES) {
                    throw TorchScriptFormatException.at(file, record, "the " + dtype + " storage claims "
                            + numel + " elements, more than " + MAX_STORAGE_BYTES + " bytes (one Java array)");
                }
                if (entry.getSize() >= 0 && entry.getSize() != expected) {
                    throw TorchScriptFormatException.at(file, record, "the record holds " + entry.getSize()
                            + " bytes but " + entryName + " says " + numel + " " + dtype + " elements ("
                            + expected + " bytes)");
                }
                try {
                    byte[] storage = bytes(entry, expected);
                    if (storage.length != expected) {
                        throw TorchScriptFormatException.at(file, record, "the record holds " + storage.length
                                + " bytes but " + entryName + " says " + expected);
                    }
                    ByteBuffer buffer = ByteBuffer.wrap(storage).asReadOnlyBuffer();
                    return buffer;
                } catch (TorchScriptFormatException e) {
                    throw e;
                } catch (IOException e) {
                    throw TorchScriptFormatException.at(file, record, "the record cannot be read (" + e + ")", e);
                }
            });
        }

        private String text(ZipEntry entry, long limit) throws IOException {
            byte[] bytes = bytes(entry, limit);
            try {
                return StrictUtf8.decode(bytes);
            } catch (CharacterCodingException e) {
                throw TorchScriptFormatException.at(file, entry.getName(), "the text is not valid UTF-8");
            }
        }

        /** The entry's bytes, refused when more than {@code limit} (whatever its header claims). */
        private byte[] bytes(ZipEntry entry, long limit) throws IOException {
            if (entry.getSize() > limit) {
                throw TorchScriptFormatException.at(file, entry.getName(),
                        "the entry is " + entry.getSize() + " bytes, more than the " + limit + " this reader takes");
            }
            try (InputStream in = zip.getInputStream(entry)) {
                byte[] bytes = in.readNBytes((int) Math.min(limit, MAX_STORAGE_BYTES));
                if (in.read() >= 0) {
                    throw TorchScriptFormatException.at(file, entry.getName(),
                            "the entry holds more than the " + limit + " bytes this reader takes");
                }
                if (entry.getSize() >= 0 && bytes.length != entry.getSize()) {
                    throw TorchScriptFormatException.at(file, entry.getName(), "the entry holds "
                            + bytes.length + " bytes but the zip says " + entry.getSize() + " (truncated)");
                }
                // ZipFile checks no CRC of stored entries (torch stores them all): a flipped byte
                // in a tensor would otherwise read as a different weight.
                CRC32 crc = new CRC32();
                crc.update(bytes);
                if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc()) {
                    throw TorchScriptFormatException.at(file, entry.getName(), String.format(
                            "the entry's CRC-32 is %08x but the zip says %08x (corrupt)", crc.getValue(), entry.getCrc()));
                }
                return bytes;
            } catch (TorchScriptFormatException e) {
                throw e;
            } catch (IOException e) {
                throw TorchScriptFormatException.at(file, entry.getName(),
                        "the entry cannot be read (" + e.getMessage() + "; truncated or corrupt?)", e);
            }
        }

        private static String kind(Object value) {
            return value == null ? "None" : value instanceof List ? "a list or tuple"
                    : value instanceof Map ? "a dict" : value instanceof TensorData ? "a tensor"
                    : "a " + value.getClass().getSimpleName();
        }
    }

    /**
     * The file read.
     *
     * @return the path given to {@link #read}
     */
    public Path file() {
        return file;
    }

    /**
     * The zip's one top folder (the name the model had when saved).
     *
     * @return the folder name, without a slash
     */
    public String archiveName() {
        return archiveName;
    }

    /**
     * The archive's file format version ({@code version} or {@code .data/version}).
     *
     * @return between {@link #MIN_FORMAT_VERSION} and {@link #MAX_FORMAT_VERSION}
     */
    public long formatVersion() {
        return formatVersion;
    }

    /**
     * The root module, from {@code data.pkl}.
     *
     * @return the module tree
     */
    public ScriptObject root() {
        return root;
    }

    /**
     * The tensor constants of the code ({@code CONSTANTS.c0} is element 0), from {@code
     * constants.pkl}.
     *
     * @return an unmodifiable list, empty when the archive has no constants
     */
    public List<Object> constants() {
        return constants;
    }

    /**
     * The TorchScript source of every class: each {@code code/**.py} file as text, keyed by its path
     * under {@code code/}, e.g. {@code __torch__/torchvision/models/resnet.py}.
     *
     * @return an unmodifiable sorted map
     */
    public Map<String, String> sources() {
        return sources;
    }

    /**
     * The {@code byteorder} record that PyTorch 2.1 and later write.
     *
     * @return "little", or empty when the archive has no such record (it is then little endian)
     */
    public Optional<String> byteOrder() {
        return Optional.ofNullable(byteOrder);
    }

    @Override
    public String toString() {
        return "TorchScriptArchive[" + file + ", " + archiveName + ", version " + formatVersion + ", root "
                + root.qualifiedName() + ", " + constants.size() + " constants, " + sources.size() + " sources]";
    }
}

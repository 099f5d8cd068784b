package ai.djlquant.artifact;

import ai.djlquant.artifact.ArtifactFormat.FileFields;
import ai.djlquant.artifact.ArtifactManifest.FileEntry;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The files of an artifact directory and their checksums: what the writer records in the
 * manifest's {@code files} object, and what loading checks against it before any file is used.
 */
final class ArtifactFiles {

    private static final Pattern PLAIN_FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private ArtifactFiles() {}

    /**
     * Whether a name is a plain file name: no directory, nothing hidden, nothing to escape.
     *
     * @param name the name
     * @return whether an artifact may hold a file of that name
     */
    static boolean isPlainName(String name) {
        return PLAIN_FILE_NAME.matcher(name).matches() && name.length() <= 200;
    }

    /**
     * Computes the SHA-256 of a file.
     *
     * @param file the file
     * @return 64 lower-case hex digits
     * @throws IOException if the file cannot be read
     */
    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e); // required of every JDK
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        StringBuilder sb = new StringBuilder(64);
        for (byte b : md.digest()) {
            sb.append(String.format(Locale.ROOT, "%02x", b));
        }
        return sb.toString();
    }

    /**
     * Records the checksum and size of every file of a directory being exported (before the
     * manifest is written there).
     *
     * @param dir the directory, holding only plain files
     * @return file name to entry, sorted by name
     * @throws IOException if a file cannot be read
     */
    static Map<String, FileEntry> checksums(Path dir) throws IOException {
        List<Path> list;
        try (Stream<Path> s = Files.list(dir)) {
            list =
                    s.sorted(Comparator.comparing(p -> p.getFileName().toString()))
                            .collect(Collectors.toList());
        }
        Map<String, FileEntry> files = new LinkedHashMap<>();
        for (Path f : list) {
            files.put(f.getFileName().toString(), new FileEntry(sha256(f), Files.size(f)));
        }
        return files;
    }

    /**
     * Writes the manifest's {@code files} object.
     *
     * @param files file name to entry
     * @return the object
     */
    static JsonObject toJson(Map<String, FileEntry> files) {
        JsonObject o = new JsonObject();
        for (Map.Entry<String, FileEntry> e : files.entrySet()) {
            JsonObject f = new JsonObject();
            f.addProperty(FileFields.SHA256, e.getValue().sha256());
            f.addProperty(FileFields.BYTES, e.getValue().bytes());
            o.add(e.getKey(), f);
        }
        return o;
    }

    /**
     * Reads the manifest's {@code files} object: plain names of files other than the manifest,
     * each with a well-formed SHA-256 and size.
     *
     * @param files the object
     * @param w its place in the manifest, for messages
     * @return file name to entry
     * @throws IllegalArgumentException naming the entry that is wrong
     */
    static Map<String, FileEntry> fromJson(JsonObject files, String w) {
        Map<String, FileEntry> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : files.entrySet()) {
            String where = w + "." + e.getKey();
            if (!isPlainName(e.getKey())
                    || e.getKey().equals(ArtifactFormat.MANIFEST_FILE)
                    || e.getKey().equals(ArtifactFormat.SIGNATURE_FILE)) {
                throw new IllegalArgumentException(
                        w
                                + " lists '"
                                + e.getKey()
                                + "', which is not a plain file name of the artifact");
            }
            JsonObject o = Json.object(e.getValue(), where);
            String sha = Json.string(o, FileFields.SHA256, where);
            if (!SHA256.matcher(sha).matches()) {
                throw new IllegalArgumentException(
                        where + "." + FileFields.SHA256 + " is not 64 hex digits");
            }
            long bytes = Json.integer(o, FileFields.BYTES, where);
            if (bytes < 0) {
                throw new IllegalArgumentException(
                        where + "." + FileFields.BYTES + " is negative");
            }
            m.put(e.getKey(), new FileEntry(sha, bytes));
        }
        return m;
    }

    /**
     * Checks every listed file: present, of the recorded size, with the recorded SHA-256; and that
     * the directory holds no other file (DJL puts the jars and classes it finds in a model
     * directory on the class path, so an unlisted one would run unchecked).
     *
     * @param dir the artifact directory
     * @param files the manifest's files
     * @throws ArtifactException naming the first file that is missing, truncated, changed or not
     *     listed
     */
    static void verify(Path dir, Map<String, FileEntry> files) throws ArtifactException {
        for (Map.Entry<String, FileEntry> e : files.entrySet()) {
            verify(dir.resolve(e.getKey()), e.getValue());
        }
        checkNothingUnlisted(dir, files);
    }

    private static void verify(Path file, FileEntry want) throws ArtifactException {
        String manifest = ArtifactFormat.MANIFEST_FILE;
        if (Files.isSymbolicLink(file)) {
            throw new ArtifactException(
                    file
                            + " is a symbolic link; an artifact holds only regular files (a link"
                            + " could point outside it).");
        }
        if (Files.isDirectory(file)) {
            throw new ArtifactException(
                    file + " is a directory, where " + manifest + " lists a file.");
        }
        if (!Files.isRegularFile(file)) {
            throw new ArtifactException(
                    file + " is missing (" + manifest + " lists it with its checksum).");
        }
        long size;
        String sha;
        try {
            size = Files.size(file);
            sha = sha256(file);
        } catch (IOException ex) {
            throw new ArtifactException(file + " cannot be read: " + ex.getMessage(), ex);
        }
        if (size != want.bytes()) {
            throw new ArtifactException(
                    file
                            + (size < want.bytes() ? " is truncated: " : " has grown: ")
                            + size
                            + " bytes, "
                            + manifest
                            + " records "
                            + want.bytes()
                            + ".");
        }
        if (!sha.equals(want.sha256())) {
            throw new ArtifactException(
                    file
                            + " was changed after export: its SHA-256 is "
                            + sha
                            + ", "
                            + manifest
                            + " records "
                            + want.sha256()
                            + ".");
        }
    }

    private static void checkNothingUnlisted(Path dir, Map<String, FileEntry> files)
            throws ArtifactException {
        List<Path> unlisted;
        // the directory itself may be reached through a link; what is inside it may not
        Path root;
        try {
            root = dir.toRealPath();
        } catch (IOException e) {
            throw new ArtifactException(dir + " cannot be listed: " + e.getMessage(), e);
        }
        try (Stream<Path> walk = Files.walk(root)) {
            List<Path> all = walk.sorted().collect(Collectors.toList());
            for (Path f : all) {
                if (Files.isSymbolicLink(f)) {
                    throw new ArtifactException(
                            f
                                    + " is a symbolic link; an artifact holds only regular files"
                                    + " and directories (a link could point outside it).");
                }
            }
            unlisted =
                    all.stream()
                            .filter(f -> !Files.isDirectory(f))
                            .filter(
                                    f -> {
                                        String rel = root.relativize(f).toString();
                                        return !rel.equals(ArtifactFormat.MANIFEST_FILE)
                                                && !rel.equals(ArtifactFormat.SIGNATURE_FILE)
                                                && !files.containsKey(rel);
                                    })
                            .sorted()
                            .collect(Collectors.toList());
        } catch (IOException | UncheckedIOException e) {
            throw new ArtifactException(dir + " cannot be listed: " + e.getMessage(), e);
        }
        if (!unlisted.isEmpty()) {
            throw new ArtifactException(
                    unlisted.get(0)
                            + " is not listed in "
                            + ArtifactFormat.MANIFEST_FILE
                            + (unlisted.size() > 1
                                    ? " (nor are " + (unlisted.size() - 1) + " more files)"
                                    : "")
                            + ": an artifact holds only the files it lists with their checksums"
                            + " (a jar or class there would be loaded unchecked); remove it, or"
                            + " export again with it as an extra file.");
        }
    }
}

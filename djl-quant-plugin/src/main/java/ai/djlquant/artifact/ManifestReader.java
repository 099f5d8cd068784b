package ai.djlquant.artifact;

import ai.djlquant.artifact.ArtifactFormat.Manifest;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads {@code quantization.json} from an artifact directory as far as deciding whether this
 * library can read it at all: a bounded, strict UTF-8 file holding one JSON object whose {@code
 * format} and {@code formatVersion} are ones it knows. The fields are then read by {@link
 * ArtifactManifest}.
 */
final class ManifestReader {

    /** Far above any real manifest (a BERT-base model's is about 2 MB). */
    private static final long MAX_MANIFEST_BYTES = 64L << 20;

    private ManifestReader() {}

    /**
     * Reads and checks an artifact's manifest.
     *
     * @param dir the artifact directory
     * @return the manifest
     * @throws ArtifactException if the directory or manifest is missing, not valid JSON, of an
     *     unknown or newer format version, or lacks a field (named in the message)
     */
    static ArtifactManifest read(Path dir) throws ArtifactException {
        return read(dir, null);
    }

    /**
     * Reads and checks a directory's manifest, first checking its signature against a trusted key
     * (the bytes checked are the bytes parsed).
     *
     * @param dir the artifact directory
     * @param trusted the trusted Ed25519 public key, or null to read without a signature check
     * @return the manifest
     * @throws ArtifactException as {@link #read(Path)}, or if a trusted key is given and the
     *     artifact is unsigned or its signature does not verify
     */
    static ArtifactManifest read(Path dir, java.security.PublicKey trusted)
            throws ArtifactException {
        if (!Files.isDirectory(dir)) {
            throw new ArtifactException(
                    dir
                            + " is not a directory"
                            + (Files.exists(dir) ? "" : " (it does not exist)")
                            + "; an artifact is a model directory.");
        }
        Path file = dir.resolve(ArtifactFormat.MANIFEST_FILE);
        if (Files.isSymbolicLink(file)) {
            throw new ArtifactException(
                    file + " is a symbolic link; an artifact holds only regular files.");
        }
        if (Files.isDirectory(file)) {
            throw new ArtifactException(file + " is a directory, not the artifact's manifest.");
        }
        if (!Files.isRegularFile(file)) {
            throw new ArtifactException(
                    dir
                            + " is not a djl-quant artifact: "
                            + ArtifactFormat.MANIFEST_FILE
                            + " is missing.");
        }
        String text;
        try {
            long size = Files.size(file);
            if (size > MAX_MANIFEST_BYTES) {
                throw new ArtifactException(
                        file + " is " + size + " bytes, more than a manifest ever is ("
                                + MAX_MANIFEST_BYTES + "): it was replaced by another file.");
            }
            byte[] bytes = Files.readAllBytes(file);
            if (trusted != null) {
                ArtifactSigning.verify(dir, bytes, trusted);
            }
            text =
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(bytes))
                            .toString();
        } catch (ArtifactException e) {
            throw e;
        } catch (CharacterCodingException e) {
            throw new ArtifactException(file + " is not UTF-8 text: it was damaged.", e);
        } catch (IOException e) {
            throw new ArtifactException(file + " cannot be read: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /**
     * Parses a manifest's text.
     *
     * @param text the JSON text
     * @param where the file, for messages
     * @return the manifest
     * @throws ArtifactException if the text is not a manifest this version reads
     */
    static ArtifactManifest parse(String text, String where) throws ArtifactException {
        JsonElement root;
        try {
            root = JsonParser.parseString(text);
        } catch (JsonParseException | StackOverflowError e) {
            throw new ArtifactException(where + " is not valid JSON: " + rootMessage(e) + ".", e);
        }
        if (root == null || !root.isJsonObject()) {
            throw new ArtifactException(where + " is not a JSON object.");
        }
        JsonObject o = root.getAsJsonObject();
        checkFormat(o, where);
        try {
            return new ArtifactManifest(o);
        } catch (IllegalArgumentException e) {
            throw new ArtifactException(where + ": " + e.getMessage() + ".", e);
        }
    }

    /** The format name and a version this library reads, before any other field is looked at. */
    private static void checkFormat(JsonObject o, String where) throws ArtifactException {
        JsonElement format = o.get(Manifest.FORMAT);
        if (format == null
                || !format.isJsonPrimitive()
                || !ArtifactFormat.NAME.equals(format.getAsString())) {
            throw new ArtifactException(
                    where
                            + " is not a djl-quant artifact manifest: its field '"
                            + Manifest.FORMAT
                            + "' is "
                            + (format == null ? "missing" : format.toString())
                            + ", expected \""
                            + ArtifactFormat.NAME
                            + "\".");
        }
        long version;
        try {
            version = Json.integer(o, Manifest.FORMAT_VERSION, ArtifactFormat.MANIFEST_FILE);
        } catch (IllegalArgumentException e) {
            throw new ArtifactException(where + ": " + e.getMessage() + ".", e);
        }
        if (version > ArtifactFormat.VERSION) {
            JsonElement by = o.get(Manifest.LIBRARY_VERSION);
            throw new ArtifactException(
                    where
                            + " has format version "
                            + version
                            + ", newer than the "
                            + ArtifactFormat.VERSION
                            + " this djl-quant ("
                            + ArtifactManifest.libraryVersion()
                            + ") reads; it was written by djl-quant "
                            + (by != null && by.isJsonPrimitive() ? by.getAsString() : "(unknown)")
                            + ": load it with that version or newer.");
        }
        if (version < 1) {
            throw new ArtifactException(
                    where + " has format version " + version + ", which no djl-quant wrote.");
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.toString() : t.getMessage();
        int nl = m.indexOf('\n');
        m = nl < 0 ? m : m.substring(0, nl); // Gson adds a line with a troubleshooting link
        // Gson's advice to parse leniently is no advice for a damaged manifest
        return m.replaceAll(
                "Use JsonReader\\.set\\w+\\([^)]*\\) to accept malformed JSON",
                "malformed JSON (text after the end of the object, or a syntax error)");
    }
}

package ai.djlquant.torchscript;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A TorchScript archive cannot be read. The message is one sentence that names the archive file,
 * the entry inside it (and the byte offset or attribute where it helps) and what is wrong; when
 * this is thrown nothing was returned and nothing outside the reader changed.
 *
 * <p>It is an {@link IOException}, as {@code ArtifactException} is, so that it passes unchanged
 * through DJL's {@code Criteria.loadModel()} (which declares {@code IOException}) to the caller.
 */
public class TorchScriptFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message what is wrong and where
     */
    public TorchScriptFormatException(String message) {
        super(oneLine(message));
    }

    /**
     * Creates an exception with its cause.
     *
     * @param message what is wrong and where
     * @param cause the underlying failure
     */
    public TorchScriptFormatException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /**
     * The sentence for a problem in one entry of an archive.
     *
     * @param file the archive
     * @param entry the entry's name inside the zip, or {@code null} for the archive as a whole
     * @param what what is wrong, without a trailing full stop
     * @return the exception
     */
    static TorchScriptFormatException at(Path file, String entry, String what) {
        return new TorchScriptFormatException(where(file, entry) + what + ".");
    }

    /**
     * The sentence for a problem in one entry of an archive, with its cause.
     *
     * @param file the archive
     * @param entry the entry's name inside the zip, or {@code null} for the archive as a whole
     * @param what what is wrong, without a trailing full stop
     * @param cause the underlying failure
     * @return the exception
     */
    static TorchScriptFormatException at(Path file, String entry, String what, Throwable cause) {
        return new TorchScriptFormatException(where(file, entry) + what + ".", cause);
    }

    private static String where(Path file, String entry) {
        return "TorchScript archive " + file + (entry == null ? "" : ", entry " + entry) + ": ";
    }

    /** Messages quoted from other exceptions may span lines; ours is one. */
    private static String oneLine(String message) {
        return message == null ? null : message.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}

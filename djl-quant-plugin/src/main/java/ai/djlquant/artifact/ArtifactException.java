package ai.djlquant.artifact;

import java.io.IOException;

/**
 * An artifact cannot be written or loaded. The message is one sentence that names what is wrong and
 * where (the directory, the file, the field, the layer path); when this is thrown, nothing was
 * loaded, and an export left any earlier artifact as it was.
 *
 * <p>It is an {@link IOException}, so that it passes unchanged through DJL's {@code
 * Criteria.loadModel()} (which declares {@code IOException}) to the caller.
 */
public class ArtifactException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message what is wrong and where
     */
    public ArtifactException(String message) {
        super(oneLine(message));
    }

    /**
     * Creates an exception with its cause.
     *
     * @param message what is wrong and where
     * @param cause the underlying failure
     */
    public ArtifactException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** Messages quoted from other exceptions may span lines; ours is one. */
    private static String oneLine(String message) {
        return message == null ? null : message.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}

package ai.djlquant.torchscript;

/**
 * TorchScript source that the importer's parser does not read: one sentence naming the construct,
 * the source file (relative to the archive's {@code code/}) and the line.
 */
final class ScriptSyntaxException extends Exception {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param file the source file
     * @param line the line, 1-based
     * @param what the construct, as a noun phrase ("a while loop")
     */
    ScriptSyntaxException(String file, int line, String what) {
        super(what + " at " + file + ":" + line + " is not in the TorchScript subset the importer reads"
                + " (traced modules: assignments, calls and returns).");
    }
}

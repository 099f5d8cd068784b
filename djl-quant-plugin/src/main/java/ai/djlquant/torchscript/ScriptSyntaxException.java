package ai.djlquant.torchscript;

/**
 * TorchScript source that the importer's parser does not read: the construct, the source file
 * (relative to the archive's {@code code/}) and the line. The importer reports it, with the path
 * of the module whose class the file defines, when that module is imported.
 */
final class ScriptSyntaxException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String what;
    private final String file;
    private final int line;

    /**
     * Creates the exception.
     *
     * @param file the source file
     * @param line the line, 1-based
     * @param what the construct, as a noun phrase ("the 'while' statement")
     */
    ScriptSyntaxException(String file, int line, String what) {
        super(what + " at " + file + ":" + line + " is not in the TorchScript subset the importer"
                + " reads (traced modules: assignments, calls and returns).");
        this.what = what;
        this.file = file;
        this.line = line;
    }

    /**
     * The construct.
     *
     * @return a noun phrase
     */
    String what() {
        return what;
    }

    /**
     * Where it is.
     *
     * @return {@code file:line}
     */
    String at() {
        return file + ":" + line;
    }
}

package ai.djlquant.torchscript;

import java.util.List;
import java.util.Map;

/**
 * What the whole import reads from: the archive's classes by qualified name and its constants
 * table ({@code CONSTANTS.cN}).
 *
 * @param file the archive, for messages
 * @param classes the parsed classes by qualified name
 * @param unreadable the files that cannot be parsed, by module name ({@code __torch__.a.b}): their
 *     classes are refused when a module of theirs is imported
 * @param constants the constants, in {@code constants.pkl} order
 */
record ImportContext(
        String file,
        Map<String, ScriptClass> classes,
        Map<String, ScriptSyntaxException> unreadable,
        List<Object> constants) {

    /**
     * Why the source of a class cannot be read, if it cannot.
     *
     * @param qualifiedName the class
     * @return the parse error of the file that defines it, or null
     */
    ScriptSyntaxException unreadable(String qualifiedName) {
        int dot = qualifiedName.lastIndexOf('.');
        return dot < 0 ? null : unreadable.get(qualifiedName.substring(0, dot));
    }

    /**
     * A refusal naming the archive, the module path and the source place.
     *
     * @param modulePath the module's path in the tree ({@code layer1.0})
     * @param at {@code file:line}, or null
     * @param what what is not supported
     * @return the exception
     */
    TorchScriptFormatException refuse(String modulePath, String at, String what) {
        return new TorchScriptFormatException(
                file + ": " + what + " in module " + (modulePath.isEmpty() ? "(root)" : modulePath)
                        + (at == null ? "" : " at code/" + at) + " cannot be imported.");
    }
}

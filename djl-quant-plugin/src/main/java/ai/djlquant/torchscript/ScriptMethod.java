package ai.djlquant.torchscript;

import java.util.List;

/**
 * A method of a TorchScript class: {@code def forward(self, x: Tensor) -> Tensor:} and its body.
 *
 * @param name the method's name ({@code forward}, or {@code forward1} for a module traced twice)
 * @param parameters the parameter names after {@code self}
 * @param body the statements
 * @param file the source file, relative to {@code code/}
 * @param line the line of the {@code def}
 */
record ScriptMethod(
        String name, List<String> parameters, List<ScriptStatement> body, String file, int line) {

    /**
     * Where the method's statement is, for messages.
     *
     * @param line the statement's line
     * @return {@code file:line}
     */
    String at(int line) {
        return file + ":" + line;
    }
}

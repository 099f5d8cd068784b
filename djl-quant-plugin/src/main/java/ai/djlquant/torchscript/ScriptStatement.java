package ai.djlquant.torchscript;

import java.util.List;

/** A statement of a traced module's method: an assignment or a return. */
sealed interface ScriptStatement {

    /**
     * The physical line the statement starts on.
     *
     * @return the line, 1-based
     */
    int line();

    /**
     * {@code a = value} or {@code a, b = value} (tuple unpacking).
     *
     * @param targets the names assigned, one or more
     * @param value the value
     * @param line the line
     */
    record Assign(List<String> targets, ScriptExpr value, int line) implements ScriptStatement {}

    /**
     * {@code return value}.
     *
     * @param value the value
     * @param line the line
     */
    record Return(ScriptExpr value, int line) implements ScriptStatement {}
}

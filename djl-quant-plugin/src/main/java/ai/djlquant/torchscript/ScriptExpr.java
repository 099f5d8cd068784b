package ai.djlquant.torchscript;

import java.util.List;

/**
 * An expression of a traced module's {@code forward}, as the parser reads it. Every node keeps
 * the line it starts on, so the import can name it in a refusal.
 */
sealed interface ScriptExpr {

    /**
     * The physical line the expression starts on.
     *
     * @return the line, 1-based
     */
    int line();

    /**
     * A name: a local variable, {@code self}, or the head of a dotted name ({@code torch}).
     *
     * @param name the name
     * @param line the line
     */
    record Name(String name, int line) implements ScriptExpr {}

    /**
     * {@code target.name}.
     *
     * @param target what the attribute is read from
     * @param name the attribute
     * @param line the line
     */
    record Attribute(ScriptExpr target, String name, int line) implements ScriptExpr {}

    /**
     * A call: {@code function(args, key=value)}.
     *
     * @param function what is called
     * @param args the positional arguments
     * @param keywords the keyword arguments, in order
     * @param line the line
     */
    record Call(ScriptExpr function, List<ScriptExpr> args, List<Keyword> keywords, int line)
            implements ScriptExpr {}

    /**
     * One keyword argument.
     *
     * @param name the keyword
     * @param value the value
     */
    record Keyword(String name, ScriptExpr value) {}

    /**
     * A literal: a Long, Double, Boolean, String, or null for {@code None}.
     *
     * @param value the value
     * @param line the line
     */
    record Literal(Object value, int line) implements ScriptExpr {}

    /**
     * {@code [a, b]}.
     *
     * @param items the items
     * @param line the line
     */
    record ListExpr(List<ScriptExpr> items, int line) implements ScriptExpr {}

    /**
     * {@code (a, b)}.
     *
     * @param items the items
     * @param line the line
     */
    record TupleExpr(List<ScriptExpr> items, int line) implements ScriptExpr {}

    /**
     * {@code target[index]}.
     *
     * @param target the list or tuple
     * @param index the index
     * @param line the line
     */
    record Subscript(ScriptExpr target, ScriptExpr index, int line) implements ScriptExpr {}

    /**
     * {@code -operand}.
     *
     * @param operand the operand
     * @param line the line
     */
    record Negate(ScriptExpr operand, int line) implements ScriptExpr {}

    /**
     * The dotted name of an expression made of names and attributes ({@code torch.relu_}, {@code
     * ops.prim.NumToTensor}), or null if it is something else.
     *
     * @param e the expression
     * @return the dotted name, or null
     */
    static String dotted(ScriptExpr e) {
        if (e instanceof Name n) {
            return n.name();
        }
        if (e instanceof Attribute a) {
            String head = dotted(a.target());
            return head == null ? null : head + "." + a.name();
        }
        return null;
    }
}

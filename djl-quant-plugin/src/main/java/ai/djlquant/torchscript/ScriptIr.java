package ai.djlquant.torchscript;

import ai.djl.nn.Parameter;

import java.util.List;

/**
 * A method of an imported module after its names are resolved: locals are slots, {@code self.x}
 * is a parameter or a child module, {@code torch.op(...)} is an entry of {@link ScriptOps}. This
 * is what {@link ScriptModuleBlock} executes; everything that can be wrong with the source is
 * found while building it, before any block exists.
 */
sealed interface ScriptIr {

    /**
     * A local variable.
     *
     * @param slot its slot in the frame
     * @param name its source name, for messages
     */
    record Local(int slot, String name) implements ScriptIr {}

    /**
     * A tensor attribute of the module ({@code self.weight}, a tensor constant): a parameter of
     * the block, read through the parameter store.
     *
     * @param parameter the parameter
     */
    record Param(Parameter parameter) implements ScriptIr {}

    /**
     * A value known at import: a literal, or a non-tensor attribute or constant.
     *
     * @param value a Long, Double, Boolean, String, List or null
     */
    record Value(Object value) implements ScriptIr {}

    /**
     * {@code [a, b]} or {@code (a, b)}: both are lists at run time.
     *
     * @param items the items
     */
    record ListOf(List<ScriptIr> items) implements ScriptIr {}

    /**
     * {@code target[index]} on a list or tuple.
     *
     * @param target the list
     * @param index the index
     */
    record Index(ScriptIr target, ScriptIr index) implements ScriptIr {}

    /**
     * {@code -operand} on a number.
     *
     * @param operand the operand
     */
    record Neg(ScriptIr operand) implements ScriptIr {}

    /**
     * A call of an op of the table.
     *
     * @param name the op's name as written ({@code torch.add_})
     * @param op the implementation
     * @param args the positional arguments
     * @param keywords the keyword names
     * @param keywordValues the keyword values, in the order of {@code keywords}
     * @param at {@code file:line}
     */
    record Op(
            String name,
            ScriptOp op,
            List<ScriptIr> args,
            List<String> keywords,
            List<ScriptIr> keywordValues,
            String at)
            implements ScriptIr {}

    /**
     * A call of a child module's method.
     *
     * @param child the child's name in this module ({@code conv1}, {@code layers.0})
     * @param method the method ({@code forward}, {@code forward1})
     * @param args the arguments
     * @param at {@code file:line}
     */
    record CallChild(String child, String method, List<ScriptIr> args, String at)
            implements ScriptIr {}

    /** A statement. */
    sealed interface Step {}

    /**
     * {@code a = v} or {@code a, b = v}.
     *
     * @param slots the target slots
     * @param value the value
     * @param at {@code file:line}
     */
    record Assign(int[] slots, ScriptIr value, String at) implements Step {}

    /**
     * {@code return v}.
     *
     * @param value the value
     */
    record Return(ScriptIr value) implements Step {}

    /**
     * A compiled method.
     *
     * @param name the method's name
     * @param parameters the number of parameters after self (they take slots 0..n-1)
     * @param slots the number of local slots
     * @param body the statements
     */
    record Method(String name, int parameters, int slots, List<Step> body) {}
}

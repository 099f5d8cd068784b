package ai.djlquant.torchscript;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djlquant.torchscript.ScriptExpr.Attribute;
import ai.djlquant.torchscript.ScriptExpr.Call;
import ai.djlquant.torchscript.ScriptExpr.Keyword;
import ai.djlquant.torchscript.ScriptExpr.ListExpr;
import ai.djlquant.torchscript.ScriptExpr.Literal;
import ai.djlquant.torchscript.ScriptExpr.Name;
import ai.djlquant.torchscript.ScriptExpr.Negate;
import ai.djlquant.torchscript.ScriptExpr.Subscript;
import ai.djlquant.torchscript.ScriptExpr.TupleExpr;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves the names of one module's methods into {@link ScriptIr}: {@code x = self.conv1} binds
 * {@code x} to the child module (no statement is left), {@code w = self.weight} binds {@code w}
 * to the module's parameter, {@code CONSTANTS.cN} is the constant, every other local gets a
 * slot, and every call is either a child's method or an op of {@link ScriptOps}, checked against
 * the op's signature and literal checks. Any name, op, argument or construct it cannot resolve
 * is refused here, naming the module path and the source line.
 */
final class MethodCompiler {

    /** A child module reached from self: its path of attribute names. */
    private record ModuleRef(List<String> path) {}

    private final ImportContext context;
    private final ScriptObject module;
    private final String modulePath;
    private final NDManager manager;
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();

    /**
     * Creates a compiler for one module.
     *
     * @param context the import
     * @param module the module's object
     * @param modulePath its path in the tree, for messages
     * @param manager the manager of the parameter arrays
     */
    MethodCompiler(ImportContext context, ScriptObject module, String modulePath, NDManager manager) {
        this.context = context;
        this.module = module;
        this.modulePath = modulePath;
        this.manager = manager;
    }

    /**
     * The tensors the compiled methods read, as parameters named by their attribute (constants
     * as {@code CONSTANTS.cN}), in first-use order.
     *
     * @return the parameters
     */
    Map<String, Parameter> parameters() {
        return parameters;
    }

    /**
     * Compiles one method.
     *
     * @param m the method
     * @return the compiled method
     * @throws TorchScriptFormatException naming what cannot be resolved
     */
    ScriptIr.Method compile(ScriptMethod m) throws TorchScriptFormatException {
        Map<String, Object> scope = new HashMap<>();
        scope.put("self", new ModuleRef(List.of()));
        int slots = 0;
        for (String p : m.parameters()) {
            scope.put(p, new ScriptIr.Local(slots++, p));
        }
        List<ScriptIr.Step> body = new ArrayList<>();
        boolean returned = false;
        for (ScriptStatement s : m.body()) {
            String at = m.at(s.line());
            if (returned) {
                throw context.refuse(modulePath, at, "a statement after the return");
            }
            if (s instanceof ScriptStatement.Return r) {
                body.add(new ScriptIr.Return(value(expr(r.value(), scope, at), at)));
                returned = true;
                continue;
            }
            ScriptStatement.Assign a = (ScriptStatement.Assign) s;
            Object v = expr(a.value(), scope, at);
            if (a.targets().size() == 1
                    && (v instanceof ModuleRef
                            || v instanceof ScriptIr.Param
                            || v instanceof ScriptIr.Value)) {
                scope.put(a.targets().get(0), v); // an alias: no statement
                continue;
            }
            ScriptIr value = value(v, at);
            int[] targets = new int[a.targets().size()];
            for (int i = 0; i < targets.length; i++) {
                String name = a.targets().get(i);
                targets[i] = slots;
                scope.put(name, new ScriptIr.Local(slots++, name));
            }
            body.add(new ScriptIr.Assign(targets, value, at));
        }
        if (!returned) {
            throw context.refuse(modulePath, m.at(m.line()), "a method " + m.name()
                    + " without a return");
        }
        return new ScriptIr.Method(m.name(), m.parameters().size(), slots, List.copyOf(body));
    }

    private ScriptIr value(Object v, String at) throws TorchScriptFormatException {
        if (v instanceof ModuleRef r) {
            throw context.refuse(modulePath, at, "the module " + String.join(".", r.path())
                    + " used as a value");
        }
        return (ScriptIr) v;
    }

    /** An expression: a {@link ScriptIr}, or a {@link ModuleRef}. */
    private Object expr(ScriptExpr e, Map<String, Object> scope, String at)
            throws TorchScriptFormatException {
        if (e instanceof Literal l) {
            return new ScriptIr.Value(l.value());
        }
        if (e instanceof Name n) {
            Object v = scope.get(n.name());
            if (v == null) {
                throw context.refuse(modulePath, at, "the name '" + n.name() + "'");
            }
            return v;
        }
        if (e instanceof Attribute a) {
            return attribute(a, scope, at);
        }
        if (e instanceof Call c) {
            return call(c, scope, at);
        }
        if (e instanceof ListExpr l) {
            return list(l.items(), scope, at);
        }
        if (e instanceof TupleExpr t) {
            return list(t.items(), scope, at);
        }
        if (e instanceof Subscript s) {
            return new ScriptIr.Index(value(expr(s.target(), scope, at), at),
                    value(expr(s.index(), scope, at), at));
        }
        if (e instanceof Negate n) {
            ScriptIr v = value(expr(n.operand(), scope, at), at);
            if (v instanceof ScriptIr.Value c && c.value() instanceof Long x) {
                return new ScriptIr.Value(-x);
            }
            if (v instanceof ScriptIr.Value c && c.value() instanceof Double x) {
                return new ScriptIr.Value(-x);
            }
            return new ScriptIr.Neg(v);
        }
        throw context.refuse(modulePath, at, "the expression " + e);
    }

    private ScriptIr list(List<ScriptExpr> items, Map<String, Object> scope, String at)
            throws TorchScriptFormatException {
        List<ScriptIr> out = new ArrayList<>();
        boolean constant = true;
        for (ScriptExpr x : items) {
            ScriptIr v = value(expr(x, scope, at), at);
            constant &= v instanceof ScriptIr.Value;
            out.add(v);
        }
        if (constant) {
            List<Object> values = new ArrayList<>();
            for (ScriptIr v : out) {
                values.add(((ScriptIr.Value) v).value());
            }
            return new ScriptIr.Value(values);
        }
        return new ScriptIr.ListOf(List.copyOf(out));
    }

    private Object attribute(Attribute a, Map<String, Object> scope, String at)
            throws TorchScriptFormatException {
        if (a.target() instanceof Name n && n.name().equals("CONSTANTS")
                && !scope.containsKey("CONSTANTS")) {
            return constant(a.name(), at);
        }
        Object target = expr(a.target(), scope, at);
        if (!(target instanceof ModuleRef r)) {
            throw context.refuse(modulePath, at, "the attribute ." + a.name() + " of a value");
        }
        ScriptObject owner = objectAt(r.path(), at);
        if (!owner.attributes().containsKey(a.name())) {
            throw context.refuse(modulePath, at, "the attribute " + join(r.path(), a.name())
                    + ", which the module's data does not have");
        }
        Object v = owner.attributes().get(a.name());
        List<String> path = new ArrayList<>(r.path());
        path.add(a.name());
        if (v instanceof ScriptObject) {
            return new ModuleRef(List.copyOf(path));
        }
        if (v instanceof TensorData t) {
            if (!r.path().isEmpty()) {
                throw context.refuse(modulePath, at, "a read of the tensor " + join(r.path(),
                        a.name()) + " of a sub-module");
            }
            return new ScriptIr.Param(parameter(a.name(), t));
        }
        if (v == null || v instanceof Long || v instanceof Double || v instanceof Boolean
                || v instanceof String) {
            return new ScriptIr.Value(v);
        }
        throw context.refuse(modulePath, at, "the attribute " + join(r.path(), a.name())
                + " of type " + v.getClass().getSimpleName());
    }

    private Object constant(String name, String at) throws TorchScriptFormatException {
        int index;
        try {
            index = name.startsWith("c") ? Integer.parseInt(name.substring(1)) : -1;
        } catch (NumberFormatException e) {
            index = -1;
        }
        if (index < 0 || index >= context.constants().size()) {
            throw context.refuse(modulePath, at, "the constant CONSTANTS." + name + " (the archive"
                    + " has " + context.constants().size() + ")");
        }
        Object v = context.constants().get(index);
        if (v instanceof TensorData t) {
            return new ScriptIr.Param(parameter("CONSTANTS." + name, t));
        }
        if (v == null || v instanceof Long || v instanceof Double || v instanceof Boolean
                || v instanceof String) {
            return new ScriptIr.Value(v);
        }
        throw context.refuse(modulePath, at, "the constant CONSTANTS." + name + " of type "
                + v.getClass().getSimpleName());
    }

    private Parameter parameter(String name, TensorData t) {
        return parameters.computeIfAbsent(name, n -> Parameter.builder()
                .setName(n)
                .setType(Parameter.Type.OTHER)
                .optArray(t.toNDArray(manager))
                .optRequiresGrad(false)
                .build());
    }

    private Object call(Call c, Map<String, Object> scope, String at)
            throws TorchScriptFormatException {
        if (c.function() instanceof Attribute f) {
            Object target = f.target() instanceof Name n && n.name().equals("CONSTANTS")
                    ? null : tryModule(f.target(), scope, at);
            if (target instanceof ModuleRef r) {
                return childCall(r, f.name(), c, scope, at);
            }
        }
        String name = ScriptExpr.dotted(c.function());
        if (name == null || scope.containsKey(name.split("\\.")[0])) {
            throw context.refuse(modulePath, at, "a call of a computed function");
        }
        ScriptOps.Entry entry = ScriptOps.lookup(name);
        if (entry == null) {
            throw context.refuse(modulePath, at, "the op " + name + " (not in the importer's op"
                    + " table)");
        }
        if (c.args().size() > entry.signature().size()) {
            throw context.refuse(modulePath, at, "a call of " + name + " with " + c.args().size()
                    + " arguments (its signature has " + entry.signature().size() + ")");
        }
        List<ScriptIr> args = new ArrayList<>();
        Map<String, Object> literals = new HashMap<>();
        for (int i = 0; i < c.args().size(); i++) {
            ScriptIr v = value(expr(c.args().get(i), scope, at), at);
            args.add(v);
            if (v instanceof ScriptIr.Value lit) {
                literals.put(entry.signature().get(i), lit.value());
            }
        }
        List<String> keywords = new ArrayList<>();
        List<ScriptIr> keywordValues = new ArrayList<>();
        for (Keyword k : c.keywords()) {
            int pos = entry.signature().indexOf(k.name());
            if (pos < 0 || pos < c.args().size()) {
                throw context.refuse(modulePath, at, "the keyword " + k.name() + " of " + name);
            }
            ScriptIr v = value(expr(k.value(), scope, at), at);
            keywords.add(k.name());
            keywordValues.add(v);
            if (v instanceof ScriptIr.Value lit) {
                literals.put(k.name(), lit.value());
            }
        }
        if (entry.check() != null) {
            String problem = entry.check().problem(literals);
            if (problem != null) {
                throw context.refuse(modulePath, at, problem + " (" + name + ")");
            }
        }
        return new ScriptIr.Op(name, entry.impl(), List.copyOf(args), List.copyOf(keywords),
                List.copyOf(keywordValues), at);
    }

    /** The target as a module reference, or null when it is not one (without refusing). */
    private Object tryModule(ScriptExpr target, Map<String, Object> scope, String at)
            throws TorchScriptFormatException {
        if (target instanceof Name n) {
            Object v = scope.get(n.name());
            return v instanceof ModuleRef ? v : null;
        }
        if (target instanceof Attribute a) {
            Object inner = tryModule(a.target(), scope, at);
            if (inner instanceof ModuleRef) {
                return attribute(a, scope, at);
            }
        }
        return null;
    }

    private Object childCall(ModuleRef r, String method, Call c, Map<String, Object> scope,
            String at) throws TorchScriptFormatException {
        String child = String.join(".", r.path());
        if (r.path().isEmpty()) {
            throw context.refuse(modulePath, at, "a call of self." + method + " (a module calling"
                    + " its own method)");
        }
        if (!c.keywords().isEmpty()) {
            throw context.refuse(modulePath, at, "a call of " + child + "." + method
                    + " with keyword arguments");
        }
        ScriptObject target = objectAt(r.path(), at);
        ScriptClass cls = context.classes().get(target.qualifiedName());
        if (cls == null || !cls.methods().containsKey(method)) {
            throw context.refuse(modulePath, at, "a call of " + child + "." + method + ", which "
                    + target.qualifiedName() + " does not define in code/");
        }
        List<ScriptIr> args = new ArrayList<>();
        for (ScriptExpr x : c.args()) {
            args.add(value(expr(x, scope, at), at));
        }
        return new ScriptIr.CallChild(child, method, List.copyOf(args), at);
    }

    private ScriptObject objectAt(List<String> path, String at) throws TorchScriptFormatException {
        ScriptObject o = module;
        for (String p : path) {
            Object v = o.attributes().get(p);
            if (!(v instanceof ScriptObject s)) {
                throw context.refuse(modulePath, at, "the sub-module " + String.join(".", path));
            }
            o = s;
        }
        return o;
    }

    private static String join(List<String> path, String name) {
        return path.isEmpty() ? "self." + name : String.join(".", path) + "." + name;
    }
}

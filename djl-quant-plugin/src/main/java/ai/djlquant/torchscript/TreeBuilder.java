package ai.djlquant.torchscript;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the DJL block of a module and, recursively, of the sub-modules its methods call: a DJL
 * block where {@link LeafModules} recognises the module, a {@link ScriptSequence} where the
 * module's forward is one chain of child calls (a {@code torch.nn.Sequential}), otherwise a
 * {@link ScriptModuleBlock} whose chains {@link ChainLowering} has turned into {@link
 * ScriptSequence} children. Sub-modules no method calls are left out (their forward was never
 * traced, so there is nothing to run).
 */
final class TreeBuilder {

    private final ImportContext context;
    private final NDManager manager;

    /**
     * Creates a builder.
     *
     * @param context the import
     * @param manager the manager of the weights
     */
    TreeBuilder(ImportContext context, NDManager manager) {
        this.context = context;
        this.manager = manager;
    }

    /**
     * Builds a module's block.
     *
     * @param module the module's object
     * @param path its path in the TorchScript tree ({@code layer1.0.conv1}; empty for the root)
     * @param methods the methods its callers use, the one its forward runs first
     * @return the block, not initialised, its weights set
     * @throws TorchScriptFormatException naming the first thing that cannot be imported
     */
    Block build(ScriptObject module, String path, List<String> methods)
            throws TorchScriptFormatException {
        ScriptClass cls = context.classes().get(module.qualifiedName());
        ScriptSyntaxException unreadable = context.unreadable(module.qualifiedName());
        if (cls == null && unreadable != null) {
            throw context.refuse(path, unreadable.at(), unreadable.what()
                    + " (outside the TorchScript subset of traced modules: assignments, calls"
                    + " and returns)");
        }
        if (cls == null) {
            throw context.refuse(path, null, "the class " + module.qualifiedName()
                    + ", which has no source under code/,");
        }
        MethodCompiler compiler = new MethodCompiler(context, module, path, manager);
        Map<String, ScriptIr.Method> compiled = new LinkedHashMap<>();
        for (String m : methods) {
            ScriptMethod source = cls.methods().get(m);
            if (source == null) {
                throw context.refuse(path, cls.file() + ":" + cls.line(), "the method " + m
                        + ", which " + module.simpleName() + " does not define,");
            }
            compiled.put(m, compiler.compile(source));
        }
        Block leaf = LeafModules.recognise(compiled.values());
        if (leaf != null) {
            return leaf;
        }
        Map<String, Integer> calls = new HashMap<>();
        for (ScriptIr.Method m : compiled.values()) {
            for (ScriptIr.Step s : m.body()) {
                countCalls(s instanceof ScriptIr.Assign a ? a.value()
                        : ((ScriptIr.Return) s).value(), calls);
            }
        }
        ChainLowering.Result lowered = ChainLowering.lower(
                compiled, c -> calls.get(c) > 1 && hasTensors(objectAt(module, c)));
        if (compiler.parameters().isEmpty() && methods.size() == 1
                && lowered.children().size() == 1 && lowered.children().get(0).chain()) {
            ScriptIr.Method m = lowered.methods().get(methods.get(0));
            ScriptIr.CallChild c = onlyCall(m);
            if (m.parameters() == 1 && c != null
                    && c.args().get(0) instanceof ScriptIr.Local l && l.slot() == 0) {
                return sequence(lowered.children().get(0), module, path);
            }
        }
        ScriptModuleBlock block = new ScriptModuleBlock(module.qualifiedName(), methods.get(0),
                lowered.methods(), compiler.parameters());
        for (ChainLowering.Planned p : lowered.children()) {
            if (p.chain()) {
                block.addChild(p.name(), sequence(p, module, path));
            } else {
                ChainLowering.Site s = p.members().get(0);
                block.addChild(p.name(), build(objectAt(module, s.child()), join(path, s.child()),
                        List.copyOf(s.methods())));
            }
        }
        return block;
    }

    /**
     * The call a method is made of: {@code return c(x)}, or {@code y = c(x); return y} (how torch
     * writes a Sequential's forward); otherwise null.
     */
    private static ScriptIr.CallChild onlyCall(ScriptIr.Method m) {
        List<ScriptIr.Step> b = m.body();
        if (b.size() == 1 && b.get(0) instanceof ScriptIr.Return r
                && r.value() instanceof ScriptIr.CallChild c) {
            return c;
        }
        if (b.size() == 2 && b.get(0) instanceof ScriptIr.Assign a && a.slots().length == 1
                && a.value() instanceof ScriptIr.CallChild c
                && b.get(1) instanceof ScriptIr.Return r
                && r.value() instanceof ScriptIr.Local l && l.slot() == a.slots()[0]) {
            return c;
        }
        return null;
    }

    private ScriptSequence sequence(ChainLowering.Planned p, ScriptObject module, String path)
            throws TorchScriptFormatException {
        ScriptSequence seq = new ScriptSequence();
        for (ChainLowering.Site s : p.members()) {
            seq.add(s.name(), build(objectAt(module, s.child()), join(path, s.child()),
                    s.methods()));
        }
        return seq;
    }

    private static void countCalls(ScriptIr ir, Map<String, Integer> calls) {
        if (ir instanceof ScriptIr.CallChild c) {
            calls.merge(c.child(), 1, Integer::sum);
            c.args().forEach(x -> countCalls(x, calls));
        } else if (ir instanceof ScriptIr.Op op) {
            op.args().forEach(x -> countCalls(x, calls));
            op.keywordValues().forEach(x -> countCalls(x, calls));
        } else if (ir instanceof ScriptIr.ListOf l) {
            l.items().forEach(x -> countCalls(x, calls));
        } else if (ir instanceof ScriptIr.Index i) {
            countCalls(i.target(), calls);
            countCalls(i.index(), calls);
        } else if (ir instanceof ScriptIr.Neg n) {
            countCalls(n.operand(), calls);
        }
    }

    /** The object at a dotted child path (the compiler has checked it exists). */
    private static ScriptObject objectAt(ScriptObject module, String dotted) {
        ScriptObject o = module;
        for (String p : dotted.split("\\.")) {
            o = (ScriptObject) o.attributes().get(p);
        }
        return o;
    }

    private static boolean hasTensors(Object v) {
        if (v instanceof TensorData) {
            return true;
        }
        if (v instanceof ScriptObject o) {
            for (Object a : o.attributes().values()) {
                if (hasTensors(a)) {
                    return true;
                }
            }
        } else if (v instanceof List<?> l) {
            for (Object a : l) {
                if (hasTensors(a)) {
                    return true;
                }
            }
        } else if (v instanceof Map<?, ?> m) {
            for (Object a : m.values()) {
                if (hasTensors(a)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String join(String path, String child) {
        return path.isEmpty() ? child : path + "." + child;
    }
}

package ai.djlquant.torchscript;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Finds the straight chains of child calls in a module's methods ({@code bn1(conv1(x))}, or
 * {@code y = conv1(x)} with {@code y} read once by {@code bn1(y)}) and turns each chain of two or
 * more into one call of a {@link ScriptSequence} child, so that BatchNorm folding and ReLU fusion
 * see its members as consecutive children of a plain SequentialBlock. Inlining a local read once
 * moves its call to the place it is read; traced code has no side effects between the two that
 * this could reorder (in-place ops run out of place, see {@link ScriptOps}).
 *
 * <p>Every call of a child gets its own block ("call site"), so a stateless module traced twice
 * ({@code relu.forward} and {@code relu.forward1} in torchvision's BasicBlock) becomes two
 * blocks, each free to be fused. A child with tensors that is called more than once (shared
 * weights) keeps one block, which is never put in a chain.
 *
 * <p>Names are the TorchScript names, so paths are stable: a chain is named {@code
 * first..last} after its first and last members; a second call site of the same child gets
 * {@code ~2}, {@code ~3} appended.
 */
final class ChainLowering {

    /**
     * One child call site, or a shared child.
     *
     * @param name its name among the module's children
     * @param child the TorchScript child it calls ({@code conv1}, {@code layers.0})
     * @param methods the methods called on it; the first is the one its forward runs
     */
    record Site(String name, String child, List<String> methods) {}

    /**
     * A child of the lowered module: a single call site or a chain of them.
     *
     * @param name the child's name
     * @param members one site, or the chain's sites in call order
     * @param chain whether it is a chain
     */
    record Planned(String name, List<Site> members, boolean chain) {}

    /**
     * The lowered module.
     *
     * @param methods the methods, their child calls naming {@link Planned} children
     * @param children the children, in first-call order
     */
    record Result(Map<String, ScriptIr.Method> methods, List<Planned> children) {}

    private final Predicate<String> shared;
    private final List<Planned> children = new ArrayList<>();
    private final Map<String, Planned> sharedSites = new HashMap<>();
    private final Set<String> names = new HashSet<>();

    private ChainLowering(Predicate<String> shared) {
        this.shared = shared;
    }

    /**
     * Lowers a module's methods.
     *
     * @param methods the compiled methods, entry first
     * @param shared whether a TorchScript child keeps one block for all its calls
     * @return the lowered methods and the children to build
     */
    static Result lower(Map<String, ScriptIr.Method> methods, Predicate<String> shared) {
        ChainLowering l = new ChainLowering(shared);
        Map<String, ScriptIr.Method> out = new LinkedHashMap<>();
        for (ScriptIr.Method m : methods.values()) {
            out.put(m.name(), l.method(m));
        }
        return new Result(out, List.copyOf(l.children));
    }

    private ScriptIr.Method method(ScriptIr.Method m) {
        int[] reads = new int[m.slots()];
        for (ScriptIr.Step s : m.body()) {
            count(s instanceof ScriptIr.Assign a ? a.value() : ((ScriptIr.Return) s).value(), reads);
        }
        Map<Integer, ScriptIr.CallChild> defs = new HashMap<>();
        for (ScriptIr.Step s : m.body()) {
            if (s instanceof ScriptIr.Assign a && a.slots().length == 1
                    && a.value() instanceof ScriptIr.CallChild c && chainable(c)
                    && reads[a.slots()[0]] == 1) {
                defs.put(a.slots()[0], c);
            }
        }
        Set<Integer> inlined = new HashSet<>();
        List<ScriptIr> values = new ArrayList<>();
        for (ScriptIr.Step s : m.body()) {
            ScriptIr v = s instanceof ScriptIr.Assign a ? a.value() : ((ScriptIr.Return) s).value();
            values.add(inline(v, defs, inlined));
        }
        List<ScriptIr.Step> body = new ArrayList<>();
        for (int i = 0; i < m.body().size(); i++) {
            ScriptIr.Step s = m.body().get(i);
            if (s instanceof ScriptIr.Assign a) {
                if (a.slots().length == 1 && inlined.contains(a.slots()[0])) {
                    continue;
                }
                body.add(new ScriptIr.Assign(a.slots(), plan(values.get(i)), a.at()));
            } else {
                body.add(new ScriptIr.Return(plan(values.get(i))));
            }
        }
        return new ScriptIr.Method(m.name(), m.parameters(), m.slots(), List.copyOf(body));
    }

    private boolean chainable(ScriptIr.CallChild c) {
        return c.args().size() == 1 && !shared.test(c.child());
    }

    private static void count(ScriptIr ir, int[] reads) {
        if (ir instanceof ScriptIr.Local l) {
            reads[l.slot()]++;
        } else if (ir instanceof ScriptIr.Op op) {
            op.args().forEach(x -> count(x, reads));
            op.keywordValues().forEach(x -> count(x, reads));
        } else if (ir instanceof ScriptIr.CallChild c) {
            c.args().forEach(x -> count(x, reads));
        } else if (ir instanceof ScriptIr.ListOf l) {
            l.items().forEach(x -> count(x, reads));
        } else if (ir instanceof ScriptIr.Index i) {
            count(i.target(), reads);
            count(i.index(), reads);
        } else if (ir instanceof ScriptIr.Neg n) {
            count(n.operand(), reads);
        }
    }

    /** Pulls a once-read call into the chainable call that reads it. */
    private ScriptIr inline(ScriptIr ir, Map<Integer, ScriptIr.CallChild> defs, Set<Integer> done) {
        if (ir instanceof ScriptIr.CallChild c) {
            List<ScriptIr> args = new ArrayList<>();
            for (ScriptIr a : c.args()) {
                if (chainable(c) && a instanceof ScriptIr.Local l && defs.containsKey(l.slot())) {
                    done.add(l.slot());
                    args.add(inline(defs.get(l.slot()), defs, done));
                } else {
                    args.add(inline(a, defs, done));
                }
            }
            return new ScriptIr.CallChild(c.child(), c.method(), List.copyOf(args), c.at());
        }
        return map(ir, x -> inline(x, defs, done));
    }

    /** Replaces child calls by calls of planned children, chains first. */
    private ScriptIr plan(ScriptIr ir) {
        if (ir instanceof ScriptIr.CallChild c) {
            List<ScriptIr.CallChild> members = new ArrayList<>();
            ScriptIr cur = c;
            while (cur instanceof ScriptIr.CallChild x && chainable(x)) {
                members.add(0, x);
                cur = x.args().get(0);
            }
            if (members.size() >= 2) {
                ScriptIr input = plan(cur);
                List<Site> sites = new ArrayList<>();
                Set<String> local = new HashSet<>();
                for (ScriptIr.CallChild x : members) {
                    sites.add(new Site(unique(x.child(), local), x.child(), List.of(x.method())));
                }
                String name = unique(members.get(0).child() + ".."
                        + members.get(members.size() - 1).child(), names);
                children.add(new Planned(name, List.copyOf(sites), true));
                return new ScriptIr.CallChild(name, "forward", List.of(input), c.at());
            }
            List<ScriptIr> args = new ArrayList<>();
            for (ScriptIr a : c.args()) {
                args.add(plan(a));
            }
            return new ScriptIr.CallChild(site(c), c.method(), List.copyOf(args), c.at());
        }
        return map(ir, this::plan);
    }

    private String site(ScriptIr.CallChild c) {
        if (shared.test(c.child())) {
            Planned p = sharedSites.get(c.child());
            if (p == null) {
                String name = unique(c.child(), names);
                p = new Planned(name, List.of(new Site(name, c.child(), new ArrayList<>())), false);
                sharedSites.put(c.child(), p);
                children.add(p);
            }
            List<String> methods = p.members().get(0).methods();
            if (!methods.contains(c.method())) {
                methods.add(c.method());
            }
            return p.name();
        }
        String name = unique(c.child(), names);
        children.add(new Planned(name, List.of(new Site(name, c.child(), List.of(c.method()))),
                false));
        return name;
    }

    private static String unique(String base, Set<String> taken) {
        String name = base;
        for (int i = 2; !taken.add(name); i++) {
            name = base + "~" + i;
        }
        return name;
    }

    private interface Rewrite {
        ScriptIr apply(ScriptIr ir);
    }

    private static ScriptIr map(ScriptIr ir, Rewrite f) {
        if (ir instanceof ScriptIr.Op op) {
            List<ScriptIr> args = new ArrayList<>();
            op.args().forEach(x -> args.add(f.apply(x)));
            List<ScriptIr> kw = new ArrayList<>();
            op.keywordValues().forEach(x -> kw.add(f.apply(x)));
            return new ScriptIr.Op(op.name(), op.op(), List.copyOf(args), op.keywords(),
                    List.copyOf(kw), op.at());
        }
        if (ir instanceof ScriptIr.CallChild c) {
            List<ScriptIr> args = new ArrayList<>();
            c.args().forEach(x -> args.add(f.apply(x)));
            return new ScriptIr.CallChild(c.child(), c.method(), List.copyOf(args), c.at());
        }
        if (ir instanceof ScriptIr.ListOf l) {
            List<ScriptIr> items = new ArrayList<>();
            l.items().forEach(x -> items.add(f.apply(x)));
            return new ScriptIr.ListOf(List.copyOf(items));
        }
        if (ir instanceof ScriptIr.Index i) {
            return new ScriptIr.Index(f.apply(i.target()), f.apply(i.index()));
        }
        if (ir instanceof ScriptIr.Neg n) {
            return new ScriptIr.Neg(f.apply(n.operand()));
        }
        return ir;
    }
}

package ai.djlquant.torchscript;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.annotations.Internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An imported TorchScript module that is not one of DJL's own blocks: it executes its traced
 * methods ({@link ScriptIr}) statement by statement with DJL NDArray operations from {@link
 * ScriptOps}, reads its own tensors as parameters, and calls its sub-modules, which are its
 * registered children.
 *
 * <p>A child is looked up in the children list by its key at every call, never kept in a field:
 * when {@code BlockRewriter} puts an int8 block in a child's place, the next forward calls the
 * replacement.
 *
 * <p>Initialisation runs the forward once on zeros of the input shapes, initialising each child
 * with the shapes of the arrays it is first called with (the TorchScript source records no
 * shapes). Output shapes are found the same way and kept per input shapes.
 */
@Internal
public final class ScriptModuleBlock extends AbstractBlock {

    private static final byte VERSION = 1;

    private final String className;
    private final String entry;
    private final Map<String, ScriptIr.Method> methods;
    private final Map<String, String> childKeys = new LinkedHashMap<>();
    private final Map<List<Shape>, Shape[]> outputShapes = new HashMap<>();
    private DataType[] inputTypes;
    private NDManager initializing;

    /**
     * Creates the block.
     *
     * @param className the TorchScript class, for descriptions
     * @param entry the method {@link #forward} runs
     * @param methods the compiled methods
     * @param parameters the module's tensors
     */
    ScriptModuleBlock(
            String className,
            String entry,
            Map<String, ScriptIr.Method> methods,
            Map<String, Parameter> parameters) {
        super(VERSION);
        this.className = className;
        this.entry = entry;
        this.methods = Map.copyOf(methods);
        for (Parameter p : parameters.values()) {
            addParameter(p);
        }
    }

    /**
     * Registers a child under the name the methods call it by.
     *
     * @param name the name
     * @param block the child
     */
    void addChild(String name, Block block) {
        // the TorchScript name itself, without addChildBlock's "01" prefix: paths read as the
        // module's (layer1/0/conv1), and a child "0" does not become "010"
        children.add(name, block);
        childKeys.put(name, name);
    }

    /**
     * Sets the data types of the inputs used when this block probes its own forward (default
     * float32 for every input).
     *
     * @param types the types, one per input
     */
    void setInputTypes(DataType[] types) {
        this.inputTypes = types.clone();
    }

    /**
     * The TorchScript class this block runs.
     *
     * @return the qualified class name
     */
    public String getClassName() {
        return className;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDManager manager = inputs.isEmpty() ? null : inputs.head().getManager();
        Object out = invoke(entry, parameterStore, new ArrayList<>(inputs), training, manager);
        return toList(out);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape[] known = outputShapes.get(Arrays.asList(inputShapes));
        if (known != null) {
            return known;
        }
        try (NDManager m = NDManager.newBaseManager()) {
            return probe(m, inputShapes);
        }
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {
        initializing = manager;
        try (NDManager m = manager.newSubManager()) {
            probe(m, shapes);
        } finally {
            initializing = null;
        }
    }

    private Shape[] probe(NDManager m, Shape[] shapes) {
        NDList in = new NDList();
        for (int i = 0; i < shapes.length; i++) {
            DataType t = inputTypes != null && i < inputTypes.length
                    ? inputTypes[i] : DataType.FLOAT32;
            in.add(m.zeros(shapes[i], t));
        }
        NDList out = toList(invoke(entry, new ParameterStore(m, false), new ArrayList<>(in),
                false, m));
        Shape[] result = out.getShapes();
        outputShapes.put(List.copyOf(Arrays.asList(shapes)), result);
        return result;
    }

    /**
     * Runs a method.
     *
     * @param name the method
     * @param ps the parameter store
     * @param args the arguments
     * @param training whether in training (the imported ops are inference ops)
     * @param manager the manager of the arrays the call makes
     * @return the method's result
     */
    Object invoke(String name, ParameterStore ps, List<Object> args, boolean training,
            NDManager manager) {
        ScriptIr.Method m = methods.get(name);
        if (m == null || args.size() != m.parameters()) {
            throw new IllegalArgumentException(className + "." + name + " takes "
                    + (m == null ? "no such method" : m.parameters() + " inputs") + ", got "
                    + args.size() + ".");
        }
        Object[] frame = new Object[m.slots()];
        for (int i = 0; i < args.size(); i++) {
            frame[i] = args.get(i);
        }
        Frame f = new Frame(frame, ps, training, manager);
        for (ScriptIr.Step s : m.body()) {
            if (s instanceof ScriptIr.Return r) {
                return eval(r.value(), f);
            }
            ScriptIr.Assign a = (ScriptIr.Assign) s;
            Object v = eval(a.value(), f);
            if (a.slots().length == 1) {
                frame[a.slots()[0]] = v;
            } else {
                List<?> items = v instanceof NDList l ? l : v instanceof List<?> l ? l : null;
                if (items == null || items.size() != a.slots().length) {
                    throw new IllegalArgumentException("at " + a.at() + ": cannot unpack "
                            + OpCall.describe(v) + " into " + a.slots().length + " names.");
                }
                for (int i = 0; i < a.slots().length; i++) {
                    frame[a.slots()[i]] = items.get(i);
                }
            }
        }
        throw new IllegalStateException(className + "." + name + " has no return.");
    }

    private record Frame(Object[] slots, ParameterStore ps, boolean training, NDManager manager) {}

    private Object eval(ScriptIr ir, Frame f) {
        if (ir instanceof ScriptIr.Local l) {
            return f.slots()[l.slot()];
        }
        if (ir instanceof ScriptIr.Value v) {
            return v.value();
        }
        if (ir instanceof ScriptIr.Param p) {
            NDArray a = p.parameter().getArray();
            return f.manager() == null ? a : f.ps().getValue(p.parameter(),
                    f.manager().getDevice(), f.training());
        }
        if (ir instanceof ScriptIr.Op op) {
            return op(op, f);
        }
        if (ir instanceof ScriptIr.CallChild c) {
            return callChild(c, f);
        }
        if (ir instanceof ScriptIr.ListOf l) {
            List<Object> out = new ArrayList<>(l.items().size());
            for (ScriptIr x : l.items()) {
                out.add(eval(x, f));
            }
            return out;
        }
        if (ir instanceof ScriptIr.Index i) {
            Object target = eval(i.target(), f);
            long index = ScriptValues.toLong(eval(i.index(), f),
                    () -> new IllegalArgumentException("a list index that is not an int"));
            List<?> items = (List<?>) target;
            return items.get((int) (index < 0 ? index + items.size() : index));
        }
        ScriptIr.Neg n = (ScriptIr.Neg) ir;
        Object v = eval(n.operand(), f);
        if (v instanceof Long x) {
            return -x;
        }
        if (v instanceof Double x) {
            return -x;
        }
        return ((NDArray) v).neg();
    }

    private Object op(ScriptIr.Op op, Frame f) {
        List<Object> args = new ArrayList<>(op.args().size());
        NDManager manager = f.manager();
        for (ScriptIr x : op.args()) {
            Object v = eval(x, f);
            if (manager == null && v instanceof NDArray a) {
                manager = a.getManager();
            }
            args.add(v);
        }
        List<Object> kw = new ArrayList<>(op.keywordValues().size());
        for (ScriptIr x : op.keywordValues()) {
            kw.add(eval(x, f));
        }
        Object out;
        try {
            out = op.op().apply(new OpCall(op.name(), args, op.keywords(), kw, manager, op.at()));
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalStateException(op.name() + " at " + op.at() + " failed: "
                    + e.getMessage(), e);
        }
        if (out instanceof NDArray a && manager != null && a.getManager() != manager) {
            a.attach(manager); // results of ops on parameters would otherwise live with the model
        }
        return out;
    }

    private Object callChild(ScriptIr.CallChild c, Frame f) {
        Block child = children.get(childKeys.get(c.child()));
        List<Object> args = new ArrayList<>(c.args().size());
        for (ScriptIr x : c.args()) {
            args.add(eval(x, f));
        }
        if (initializing != null && !child.isInitialized()) {
            Shape[] shapes = new Shape[args.size()];
            DataType[] types = new DataType[args.size()];
            for (int i = 0; i < shapes.length; i++) {
                NDArray a = tensorArg(c, args.get(i));
                shapes[i] = a.getShape();
                types[i] = a.getDataType();
            }
            if (child instanceof ScriptModuleBlock s) {
                s.setInputTypes(types);
            }
            child.initialize(initializing, DataType.FLOAT32, shapes);
        }
        if (child instanceof ScriptModuleBlock s) {
            return s.invoke(c.method(), f.ps(), args, f.training(), f.manager());
        }
        NDList in = new NDList(args.size());
        for (Object a : args) {
            in.add(tensorArg(c, a));
        }
        NDList out = child.forward(f.ps(), in, f.training());
        return out.size() == 1 ? out.head() : new ArrayList<Object>(out);
    }

    private static NDArray tensorArg(ScriptIr.CallChild c, Object a) {
        if (a instanceof NDArray x) {
            return x;
        }
        throw new IllegalArgumentException("at " + c.at() + ": " + c.child() + "." + c.method()
                + " is called with " + OpCall.describe(a) + ", not a tensor.");
    }

    private NDList toList(Object out) {
        if (out instanceof NDArray a) {
            return new NDList(a);
        }
        if (out == null) {
            return new NDList();
        }
        if (out instanceof List<?> l) {
            NDList r = new NDList(l.size());
            for (Object o : l) {
                if (!(o instanceof NDArray a)) {
                    throw new IllegalArgumentException(className + "." + entry + " returns "
                            + OpCall.describe(o) + " among its outputs, not a tensor.");
                }
                r.add(a);
            }
            return r;
        }
        throw new IllegalArgumentException(className + "." + entry + " returns "
                + OpCall.describe(out) + ", not a tensor.");
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "ScriptModuleBlock(" + className + ")";
    }
}

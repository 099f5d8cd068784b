package ai.djlquant.torchscript;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Recognises the modules that become DJL's own blocks, by what their traced methods compute
 * (not by class name, which a user's subclass or torch's name mangling can change): a method
 * that is one call of the op on its input and its own tensors, with every other argument a
 * literal.
 *
 * <ul>
 *   <li>{@code torch.linear(x, weight, bias)} is a {@link Linear} of {@code weight.shape[0]}
 *       units;
 *   <li>{@code torch._convolution(x, weight, bias, stride, padding, dilation, False, ..., groups,
 *       ...)} with one or two spatial dimensions is a {@link Conv1d} or {@link Conv2d};
 *   <li>{@code torch.batch_norm(x, weight, bias, mean, var, False, momentum, eps, ...)} is a
 *       {@link BatchNorm} on axis 1;
 *   <li>{@code torch.relu(x)} / {@code relu_} is {@link Activation#reluBlock()}, the very block
 *       ReLU fusion looks for;
 *   <li>{@code torch.hardtanh(x, 0., 6.)} / {@code hardtanh_} (what {@code nn.ReLU6} and {@code
 *       F.relu6} trace to) and {@code torch.relu6(x)} are {@link Activation#relu6Block()}, the
 *       block ReLU fusion recognises as ReLU6; a hardtanh with other bounds stays a script module.
 * </ul>
 *
 * These are the blocks the quantizer and its transforms recognise; every other module (LayerNorm,
 * embeddings, the other activations, pooling) stays a {@link ScriptModuleBlock}, which runs the
 * same aten op through {@link ScriptOps}. Weights are the archive's tensors, set as the blocks'
 * parameter arrays before initialisation.
 */
final class LeafModules {

    private LeafModules() {}

    /**
     * The DJL block for a module whose methods all compute the same standard layer, or null.
     *
     * @param methods the module's compiled methods (those its callers use)
     * @return the block with its weights set, or null
     */
    static Block recognise(Collection<ScriptIr.Method> methods) {
        Block found = null;
        String signature = null;
        for (ScriptIr.Method m : methods) {
            ScriptIr.Op op = singleOp(m);
            if (op == null) {
                return null;
            }
            String s = op.name() + op.args() + op.keywords();
            if (signature != null && !signature.equals(s)) {
                return null;
            }
            signature = s;
            if (found == null) {
                found = block(op);
                if (found == null) {
                    return null;
                }
            }
        }
        return found;
    }

    /** The op of a method that is {@code return op(x, ...)} or {@code y = op(x, ...); return y}. */
    private static ScriptIr.Op singleOp(ScriptIr.Method m) {
        if (m.parameters() != 1) {
            return null;
        }
        List<ScriptIr.Step> b = m.body();
        if (b.size() == 1 && b.get(0) instanceof ScriptIr.Return r && r.value() instanceof ScriptIr.Op op) {
            return op;
        }
        if (b.size() == 2
                && b.get(0) instanceof ScriptIr.Assign a
                && a.slots().length == 1
                && a.value() instanceof ScriptIr.Op op
                && b.get(1) instanceof ScriptIr.Return r
                && r.value() instanceof ScriptIr.Local l
                && l.slot() == a.slots()[0]) {
            return op;
        }
        return null;
    }

    private static Block block(ScriptIr.Op op) {
        if (!op.keywords().isEmpty()) {
            return null;
        }
        List<ScriptIr> a = op.args();
        switch (op.name()) {
            case "torch.relu":
            case "torch.relu_":
                return a.size() == 1 && isInput(a.get(0)) ? Activation.reluBlock() : null;
            case "torch.relu6":
            case "torch.relu6_":
                return a.size() == 1 && isInput(a.get(0)) ? Activation.relu6Block() : null;
            case "torch.hardtanh":
            case "torch.hardtanh_":
                return a.size() == 3
                                && isInput(a.get(0))
                                && isNumber(a.get(1), 0.0)
                                && isNumber(a.get(2), 6.0)
                        ? Activation.relu6Block()
                        : null;
            case "torch.linear":
                return linear(a);
            case "torch._convolution":
                return convolution(a);
            case "torch.batch_norm":
                return batchNorm(a);
            default:
                return null;
        }
    }

    private static Block linear(List<ScriptIr> a) {
        if (a.size() < 2 || a.size() > 3 || !isInput(a.get(0))) {
            return null;
        }
        NDArray w = tensor(a.get(1));
        NDArray b = a.size() == 3 ? tensor(a.get(2)) : null;
        if (w == null || w.getShape().dimension() != 2
                || (a.size() == 3 && b == null && !isNone(a.get(2)))) {
            return null;
        }
        Linear l = Linear.builder().setUnits(w.getShape().get(0)).optBias(b != null).build();
        set(l, "weight", w);
        if (b != null) {
            set(l, "bias", b);
        }
        return l;
    }

    private static Block convolution(List<ScriptIr> a) {
        if (a.size() != 13 || !isInput(a.get(0))) {
            return null;
        }
        NDArray w = tensor(a.get(1));
        NDArray b = tensor(a.get(2));
        long[] stride = longs(a.get(3));
        long[] padding = longs(a.get(4));
        long[] dilation = longs(a.get(5));
        Object transposed = literal(a.get(6));
        Object groups = literal(a.get(8));
        if (w == null || (b == null && !isNone(a.get(2))) || stride == null || padding == null
                || dilation == null || !Boolean.FALSE.equals(transposed)
                || !(groups instanceof Long g)) {
            return null;
        }
        int spatial = stride.length;
        if ((spatial != 1 && spatial != 2) || padding.length != spatial
                || dilation.length != spatial || w.getShape().dimension() != spatial + 2) {
            return null;
        }
        Shape kernel = w.getShape().slice(2);
        int filters = (int) w.getShape().get(0);
        Block conv = spatial == 1
                ? Conv1d.builder().setKernelShape(kernel).optStride(new Shape(stride))
                        .optPadding(new Shape(padding)).optDilation(new Shape(dilation))
                        .optGroups(g.intValue()).setFilters(filters).optBias(b != null).build()
                : Conv2d.builder().setKernelShape(kernel).optStride(new Shape(stride))
                        .optPadding(new Shape(padding)).optDilation(new Shape(dilation))
                        .optGroups(g.intValue()).setFilters(filters).optBias(b != null).build();
        set(conv, "weight", w);
        if (b != null) {
            set(conv, "bias", b);
        }
        return conv;
    }

    private static Block batchNorm(List<ScriptIr> a) {
        if (a.size() != 9 || !isInput(a.get(0))) {
            return null;
        }
        NDArray w = tensor(a.get(1));
        NDArray b = tensor(a.get(2));
        NDArray mean = tensor(a.get(3));
        NDArray var = tensor(a.get(4));
        Object training = literal(a.get(5));
        Object momentum = literal(a.get(6));
        Object eps = literal(a.get(7));
        if (w == null || b == null || mean == null || var == null
                || !Boolean.FALSE.equals(training) || !(eps instanceof Double e)) {
            return null;
        }
        BatchNorm bn = BatchNorm.builder()
                .optAxis(1)
                .optEpsilon(e.floatValue())
                .optMomentum(momentum instanceof Double m ? m.floatValue() : 0.1f)
                .build();
        set(bn, "gamma", w);
        set(bn, "beta", b);
        set(bn, "runningMean", mean);
        set(bn, "runningVar", var);
        return bn;
    }

    private static void set(Block block, String name, NDArray array) {
        Parameter p = Objects.requireNonNull(block.getDirectParameters().get(name), name);
        p.setArray(array);
    }

    private static boolean isInput(ScriptIr ir) {
        return ir instanceof ScriptIr.Local l && l.slot() == 0;
    }

    /** Whether {@code ir} is the literal number {@code value} (a float or an int constant). */
    private static boolean isNumber(ScriptIr ir, double value) {
        return ir instanceof ScriptIr.Value v
                && (v.value() instanceof Double || v.value() instanceof Long)
                && ((Number) v.value()).doubleValue() == value;
    }

    private static boolean isNone(ScriptIr ir) {
        return ir instanceof ScriptIr.Value v && v.value() == null;
    }

    private static NDArray tensor(ScriptIr ir) {
        return ir instanceof ScriptIr.Param p ? p.parameter().getArray() : null;
    }

    private static Object literal(ScriptIr ir) {
        return ir instanceof ScriptIr.Value v ? v.value() : "(computed)";
    }

    private static long[] longs(ScriptIr ir) {
        if (!(ir instanceof ScriptIr.Value v) || !(v.value() instanceof List<?> l)) {
            return null;
        }
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Long x)) {
                return null;
            }
            out[i] = x;
        }
        return out;
    }
}

package ai.djlquant.torchscript;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.pooling.Pool;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The op table: every function a traced forward may call ({@code torch.<op>}, {@code
 * ops.prim.*}, {@code int}, {@code float}, {@code torch.device}), with its aten argument names and
 * the checks that can be made at import on literal arguments. An op not in the table, an argument
 * name its signature does not have, or a literal a check refuses is found while the importer
 * builds the method (see {@link MethodCompiler}), not when it runs.
 *
 * <p>Ops run on DJL NDArrays of the PyTorch engine, each the aten op DJL exposes where there is
 * one ({@code conv}, {@code batch_norm}, {@code linear}, {@code layer_norm}, {@code embedding},
 * {@code matmul}, {@code softmax}, pooling, {@code gelu}), so an imported forward computes what
 * libtorch computes. Activations aten has but DJL does not are composed from their definitions:
 * {@code hardswish(x) = x * min(max(x + 3, 0), 6) / 6}, {@code hardsigmoid(x) = min(max(x + 3, 0),
 * 6) / 6}, {@code silu(x) = x * sigmoid(x)}; these round differently from libtorch's fused
 * kernels by a few ulps. In-place variants ({@code relu_}, {@code add_}, ...) run out of place:
 * traced code only uses their results.
 */
final class ScriptOps {

    /**
     * One op.
     *
     * @param signature the aten argument names, in order
     * @param check refuses literal arguments the implementation does not cover, or null
     * @param impl the implementation
     */
    record Entry(List<String> signature, LiteralCheck check, ScriptOp impl) {}

    /** A check of the literal arguments of a call, made at import. */
    @FunctionalInterface
    interface LiteralCheck {
        /**
         * Checks the arguments known at import.
         *
         * @param literals argument name to value, for the arguments that are literals
         * @return what is not supported, or null
         */
        String problem(Map<String, Object> literals);
    }

    private static final Object ABSENT = new Object();

    private static final Map<String, Entry> TABLE = new LinkedHashMap<>();

    static {
        for (String n : List.of("relu", "relu_")) {
            op(n, "self", c -> Activation.relu(c.tensor(0, "self")));
        }
        for (String n : List.of("hardtanh", "hardtanh_")) {
            op(n, List.of("self", "min_val", "max_val"), null,
                    c -> c.tensor(0, "self").clip(c.doubleValue(1, "min_val", -1.0),
                            c.doubleValue(2, "max_val", 1.0)));
        }
        for (String n : List.of("hardswish", "hardswish_")) {
            op(n, "self", c -> {
                NDArray x = c.tensor(0, "self");
                return x.mul(x.add(3f).clip(0f, 6f)).div(6f);
            });
        }
        for (String n : List.of("hardsigmoid", "hardsigmoid_")) {
            op(n, "self", c -> c.tensor(0, "self").add(3f).clip(0f, 6f).div(6f));
        }
        for (String n : List.of("silu", "silu_")) {
            op(n, "self", c -> {
                NDArray x = c.tensor(0, "self");
                return x.mul(Activation.sigmoid(x));
            });
        }
        for (String n : List.of("sigmoid", "sigmoid_")) {
            op(n, "self", c -> Activation.sigmoid(c.tensor(0, "self")));
        }
        for (String n : List.of("tanh", "tanh_")) {
            op(n, "self", c -> c.tensor(0, "self").tanh());
        }
        op("gelu", List.of("self", "approximate"),
                l -> isAbsentOr(l, "approximate", "none") ? null
                        : "gelu with approximate=" + l.get("approximate"),
                c -> Activation.gelu(c.tensor(0, "self")));
        op("neg", "self", c -> c.tensor(0, "self").neg());
        op("sqrt", "self", c -> c.tensor(0, "self").sqrt());
        op("exp", "self", c -> c.tensor(0, "self").exp());
        op("erf", "self", c -> c.tensor(0, "self").erf());
        op("pow", List.of("self", "exponent"), null, c -> {
            Object e = c.get(1, "exponent");
            return e instanceof NDArray a ? c.tensor(0, "self").pow(a)
                    : c.tensor(0, "self").pow((Number) e);
        });
        for (String n : List.of("add", "add_")) {
            op(n, List.of("self", "other", "alpha"), null, c -> addSub(c, 1));
        }
        for (String n : List.of("sub", "sub_")) {
            op(n, List.of("self", "other", "alpha"), null, c -> addSub(c, -1));
        }
        op("rsub", List.of("self", "other", "alpha"), null, c -> {
            Object a = c.get(0, "self");
            Object b = c.get(1, "other");
            Object scaled = times(a, c.get(2, "alpha", 1L), c);
            return plus(b, times(scaled, -1L, c), c);
        });
        for (String n : List.of("mul", "mul_")) {
            op(n, List.of("self", "other"), null,
                    c -> times(c.get(0, "self"), c.get(1, "other"), c));
        }
        for (String n : List.of("div", "div_")) {
            op(n, List.of("self", "other", "rounding_mode"),
                    l -> isAbsentOr(l, "rounding_mode", null) ? null
                            : "div with rounding_mode=" + l.get("rounding_mode"),
                    ScriptOps::divide);
        }
        op("matmul", List.of("self", "other"), null,
                c -> c.tensor(0, "self").matMul(c.tensor(1, "other")));
        op("softmax", List.of("self", "dim", "dtype"), ScriptOps::noDtype,
                c -> c.tensor(0, "self").softmax((int) c.longValue(1, "dim", null)));
        op("log_softmax", List.of("self", "dim", "dtype"), ScriptOps::noDtype,
                c -> c.tensor(0, "self").logSoftmax((int) c.longValue(1, "dim", null)));
        op("transpose", List.of("self", "dim0", "dim1"), null, c -> {
            NDArray x = c.tensor(0, "self");
            int r = x.getShape().dimension();
            return x.swapAxes(axis(c.longValue(1, "dim0", null), r),
                    axis(c.longValue(2, "dim1", null), r));
        });
        op("permute", List.of("self", "dims"), null, c -> {
            NDArray x = c.tensor(0, "self");
            long[] d = c.longs(1, "dims");
            int[] axes = new int[d.length];
            for (int i = 0; i < d.length; i++) {
                axes[i] = axis(d[i], d.length);
            }
            return x.transpose(axes);
        });
        for (String n : List.of("view", "reshape")) {
            op(n, List.of("self", "size"), null,
                    c -> c.tensor(0, "self").reshape(new Shape(c.longs(1, "size"))));
        }
        op("contiguous", List.of("self", "memory_format"), null, c -> c.tensor(0, "self"));
        op("flatten", List.of("self", "start_dim", "end_dim"), null, c -> {
            NDArray x = c.tensor(0, "self");
            Shape s = x.getShape();
            int r = s.dimension();
            int start = axis(c.longValue(1, "start_dim", 0L), r);
            int end = axis(c.longValue(2, "end_dim", -1L), r);
            List<Long> dims = new ArrayList<>();
            for (int i = 0; i < start; i++) {
                dims.add(s.get(i));
            }
            long prod = 1;
            for (int i = start; i <= end; i++) {
                prod *= s.get(i);
            }
            dims.add(prod);
            for (int i = end + 1; i < r; i++) {
                dims.add(s.get(i));
            }
            return x.reshape(new Shape(dims.stream().mapToLong(Long::longValue).toArray()));
        });
        op("size", List.of("self", "dim"), null, c -> {
            NDArray x = c.tensor(0, "self");
            Object d = c.get(1, "dim", ABSENT);
            if (d == ABSENT) {
                List<Object> out = new ArrayList<>();
                for (long v : x.getShape().getShape()) {
                    out.add(v);
                }
                return out;
            }
            int r = x.getShape().dimension();
            return x.getShape().get(axis(c.longValue(1, "dim", null), r));
        });
        op("select", List.of("self", "dim", "index"), null, c -> {
            NDArray x = c.tensor(0, "self");
            int dim = axis(c.longValue(1, "dim", null), x.getShape().dimension());
            long i = c.longValue(2, "index", null);
            long n = x.getShape().get(dim);
            return x.get(new NDIndex().addAllDim(dim).addIndices(i < 0 ? i + n : i));
        });
        op("slice", List.of("self", "dim", "start", "end", "step"), null, c -> {
            NDArray x = c.tensor(0, "self");
            int dim = axis(c.longValue(1, "dim", 0L), x.getShape().dimension());
            long n = x.getShape().get(dim);
            long start = bound(c.get(2, "start", null), 0, n);
            long end = bound(c.get(3, "end", null), n, n);
            long step = c.longValue(4, "step", 1L);
            return x.get(new NDIndex().addAllDim(dim).addSliceDim(start, Math.max(start, end), step));
        });
        op("unsqueeze", List.of("self", "dim"), null, c -> {
            NDArray x = c.tensor(0, "self");
            return x.expandDims(axis(c.longValue(1, "dim", null), x.getShape().dimension() + 1));
        });
        op("squeeze", List.of("self", "dim"), null, c -> {
            NDArray x = c.tensor(0, "self");
            Object d = c.get(1, "dim", ABSENT);
            return d == ABSENT ? x.squeeze()
                    : x.squeeze(axis(c.longValue(1, "dim", null), x.getShape().dimension()));
        });
        op("embedding",
                List.of("weight", "indices", "padding_idx", "scale_grad_by_freq", "sparse"),
                null, c -> {
                    NDArray ids = c.tensor(1, "indices");
                    return ids.getNDArrayInternal()
                            .embedding(ids, c.tensor(0, "weight"), SparseFormat.DENSE)
                            .singletonOrThrow();
                });
        op("layer_norm",
                List.of("input", "normalized_shape", "weight", "bias", "eps", "cudnn_enable"),
                null, c -> JniUtils.layerNorm(
                        (PtNDArray) c.tensor(0, "input"),
                        new Shape(c.longs(1, "normalized_shape")),
                        (PtNDArray) c.tensorOrNull(2, "weight"),
                        (PtNDArray) c.tensorOrNull(3, "bias"),
                        c.doubleValue(4, "eps", 1e-5)));
        op("linear", List.of("input", "weight", "bias"), null, c -> {
            NDArray x = c.tensor(0, "input");
            return x.getNDArrayInternal()
                    .linear(x, c.tensor(1, "weight"), c.tensorOrNull(2, "bias"))
                    .singletonOrThrow();
        });
        op("_convolution",
                List.of("input", "weight", "bias", "stride", "padding", "dilation", "transposed",
                        "output_padding", "groups", "benchmark", "deterministic", "cudnn_enabled",
                        "allow_tf32"),
                l -> Boolean.TRUE.equals(l.get("transposed"))
                        ? "a transposed convolution" : null,
                c -> {
                    NDArray x = c.tensor(0, "input");
                    return x.getNDArrayInternal()
                            .convolution(x, c.tensor(1, "weight"), c.tensorOrNull(2, "bias"),
                                    new Shape(c.longs(3, "stride")),
                                    new Shape(c.longs(4, "padding")),
                                    new Shape(c.longs(5, "dilation")),
                                    (int) c.longValue(8, "groups", null))
                            .singletonOrThrow();
                });
        op("batch_norm",
                List.of("input", "weight", "bias", "running_mean", "running_var", "training",
                        "momentum", "eps", "cudnn_enabled"),
                l -> Boolean.FALSE.equals(l.get("training")) ? null
                        : "batch_norm in training mode (trace the model after model.eval())",
                c -> {
                    NDArray x = c.tensor(0, "input");
                    NDArray mean = c.tensor(3, "running_mean");
                    NDArray var = c.tensor(4, "running_var");
                    NDArray w = c.tensorOrNull(1, "weight");
                    NDArray b = c.tensorOrNull(2, "bias");
                    NDManager m = c.manager();
                    w = w != null ? w : m.ones(mean.getShape(), mean.getDataType());
                    b = b != null ? b : m.zeros(mean.getShape(), mean.getDataType());
                    return x.getNDArrayInternal()
                            .batchNorm(x, mean, var, w, b, 1,
                                    (float) c.doubleValue(6, "momentum", 0.1),
                                    (float) c.doubleValue(7, "eps", null), false)
                            .singletonOrThrow();
                });
        op("max_pool2d",
                List.of("self", "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
                l -> isAbsentOr(l, "dilation", List.of(1L, 1L)) ? null
                        : "max_pool2d with dilation " + l.get("dilation"),
                c -> {
                    Shape k = pair(c.longs(1, "kernel_size"));
                    long[] s = c.longs(2, "stride");
                    return Pool.maxPool2d(c.tensor(0, "self"), k, s.length == 0 ? k : pair(s),
                            pair(c.longs(3, "padding")), c.bool(5, "ceil_mode", false));
                });
        op("avg_pool2d",
                List.of("self", "kernel_size", "stride", "padding", "ceil_mode",
                        "count_include_pad", "divisor_override"),
                l -> isAbsentOr(l, "divisor_override", null) ? null
                        : "avg_pool2d with divisor_override " + l.get("divisor_override"),
                c -> {
                    Shape k = pair(c.longs(1, "kernel_size"));
                    long[] s = c.longs(2, "stride");
                    return Pool.avgPool2d(c.tensor(0, "self"), k, s.length == 0 ? k : pair(s),
                            pair(c.longs(3, "padding")), c.bool(4, "ceil_mode", false),
                            c.bool(5, "count_include_pad", true));
                });
        op("adaptive_avg_pool2d", List.of("self", "output_size"), null,
                c -> JniUtils.adaptiveAvgPool(
                        (PtNDArray) c.tensor(0, "self"), pair(c.longs(1, "output_size"))));
        for (String n : List.of("dropout", "dropout_", "feature_dropout", "feature_dropout_",
                "alpha_dropout", "alpha_dropout_")) {
            op(n, List.of("input", "p", "train"),
                    l -> Boolean.FALSE.equals(l.get("train")) ? null
                            : n + " in training mode (trace the model after model.eval())",
                    c -> c.tensor(0, "input"));
        }
        op("cat", List.of("tensors", "dim"), null, c -> {
            Object l = c.get(0, "tensors");
            NDList parts = new NDList();
            for (Object o : (List<?>) l) {
                if (!(o instanceof NDArray a)) {
                    throw c.fail("tensors holds " + OpCall.describe(o));
                }
                parts.add(a);
            }
            int r = parts.head().getShape().dimension();
            return NDArrays.concat(parts, axis(c.longValue(1, "dim", 0L), r));
        });
        for (String n : List.of("mean", "sum")) {
            op(n, List.of("self", "dim", "keepdim", "dtype"), ScriptOps::noDtype, c -> {
                NDArray x = c.tensor(0, "self");
                Object d = c.get(1, "dim", ABSENT);
                if (d == ABSENT || d == null) {
                    return n.equals("mean") ? x.mean() : x.sum();
                }
                long[] dims = c.longs(1, "dim");
                int[] axes = new int[dims.length];
                for (int i = 0; i < dims.length; i++) {
                    axes[i] = axis(dims[i], x.getShape().dimension());
                }
                boolean keep = c.bool(2, "keepdim", false);
                return n.equals("mean") ? x.mean(axes, keep) : x.sum(axes, keep);
            });
        }
        op("arange", List.of("start", "end", "step", "dtype", "layout", "device", "pin_memory"),
                l -> isAbsentOr(l, "dtype", null) ? null : "arange with a dtype",
                ScriptOps::arange);
        op("device", "type", c -> c.get(0, "type"));
        TABLE.put("ops.prim.NumToTensor", new Entry(List.of("a"), null, c -> {
            Object v = c.get(0, "a");
            if (v instanceof Long l) {
                return c.manager().create(l.longValue());
            }
            return c.manager().create(c.doubleValue(0, "a", null));
        }));
        TABLE.put("int", new Entry(List.of("a"), null, c -> c.longValue(0, "a", null)));
        TABLE.put("float", new Entry(List.of("a"), null, c -> {
            Object v = c.get(0, "a");
            if (v instanceof NDArray a && a.size() == 1) {
                return a.toType(DataType.FLOAT64, false).toDoubleArray()[0];
            }
            return c.doubleValue(0, "a", null);
        }));
    }

    private ScriptOps() {}

    /**
     * The entry for a called name.
     *
     * @param name the dotted name as written ({@code torch.relu_}, {@code ops.prim.NumToTensor})
     * @return the entry, or null if the table has no such op
     */
    static Entry lookup(String name) {
        return TABLE.get(name);
    }

    private static void op(String aten, String onlyArg, ScriptOp impl) {
        op(aten, List.of(onlyArg), null, impl);
    }

    private static void op(String aten, List<String> signature, LiteralCheck check, ScriptOp impl) {
        TABLE.put("torch." + aten, new Entry(signature, check, impl));
    }

    private static boolean isAbsentOr(Map<String, Object> literals, String key, Object ok) {
        return !literals.containsKey(key) || Objects.equals(literals.get(key), ok);
    }

    private static String noDtype(Map<String, Object> literals) {
        return isAbsentOr(literals, "dtype", null) ? null : "a dtype argument";
    }

    private static int axis(long a, int rank) {
        return (int) (a < 0 ? a + rank : a);
    }

    private static long bound(Object v, long otherwise, long n) {
        if (v == null) {
            return otherwise;
        }
        long x = ScriptValues.toLong(v, () -> new IllegalArgumentException("slice bound " + v));
        if (x < 0) {
            x += n;
        }
        return Math.max(0, Math.min(x, n));
    }

    private static Shape pair(long[] v) {
        return v.length == 1 ? new Shape(v[0], v[0]) : new Shape(v);
    }

    private static Object addSub(OpCall c, long sign) {
        Object a = c.get(0, "self");
        Object b = c.get(1, "other");
        Object alpha = c.get(2, "alpha", 1L);
        Object scale = sign == 1 ? alpha : times(alpha, -1L, c);
        Object scaled = Long.valueOf(1).equals(scale) ? b : times(b, scale, c);
        return plus(a, scaled, c);
    }

    private static Object plus(Object a, Object b, OpCall c) {
        if (a instanceof NDArray x && b instanceof NDArray y) {
            return x.add(y);
        }
        if (a instanceof NDArray x && b instanceof Number n) {
            return x.add(scalar(x, n, c));
        }
        if (a instanceof Number n && b instanceof NDArray y) {
            return y.add(scalar(y, n, c));
        }
        if (a instanceof Long x && b instanceof Long y) {
            return x + y;
        }
        if (a instanceof Number x && b instanceof Number y) {
            return x.doubleValue() + y.doubleValue();
        }
        throw c.fail("cannot add " + OpCall.describe(a) + " and " + OpCall.describe(b));
    }

    private static Object times(Object a, Object b, OpCall c) {
        if (a instanceof NDArray x && b instanceof NDArray y) {
            return x.mul(y);
        }
        if (a instanceof NDArray x && b instanceof Number n) {
            return x.mul(scalar(x, n, c));
        }
        if (a instanceof Number n && b instanceof NDArray y) {
            return y.mul(scalar(y, n, c));
        }
        if (a instanceof Long x && b instanceof Long y) {
            return x * y;
        }
        if (a instanceof Number x && b instanceof Number y) {
            return x.doubleValue() * y.doubleValue();
        }
        throw c.fail("cannot multiply " + OpCall.describe(a) + " and " + OpCall.describe(b));
    }

    private static Object divide(OpCall c) {
        Object a = c.get(0, "self");
        Object b = c.get(1, "other");
        if (a instanceof NDArray x && b instanceof NDArray y) {
            return x.div(y);
        }
        if (a instanceof NDArray x && b instanceof Number n) {
            return x.div(scalar(x, n, c));
        }
        if (a instanceof Number n && b instanceof NDArray y) {
            return scalar(y, n, c).div(y);
        }
        if (a instanceof Number x && b instanceof Number y) {
            return x.doubleValue() / y.doubleValue();
        }
        throw c.fail("cannot divide " + OpCall.describe(a) + " by " + OpCall.describe(b));
    }

    /**
     * A Python number as a 0-d tensor for an op with a tensor: aten converts the scalar to the
     * tensor's floating type (a float32 tensor computes with the scalar rounded to float32), or
     * promotes an integer tensor to float32 for a float scalar.
     */
    private static NDArray scalar(NDArray like, Number n, OpCall c) {
        DataType t = like.getDataType();
        if (t == DataType.FLOAT64) {
            return c.manager().create(n.doubleValue());
        }
        if (t.isFloating() || n instanceof Double) {
            return c.manager().create(n.floatValue());
        }
        return c.manager().create(n.longValue()).toType(t, false);
    }

    private static Object arange(OpCall c) {
        List<Number> bounds = new ArrayList<>();
        for (int i = 0; i < Math.min(c.size(), 3); i++) {
            Object v = c.get(i, "start");
            if (v instanceof NDArray a && a.size() == 1) {
                v = a.getDataType().isInteger()
                        ? (Object) ScriptValues.toLong(a, () -> c.fail("arange bound"))
                        : (Object) a.toType(DataType.FLOAT64, false).toDoubleArray()[0];
            }
            if (!(v instanceof Number)) {
                throw c.fail("bound " + i + " is " + OpCall.describe(v));
            }
            bounds.add((Number) v);
        }
        Number start = bounds.size() == 1 ? 0L : bounds.get(0);
        Number end = bounds.size() == 1 ? bounds.get(0) : bounds.get(1);
        Number step = bounds.size() == 3 ? bounds.get(2) : 1L;
        boolean ints = start instanceof Long && end instanceof Long && step instanceof Long;
        return c.manager().arange(start.floatValue(), end.floatValue(), step.floatValue(),
                ints ? DataType.INT64 : DataType.FLOAT32);
    }
}

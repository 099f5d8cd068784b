package ai.djlquant.artifact;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djlquant.nn.QuantizedConv1d;
import ai.djlquant.nn.QuantizedConv2d;
import ai.djlquant.nn.QuantizedLinear;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import java.util.Arrays;
import java.util.Locale;

/**
 * The kind and structure of a block the artifact can rebuild empty, for DJL's parameter loading to
 * fill: a pass-through (where a BatchNorm was folded or a ReLU fused), a float Linear or
 * convolution (a folded layer left fp32), or an int8 block. The int8 blocks' quantization (mode,
 * scales, zero points) is not part of it: it is saved in the parameter file with the weights.
 *
 * <p>{@link #describe(Block)} gives any block a one-line text ("Conv2d(kernel=(3, 3), ...)") that
 * the artifact records for every place in the tree, so that loading can tell whether the block
 * factory still builds the architecture the artifact was exported from.
 */
final class BlockSpec {

    /** The block kinds an artifact can rebuild. */
    enum Kind {
        IDENTITY("identity"),
        LINEAR("Linear"),
        CONV1D("Conv1d"),
        CONV2D("Conv2d"),
        QUANTIZED_LINEAR("QuantizedLinear"),
        QUANTIZED_CONV1D("QuantizedConv1d"),
        QUANTIZED_CONV2D("QuantizedConv2d");

        private final String type;

        Kind(String type) {
            this.type = type;
        }

        static Kind of(String type) {
            for (Kind k : values()) {
                if (k.type.equals(type)) {
                    return k;
                }
            }
            return null;
        }
    }

    private final Kind kind;
    private final long units;
    private final long[] kernel;
    private final long[] stride;
    private final long[] padding;
    private final long[] dilation;
    private final int filters;
    private final int groups;
    private final boolean bias;

    private BlockSpec(
            Kind kind,
            long units,
            long[] kernel,
            long[] stride,
            long[] padding,
            long[] dilation,
            int filters,
            int groups,
            boolean bias) {
        this.kind = kind;
        this.units = units;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.filters = filters;
        this.groups = groups;
        this.bias = bias;
    }

    /**
     * Returns the spec of a block the artifact can rebuild, or null for any other block.
     *
     * @param block a block
     * @return its spec, or null
     */
    static BlockSpec of(Block block) {
        Class<?> c = block.getClass();
        if (block instanceof LambdaBlock && "identity".equals(((LambdaBlock) block).getName())) {
            return new BlockSpec(Kind.IDENTITY, 0, null, null, null, null, 0, 0, false);
        }
        if (c == Linear.class || c == QuantizedLinear.class) {
            Kind k = c == Linear.class ? Kind.LINEAR : Kind.QUANTIZED_LINEAR;
            return new BlockSpec(k, unitsOf(block), null, null, null, null, 0, 0, hasBias(block));
        }
        Kind k = null;
        if (c == Conv1d.class) {
            k = Kind.CONV1D;
        } else if (c == Conv2d.class) {
            k = Kind.CONV2D;
        } else if (c == QuantizedConv1d.class) {
            k = Kind.QUANTIZED_CONV1D;
        } else if (c == QuantizedConv2d.class) {
            k = Kind.QUANTIZED_CONV2D;
        }
        if (k == null) {
            return null;
        }
        Convolution conv = (Convolution) block;
        return new BlockSpec(
                k,
                0,
                conv.getKernelShape().getShape(),
                conv.getStride().getShape(),
                conv.getPadding().getShape(),
                conv.getDilation().getShape(),
                conv.getFilters(),
                conv.getGroups(),
                hasBias(block));
    }

    /**
     * Describes any block in one line: its spec if it has one, a LambdaBlock with its name, any
     * other block by its class name.
     *
     * @param block a block
     * @return the description
     */
    static String describe(Block block) {
        BlockSpec spec = of(block);
        if (spec != null) {
            return spec.toString();
        }
        if (block instanceof LambdaBlock) {
            return "LambdaBlock(" + ((LambdaBlock) block).getName() + ")";
        }
        return block.getClass().getName();
    }

    /**
     * Tells whether quantization can have put this block in place of a base block: an int8 or float
     * layer of the base layer's type and structure (a bias may have been added by BatchNorm
     * folding), or a pass-through in place of a BatchNorm or a LambdaBlock (a fused ReLU).
     *
     * @param base the base factory's block at the place
     * @return null if it can, otherwise why not
     */
    String whyNotInPlaceOf(Block base) {
        if (kind == Kind.IDENTITY) {
            return base instanceof BatchNorm || base instanceof LambdaBlock
                    ? null
                    : "a pass-through only replaces a BatchNorm or a LambdaBlock";
        }
        BlockSpec b = of(base);
        if (b == null || b.kind == Kind.IDENTITY || family() != b.family()) {
            return "a " + kind.type + " only replaces a " + family();
        }
        boolean same =
                units == b.units
                        && Arrays.equals(kernel, b.kernel)
                        && Arrays.equals(stride, b.stride)
                        && Arrays.equals(padding, b.padding)
                        && Arrays.equals(dilation, b.dilation)
                        && filters == b.filters
                        && groups == b.groups
                        && (bias || !b.bias);
        return same ? null : "its structure differs from the base layer's";
    }

    /** The float layer type of a kind: Linear, Conv1d or Conv2d. */
    private String family() {
        switch (kind) {
            case LINEAR:
            case QUANTIZED_LINEAR:
                return "Linear";
            case CONV1D:
            case QUANTIZED_CONV1D:
                return "Conv1d";
            default:
                return "Conv2d";
        }
    }

    private static long unitsOf(Block linear) {
        // Linear keeps its units private; its output shape for one input feature shows them
        return linear.getOutputShapes(new Shape[] {new Shape(1)})[0].get(0);
    }

    private static boolean hasBias(Block block) {
        return block.getDirectParameters().contains("bias");
    }

    /**
     * Returns the kind.
     *
     * @return the kind
     */
    Kind getKind() {
        return kind;
    }

    /**
     * Builds the empty block (no parameters yet: loading fills them).
     *
     * @return the block
     */
    Block newBlock() {
        switch (kind) {
            case IDENTITY:
                return Blocks.identityBlock();
            case LINEAR:
                return Linear.builder().setUnits(units).optBias(bias).build();
            case QUANTIZED_LINEAR:
                return QuantizedLinear.builder().setUnits(units).optBias(bias).build();
            case CONV1D:
                return withStructure(Conv1d.builder()).build();
            case CONV2D:
                return withStructure(Conv2d.builder()).build();
            case QUANTIZED_CONV1D:
                return withStructure(QuantizedConv1d.builder()).build();
            case QUANTIZED_CONV2D:
                return withStructure(QuantizedConv2d.builder()).build();
            default:
                throw new AssertionError(kind);
        }
    }

    /** Sets a convolution builder's structure (its setters change the builder itself). */
    private <B extends Convolution.ConvolutionBuilder<?>> B withStructure(B b) {
        b.setKernelShape(new Shape(kernel));
        b.optStride(new Shape(stride));
        b.optPadding(new Shape(padding));
        b.optDilation(new Shape(dilation));
        b.setFilters(filters);
        b.optGroups(groups);
        b.optBias(bias);
        return b;
    }

    /**
     * Writes the spec as a JSON object.
     *
     * @return the object
     */
    JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("type", kind.type);
        if (kind == Kind.LINEAR || kind == Kind.QUANTIZED_LINEAR) {
            o.addProperty("units", units);
            o.addProperty("bias", bias);
        } else if (kind != Kind.IDENTITY) {
            o.add("kernel", array(kernel));
            o.add("stride", array(stride));
            o.add("padding", array(padding));
            o.add("dilation", array(dilation));
            o.addProperty("filters", filters);
            o.addProperty("groups", groups);
            o.addProperty("bias", bias);
        }
        return o;
    }

    /**
     * Reads a spec written by {@link #toJson()}.
     *
     * @param json the object
     * @param where where the object is, for messages
     * @return the spec
     * @throws IllegalArgumentException naming the field at fault
     */
    static BlockSpec fromJson(JsonElement json, String where) {
        JsonObject o = Json.object(json, where);
        String type = Json.string(o, "type", where);
        Kind k = Kind.of(type);
        if (k == null) {
            throw new IllegalArgumentException(
                    where + ".type is '" + type + "', which this version cannot rebuild");
        }
        switch (k) {
            case IDENTITY:
                return new BlockSpec(k, 0, null, null, null, null, 0, 0, false);
            case LINEAR:
            case QUANTIZED_LINEAR:
                long u = Json.positiveLong(o, "units", where);
                return new BlockSpec(
                        k, u, null, null, null, null, 0, 0, Json.bool(o, "bias", where));
            default:
                int dims = k == Kind.CONV1D || k == Kind.QUANTIZED_CONV1D ? 1 : 2;
                return new BlockSpec(
                        k,
                        0,
                        Json.longs(o, "kernel", dims, 1, where),
                        Json.longs(o, "stride", dims, 1, where),
                        Json.longs(o, "padding", dims, 0, where),
                        Json.longs(o, "dilation", dims, 1, where),
                        (int) Json.positiveLong(o, "filters", where),
                        (int) Json.positiveLong(o, "groups", where),
                        Json.bool(o, "bias", where));
        }
    }

    private static JsonArray array(long[] values) {
        JsonArray a = new JsonArray();
        for (long v : values) {
            a.add(v);
        }
        return a;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        switch (kind) {
            case IDENTITY:
                return "LambdaBlock(identity)";
            case LINEAR:
            case QUANTIZED_LINEAR:
                return String.format(Locale.ROOT, "%s(units=%d, bias=%b)", kind.type, units, bias);
            default:
                return String.format(
                        Locale.ROOT,
                        "%s(kernel=%s, stride=%s, padding=%s, dilation=%s, filters=%d, groups=%d,"
                                + " bias=%b)",
                        kind.type,
                        new Shape(kernel),
                        new Shape(stride),
                        new Shape(padding),
                        new Shape(dilation),
                        filters,
                        groups,
                        bias);
        }
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof BlockSpec)) {
            return false;
        }
        BlockSpec s = (BlockSpec) o;
        return kind == s.kind
                && units == s.units
                && Arrays.equals(kernel, s.kernel)
                && Arrays.equals(stride, s.stride)
                && Arrays.equals(padding, s.padding)
                && Arrays.equals(dilation, s.dilation)
                && filters == s.filters
                && groups == s.groups
                && bias == s.bias;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return toString().hashCode();
    }
}

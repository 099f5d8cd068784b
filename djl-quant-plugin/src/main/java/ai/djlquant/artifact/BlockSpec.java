package ai.djlquant.artifact;

import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.norm.BatchNorm;
import ai.djlquant.kind.LayerKind;
import ai.djlquant.kind.LayerKinds;
import ai.djlquant.kind.LayerStructure;
import ai.djlquant.kind.StructureFields;
import ai.djlquant.nn.ChainedSequentialBlock;
import ai.djlquant.nn.WeightOnlyBlock;
import ai.djlquant.plan.QuantizationMode;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * The kind and structure of a block the artifact can rebuild empty, for DJL's parameter loading to
 * fill: a pass-through (where a BatchNorm was folded or a ReLU fused), a float layer of a known
 * {@link LayerKind} (a folded layer left fp32), or its int8 block. The int8 blocks' quantization
 * (mode, scales, zero points) is not part of it: it is saved in the parameter file with the
 * weights.
 *
 * <p>{@link #describe(Block)} gives any block a one-line text ("Conv2d(kernel=(3, 3), ...)") that
 * the artifact records for every place in the tree, so that loading can tell whether the block
 * factory still builds the architecture the artifact was exported from.
 *
 * <p>A weight-only block (format version 2) is rebuilt with its format ({@code w8}, {@code w4g64},
 * ...), which its empty block must have before its parameters load; the scales come with the
 * parameters, as an int8 block's do.
 *
 * @param kind the layer kind, or null for a pass-through
 * @param int8 whether it is the kind's int8 block
 * @param structure the layer's structure, or null for a pass-through
 * @param weightOnly the weight-only mode of a weight-only block, else null
 */
record BlockSpec(LayerKind kind, boolean int8, LayerStructure structure, QuantizationMode weightOnly) {

    private static final String IDENTITY = "identity";

    private static final BlockSpec PASS_THROUGH = new BlockSpec(null, false, null, null);

    BlockSpec(LayerKind kind, boolean int8, LayerStructure structure) {
        this(kind, int8, structure, null);
    }

    /**
     * Returns the spec of a block the artifact can rebuild, or null for any other block.
     *
     * @param block a block
     * @return its spec, or null
     */
    static BlockSpec of(Block block) {
        if (ChainedSequentialBlock.isPassThrough(block)) {
            return PASS_THROUGH;
        }
        LayerKind k = LayerKinds.ofFloat(block);
        if (k != null) {
            return new BlockSpec(k, false, k.structureOf(block));
        }
        k = LayerKinds.ofWeightOnly(block);
        if (k != null) {
            QuantizationMode m = QuantizationMode.fromWord(((WeightOnlyBlock) block).getFormatName());
            return new BlockSpec(k, false, k.structureOf(block), m);
        }
        k = LayerKinds.ofInt8(block);
        return k == null ? null : new BlockSpec(k, true, k.structureOf(block));
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
        if (block instanceof LambdaBlock l) {
            return "LambdaBlock(" + l.getName() + ")";
        }
        if (block instanceof ChainedSequentialBlock c) {
            // the same children and saved bytes as the SequentialBlock it replaced: the artifact
            // records that block; the manifest names the chains, which the loader forms again
            return c.getOriginalType().getName();
        }
        return block.getClass().getName();
    }

    /** Whether this is a pass-through. */
    boolean isPassThrough() {
        return kind == null;
    }

    /** The type as the artifact spells it: {@code identity}, {@code Linear}, {@code QuantizedLinear}, ... */
    String type() {
        if (kind == null) {
            return IDENTITY;
        }
        if (weightOnly != null) {
            return kind.weightOnlyType().getSimpleName();
        }
        return int8 ? kind.int8Type().getSimpleName() : kind.name();
    }

    /**
     * Tells whether quantization can have put this block in place of a base block: an int8 or float
     * layer of the base layer's kind and structure (a bias may have been added by BatchNorm
     * folding), or a pass-through in place of a BatchNorm or a LambdaBlock (a fused ReLU or ReLU6).
     *
     * @param base the base factory's block at the place
     * @return null if it can, otherwise why not
     */
    String whyNotInPlaceOf(Block base) {
        if (kind == null) {
            return base instanceof BatchNorm || base instanceof LambdaBlock
                    ? null
                    : "a pass-through only replaces a BatchNorm or a LambdaBlock";
        }
        BlockSpec b = of(base);
        if (b == null || b.kind != kind) {
            return "a " + type() + " only replaces a " + kind.name();
        }
        // the same structure, where a bias may have been added
        boolean same =
                structure.describe().equals(b.structure.describe())
                        || (structure.bias()
                                && structure.describe().equals(b.structure.withBias(true).describe()));
        return same ? null : "its structure differs from the base layer's";
    }

    /**
     * Builds the empty block (no parameters yet: loading fills them).
     *
     * @return the block
     */
    Block newBlock() {
        if (kind == null) {
            return Blocks.identityBlock();
        }
        if (weightOnly != null) {
            return kind.newWeightOnlyBlock(
                    structure,
                    weightOnly.weightBits(),
                    weightOnly.groupSize(),
                    weightOnly.symmetricWeights());
        }
        return int8 ? kind.newInt8Block(structure) : kind.newFloatBlock(structure);
    }

    /**
     * Writes the spec as a JSON object.
     *
     * @return the object
     */
    JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("type", type());
        if (structure != null) {
            structure.writeTo(o);
        }
        if (weightOnly != null) {
            o.addProperty(ArtifactFormat.LayerFields.FORMAT, weightOnly.word());
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
        if (IDENTITY.equals(type)) {
            return PASS_THROUGH;
        }
        for (LayerKind k : LayerKinds.all()) {
            if (k.weightOnlyType() != null && k.weightOnlyType().getSimpleName().equals(type)) {
                String f = Json.string(o, ArtifactFormat.LayerFields.FORMAT, where);
                QuantizationMode m;
                try {
                    m = QuantizationMode.fromWord(f);
                } catch (IllegalArgumentException e) {
                    m = null;
                }
                if (m == null || !m.isWeightOnly()) {
                    throw new IllegalArgumentException(
                            where + "." + ArtifactFormat.LayerFields.FORMAT + " is '" + f
                                    + "', which is not a weight-only format (w8, w4g32, w4g64, w4g128, w4g32m, ...)");
                }
                return new BlockSpec(k, false, k.readStructure(fields(o, where)), m);
            }
            boolean int8 = k.int8Type().getSimpleName().equals(type);
            if (int8 || k.name().equals(type)) {
                return new BlockSpec(k, int8, k.readStructure(fields(o, where)));
            }
        }
        throw new IllegalArgumentException(
                where + ".type is '" + type + "', which this version cannot rebuild");
    }

    private static StructureFields fields(JsonObject o, String where) {
        return new StructureFields() {
            @Override
            public long positiveLong(String name) {
                return Json.positiveLong(o, name, where);
            }

            @Override
            public boolean bool(String name) {
                return Json.bool(o, name, where);
            }

            @Override
            public long[] longs(String name, int length, long min) {
                return Json.longs(o, name, length, min, where);
            }
        };
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        if (kind == null) {
            return "LambdaBlock(identity)";
        }
        return type()
                + "("
                + structure.describe()
                + (weightOnly == null ? "" : ", format=" + weightOnly.word())
                + ")";
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        return o instanceof BlockSpec s && toString().equals(s.toString());
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return toString().hashCode();
    }
}

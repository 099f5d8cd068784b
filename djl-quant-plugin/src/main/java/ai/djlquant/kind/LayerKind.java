package ai.djlquant.kind;

import ai.djl.nn.Block;
import ai.djlquant.nn.ForwardTap;
import ai.djlquant.nn.ObservedBlock;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;

/**
 * One type of float layer that has an int8 block, and everything the quantizer and the artifact
 * need to know about it: how to observe it, how to rebuild it with other weights (BatchNorm
 * folding), how to quantize it, how to describe its structure and how to rebuild it, float or
 * int8, from that structure (artifact loading).
 *
 * <p>This is the one mapping from float type to int8 type (PyTorch's {@code
 * DEFAULT_STATIC_QUANT_MODULE_MAPPINGS} with {@code from_float}): {@link LayerKinds} lists the
 * kinds, and nothing else in the library names a layer class. Adding a kind is one subclass
 * here plus its int8 block in {@code nn}.
 *
 * <p>Internal: not part of the public API.
 */
public abstract class LayerKind {

    /**
     * Returns the float layer's simple type name, as reports and artifacts spell it.
     *
     * @return for example {@code Linear}
     */
    public abstract String name();

    /**
     * Returns the exact float class (subclasses may change {@code forward}, so they are not this
     * kind).
     *
     * @return the class
     */
    public abstract Class<? extends Block> floatType();

    /**
     * Returns the exact int8 block class.
     *
     * @return the class
     */
    public abstract Class<? extends Block> int8Type();

    /**
     * Wraps an initialised float layer of this kind in an observer block.
     *
     * @param floatBlock the float layer
     * @param tap what the wrapper calls around each forward
     * @return the observer block
     */
    public abstract ObservedBlock observe(Block floatBlock, ForwardTap tap);

    /**
     * Builds the int8 block of an initialised float layer of this kind.
     *
     * @param floatBlock the float layer
     * @param activation static activation parameters, or null for dynamic quantization
     * @param fused the activation the int8 block applies to its output (NONE for none)
     * @param perTensorWeights whether the weight gets one scale instead of one per output channel
     * @return the int8 block, initialised
     */
    public abstract Block quantize(
            Block floatBlock, QuantParams activation, FusedActivation fused, boolean perTensorWeights);

    /**
     * Returns the exact weight-only block class of this kind (float32 activations, a weight in 8
     * or 4 bits), or null where the kind has none (convolutions).
     *
     * @return the class, or null
     */
    public Class<? extends Block> weightOnlyType() {
        return null;
    }

    /**
     * Builds the weight-only block of an initialised float layer of this kind.
     *
     * @param floatBlock the float layer
     * @param bits 8 or 4
     * @param groupSize 0 for 8-bit, else the inputs sharing a scale (32, 64, 128)
     * @param symmetric whether 4-bit groups have no offset
     * @return the block, initialised
     * @throws UnsupportedOperationException if the kind has no weight-only block
     * @throws IllegalArgumentException if the layer does not fit the format (features not a
     *     multiple of the group)
     */
    public Block quantizeWeightOnly(Block floatBlock, int bits, int groupSize, boolean symmetric) {
        throw new UnsupportedOperationException(name() + " has no weight-only block.");
    }

    /**
     * Builds an empty weight-only block (loading fills it) of a structure and format.
     *
     * @param structure a structure of this kind
     * @param bits 8 or 4
     * @param groupSize 0 for 8-bit, else 32, 64 or 128
     * @param symmetric whether 4-bit groups have no offset
     * @return the block
     * @throws UnsupportedOperationException if the kind has no weight-only block
     */
    public Block newWeightOnlyBlock(
            LayerStructure structure, int bits, int groupSize, boolean symmetric) {
        throw new UnsupportedOperationException(name() + " has no weight-only block.");
    }

    /**
     * Tells whether a block is this kind's weight-only block (exact class).
     *
     * @param block a block
     * @return whether it is
     */
    public final boolean isWeightOnly(Block block) {
        return weightOnlyType() != null && block.getClass() == weightOnlyType();
    }

    /**
     * Returns the structure of a float or int8 block of this kind (no weights).
     *
     * @param block a block whose class is {@link #floatType()}, {@link #int8Type()} or {@link
     *     #weightOnlyType()}
     * @return the structure
     */
    public abstract LayerStructure structureOf(Block block);

    /**
     * Builds an empty float block (no parameters yet) of a structure.
     *
     * @param structure a structure of this kind
     * @return the block
     */
    public abstract Block newFloatBlock(LayerStructure structure);

    /**
     * Builds an empty int8 block (no parameters yet: loading fills them) of a structure.
     *
     * @param structure a structure of this kind
     * @return the block
     */
    public abstract Block newInt8Block(LayerStructure structure);

    /**
     * Reads a structure of this kind from named fields.
     *
     * @param fields the fields
     * @return the structure
     * @throws IllegalArgumentException naming the field at fault
     */
    public abstract LayerStructure readStructure(StructureFields fields);

    /**
     * Returns why a BatchNorm that reads this initialised layer's output cannot be folded into
     * it, beyond what holds for every kind (the channel axis, the channel count), or null.
     *
     * @param layer an initialised float layer of this kind
     * @return the reason, or null
     */
    public String whyNotFoldable(Block layer) {
        return null;
    }

    /**
     * Tells whether a block is this kind's float layer (exact class).
     *
     * @param block a block
     * @return whether it is
     */
    public final boolean isFloat(Block block) {
        return block.getClass() == floatType();
    }

    /**
     * Tells whether a block is this kind's int8 block (exact class).
     *
     * @param block a block
     * @return whether it is
     */
    public final boolean isInt8(Block block) {
        return block.getClass() == int8Type();
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return name();
    }
}

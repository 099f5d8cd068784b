package ai.djlquant.kind;

import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Convolution;

/**
 * The part of every convolution kind that does not depend on the number of spatial axes; a
 * subclass names its classes and builders.
 */
abstract class ConvolutionKind extends LayerKind {

    /**
     * Returns the number of spatial axes.
     *
     * @return 1 for Conv1d, 2 for Conv2d
     */
    abstract int spatialAxes();

    /**
     * Builds an empty float convolution of a structure.
     *
     * @param s the structure
     * @return the block
     */
    abstract Block buildFloat(ConvStructure s);

    /**
     * Builds an empty int8 convolution of a structure.
     *
     * @param s the structure
     * @return the block
     */
    abstract Block buildInt8(ConvStructure s);

    /** {@inheritDoc} */
    @Override
    public ConvStructure structureOf(Block block) {
        return ConvStructure.of((Convolution) block);
    }

    /** {@inheritDoc} */
    @Override
    public Block newFloatBlock(LayerStructure structure) {
        return buildFloat((ConvStructure) structure);
    }

    /** {@inheritDoc} */
    @Override
    public Block newInt8Block(LayerStructure structure) {
        return buildInt8((ConvStructure) structure);
    }

    /** {@inheritDoc} */
    @Override
    public LayerStructure readStructure(StructureFields fields) {
        return ConvStructure.read(fields, spatialAxes());
    }
}

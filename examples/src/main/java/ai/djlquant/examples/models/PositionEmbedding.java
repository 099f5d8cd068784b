package ai.djlquant.examples.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.TruncatedNormalInitializer;
import ai.djl.util.PairList;

/**
 * Adds a learned position embedding to a sequence of token embeddings: {@code y[n,t,e] = x[n,t,e]
 * + p[t,e]}, with {@code p} of shape (tokens, embedding) initialised from a normal distribution
 * truncated at 2 standard deviations of 0.02, as ViT's.
 */
public final class PositionEmbedding extends AbstractBlock {

    private static final byte VERSION = 1;

    private final int tokens;
    private final int embedding;
    private final Parameter table;

    /**
     * Creates the block.
     *
     * @param tokens the sequence length it accepts
     * @param embedding the embedding size it accepts
     */
    public PositionEmbedding(int tokens, int embedding) {
        super(VERSION);
        this.tokens = tokens;
        this.embedding = embedding;
        table =
                addParameter(
                        Parameter.builder()
                                .setName("positions")
                                .setType(Parameter.Type.WEIGHT)
                                .optShape(new Shape(tokens, embedding))
                                .optInitializer(new TruncatedNormalInitializer(0.02f))
                                .build());
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDArray p = parameterStore.getValue(table, x.getDevice(), training);
        return new NDList(x.add(p));
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    /** {@inheritDoc} */
    @Override
    public void prepare(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        if (s.dimension() != 3 || s.get(1) != tokens || s.get(2) != embedding) {
            throw new IllegalArgumentException(
                    "PositionEmbedding expects (N, "
                            + tokens
                            + ", "
                            + embedding
                            + ") token embeddings, got "
                            + s);
        }
    }
}

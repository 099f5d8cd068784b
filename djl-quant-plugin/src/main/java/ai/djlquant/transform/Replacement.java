package ai.djlquant.transform;

import ai.djl.nn.Block;

import java.util.Objects;

/** One block to put in place of another, wherever the other is referenced in the tree. */
public final class Replacement {

    private final Block original;
    private final Block replacement;

    /**
     * Creates a replacement.
     *
     * @param original the block in the tree
     * @param replacement the block to put in its place
     */
    public Replacement(Block original, Block replacement) {
        this.original = Objects.requireNonNull(original, "original");
        this.replacement = Objects.requireNonNull(replacement, "replacement");
    }

    /**
     * Returns the block in the tree.
     *
     * @return the original block
     */
    public Block getOriginal() {
        return original;
    }

    /**
     * Returns the block to put in its place.
     *
     * @return the replacement block
     */
    public Block getReplacement() {
        return replacement;
    }
}

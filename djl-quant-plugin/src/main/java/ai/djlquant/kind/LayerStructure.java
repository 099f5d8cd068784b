package ai.djlquant.kind;

import com.google.gson.JsonObject;

/**
 * What a layer is built from, without its weights: enough to build an empty block of the same
 * shape, to compare two blocks' architecture and to write it into an artifact. Two structures are
 * equal when they build the same block.
 *
 * <p>Internal: not part of the public API.
 */
public interface LayerStructure {

    /**
     * Returns whether the layer has a bias.
     *
     * @return whether it has one
     */
    boolean bias();

    /**
     * Returns the same structure with or without a bias (BatchNorm folding adds one).
     *
     * @param bias whether to have a bias
     * @return the structure
     */
    LayerStructure withBias(boolean bias);

    /**
     * Writes the structure's fields (not the type) into a JSON object.
     *
     * @param o the object
     */
    void writeTo(JsonObject o);

    /**
     * Describes the fields, for example {@code units=10, bias=true}.
     *
     * @return the description
     */
    String describe();
}

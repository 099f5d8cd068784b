package ai.djlquant.kind;

/**
 * Named, checked fields that a structure is read from (an artifact's JSON object); each method
 * throws {@link IllegalArgumentException} naming the field at fault.
 *
 * <p>Internal: not part of the public API.
 */
public interface StructureFields {

    /**
     * Returns a positive integer field.
     *
     * @param name the field
     * @return the value
     */
    long positiveLong(String name);

    /**
     * Returns a boolean field.
     *
     * @param name the field
     * @return the value
     */
    boolean bool(String name);

    /**
     * Returns an array field of integers, each at least a minimum.
     *
     * @param name the field
     * @param length the number of values it must have
     * @param min the least value
     * @return the values
     */
    long[] longs(String name, int length, long min);
}

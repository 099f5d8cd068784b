package ai.djlquant.kind;

import ai.djl.nn.Block;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The layer kinds this version quantizes: the one list. Everything that asks "is this a layer we
 * quantize, and what is its int8 block?" asks here.
 *
 * <p>Internal: not part of the public API.
 */
public final class LayerKinds {

    private static final List<LayerKind> KINDS =
            List.of(new LinearKind(), new Conv1dKind(), new Conv2dKind());

    private LayerKinds() {}

    /**
     * Returns every kind, in a fixed order.
     *
     * @return the kinds
     */
    public static List<LayerKind> all() {
        return KINDS;
    }

    /**
     * Returns the kind whose float layer a block is (exact class), or null.
     *
     * @param block a block
     * @return the kind, or null
     */
    public static LayerKind ofFloat(Block block) {
        for (LayerKind k : KINDS) {
            if (k.isFloat(block)) {
                return k;
            }
        }
        return null;
    }

    /**
     * Returns the kind whose int8 block a block is (exact class), or null.
     *
     * @param block a block
     * @return the kind, or null
     */
    public static LayerKind ofInt8(Block block) {
        for (LayerKind k : KINDS) {
            if (k.isInt8(block)) {
                return k;
            }
        }
        return null;
    }

    /**
     * Returns the kind whose weight-only block a block is (exact class), or null.
     *
     * @param block a block
     * @return the kind, or null
     */
    public static LayerKind ofWeightOnly(Block block) {
        for (LayerKind k : KINDS) {
            if (k.isWeightOnly(block)) {
                return k;
            }
        }
        return null;
    }

    /**
     * Returns the kind of a float layer type, or null.
     *
     * @param type a block class
     * @return the kind, or null
     */
    public static LayerKind ofFloatType(Class<?> type) {
        for (LayerKind k : KINDS) {
            if (k.floatType() == type) {
                return k;
            }
        }
        return null;
    }

    /**
     * Returns the kind of a type name ({@code Linear}, {@code Conv2d}, ...), or null.
     *
     * @param name the float layer's simple name
     * @return the kind, or null
     */
    public static LayerKind named(String name) {
        for (LayerKind k : KINDS) {
            if (k.name().equals(name)) {
                return k;
            }
        }
        return null;
    }

    /**
     * Lists the float type names, for messages: {@code Linear, Conv1d, Conv2d}.
     *
     * @return the names
     */
    public static String names() {
        return KINDS.stream().map(LayerKind::name).collect(Collectors.joining(", "));
    }
}

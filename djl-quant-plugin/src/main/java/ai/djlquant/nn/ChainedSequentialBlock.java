package ai.djlquant.nn;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djlquant.annotations.Internal;
import ai.djlquant.kernel.MaxPool2dGeometry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@link SequentialBlock} whose runs of int8 layers ({@link ChainRun}) run as int8 chains:
 * uint8 between the layers, requantized in each producer's epilogue on its consumer's static grid
 * (see {@link Int8Chain}); every other child runs as in the block it replaces.
 *
 * <p>A chain's link is a child that is a {@link QuantizedLinear} or a {@link QuantizedConv2d}, or
 * a single-layer wrapper: a plain SequentialBlock whose children are exactly one such layer (or
 * one such wrapper) plus pass-throughs, which is what folding a BatchNorm and fusing a ReLU leave
 * of {@code Seq(conv, bn, relu6)}. Running the wrapper's one layer is running the wrapper, since
 * its pass-throughs are identities. A chain stays within this block's children; its links are
 * convolutions, then Linear layers (either part may be empty). Between two convolution links, a DJL max pooling runs on the uint8 bytes
 * ({@link MaxPoolStep}); between the last convolution and the first Linear, DJL's batch flatten
 * ({@link FlattenStep}); neither is ever a chain's first or last child.
 *
 * <p>It holds the same children under the same keys as the block it replaces and saves exactly
 * what a SequentialBlock saves, so a saved model loads as the plain SequentialBlock and runs the
 * layers unchained (the same arithmetic); an exported artifact names its chains and the loader
 * forms them again. Training runs the children one by one, and so does a chain one of whose
 * children (or a wrapper's layer) has been replaced since it was formed: the block runs the
 * children it holds now.
 */
@Internal
public final class ChainedSequentialBlock extends SequentialBlock {

    private static final String IDENTITY = "identity";

    private final List<ChainRun> runs;
    private final FormedOver formedOver;
    private final Int8Chain[] chainAt; // by child index: the chain that starts there, or null
    private final int[] endAt;
    private final Class<? extends SequentialBlock> originalType;

    /**
     * Wraps the children of a SequentialBlock, running the given runs as chains.
     *
     * @param original the block to take the children (and keys, input shapes) from
     * @param runs the runs, in order, not overlapping
     * @throws IllegalArgumentException if a run does not fit the rules of {@link #findRuns} or
     *     the block returns intermediate outputs
     */
    public ChainedSequentialBlock(SequentialBlock original, List<ChainRun> runs) {
        this(original, runs, Map.of());
    }

    /**
     * Wraps the children of a SequentialBlock, running the given runs as chains, with some
     * children taken in the versions given: an inner SequentialBlock chained before this one
     * (innermost first) is held as its chained block, whatever order the two replacements are
     * then applied in.
     *
     * @param original the block to take the children (and keys, input shapes) from
     * @param runs the runs, in order, not overlapping
     * @param instead children to hold in place of the original's (by identity); no link may be
     *     among them
     * @throws IllegalArgumentException if a run does not fit the rules of {@link #findRuns} or
     *     the block returns intermediate outputs
     */
    public ChainedSequentialBlock(
            SequentialBlock original, List<ChainRun> runs, Map<Block, Block> instead) {
        if (original.isReturnIntermediate()) {
            throw new IllegalArgumentException(
                    "a SequentialBlock that returns its intermediate outputs cannot be chained.");
        }
        if (!runsLikeSequentialBlock(original.getClass())) {
            throw new IllegalArgumentException(
                    original.getClass().getName()
                            + " runs its children its own way (it overrides forward), so it cannot"
                            + " be chained.");
        }
        originalType =
                original instanceof ChainedSequentialBlock c ? c.originalType : original.getClass();
        PairList<String, Block> kids = new PairList<>();
        for (int i = 0; i < original.getChildren().size(); i++) {
            Block b = original.getChildren().valueAt(i);
            kids.add(original.getChildren().keyAt(i), instead.getOrDefault(b, b));
        }
        for (int i = 0; i < kids.size(); i++) {
            children.add(kids.keyAt(i), kids.valueAt(i));
        }
        try {
            inputShapes = original.getInputShapes();
            outputDataTypes = original.getOutputDataTypes();
        } catch (IllegalStateException e) {
            // not initialised: neither is this block, loading or initialize fills both alike
            inputShapes = null;
            outputDataTypes = null;
        }
        try {
            inputNames = new ArrayList<>(original.describeInput().keys());
        } catch (IllegalStateException | IllegalArgumentException e) {
            // none, or none that fit the shapes (a block whose shapes were loaded, not
            // initialised, has shapes and no names): keep the empty list it has too
        }
        Block[] blocks = kids.values().toArray(new Block[0]);
        Block[] layerAt = new Block[blocks.length];
        formedOver = new FormedOver(blocks, layerAt);
        chainAt = new Int8Chain[blocks.length];
        endAt = new int[blocks.length];
        int after = 0;
        for (ChainRun r : runs) {
            if (r.from() < after || r.to() > blocks.length) {
                throw new IllegalArgumentException(
                        "int8 chain " + r + " overlaps another or lies outside the "
                                + blocks.length + " children.");
            }
            List<Block> links = new ArrayList<>();
            List<List<GridStep>> steps = new ArrayList<>();
            int state = NONE;
            for (int i = r.from(); i < r.to(); i++) {
                Block b = blocks[i];
                Block layer = layerOf(b);
                boolean inside = i != r.from() && i != r.to() - 1;
                GridStep step = inside ? stepOf(b, state) : null;
                if (i == r.from() ? layer != null : isLink(layer, state)) {
                    links.add(layer);
                    steps.add(new ArrayList<>());
                    state = layer instanceof QuantizedConv2d ? CONV : LINEAR;
                } else if (step != null) {
                    steps.get(steps.size() - 1).add(step);
                    state = step.channelsLastOutput() ? CONV : FLAT;
                } else if (!isPassThrough(b) || !inside) {
                    throw new IllegalArgumentException(
                            "child "
                                    + kids.keyAt(i)
                                    + " ("
                                    + describe(b)
                                    + ") cannot be in an int8 chain: only QuantizedLinear or"
                                    + " QuantizedConv2d layers (or single-layer SequentialBlocks"
                                    + " of one), static after the first, with pass-throughs"
                                    + " between them (and, between convolutions, DJL max"
                                    + " poolings; between the last convolution and the first"
                                    + " Linear, DJL's batch flatten), are.");
                }
            }
            steps.remove(steps.size() - 1); // the tail's: nothing follows it in the chain
            chainAt[r.from()] = new Int8Chain(links, steps);
            endAt[r.from()] = r.to();
            for (int i = r.from(); i < r.to(); i++) {
                layerAt[i] = layerOf(blocks[i]);
            }
            after = r.to();
        }
        this.runs = List.copyOf(runs);
    }

    /**
     * Finds the runs a block's children form: maximal runs of at least two links (a {@link
     * QuantizedLinear} or {@link QuantizedConv2d} child, or a single-layer wrapper of one, see
     * {@link #layerOf}), all of the head's kind (Linear or Conv2d), every one after the first
     * static (the first quantizes float32 input, so it may be dynamic; each later one reads bytes
     * on its static grid), with only pass-throughs (the identities that took the place of a folded
     * BatchNorm or a fused ReLU) between them, and, between convolutions, DJL's 2-D max poolings
     * that {@link DjlMaxPool#identify} recognises (run on the bytes, {@link MaxPoolStep}). Linear
     * links may follow convolution links through DJL's batch flatten ({@link
     * DjlBatchFlatten#identify}, run as a byte reorder, {@link FlattenStep}), after any poolings;
     * the other way round never. A run starts and ends at a layer: a pooling or a flatten before
     * its first layer or after its last stays out of it. Anything else (a dynamic layer after the
     * first, a float layer, a convolution after a Linear, a Linear after a convolution without a
     * flatten, a ReLU left unfused, any other pooling, a max pooling or flatten not recognised, a
     * wrapper holding two layers or anything but pass-throughs beside its layer) ends a run; a
     * dynamic layer or one of the other kind may start the next one.
     *
     * @param block the block
     * @return the runs, in order (empty if none, or if the block returns intermediate outputs)
     */
    public static List<ChainRun> findRuns(SequentialBlock block) {
        List<ChainRun> found = new ArrayList<>();
        if (block.isReturnIntermediate()) {
            return found;
        }
        List<Block> kids = block.getChildren().values();
        int i = 0;
        while (i < kids.size()) {
            Block head = layerOf(kids.get(i));
            if (head == null) {
                i++;
                continue;
            }
            int links = 1;
            int lastLink = i;
            int state = head instanceof QuantizedConv2d ? CONV : LINEAR;
            int j = i + 1;
            while (j < kids.size()) {
                Block k = kids.get(j);
                Block layer = layerOf(k);
                GridStep step;
                if (isLink(layer, state)) {
                    links++;
                    lastLink = j;
                    state = layer instanceof QuantizedConv2d ? CONV : LINEAR;
                } else if ((step = stepOf(k, state)) != null) {
                    state = step.channelsLastOutput() ? CONV : FLAT;
                } else if (!isPassThrough(k)) {
                    break;
                }
                j++;
            }
            if (links >= 2) {
                found.add(new ChainRun(i, lastLink + 1));
            }
            i = lastLink + 1;
        }
        return found;
    }

    /**
     * The int8 layer a child runs as a chain link: the child itself if it is a {@link
     * QuantizedLinear} or a {@link QuantizedConv2d}; for a single-layer wrapper (a SequentialBlock
     * of exactly that class, not returning intermediate outputs, whose children are one such layer
     * or wrapper plus pass-throughs), that layer; else null.
     *
     * @param child the child
     * @return the layer, or null if the child is not a link
     */
    public static Block layerOf(Block child) {
        if (child instanceof QuantizedLinear || child instanceof QuantizedConv2d) {
            return child;
        }
        // exactly the class: a subclass may run its children otherwise than one after another
        if (child == null
                || child.getClass() != SequentialBlock.class
                || ((SequentialBlock) child).isReturnIntermediate()) {
            return null;
        }
        Block layer = null;
        for (Block k : child.getChildren().values()) {
            if (isPassThrough(k)) {
                continue;
            }
            if (layer != null) {
                return null; // two layers (or a layer and anything else)
            }
            layer = layerOf(k);
            if (layer == null) {
                return null;
            }
        }
        return layer;
    }

    /**
     * Returns whether a SequentialBlock class runs its children as SequentialBlock does: neither
     * it nor a class between it and SequentialBlock declares a {@code forward} or {@code
     * forwardInternal} (a subclass that adds only construction, as the TorchScript importer's
     * sequences do, may be chained; one that runs its children otherwise may not).
     *
     * @param type the class
     * @return whether chaining keeps its forward
     */
    public static boolean runsLikeSequentialBlock(Class<? extends SequentialBlock> type) {
        for (Class<?> c = type; c != SequentialBlock.class && c != ChainedSequentialBlock.class;
                c = c.getSuperclass()) {
            for (java.lang.reflect.Method m : c.getDeclaredMethods()) {
                if (m.getName().equals("forward") || m.getName().equals("forwardInternal")) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Returns the class of the block this one replaced (a SequentialBlock, or a subclass that runs
     * its children as one does): what an artifact records in its place.
     *
     * @return the class
     */
    public Class<? extends SequentialBlock> getOriginalType() {
        return originalType;
    }

    /**
     * Returns the runs that run as chains.
     *
     * @return the runs, in order
     */
    public List<ChainRun> getRuns() {
        return runs;
    }

    // what the bytes after a run's last child are: none yet, NHWC after a convolution (or a
    // pooling), row-major after a Linear, row-major after a flatten of a convolution's output
    private static final int NONE = 0;
    private static final int CONV = 1;
    private static final int LINEAR = 2;
    private static final int FLAT = 3;

    /**
     * A later layer reads uint8 on its grid, which must be known before the call: static, and of a
     * kind that reads the bytes as they are laid out: a convolution after a convolution (NHWC), a
     * Linear after a Linear or a flatten (row-major).
     */
    private static boolean isLink(Block layer, int state) {
        if (layer instanceof QuantizedLinear q) {
            return (state == LINEAR || state == FLAT) && !q.isDynamic();
        }
        if (layer instanceof QuantizedConv2d q) {
            return state == CONV && !q.isDynamic();
        }
        return false;
    }

    /**
     * The step a child runs as on the NHWC bytes after a convolution, or null: a DJL max pooling
     * ({@link DjlMaxPool#identify}) or DJL's batch flatten ({@link DjlBatchFlatten#identify}).
     */
    private static GridStep stepOf(Block child, int state) {
        if (state != CONV) {
            return null;
        }
        MaxPool2dGeometry g = DjlMaxPool.identify(child);
        if (g != null) {
            return new MaxPoolStep(g);
        }
        return DjlBatchFlatten.identify(child) ? new FlattenStep() : null;
    }

    private static String describe(Block b) {
        return b instanceof LambdaBlock l
                ? "LambdaBlock " + l.getName()
                : b.getClass().getSimpleName();
    }

    /**
     * Returns whether a block is a pass-through: DJL's identity block ({@code
     * Blocks.identityBlock()}), which takes the place of a folded BatchNorm or a fused activation.
     *
     * @param b a block
     * @return whether it is the identity
     */
    public static boolean isPassThrough(Block b) {
        return b instanceof LambdaBlock l && IDENTITY.equals(l.getName());
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        if (training) {
            return super.forwardInternal(parameterStore, inputs, true, params);
        }
        NDList current = inputs;
        int i = 0;
        int n = children.size();
        while (i < n) {
            NDList chained =
                    i >= chainAt.length || chainAt[i] == null || !intact(i, n)
                            ? null
                            : chainAt[i].forward(parameterStore, current);
            if (chained != null) {
                current = chained;
                i = endAt[i];
            } else {
                current = children.valueAt(i++).forward(parameterStore, current, false, params);
            }
        }
        return current;
    }

    /**
     * Whether the chain starting at child {@code from} still holds the children (and, inside a
     * wrapper, the layers) it was formed over: the quantizer swaps layers for the length of a
     * timing or an evaluation, and a swapped layer must run, so its chain runs unchained then.
     */
    private boolean intact(int from, int size) {
        if (endAt[from] > size) {
            return false;
        }
        Block[] layers = formedOver.layers();
        for (int i = from; i < endAt[from]; i++) {
            Block b = children.valueAt(i);
            if (b != formedOver.children()[i]
                    || (layers[i] != null && layers[i] != b && layerOf(b) != layers[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * The children the chains were formed over and, by child index, each link's layer (null
     * elsewhere). In a holder, not in a field of this block: the block rewriter updates a block's
     * fields, arrays and lists that reference a block it replaces, and these must keep the blocks
     * the chains were formed over, to tell that one was replaced.
     */
    private record FormedOver(Block[] children, Block[] layers) {}
}

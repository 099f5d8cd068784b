package ai.djlquant.transform;

import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.BlockList;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Replaces blocks in a tree everywhere they are referenced: in their parents' children lists
 * (keeping the child key, so parameter names stay the same), in typed fields and in lists, arrays
 * and map values held by fields of any block of the tree (DJL's {@code
 * ScaledDotProductAttentionBlock} keeps its projections in private {@code Linear} fields, {@code
 * BertBlock} its encoders in a {@code List<TransformerEncoderBlock>}), and as the model's root
 * through {@link Model#setBlock}.
 *
 * <p>Every reference is checked first (does the new block fit the field's declared type, the
 * list's element type, the array's component type; can the container be written) and nothing
 * changes unless every reference of every replacement can be updated. Changes are recorded in a
 * {@link RewriteLog}, so a later failure can undo them.
 *
 * <p>A replacement block that has no parameters and no input shapes (a {@code LambdaBlock}) is
 * initialised with the input shapes of the block it replaces, so that {@code Model.save} can
 * write it; one with uninitialised parameters is refused.
 */
public final class BlockRewriter {

    private static final Field CHILDREN = childrenField();

    private final Model model;
    private final boolean forLoading;

    /**
     * Creates a rewriter for a model's tree.
     *
     * @param model the model whose root may be replaced, or null if the root is never replaced
     */
    public BlockRewriter(Model model) {
        this(model, false);
    }

    private BlockRewriter(Model model, boolean forLoading) {
        this.model = model;
        this.forLoading = forLoading;
    }

    /**
     * Creates a rewriter for a tree that is not initialised yet and whose parameters will be loaded
     * after the rewrite ({@code Block.loadParameters}): replacement blocks may then be
     * uninitialised too, since loading fills them.
     *
     * @param model the model whose root may be replaced, or null if the root is never replaced
     * @return the rewriter
     */
    public static BlockRewriter forLoading(Model model) {
        return new BlockRewriter(model, true);
    }

    private static Field childrenField() {
        try {
            Field f = AbstractBlock.class.getDeclaredField("children");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // every child edit then reports the block as not rewritable
        }
    }

    /**
     * Checks replacements without changing anything.
     *
     * @param tree the current tree
     * @param replacements the replacements
     * @return the problems by original block (compared by identity), one sentence each; empty if
     *     every replacement can be made
     */
    public Map<Block, String> check(BlockTree tree, List<Replacement> replacements) {
        Map<Block, String> problems = new IdentityHashMap<>();
        for (Replacement r : replacements) {
            List<String> p = new ArrayList<>();
            edits(tree, r, p);
            if (!p.isEmpty()) {
                problems.put(r.getOriginal(), String.join("; ", p));
            }
        }
        return problems;
    }

    /**
     * Applies replacements: checks all of them, then changes the tree and records every change in
     * {@code log}.
     *
     * @param tree the current tree (walked after the last change)
     * @param replacements the replacements
     * @param log the undo log
     * @throws IllegalArgumentException if a replacement cannot be made (nothing is changed)
     */
    public void apply(BlockTree tree, List<Replacement> replacements, RewriteLog log) {
        apply(tree, replacements, log, r -> {});
    }

    /**
     * Applies replacements as {@link #apply(BlockTree, List, RewriteLog)} does, calling {@code
     * afterEach} after each one is in place (for progress, or to test a failure half-way).
     *
     * @param tree the current tree (walked after the last change)
     * @param replacements the replacements
     * @param log the undo log
     * @param afterEach called after each replacement
     * @throws IllegalArgumentException if a replacement cannot be made (nothing is changed)
     */
    public void apply(
            BlockTree tree,
            List<Replacement> replacements,
            RewriteLog log,
            Consumer<Replacement> afterEach) {
        List<List<Edit>> all = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Replacement r : replacements) {
            List<String> p = new ArrayList<>();
            List<Edit> e = edits(tree, r, p);
            if (p.isEmpty()) {
                all.add(e);
            } else {
                problems.add(describe(tree, r.getOriginal()) + ": " + String.join("; ", p));
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(
                    "cannot replace " + String.join(", and ", problems) + ".");
        }
        for (int i = 0; i < all.size(); i++) {
            for (Edit e : all.get(i)) {
                e.apply(log);
            }
            afterEach.accept(replacements.get(i));
        }
    }

    /**
     * Applies replacements one at a time, each on the tree the ones before it left (nested
     * targets, innermost first: an outer replacement takes the replaced inner block as its
     * child), all or none: if one cannot be made, those this call made are taken back and it
     * throws. Kept, they are one entry of {@code log}, undone with the rest.
     *
     * @param currentTree walks the tree as it is now
     * @param replacements the replacements, in the order to make them
     * @param log the undo log
     * @throws IllegalArgumentException if a replacement cannot be made (nothing is changed)
     * @throws IllegalStateException if a field cannot take its new block (nothing is changed)
     */
    public void applyInTurn(
            Supplier<BlockTree> currentTree, List<Replacement> replacements, RewriteLog log) {
        RewriteLog group = new RewriteLog();
        try {
            for (Replacement r : replacements) {
                apply(currentTree.get(), List.of(r), group);
            }
        } catch (RuntimeException e) {
            group.rollback();
            throw e;
        }
        log.record(group::rollback);
    }

    private static String describe(BlockTree tree, Block b) {
        List<BlockNode> nodes = tree.occurrencesOf(b);
        return nodes.isEmpty() ? b.getClass().getSimpleName() : nodes.get(0).toString();
    }

    /** The edits of one replacement; problems go to {@code problems}. */
    private List<Edit> edits(BlockTree tree, Replacement r, List<String> problems) {
        Block old = r.getOriginal();
        Block nu = r.getReplacement();
        List<Edit> edits = new ArrayList<>();
        List<BlockNode> nodes = tree.occurrencesOf(old);
        if (nodes.isEmpty()) {
            problems.add("the block is not in the tree");
            return edits;
        }
        Shape[] shapes = null;
        if (!nu.isInitialized() && !forLoading) {
            if (!nu.getParameters().isEmpty()) {
                problems.add(
                        "the replacement "
                                + nu.getClass().getSimpleName()
                                + " has uninitialised parameters");
            } else if (!old.isInitialized()) {
                problems.add("the block has no input shapes to give its replacement");
            } else {
                shapes = old.getInputShapes();
            }
        }
        if (shapes != null) {
            Shape[] s = shapes;
            edits.add(log -> nu.initialize(null, DataType.FLOAT32, s)); // no parameters to make
        }
        Map<Block, Boolean> parentsDone = new IdentityHashMap<>();
        for (BlockNode node : nodes) {
            BlockNode parent = node.getParent();
            if (parent == null) {
                rootEdit(old, nu, edits, problems);
            } else if (parentsDone.put(parent.getBlock(), Boolean.TRUE) == null) {
                childEdits(parent.getBlock(), old, nu, edits, problems);
            }
        }
        for (BlockFields.Reference ref : tree.fieldReferencesTo(old)) {
            fieldEdit(ref, nu, edits, problems);
        }
        return edits;
    }

    private void rootEdit(Block old, Block nu, List<Edit> edits, List<String> problems) {
        if (model == null || model.getBlock() != old) {
            problems.add("it is the root of the tree and no model to set it on was given");
            return;
        }
        edits.add(
                log -> {
                    model.setBlock(nu);
                    log.record(() -> model.setBlock(old));
                });
    }

    private static void childEdits(
            Block parent, Block old, Block nu, List<Edit> edits, List<String> problems) {
        if (!(parent instanceof AbstractBlock) || CHILDREN == null) {
            problems.add(
                    "its parent "
                            + parent.getClass().getSimpleName()
                            + " keeps its children in a list this rewriter cannot reach");
            return;
        }
        BlockList children;
        try {
            children = (BlockList) CHILDREN.get(parent);
        } catch (IllegalAccessException | RuntimeException e) {
            problems.add("the children list of its parent cannot be read (" + e + ")");
            return;
        }
        List<Block> values = children.values();
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i) == old) {
                int index = i;
                edits.add(
                        log -> {
                            values.set(index, nu);
                            log.record(() -> values.set(index, old));
                        });
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static void fieldEdit(
            BlockFields.Reference ref, Block nu, List<Edit> edits, List<String> problems) {
        Field f = ref.field;
        Block old = ref.value;
        String where = "field " + ref.describe();
        String type = nu.getClass().getSimpleName();
        switch (ref.kind) {
            case DIRECT:
                if (!f.getType().isInstance(nu)) {
                    problems.add(where + " is a " + f.getType().getSimpleName() + "; a " + type
                            + " does not fit it");
                } else if (Modifier.isFinal(f.getModifiers())
                        && (f.getDeclaringClass().isRecord() || f.getDeclaringClass().isHidden())) {
                    problems.add(where + " is final in a record or hidden class");
                } else {
                    edits.add(
                            log -> {
                                set(f, ref.owner, nu);
                                log.record(() -> set(f, ref.owner, old));
                            });
                }
                return;
            case LIST:
                List<Object> list = (List<Object>) ref.container;
                int i = (Integer) ref.slot;
                Class<?> element = BlockFields.elementType(f, 0);
                if (!element.isInstance(nu)) {
                    problems.add(where + " holds " + element.getSimpleName() + "s; a " + type
                            + " does not fit it");
                } else if (!writable(list, i)) {
                    problems.add(where + " is in a list that cannot be changed");
                } else {
                    edits.add(
                            log -> {
                                list.set(i, nu);
                                log.record(() -> list.set(i, old));
                            });
                }
                return;
            case ARRAY:
                Object array = ref.container;
                int j = (Integer) ref.slot;
                Class<?> component = array.getClass().getComponentType();
                if (!component.isInstance(nu)) {
                    problems.add(where + " is in a " + component.getSimpleName() + "[]; a " + type
                            + " does not fit it");
                } else {
                    edits.add(
                            log -> {
                                Array.set(array, j, nu);
                                log.record(() -> Array.set(array, j, old));
                            });
                }
                return;
            case MAP:
                Map<Object, Object> map = (Map<Object, Object>) ref.container;
                Object key = ref.slot;
                Class<?> value = BlockFields.elementType(f, 1);
                if (!value.isInstance(nu)) {
                    problems.add(where + " maps to " + value.getSimpleName() + "s; a " + type
                            + " does not fit it");
                } else if (!writable(map, key)) {
                    problems.add(where + " is in a map that cannot be changed");
                } else {
                    edits.add(
                            log -> {
                                map.put(key, nu);
                                log.record(() -> map.put(key, old));
                            });
                }
                return;
            default:
                problems.add(where + " holds the block in a "
                        + ref.container.getClass().getSimpleName()
                        + ", which this rewriter does not update");
        }
    }

    private static void set(Field f, Object owner, Object value) {
        try {
            f.set(owner, value);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot write field " + f + ": " + e, e);
        }
    }

    /** Whether a list accepts a write, tried by writing back the element it holds. */
    private static boolean writable(List<Object> list, int index) {
        try {
            list.set(index, list.get(index));
            return true;
        } catch (UnsupportedOperationException | ClassCastException e) {
            return false;
        }
    }

    private static boolean writable(Map<Object, Object> map, Object key) {
        try {
            map.put(key, map.get(key));
            return true;
        } catch (UnsupportedOperationException | ClassCastException e) {
            return false;
        }
    }

    /** One change to the tree, recording its undo. */
    private interface Edit {
        void apply(RewriteLog log);
    }
}

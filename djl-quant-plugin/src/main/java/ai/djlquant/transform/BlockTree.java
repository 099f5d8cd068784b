package ai.djlquant.transform;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A walk of a block tree: every block reached through {@link Block#getChildren()}, in pre-order
 * (a parent before its children, children in list order, which is the order a SequentialBlock runs
 * them), each with its stable path (see {@link BlockNode}).
 *
 * <p>The walk also finds what the children lists do not show: blocks that a block keeps in its
 * fields without registering them as children ("unregistered children": DJL neither saves their
 * parameters nor lets a walker reach them through the children lists), and fields that cannot be
 * read.
 *
 * <p>A block that appears at several places (shared weights) has one node per place; {@link
 * #occurrencesOf(Block)} lists them.
 */
public final class BlockTree {

    /** Deeper trees than this are taken for a cycle. */
    static final int MAX_DEPTH = 1000;

    private final BlockNode root;
    private final List<BlockNode> nodes = new ArrayList<>();
    private final Map<Block, List<BlockNode>> occurrences = new IdentityHashMap<>();
    private final Map<String, BlockNode> byPath = new LinkedHashMap<>();
    private final List<UnregisteredChild> unregistered = new ArrayList<>();
    private final List<String> unreadableFields = new ArrayList<>();
    private final Map<Block, BlockFields.Scan> scanned = new IdentityHashMap<>();
    private final Map<Block, List<BlockFields.Reference>> referencesTo = new IdentityHashMap<>();
    private final Map<BlockFields.Reference, BlockNode> referenceOwners = new IdentityHashMap<>();
    private final List<BlockFields.Reference> allReferences = new ArrayList<>();

    private BlockTree(Block root) {
        this.root = new BlockNode(root, null, "", -1);
        Set<Block> onPath = Collections.newSetFromMap(new IdentityHashMap<>());
        visit(this.root, onPath, 0);
        Set<Block> reported = Collections.newSetFromMap(new IdentityHashMap<>());
        for (BlockFields.Reference r : allReferences) {
            if (!occurrences.containsKey(r.value) && reported.add(r.value)) {
                unregistered.add(new UnregisteredChild(referenceOwners.get(r), r.describe(), r.value));
            }
        }
    }

    /**
     * Walks the tree under {@code root}.
     *
     * @param root the root block
     * @return the walked tree
     * @throws IllegalArgumentException if a block contains itself
     */
    public static BlockTree walk(Block root) {
        if (root == null) {
            throw new IllegalArgumentException("the block tree has no root block (null).");
        }
        return new BlockTree(root);
    }

    private void visit(BlockNode node, Set<Block> onPath, int depth) {
        Block block = node.getBlock();
        if (depth > MAX_DEPTH || !onPath.add(block)) {
            throw new IllegalArgumentException(
                    "block " + node.displayPath() + " contains itself; the tree has a cycle.");
        }
        nodes.add(node);
        occurrences.computeIfAbsent(block, b -> new ArrayList<>(1)).add(node);
        byPath.putIfAbsent(node.getPath(), node);
        int i = 0;
        for (Pair<String, Block> child : block.getChildren()) {
            BlockNode c = new BlockNode(child.getValue(), node, child.getKey(), i++);
            node.addChild(c);
            visit(c, onPath, depth + 1);
        }
        if (!scanned.containsKey(block)) {
            BlockFields.Scan scan = BlockFields.scan(block);
            scanned.put(block, scan);
            for (String f : scan.unreadable) {
                unreadableFields.add(node.displayPath() + ": " + f);
            }
            for (BlockFields.Reference r : scan.references) {
                referencesTo.computeIfAbsent(r.value, b -> new ArrayList<>()).add(r);
                allReferences.add(r);
                referenceOwners.put(r, node);
            }
        }
        onPath.remove(block);
    }

    /**
     * Returns the root's node.
     *
     * @return the root node
     */
    public BlockNode getRoot() {
        return root;
    }

    /**
     * Returns every node, in pre-order.
     *
     * @return the nodes
     */
    public List<BlockNode> getNodes() {
        return Collections.unmodifiableList(nodes);
    }

    /**
     * Returns the nodes at which a block appears (empty if it is not in the tree).
     *
     * @param block the block
     * @return its nodes, in pre-order
     */
    public List<BlockNode> occurrencesOf(Block block) {
        List<BlockNode> list = occurrences.get(block);
        return list == null ? Collections.emptyList() : Collections.unmodifiableList(list);
    }

    /** The field references to {@code block} from any block in the tree (possibly none). */
    List<BlockFields.Reference> fieldReferencesTo(Block block) {
        List<BlockFields.Reference> list = referencesTo.get(block);
        return list == null ? Collections.emptyList() : list;
    }

    /**
     * Returns the node with a path, or null.
     *
     * @param path the path (empty for the root)
     * @return the node, or null
     */
    public BlockNode find(String path) {
        return byPath.get(path);
    }

    /**
     * Returns the blocks held in fields of blocks in the tree but reachable through no children
     * list (each once, with the first field found).
     *
     * @return the unregistered children
     */
    public List<UnregisteredChild> getUnregisteredChildren() {
        return Collections.unmodifiableList(unregistered);
    }

    /**
     * Returns the fields the walk could not read (for example in a module that does not open its
     * packages), as {@code "path: Class.field (reason)"}.
     *
     * @return the unreadable fields
     */
    public List<String> getUnreadableFields() {
        return Collections.unmodifiableList(unreadableFields);
    }

    /** A block held in a field of a block in the tree but not in that block's children list. */
    public static final class UnregisteredChild {

        private final BlockNode owner;
        private final String field;
        private final Block block;

        UnregisteredChild(BlockNode owner, String field, Block block) {
            this.owner = owner;
            this.field = field;
            this.block = block;
        }

        /**
         * Returns the node of the block whose field holds the child.
         *
         * @return the owner node
         */
        public BlockNode getOwner() {
            return owner;
        }

        /**
         * Returns the field, as {@code Class.field} (with an index for containers).
         *
         * @return the field
         */
        public String getField() {
            return field;
        }

        /**
         * Returns the unregistered block.
         *
         * @return the block
         */
        public Block getBlock() {
            return block;
        }

        /**
         * Returns a path for reports: the owner's path, {@code '#'} and the field.
         *
         * @return the path
         */
        public String displayPath() {
            String p = owner.getPath();
            return (p.isEmpty() ? "" : p + '/') + '#' + field;
        }
    }

    /**
     * Returns the bytes of a block's parameters, its children's included: elements times the
     * width of their data type (an int8 weight counts one byte per element).
     *
     * @param block a block
     * @return bytes
     */
    public static long parameterBytes(Block block) {
        return bytes(block.getParameters().values());
    }

    /**
     * Returns the bytes of a block's own parameters, not its children's.
     *
     * @param block a block
     * @return bytes
     */
    public static long directParameterBytes(Block block) {
        return bytes(block.getDirectParameters().values());
    }

    private static long bytes(List<Parameter> parameters) {
        long bytes = 0;
        for (Parameter p : parameters) {
            if (p.isInitialized()) {
                NDArray a = p.getArray();
                bytes += a.size() * a.getDataType().getNumOfBytes();
            }
        }
        return bytes;
    }
}

package ai.djlquant.transform;

import ai.djl.nn.Block;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One place of a block in a walked tree: the block, its parent, the key it has in the parent's
 * children list and its path from the root.
 *
 * <p>Paths join the children keys from the root with {@code '/'}, for example {@code
 * 02SequentialBlock/01Conv2d}; the root's path is the empty string. DJL fixes a child's key when the
 * child is added ({@code "%02d" + name}), so paths are the same on every run of the same
 * architecture, and a parameter's DJL name is its layer's path with {@code '_'} for {@code '/'}
 * plus {@code _<parameter name>}.
 */
public final class BlockNode {

    private final Block block;
    private final BlockNode parent;
    private final String key;
    private final int index;
    private final String path;
    private final List<BlockNode> children = new ArrayList<>();

    BlockNode(Block block, BlockNode parent, String key, int index) {
        this.block = block;
        this.parent = parent;
        this.key = key;
        this.index = index;
        if (parent == null) {
            path = "";
        } else if (parent.path.isEmpty()) {
            path = key;
        } else {
            path = parent.path + '/' + key;
        }
    }

    /**
     * Returns the block.
     *
     * @return the block
     */
    public Block getBlock() {
        return block;
    }

    /**
     * Returns the parent's node, or null for the root.
     *
     * @return the parent node, or null
     */
    public BlockNode getParent() {
        return parent;
    }

    /**
     * Returns the key of this block in its parent's children list (empty for the root).
     *
     * @return the child key
     */
    public String getKey() {
        return key;
    }

    /**
     * Returns the position of this block in its parent's children list (-1 for the root).
     *
     * @return the index
     */
    public int getIndex() {
        return index;
    }

    /**
     * Returns the path from the root (see the class documentation).
     *
     * @return the path, empty for the root
     */
    public String getPath() {
        return path;
    }

    /**
     * Returns the path for messages and reports: the path, or {@code (root)} for the root.
     *
     * @return a printable path
     */
    public String displayPath() {
        return path.isEmpty() ? "(root)" : path;
    }

    /**
     * Returns the child nodes in the order of the block's children list.
     *
     * @return the children
     */
    public List<BlockNode> getChildren() {
        return Collections.unmodifiableList(children);
    }

    /**
     * Returns the simple class name of the block.
     *
     * @return the block type
     */
    public String getType() {
        return block.getClass().getSimpleName();
    }

    void addChild(BlockNode child) {
        children.add(child);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return displayPath() + " (" + getType() + ")";
    }
}

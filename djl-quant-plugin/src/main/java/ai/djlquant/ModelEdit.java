package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djlquant.transform.BlockRewriter;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.Replacement;
import ai.djlquant.transform.RewriteLog;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The changes one quantize call makes to a model, undoable until committed: every replacement in
 * the tree goes through its log, and every block the call builds is registered, so that a failure
 * at any step puts the model back exactly as it was and frees what the call made.
 */
final class ModelEdit {

    private final Model model;
    private final Block originalRoot;
    private final BlockRewriter rewriter;
    private final RewriteLog log = new RewriteLog();
    private final NDManager owned;
    private final List<Block> built = new ArrayList<>();

    ModelEdit(Model model) {
        this.model = model;
        this.originalRoot = model.getBlock();
        this.rewriter = new BlockRewriter(model);
        this.owned = model.getNDManager().newSubManager();
        this.owned.setName("djl-quant");
    }

    /** The model being edited. */
    Model model() {
        return model;
    }

    /** The root block before the edit. */
    Block originalRoot() {
        return originalRoot;
    }

    /** The tree as it is now. */
    BlockTree currentTree() {
        return BlockTree.walk(model.getBlock());
    }

    /** The manager of arrays the call makes (folded weights); kept on success. */
    NDManager arrays() {
        return owned;
    }

    /** Registers a block this call built, to free it if the call fails. */
    <B extends Block> B built(B block) {
        built.add(block);
        return block;
    }

    /** Which replacements cannot be made, and why (see {@link BlockRewriter#check}). */
    Map<Block, String> check(BlockTree tree, List<Replacement> replacements) {
        return rewriter.check(tree, replacements);
    }

    /** Makes replacements, each recorded in the undo log. */
    void apply(BlockTree tree, List<Replacement> replacements) {
        rewriter.apply(tree, replacements, log);
    }

    /** Makes replacements, calling {@code after} after each one. */
    void apply(BlockTree tree, List<Replacement> replacements, Consumer<Replacement> after) {
        rewriter.apply(tree, replacements, log, after);
    }

    /**
     * Makes replacements in turn, all or none ({@link BlockRewriter#applyInTurn}); kept, they are
     * undone with the rest by {@link #rollback}.
     *
     * @param replacements the replacements, in the order to make them
     * @throws IllegalArgumentException if a replacement cannot be made (nothing changed)
     */
    void applyAllOrNone(List<Replacement> replacements) {
        rewriter.applyInTurn(this::currentTree, replacements, log);
    }

    /**
     * Makes replacements until the returned trial is closed, which takes them back (to time or
     * evaluate another version of the model without changing it for good). Trials do not nest,
     * and no other change may be made while one is open.
     *
     * @param replacements the replacements
     * @return the open trial
     */
    Trial beginTrial(List<Replacement> replacements) {
        RewriteLog temporary = new RewriteLog();
        try {
            rewriter.apply(currentTree(), replacements, temporary);
        } catch (RuntimeException e) {
            temporary.rollback();
            throw e;
        }
        return new Trial(temporary);
    }

    /**
     * Runs {@code body} with replacements in place, and takes them back when it returns or
     * throws.
     *
     * @param replacements the replacements
     * @param body what runs with them
     * @param <T> its result's type
     * @return its result
     */
    <T> T during(List<Replacement> replacements, Supplier<T> body) {
        Trial trial = beginTrial(replacements);
        try {
            return body.get();
        } finally {
            trial.close();
        }
    }

    /** Replacements in place until closed; see {@link #beginTrial}. */
    static final class Trial implements AutoCloseable {
        private final RewriteLog log;

        private Trial(RewriteLog log) {
            this.log = log;
        }

        /** Takes the trial's replacements back. */
        @Override
        public void close() {
            log.rollback();
        }
    }

    /** Keeps the changes. */
    void commit() {
        log.commit();
    }

    /** Puts the model back as it was and frees what this call made. */
    void rollback(Throwable cause) {
        try {
            log.rollback();
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
        for (Block b : built) {
            release(b);
        }
        owned.close();
    }

    /** Puts the model back as it was and frees what this call made, with no failure to report. */
    void discard() {
        IllegalStateException failed =
                new IllegalStateException("the model could not be put back after a trial quantization.");
        rollback(failed);
        if (failed.getSuppressed().length > 0) {
            throw failed;
        }
    }

    /** Frees the arrays of a block that will not be used. */
    static void release(Block b) {
        if (b == null) {
            return;
        }
        for (Parameter p : b.getParameters().values()) {
            p.close();
        }
    }
}

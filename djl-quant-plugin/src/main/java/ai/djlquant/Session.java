package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.plan.LayerPlanner;
import ai.djlquant.transform.BlockRewriter;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.RewriteLog;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The state of one {@link Quantizer#quantize} call, shared by its steps: the model, the layers
 * and their progress, the undo log, and the memory the call owns.
 */
final class Session {

    final Model model;
    final QuantizationConfig config;
    final Quantizer.Hooks hooks;
    final Block originalRoot;
    final BlockTree originalTree;
    final BlockRewriter rewriter;
    final RewriteLog log = new RewriteLog();
    final LayerPlanner planner;
    final int activationBits;
    final ForwardTracker tracker = new ForwardTracker();
    final QuantizationReport report = new QuantizationReport();

    /** The quantizable layers, in tree order. */
    final List<QuantLayer> layers = new ArrayList<>();

    /** The same, by the original block. */
    final Map<Block, QuantLayer> byOriginal = new IdentityHashMap<>();

    /** Blocks put in the tree that hand their input on unchanged (where a BN or ReLU was). */
    final Set<Block> passThrough = Collections.newSetFromMap(new IdentityHashMap<>());

    /** Arrays of folded layers and their int8 blocks; kept on success, freed on failure. */
    final NDManager owned;

    /** Kept layer inputs; always freed at the end. */
    final NDManager samples;

    /** Why a BatchNorm after a layer was not folded. */
    final Map<Block, String> unfolded = new IdentityHashMap<>();

    long expectedSamples;
    Calibration calibration;

    Session(Model model, QuantizationConfig config, Quantizer.Hooks hooks, BlockTree tree) {
        this.model = model;
        this.config = config;
        this.hooks = hooks;
        this.originalRoot = model.getBlock();
        this.originalTree = tree;
        this.rewriter = new BlockRewriter(model);
        this.planner = new LayerPlanner(config.getAutoMarginDb(), config.getAutoFloorDb());
        this.activationBits = Int8Backends.get().getActivationBits();
        NDManager m = model.getNDManager();
        this.owned = m.newSubManager();
        this.owned.setName("djl-quant");
        this.samples = m.newSubManager();
        this.samples.setName("djl-quant calibration samples");
    }

    /** Puts the model back as it was and frees what this call made. */
    void rollback(Throwable cause) {
        try {
            log.rollback();
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
        for (QuantLayer l : layers) {
            Int8Blocks.release(l.staticBlock);
            Int8Blocks.release(l.dynamicBlock);
        }
        owned.close();
    }

    /** Frees the kept layer inputs. */
    void closeSamples() {
        for (QuantLayer l : layers) {
            if (l.recorder != null) {
                l.recorder.closeSamples();
            }
        }
        samples.close();
    }
}

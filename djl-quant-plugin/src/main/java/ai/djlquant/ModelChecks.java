package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SymbolBlock;
import ai.djlquant.nn.ObservedBlock;
import ai.djlquant.nn.QuantizedBlock;
import ai.djlquant.nn.WeightOnlyBlock;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;

/**
 * The check step: everything that can be known wrong before the model is touched, each refused
 * with one sentence naming the model, layer or source at fault.
 */
final class ModelChecks {

    private ModelChecks() {}

    /**
     * Walks a model's tree after checking that it can be quantized: it has a DJL block tree (not a
     * compiled one), no layer is quantized already, every parameter has a value.
     *
     * @param model the model
     * @return its tree
     * @throws IllegalArgumentException if it cannot be quantized
     */
    static BlockTree treeOf(Model model) {
        Block root = model.getBlock();
        if (root == null) {
            throw new IllegalArgumentException(
                    "model '" + model.getName() + "' has no block to quantize.");
        }
        if (root instanceof SymbolBlock) {
            throw new IllegalArgumentException(
                    "model '"
                            + model.getName()
                            + "' is a "
                            + root.getClass().getSimpleName()
                            + " (a TorchScript or other compiled model): its layers are compiled"
                            + " code that cannot be rewritten. For a traced TorchScript .pt, import"
                            + " it as a DJL block tree with djl-quant's"
                            + " TorchScriptImporter.builder(pt).optInputShapes(shape).build()"
                            + ".importModel() (or load its directory with the"
                            + " TorchScriptBlockFactory) and quantize that model; otherwise"
                            + " rebuild the architecture from DJL blocks (a BlockFactory), load"
                            + " the weights into it, then quantize that model.");
        }
        BlockTree tree = BlockTree.walk(root);
        refuseQuantized(tree);
        requireInitialised(tree);
        return tree;
    }

    private static void refuseQuantized(BlockTree tree) {
        for (BlockNode n : tree.getNodes()) {
            Block b = n.getBlock();
            if (b instanceof QuantizedBlock || b instanceof WeightOnlyBlock || b instanceof ObservedBlock) {
                throw new IllegalArgumentException(
                        "the model is already quantized: layer "
                                + n.displayPath()
                                + " is a "
                                + n.getType()
                                + ". Quantize the float model instead.");
            }
        }
    }

    private static void requireInitialised(BlockTree tree) {
        for (BlockNode n : tree.getNodes()) {
            for (Parameter p : n.getBlock().getDirectParameters().values()) {
                if (!p.isInitialized()) {
                    throw new IllegalArgumentException(
                            "the model is not initialised: layer "
                                    + n.displayPath()
                                    + " ("
                                    + n.getType()
                                    + ") has no value for parameter '"
                                    + p.getName()
                                    + "'. Load its parameters (Model.load) or call"
                                    + " block.initialize(manager, DataType.FLOAT32, inputShape)"
                                    + " before quantizing.");
                }
            }
        }
        if (!tree.getRoot().getBlock().isInitialized()) {
            for (BlockNode n : tree.getNodes()) {
                if (!n.getBlock().isInitialized()) {
                    throw new IllegalArgumentException(
                            "the model is not initialised: block "
                                    + n.displayPath()
                                    + " ("
                                    + n.getType()
                                    + ") has no input shapes. Load the model's parameters or"
                                    + " initialize the block before quantizing.");
                }
            }
        }
    }

    /**
     * Counts the samples the calibration pass will run.
     *
     * @param model the model
     * @param data the source
     * @param c the configuration
     * @return the samples, at most the configured number
     * @throws IllegalArgumentException if the source is empty, or holds fewer samples than asked
     *     for when the configuration requires the exact number
     */
    static long countSamples(Model model, CalibrationData data, QuantizationConfig c) {
        long want = c.getCalibrationSamples();
        long have;
        try (NDManager m = model.getNDManager().newSubManager()) {
            have = data.count(m, want);
        }
        if (have == 0) {
            throw new IllegalArgumentException(
                    "the calibration source (" + data.describe() + ") holds no samples.");
        }
        if (have < want && c.isExactSamples()) {
            throw new IllegalArgumentException(
                    "calibrationSamples is "
                            + want
                            + " but the calibration source ("
                            + data.describe()
                            + ") holds only "
                            + have
                            + ".");
        }
        return have;
    }

    /**
     * Checks that the pass ran as many samples as were counted (a source read once gives fewer).
     *
     * @param run what the pass ran
     * @param counted the samples counted before
     * @throws IllegalArgumentException if it ran fewer
     */
    static void requireSameSamples(CalibrationRun run, long counted) {
        if (run.samples() < counted) {
            throw new IllegalArgumentException(
                    "the calibration source gave "
                            + run.samples()
                            + " samples on its second reading but "
                            + counted
                            + " when counted; use a source that can be read twice (a"
                            + " Dataset or a Collection).");
        }
    }
}

package ai.djlquant;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.norm.BatchNorm;
import ai.djlquant.nn.ObservedBlock;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.transform.BatchNormFolding;
import ai.djlquant.transform.BlockNode;
import ai.djlquant.transform.BlockTree;
import ai.djlquant.transform.ReluFusion;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The steps before calibration: fold BatchNorms into the layers before them, find the ReLUs that
 * can be fused, and put an observer around every layer that may be quantized (PyTorch's fuse and
 * prepare).
 */
final class Preparation {

    private Preparation() {}

    /** Folds every foldable BatchNorm after a layer that is not excluded. */
    static void foldBatchNorms(Session s) {
        if (!s.config.isFoldBatchNorm()) {
            return;
        }
        BatchNormFolding.Found found = BatchNormFolding.find(s.originalTree);
        for (BatchNormFolding.Skipped k : found.getSkipped()) {
            s.unfolded.put(k.getBatchNorm().getBlock(), k.getReason());
        }
        List<Replacement> replacements = new ArrayList<>();
        List<Object[]> folds = new ArrayList<>();
        for (BatchNormFolding.Pair pair : found.getPairs()) {
            QuantLayer layer = s.byOriginal.get(pair.getLayer().getBlock());
            if (layer == null) {
                s.unfolded.put(pair.getBatchNorm().getBlock(), "the layer before it is excluded");
                continue; // excluded: left exactly as it is
            }
            BatchNorm bn = (BatchNorm) pair.getBatchNorm().getBlock();
            Block folded = BatchNormFolding.fold(layer.original, bn, s.owned);
            Block identity = Blocks.identityBlock();
            replacements.add(new Replacement(layer.original, folded));
            replacements.add(new Replacement(bn, identity));
            folds.add(new Object[] {layer, pair.getBatchNorm(), folded, identity});
        }
        Map<Block, String> problems = s.rewriter.check(s.originalTree, replacements);
        List<Replacement> possible = new ArrayList<>();
        for (Object[] f : folds) {
            QuantLayer layer = (QuantLayer) f[0];
            BlockNode bnNode = (BlockNode) f[1];
            String problem = problems.get(layer.original);
            if (problem == null) {
                problem = problems.get(bnNode.getBlock());
            }
            if (problem != null) {
                s.unfolded.put(bnNode.getBlock(), "it cannot be replaced in the tree: " + problem);
                Int8Blocks.release((Block) f[2]);
                continue;
            }
            possible.add(new Replacement(layer.original, (Block) f[2]));
            possible.add(new Replacement(bnNode.getBlock(), (Block) f[3]));
            layer.floatBlock = (Block) f[2];
            layer.foldedBatchNorm = bnNode.getBlock();
            layer.foldedBatchNormPath = bnNode.getPath();
            layer.report.floatBytes += Quantizer.parameterBytes(bnNode.getBlock());
            s.passThrough.add((Block) f[3]);
        }
        s.rewriter.apply(s.originalTree, possible, s.log);
    }

    /** Finds, for each layer that may be quantized, a ReLU that alone reads its output. */
    static void findRelus(Session s) {
        if (!s.config.isFuseRelu()) {
            return;
        }
        BlockTree tree = BlockTree.walk(s.model.getBlock());
        for (QuantLayer layer : s.layers) {
            if (layer.places != 1 || layer.choice.getMode() == QuantizationMode.FP32) {
                continue;
            }
            List<BlockNode> nodes = tree.occurrencesOf(layer.floatBlock);
            if (nodes.size() != 1) {
                continue;
            }
            BlockNode reader = ReluFusion.soleReader(tree, nodes.get(0), s.passThrough);
            if (reader == null) {
                continue;
            }
            Block f = layer.floatBlock;
            Shape out = f.getOutputShapes(f.getInputShapes())[0];
            if (ReluFusion.isRelu(reader.getBlock(), out, s.samples)) {
                layer.relu = reader.getBlock();
                layer.reluPath = reader.getPath();
            }
        }
    }

    /** Puts an observer around every layer that may be quantized. */
    static void insertObservers(Session s) {
        BlockTree tree = BlockTree.walk(s.model.getBlock());
        List<Replacement> replacements = new ArrayList<>();
        List<QuantLayer> observed = new ArrayList<>();
        for (QuantLayer layer : s.layers) {
            if (layer.choice.getMode() == QuantizationMode.FP32 || layer.structuralReason != null) {
                continue;
            }
            Block f = layer.floatBlock;
            LayerRecorder recorder =
                    new LayerRecorder(
                            layer.path,
                            layer.report.blockType,
                            f.getInputShapes(),
                            s.config.newActivationObserver(),
                            s.tracker,
                            s.samples,
                            s.config.getPlanSampleBytes(),
                            s.config.getPlanMaxSamples(),
                            s.config.getSeed());
            ObservedBlock wrapper = ObservedBlock.wrap(f, recorder);
            replacements.add(new Replacement(f, wrapper));
            layer.recorder = recorder;
            layer.observed = wrapper;
            observed.add(layer);
        }
        Map<Block, String> problems = s.rewriter.check(tree, replacements);
        List<Replacement> possible = new ArrayList<>();
        for (int i = 0; i < observed.size(); i++) {
            QuantLayer layer = observed.get(i);
            String problem = problems.get(layer.floatBlock);
            if (problem != null) {
                layer.structuralReason = "it cannot be replaced in the tree: " + problem;
                layer.observed = null;
                layer.recorder = null;
                layer.relu = null;
            } else {
                possible.add(replacements.get(i));
            }
        }
        s.rewriter.apply(tree, possible, s.log);
    }
}

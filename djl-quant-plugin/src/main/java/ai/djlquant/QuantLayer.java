package ai.djlquant;

import ai.djl.nn.Block;
import ai.djlquant.nn.ObservedBlock;
import ai.djlquant.plan.LayerDecision;
import ai.djlquant.plan.ModeRules;
import ai.djlquant.quant.QuantParams;

/** One quantizable layer as it goes through the steps: what it was, what it is at each step. */
final class QuantLayer {

    /** The layer as the user's tree held it. */
    final Block original;

    /** Its path (its first place, if it is shared). */
    final String path;

    /** The number of places it has in the tree. */
    final int places;

    /** What the user's rules say. */
    final ModeRules.Choice choice;

    /** The float layer that runs from now on: the original, or the original with BN folded. */
    Block floatBlock;

    /** The BatchNorm folded into it, and its path. */
    Block foldedBatchNorm;

    String foldedBatchNormPath;

    /** The ReLU that alone reads its output, and its path, if it can be fused. */
    Block relu;

    String reluPath;

    /** The wrapper in the tree during calibration, and what it recorded. */
    ObservedBlock observed;

    LayerRecorder recorder;

    /** Why the layer stays as it is before any measurement (structure), or null. */
    String structuralReason;

    /** The plan's work: parameters, candidates and the decision. */
    QuantParams activationParams;

    Block staticBlock;

    Block dynamicBlock;

    LayerDecision decision;

    /** The block in the tree after conversion. */
    Block finalBlock;

    /** The report's row. */
    final LayerReport report;

    QuantLayer(Block original, String path, int places, ModeRules.Choice choice) {
        this.original = original;
        this.path = path;
        this.places = places;
        this.choice = choice;
        this.floatBlock = original;
        this.report = new LayerReport(path, original.getClass().getSimpleName());
    }

    /** Whether the layer ends as an int8 block with ReLU fused. */
    boolean fusesRelu() {
        return relu != null;
    }
}

package ai.djlquant;

import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djlquant.plan.QuantizationMode;
import ai.djlquant.transform.Replacement;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The replacements that move a converted layer between its int8 block and its fp32 block: the
 * layer's block in the tree, and the pass-through that stands in for its ReLU while the ReLU is
 * fused into the int8 block. One stand-in per layer, made on first use, so the replacements of
 * any later move can name what is in the tree.
 */
final class LayerSwaps {

    private final Map<PreparedLayer, Block> standIns = new IdentityHashMap<>();

    /** The pass-through standing in for a layer's fused ReLU. */
    Block standIn(PreparedLayer layer) {
        return standIns.computeIfAbsent(layer, l -> Blocks.identityBlock());
    }

    /**
     * The replacements that put a layer's fp32 block (and its ReLU) where its int8 block is now.
     *
     * @param d a converted layer in an int8 mode
     * @return the replacements
     */
    List<Replacement> toFloat(DecidedLayer d) {
        List<Replacement> r = new ArrayList<>(2);
        r.add(new Replacement(d.finalBlock(), d.layer().floatBlock()));
        if (d.fusesRelu()) {
            r.add(new Replacement(standIn(d.layer()), d.layer().relu().getBlock()));
        }
        return r;
    }

    /**
     * The replacements that put an int8 block of a layer where its block is now (its fp32 block or
     * another int8 block), with the stand-in where its ReLU is if the int8 block fuses it.
     *
     * @param d a converted layer
     * @param int8 the int8 block, its ReLU fused as the layer allows
     * @return the replacements
     */
    List<Replacement> toInt8(DecidedLayer d, Block int8) {
        List<Replacement> r = new ArrayList<>(2);
        r.add(new Replacement(d.finalBlock(), int8));
        if (d.layer().hasRelu() && !d.fusesRelu()) {
            r.add(new Replacement(d.layer().relu().getBlock(), standIn(d.layer())));
        }
        return r;
    }

    /**
     * The replacements that put every int8 layer's fp32 block in the tree: the fp32 model.
     *
     * @param layers the converted layers
     * @return the replacements
     */
    List<Replacement> allToFloat(List<DecidedLayer> layers) {
        List<Replacement> r = new ArrayList<>();
        for (DecidedLayer d : layers) {
            if (d.observed().isObserved() && d.mode() != QuantizationMode.FP32) {
                r.addAll(toFloat(d));
            }
        }
        return r;
    }
}

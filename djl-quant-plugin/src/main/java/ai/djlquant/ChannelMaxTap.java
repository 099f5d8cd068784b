package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Stands in a block's place for SmoothQuant's statistics pass: runs the block and records the
 * largest magnitude of each channel of its output's last axis over every call ({@code max|X_j|}).
 * It is in the tree only for the length of that pass (a trial of the undo log).
 */
final class ChannelMaxTap extends AbstractBlock {

    private final Block inner;
    private final double[] max;
    private long nonFinite;

    ChannelMaxTap(Block inner, int channels) {
        this.inner = inner;
        this.max = new double[channels];
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList out = inner.forward(store, inputs, training, params);
        NDArray y = out.head();
        Shape s = y.getShape();
        int n = (int) s.get(s.dimension() - 1);
        if (n == max.length) {
            float[] v = y.toType(DataType.FLOAT32, false).toFloatArray();
            for (int k = 0; k < v.length; k++) {
                float a = Math.abs(v[k]);
                if (!Float.isFinite(a)) {
                    nonFinite++; // NaN/Inf says nothing about the range, as the observers skip it
                } else if (a > max[k % n]) {
                    max[k % n] = a;
                }
            }
        }
        return out;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inner.getOutputShapes(inputShapes);
    }

    /** max|X_j| per channel so far. */
    double[] channelMax() {
        return max.clone();
    }

    /** Non-finite values skipped. */
    long nonFinite() {
        return nonFinite;
    }
}

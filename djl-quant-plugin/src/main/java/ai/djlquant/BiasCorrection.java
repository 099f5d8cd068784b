package ai.djlquant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djlquant.kind.LayerKind;
import ai.djlquant.plan.SqnrMeter;
import ai.djlquant.quant.FusedActivation;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.transform.Reweighting;

import java.util.List;

/**
 * Empirical bias correction (Nagel et al. 2019, section 4.2, measured rather than derived from
 * batch-norm statistics), part of the decide step: the int8 block's mean output error per output
 * channel, subtracted from its bias.
 *
 * <p>What is measured on which data: the layer's kept calibration input batches (the reservoir
 * sample the decide step measures SQNR on, NaN/Inf batches screened out) run through the fp32
 * layer and through its int8 block built without the fused activation (the bias acts before the
 * ReLU, so the shift is measured there). Per output channel {@code c} (axis 1 of a convolution's
 * output, the last axis of a Linear's), over every other position {@code n} of every kept batch:
 *
 * <pre>
 * shift_c = mean_n (y_int8[n, c] - y_fp32[n, c])        (float64 sums)
 * b'_c    = b_c - shift_c                               (b_c = 0 for a layer without bias)
 * </pre>
 *
 * <p>The int8 block is then rebuilt from the same weight with {@code b'} (a layer without bias
 * gains one), with the same activation parameters and fused activation. The expected error
 * {@code E[y_int8' - y_fp32]} on those inputs is then zero up to the rounding of {@code b'}: the
 * weights' rounding error times the inputs' mean ({@code (W_q - W) E[x]}) and the mean of the
 * activation rounding are removed, the variance is not. Both blocks' output SQNR against the fp32
 * layer (fused activation applied) is measured on the same kept batches; the corrected block is
 * kept only where its SQNR is not lower. In-sample: the shift and the SQNR use the same batches.
 */
final class BiasCorrection {

    /**
     * The outcome for one block.
     *
     * @param block the int8 block to use: the corrected one, or the original if correction did
     *     not raise the SQNR
     * @param applied whether the corrected block is the one kept
     * @param beforeDb the uncorrected block's SQNR
     * @param afterDb the corrected block's SQNR
     * @param meanAbsShift the mean over channels of |shift_c| before correction
     * @param meanAbsShiftAfter the same measured on the corrected block
     * @param uncorrected the uncorrected block where the corrected one is kept (for the
     *     whole-model measurement without correction; freed after it), else null
     */
    record Outcome(
            Block block,
            boolean applied,
            double beforeDb,
            double afterDb,
            double meanAbsShift,
            double meanAbsShiftAfter,
            Block uncorrected) {}

    private BiasCorrection() {}

    /**
     * Corrects one static int8 block.
     *
     * @param edit the model's edit (the corrected block is registered with it)
     * @param layer the layer
     * @param activation its static activation parameters
     * @param perTensor whether weights have one scale
     * @param uncorrected its int8 block as built (fused activation included)
     * @param batches its kept input batches (screened)
     * @param samples the manager the measurement's temporaries live in
     * @return the block to use and the numbers
     */
    static Outcome correct(
            ModelEdit edit,
            PreparedLayer layer,
            QuantParams activation,
            boolean perTensor,
            Block uncorrected,
            List<NDArray> batches,
            NDManager samples) {
        LayerKind kind = layer.candidate().kind();
        Block floatBlock = layer.floatBlock();
        double[] shift =
                unfusedShift(kind, floatBlock, floatBlock, activation, perTensor, batches, samples);
        float[] bias = Reweighting.bias(floatBlock);
        if (bias == null) {
            bias = new float[shift.length];
        }
        for (int c = 0; c < shift.length; c++) {
            bias[c] = (float) (bias[c] - shift[c]);
        }
        // shares the float weight: never registered for release (that would close the user's array)
        Block correctedFloat = Reweighting.withBias(floatBlock, bias, edit.arrays());
        Block corrected =
                edit.built(kind.quantize(correctedFloat, activation, layer.activation(), perTensor));
        double[] after =
                unfusedShift(
                        kind, floatBlock, correctedFloat, activation, perTensor, batches, samples);
        double before = sqnr(floatBlock, layer.activation(), uncorrected, batches, samples);
        double afterDb = sqnr(floatBlock, layer.activation(), corrected, batches, samples);
        boolean keep = afterDb >= before;
        if (!keep) {
            ModelEdit.release(corrected);
        }
        return new Outcome(
                keep ? corrected : uncorrected,
                keep,
                before,
                afterDb,
                meanAbs(shift),
                meanAbs(after),
                keep ? uncorrected : null);
    }

    /**
     * The mean shift against {@code reference} of {@code source}'s int8 block built without the
     * fused activation (the bias acts before it); the block is released after the measurement.
     */
    private static double[] unfusedShift(
            LayerKind kind,
            Block reference,
            Block source,
            QuantParams activation,
            boolean perTensor,
            List<NDArray> batches,
            NDManager samples) {
        Block raw = kind.quantize(source, activation, FusedActivation.NONE, perTensor);
        try {
            return meanShift(reference, raw, batches, samples);
        } finally {
            ModelEdit.release(raw);
        }
    }

    /** shift_c = mean over every other position of (int8 - fp32), float64. */
    static double[] meanShift(Block floatBlock, Block int8, List<NDArray> batches, NDManager samples) {
        boolean lastAxis = floatBlock instanceof Linear;
        double[] sum = null;
        long count = 0;
        try (NDManager scope = samples.newSubManager()) {
            ParameterStore store = new ParameterStore(scope, false);
            for (NDArray x : batches) {
                try (NDManager step = scope.newSubManager()) {
                    x.tempAttach(step);
                    NDArray ref = run(floatBlock, store, x);
                    NDArray got = run(int8, store, x);
                    NDArray d = got.toType(DataType.FLOAT64, false).sub(ref.toType(DataType.FLOAT64, false));
                    int rank = d.getShape().dimension();
                    int axis = lastAxis ? rank - 1 : 1;
                    int channels = (int) d.getShape().get(axis);
                    int[] others = new int[rank - 1];
                    for (int a = 0, k = 0; a < rank; a++) {
                        if (a != axis) {
                            others[k++] = a;
                        }
                    }
                    double[] v = d.sum(others).toDoubleArray();
                    if (sum == null) {
                        sum = new double[channels];
                    }
                    for (int c = 0; c < channels; c++) {
                        sum[c] += v[c];
                    }
                    count += d.getShape().size() / channels;
                }
            }
        }
        if (sum == null) {
            return new double[0];
        }
        for (int c = 0; c < sum.length; c++) {
            sum[c] /= count;
        }
        return sum;
    }

    private static double sqnr(
            Block floatBlock, FusedActivation fused, Block int8, List<NDArray> batches, NDManager samples) {
        SqnrMeter meter = new SqnrMeter();
        try (NDManager scope = samples.newSubManager()) {
            ParameterStore store = new ParameterStore(scope, false);
            for (NDArray x : batches) {
                try (NDManager step = scope.newSubManager()) {
                    x.tempAttach(step);
                    meter.add(fused.apply(run(floatBlock, store, x)), run(int8, store, x));
                }
            }
        }
        return meter.isNonFinite() ? Double.NaN : meter.decibels();
    }

    private static double meanAbs(double[] v) {
        double s = 0;
        for (double x : v) {
            s += Math.abs(x);
        }
        return v.length == 0 ? 0 : s / v.length;
    }

    private static NDArray run(Block b, ParameterStore store, NDArray x) {
        return b.forward(store, new NDList(x), false).singletonOrThrow();
    }
}

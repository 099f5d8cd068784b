package ai.djlquant;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djlquant.plan.SqnrMeter;

/**
 * The whole-model check, after convert: runs the converted model on the batches recorded during
 * calibration and measures its outputs' SQNR against the fp32 outputs recorded then (every float
 * output of the model, summed over all values of all batches, in float64: {@link SqnrMeter}). It
 * changes nothing in the tree; it runs inside the quantize call's atomic section, so a failure
 * here rolls the model back.
 */
final class WholeModelCheck {

    private WholeModelCheck() {}

    /**
     * Measures.
     *
     * @param model the model, converted
     * @param reference the recorded batches and fp32 outputs
     * @param manager where the intermediates live (freed batch by batch)
     * @return the error
     */
    static WholeModelError measure(Model model, ReferenceOutputs reference, NDManager manager) {
        if (reference.inputs().isEmpty()) {
            return WholeModelError.unmeasured("no calibration batch was kept for it");
        }
        Block root = model.getBlock();
        SqnrMeter meter = new SqnrMeter();
        int skipped = 0;
        long skippedRows = 0;
        try (NDManager scope = manager.newSubManager()) {
            ParameterStore store = new ParameterStore(scope, false);
            for (int i = 0; i < reference.inputs().size(); i++) {
                NDList in = reference.inputs().get(i);
                NDList want = reference.outputs().get(i);
                if (!finite(in)) {
                    skipped++; // a dynamic int8 layer refuses NaN and infinity, as it would serving
                    skippedRows += in.get(0).getShape().get(0);
                    continue;
                }
                try (NDManager step = scope.newSubManager()) {
                    in.tempAttach(step);
                    NDList got = root.forward(store, new NDList(in), false);
                    if (got.size() != want.size()) {
                        return WholeModelError.unmeasured(
                                "the int8 model gave "
                                        + got.size()
                                        + " outputs where fp32 gave "
                                        + want.size());
                    }
                    for (int j = 0; j < want.size(); j++) {
                        NDArray r = want.get(j);
                        NDArray a = got.get(j);
                        if (isFloat(r) && r.getDataType() == a.getDataType()
                                && r.getShape().equals(a.getShape())) {
                            meter.add(r, a);
                        }
                    }
                }
            }
        }
        if (skipped == reference.inputs().size()) {
            return WholeModelError.unmeasured("every kept calibration batch held NaN or infinite inputs");
        }
        if (meter.getValues() == 0) {
            return WholeModelError.unmeasured("the model has no float output to compare");
        }
        if (meter.isNonFinite()) {
            return WholeModelError.unmeasured("an fp32 or int8 output held NaN or infinite values");
        }
        return new WholeModelError(
                meter.decibels(),
                reference.samples() - skippedRows,
                reference.inputs().size() - skipped,
                null);
    }

    /** Whether every float array of a batch holds only finite values. */
    private static boolean finite(NDList batch) {
        for (NDArray a : batch) {
            if (isFloat(a) && !KeptInputScreen.isFinite(a)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isFloat(NDArray a) {
        return a.getDataType() == DataType.FLOAT32 || a.getDataType() == DataType.FLOAT64;
    }
}

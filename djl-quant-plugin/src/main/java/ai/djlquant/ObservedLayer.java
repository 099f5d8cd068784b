package ai.djlquant;

import ai.djlquant.nn.ObservedBlock;

/**
 * A prepared layer during calibration: its observer block in the tree and what that records, or,
 * for a layer that is not observed, why.
 *
 * @param layer the prepared layer
 * @param wrapper the observer block in the tree, or null
 * @param recorder what the observer records, or null
 * @param notObserved why the layer is not observed (null when it is): its rule says FP32, or
 *     why it cannot be replaced in the tree
 */
record ObservedLayer(
        PreparedLayer layer, ObservedBlock wrapper, CalibrationRecorder recorder, String notObserved) {

    /** Whether the layer was observed. */
    boolean isObserved() {
        return wrapper != null;
    }
}

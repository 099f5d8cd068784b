package ai.djlquant;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * Which observed layer a calibration forward is in, so that a batch the model rejects can be
 * blamed on the layer that rejected it (DJL's engine errors name no block).
 */
final class ForwardTracker {

    private final Deque<Entry> open = new ArrayDeque<>();
    private String lastDone;
    private String lastDoneShape;

    void enter(LayerRecorder layer, NDList inputs) {
        open.push(new Entry(layer, Arrays.toString(inputs.getShapes())));
    }

    void exit(LayerRecorder layer, NDList outputs) {
        if (!open.isEmpty() && open.peek().layer == layer) {
            open.pop();
        }
        lastDone = layer.getPath();
        lastDoneShape = Arrays.toString(outputs.getShapes());
    }

    /** Describes where a failed forward was, and forgets the failed pass. */
    String whereFailed() {
        String where;
        if (!open.isEmpty()) {
            Entry e = open.peek();
            Shape[] init = e.layer.getInitialisedShapes();
            where =
                    "in layer "
                            + e.layer.getPath()
                            + " ("
                            + e.layer.getType()
                            + (init == null ? "" : ", initialised for input " + Arrays.toString(init))
                            + ") on input of shape "
                            + e.inputShapes;
        } else if (lastDone != null) {
            where = "after layer " + lastDone + " (which gave output of shape " + lastDoneShape + ")";
        } else {
            where = "before the first quantizable layer";
        }
        open.clear();
        lastDone = null;
        return where;
    }

    void startBatch() {
        open.clear();
        lastDone = null;
    }

    private static final class Entry {
        final LayerRecorder layer;
        final String inputShapes;

        Entry(LayerRecorder layer, String inputShapes) {
            this.layer = layer;
            this.inputShapes = inputShapes;
        }
    }
}

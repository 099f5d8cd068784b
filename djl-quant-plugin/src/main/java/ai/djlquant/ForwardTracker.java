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

    /**
     * An observed layer, as messages name it.
     *
     * @param path its path
     * @param type its type
     * @param initialisedShapes the input shapes it was initialised for, or null
     */
    record Layer(String path, String type, Shape[] initialisedShapes) {}

    private record Open(Layer layer, String inputShapes) {}

    private final Deque<Open> open = new ArrayDeque<>();
    private String lastDone;
    private String lastDoneShape;

    void enter(Layer layer, NDList inputs) {
        open.push(new Open(layer, Arrays.toString(inputs.getShapes())));
    }

    void exit(Layer layer, NDList outputs) {
        if (!open.isEmpty() && open.peek().layer() == layer) {
            open.pop();
        }
        lastDone = layer.path();
        lastDoneShape = Arrays.toString(outputs.getShapes());
    }

    /** Describes where a failed forward was, and forgets the failed pass. */
    String whereFailed() {
        String where;
        if (!open.isEmpty()) {
            Open e = open.peek();
            Shape[] init = e.layer().initialisedShapes();
            where =
                    "in layer "
                            + e.layer().path()
                            + " ("
                            + e.layer().type()
                            + (init == null ? "" : ", initialised for input " + Arrays.toString(init))
                            + ") on input of shape "
                            + e.inputShapes();
        } else if (lastDone != null) {
            where = "after layer " + lastDone + " (which gave output of shape " + lastDoneShape + ")";
        } else {
            where = "before the first quantizable layer";
        }
        startBatch();
        return where;
    }

    void startBatch() {
        open.clear();
        lastDone = null;
    }
}

package ai.djlquant.transform;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djlquant.kind.LayerKind;
import ai.djlquant.kind.LayerKinds;

import java.lang.reflect.Field;

/**
 * Makes a new float block of the same kind and structure as an initialised layer, holding other
 * weight and bias values in new arrays: how cross-layer equalization, SmoothQuant and bias
 * correction change a layer without writing the user's arrays (the new block takes the old one's
 * place through the undo log, or is only quantized).
 */
public final class Reweighting {

    private Reweighting() {}

    /**
     * Returns a layer's weight values.
     *
     * @param layer an initialised layer of a known kind
     * @return a copy of its weight, row-major
     */
    public static float[] weight(Block layer) {
        return layer.getDirectParameters().get("weight").getArray().toFloatArray();
    }

    /**
     * Returns a layer's weight shape.
     *
     * @param layer an initialised layer of a known kind
     * @return the shape
     */
    public static Shape weightShape(Block layer) {
        return layer.getDirectParameters().get("weight").getArray().getShape();
    }

    /**
     * Returns a layer's bias values, or null if it has no bias.
     *
     * @param layer an initialised layer of a known kind
     * @return a copy of its bias, or null
     */
    public static float[] bias(Block layer) {
        Parameter p = layer.getDirectParameters().get("bias");
        return p == null || p.getArray() == null ? null : p.getArray().toFloatArray();
    }

    /**
     * Builds a new float block of the layer's kind and structure with the given values.
     *
     * @param layer an initialised float layer of a known kind
     * @param weight the new weight, of the layer's weight shape
     * @param bias the new bias (one per output channel), or null to have none
     * @param manager the manager of the new arrays
     * @return the new block, initialised with the layer's input shapes
     */
    public static Block rebuilt(Block layer, float[] weight, float[] bias, NDManager manager) {
        LayerKind kind = LayerKinds.ofFloat(layer);
        Shape ws = weightShape(layer);
        NDArray w = manager.create(weight, ws);
        NDArray b = bias == null ? null : manager.create(bias, new Shape(ws.get(0)));
        Block out = kind.newFloatBlock(kind.structureOf(layer).withBias(bias != null));
        out.setInitializer((m, shape, type) -> fits(w, shape), "weight");
        if (b != null) {
            out.setInitializer((m, shape, type) -> fits(b, shape), "bias");
        }
        out.initialize(manager, DataType.FLOAT32, inputShapes(layer));
        out.freezeParameters(!layer.getDirectParameters().get("weight").requiresGradient());
        return out;
    }

    /**
     * Builds a new float block of the layer's kind and structure that shares the layer's weight
     * array and has a new bias: the block bias correction quantizes (never put in the tree, and
     * never to be closed, since the weight array is the layer's own).
     *
     * @param layer an initialised float layer of a known kind
     * @param bias the new bias, one per output channel
     * @param manager the manager of the new bias array
     * @return the new block, initialised with the layer's input shapes
     */
    public static Block withBias(Block layer, float[] bias, NDManager manager) {
        LayerKind kind = LayerKinds.ofFloat(layer);
        NDArray w = layer.getDirectParameters().get("weight").getArray();
        NDArray b = manager.create(bias, new Shape(w.getShape().get(0)));
        Block out = kind.newFloatBlock(kind.structureOf(layer).withBias(true));
        out.setInitializer((m, shape, type) -> fits(w, shape), "weight");
        out.setInitializer((m, shape, type) -> fits(b, shape), "bias");
        out.initialize(manager, DataType.FLOAT32, inputShapes(layer));
        // freezing sets requiresGradient on the shared weight array: keep the layer's own state
        // (the flag alone changed a transformer's fp32 output bits: QuantizerFailureTest)
        out.freezeParameters(!layer.getDirectParameters().get("weight").requiresGradient());
        return out;
    }

    /**
     * Builds a new LayerNorm like {@code norm} (same axes, epsilon, flags) whose gamma and beta
     * are divided elementwise by {@code divisor}.
     *
     * @param norm an initialised LayerNorm whose gamma and beta have one value per normalised
     *     element (normalising one axis)
     * @param divisor one positive value per element of gamma
     * @param manager the manager of the new arrays
     * @return the new block, initialised with the norm's input shapes
     * @throws IllegalArgumentException if gamma's size is not the divisor's
     */
    public static LayerNorm divided(LayerNorm norm, double[] divisor, NDManager manager) {
        float[] gamma = norm.getDirectParameters().get("gamma").getArray().toFloatArray();
        float[] beta = norm.getDirectParameters().get("beta").getArray().toFloatArray();
        if (gamma.length != divisor.length || beta.length != divisor.length) {
            throw new IllegalArgumentException(
                    "LayerNorm gamma has "
                            + gamma.length
                            + " values, the scales "
                            + divisor.length
                            + ".");
        }
        for (int j = 0; j < gamma.length; j++) {
            gamma[j] = (float) (gamma[j] / divisor[j]);
            beta[j] = (float) (beta[j] / divisor[j]);
        }
        Shape gs = norm.getDirectParameters().get("gamma").getArray().getShape();
        int[] axes = (int[]) field(norm, "axis");
        LayerNorm out =
                LayerNorm.builder()
                        .axis(axes)
                        .optEpsilon((Float) field(norm, "epsilon"))
                        .optCenter((Boolean) field(norm, "center"))
                        .optScale((Boolean) field(norm, "scale"))
                        .build();
        NDArray g = manager.create(gamma, gs);
        NDArray b = manager.create(beta, gs);
        out.setInitializer((m, shape, type) -> fits(g, shape), "gamma");
        out.setInitializer((m, shape, type) -> fits(b, shape), "beta");
        out.initialize(manager, DataType.FLOAT32, norm.getInputShapes());
        out.freezeParameters(!norm.getDirectParameters().get("gamma").requiresGradient());
        return out;
    }

    /**
     * Returns the axes a LayerNorm normalises (a protected field of DJL's LayerNorm).
     *
     * @param norm the LayerNorm
     * @return the axes
     */
    public static int[] axesOf(LayerNorm norm) {
        return ((int[]) field(norm, "axis")).clone();
    }

    /**
     * The input shapes to initialise a copy of the layer with: its own, except for a Linear whose
     * recorded input shape does not end in its input features (a Linear loaded from a DJL
     * parameter file records the model's input shape, not its own), which gets (1, features).
     */
    private static Shape[] inputShapes(Block layer) {
        Shape[] in = layer.getInputShapes();
        if (layer instanceof ai.djl.nn.core.Linear) {
            long features = weightShape(layer).get(1);
            if (in == null || in.length != 1 || in[0].dimension() < 2 || in[0].tail() != features) {
                return new Shape[] {new Shape(1, features)};
            }
        }
        return in;
    }

    private static Object field(LayerNorm norm, String name) {
        try {
            Field f = LayerNorm.class.getDeclaredField(name);
            f.setAccessible(true);
            return f.get(norm);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("LayerNorm's " + name + " cannot be read (" + e + ")", e);
        }
    }

    private static NDArray fits(NDArray a, Shape expected) {
        if (!a.getShape().equals(expected)) {
            throw new IllegalStateException(
                    "array of shape " + a.getShape() + " does not fit " + expected + ".");
        }
        return a;
    }
}

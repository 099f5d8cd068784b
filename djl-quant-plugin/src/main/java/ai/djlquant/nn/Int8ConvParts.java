package ai.djlquant.nn;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Convolution;
import ai.djlquant.kernel.ConvGeometry;
import ai.djlquant.quant.QuantParams;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The part of {@link QuantizedConv1d} and {@link QuantizedConv2d} that does not depend on the
 * number of spatial dimensions: conversion from the float block, the kernel geometry, and the
 * convolution's metadata. (The two blocks extend different DJL classes, so they share this by
 * composition.)
 */
final class Int8ConvParts {

    private final String type;
    private final Convolution block;
    final Int8Core core;

    Int8ConvParts(String type, Convolution block) {
        this.type = type;
        this.block = block;
        core =
                new Int8Core(
                        type,
                        (backend, w, relu) ->
                                backend.newConvolution(geometry(w.getShape()), w, relu),
                        true);
    }

    /** The geometry for a weight {@code [O, C / groups, (kh,) kw]}. */
    ConvGeometry geometry(long[] weightShape) {
        return new ConvGeometry(
                (int) weightShape[1] * block.getGroups(),
                (int) weightShape[0],
                block.getGroups(),
                block.getKernelShape().getShape(),
                block.getStride().getShape(),
                block.getPadding().getShape(),
                block.getDilation().getShape());
    }

    /**
     * Quantizes the float block's weight into {@code weight}, copies its bias into {@code bias}.
     */
    Shape[] convert(
            Convolution floatBlock,
            QuantParams activation,
            boolean dynamic,
            boolean fusedRelu,
            Parameter weight,
            Parameter bias) {
        NDArray w = floatBlock.getParameters().get("weight").getArray();
        QuantParams[] wp = new QuantParams[1];
        NDArray wq = Int8Core.quantizeWeight(w, wp);
        core.configure(activation, dynamic, fusedRelu, wp[0].getScales());
        weight.setArray(wq);
        if (bias != null) {
            bias.setArray(floatBlock.getParameters().get("bias").getArray().duplicate());
        }
        return floatBlock.getInputShapes();
    }

    /** Checks that a float block can be converted into this block's structure. */
    static void checkConvertible(Convolution floatBlock, String type) {
        if (floatBlock instanceof QuantizedConv2d || floatBlock instanceof QuantizedConv1d) {
            throw new IllegalArgumentException("the convolution is already quantized.");
        }
        if (!floatBlock.isInitialized()) {
            throw new IllegalArgumentException(
                    "the float convolution must be initialised before it becomes a " + type + ".");
        }
    }

    void saveMetadata(DataOutputStream os) throws IOException {
        os.writeUTF(type);
        os.writeInt(block.getFilters());
        os.writeInt(block.getGroups());
        os.writeBoolean(block.isIncludeBias());
        for (Shape s : geometryShapes()) {
            os.write(s.getEncoded());
        }
        core.saveMetadata(os);
    }

    private Shape[] geometryShapes() {
        return new Shape[] {
            block.getKernelShape(), block.getStride(), block.getPadding(), block.getDilation()
        };
    }

    void loadMetadata(byte loadVersion, byte version, DataInputStream is)
            throws IOException, MalformedModelException {
        if (loadVersion != version) {
            throw new MalformedModelException(
                    type
                            + " cannot read parameters of version "
                            + loadVersion
                            + " (expected "
                            + version
                            + "): were they saved from a float convolution?");
        }
        String saved = is.readUTF();
        if (!type.equals(saved)) {
            throw new MalformedModelException(
                    type + " cannot load the parameters of a " + saved + ".");
        }
        int filters = is.readInt();
        int groups = is.readInt();
        boolean bias = is.readBoolean();
        Shape[] saved4 = new Shape[4];
        for (int i = 0; i < 4; i++) {
            saved4[i] = Shape.decode(is);
        }
        Shape[] mine = geometryShapes();
        boolean same =
                filters == block.getFilters()
                        && groups == block.getGroups()
                        && bias == block.isIncludeBias();
        for (int i = 0; i < 4; i++) {
            same &= saved4[i].equals(mine[i]);
        }
        if (!same) {
            throw new MalformedModelException(
                    type
                            + " built as (filters="
                            + block.getFilters()
                            + ", groups="
                            + block.getGroups()
                            + ", bias="
                            + block.isIncludeBias()
                            + ", kernel "
                            + mine[0]
                            + ", stride "
                            + mine[1]
                            + ", padding "
                            + mine[2]
                            + ", dilation "
                            + mine[3]
                            + ") cannot load parameters saved as"
                            + " (filters="
                            + filters
                            + ", groups="
                            + groups
                            + ", bias="
                            + bias
                            + ", kernel "
                            + saved4[0]
                            + ", stride "
                            + saved4[1]
                            + ", padding "
                            + saved4[2]
                            + ", dilation "
                            + saved4[3]
                            + ").");
        }
        core.loadMetadata(is);
    }

    String describe() {
        return type
                + "(filters="
                + block.getFilters()
                + ", kernel "
                + block.getKernelShape()
                + ", stride "
                + block.getStride()
                + ", padding "
                + block.getPadding()
                + ", dilation "
                + block.getDilation()
                + ", groups "
                + block.getGroups()
                + ", "
                + core.describe()
                + ")";
    }
}

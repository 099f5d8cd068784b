package ai.djlquant.nn;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Convolution;
import ai.djl.training.ParameterStore;
import ai.djlquant.kernel.ConvGeometry;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The int8 convolution that {@link QuantizedConv1d} and {@link QuantizedConv2d} both are, whatever
 * the number of spatial dimensions: conversion from the float block, the kernel geometry, the
 * forward, the convolution's metadata and description. The two blocks extend different DJL classes
 * ({@code Convolution} and {@code Conv2d}: DJL's {@code Conv1d} cannot be subclassed), so they hold
 * this part instead of sharing a base class; what differs between them is the float op, the one
 * hook ({@link ConvOp}), and the layout their DJL superclass gives them.
 */
final class Int8ConvParts {

    private final String type;
    private final Convolution block;
    private final ConvOp floatOp;
    final Int8Core core;

    /**
     * @param type the block's type name, as its metadata and messages carry it
     * @param block the int8 block this part belongs to
     * @param floatOp the float convolution of the block's rank ({@code Conv2d::conv2d}), which the
     *     fallback runs on the dequantized weight
     */
    Int8ConvParts(String type, Convolution block, ConvOp floatOp) {
        this.type = type;
        this.block = block;
        this.floatOp = floatOp;
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

    /** The block's forward: its one input through the int8 convolution. */
    NDList forward(ParameterStore store, NDList inputs, Parameter weight, Parameter bias) {
        return core.forward(
                store,
                inputs,
                weight,
                bias,
                (xq, wf, bf) ->
                        floatOp.apply(
                                        xq,
                                        wf,
                                        bf,
                                        block.getStride(),
                                        block.getPadding(),
                                        block.getDilation(),
                                        block.getGroups())
                                .singletonOrThrow());
    }

    /**
     * What the builders of both blocks do before they build: with a float block, check it, copy its
     * structure into {@code builder} and check the mode was chosen.
     */
    static void prepareBuild(
            Convolution floatBlock,
            Convolution.ConvolutionBuilder<?> builder,
            Int8Options options,
            String type) {
        if (floatBlock != null) {
            checkConvertible(floatBlock, type);
            ConvBuilders.copy(floatBlock, builder);
            options.checkMode(type);
        }
    }

    /** Checks that a float block can be converted into this block's structure. */
    private static void checkConvertible(Convolution floatBlock, String type) {
        if (floatBlock instanceof QuantizedBlock) {
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
        core.readHeader(loadVersion, version, is, "float convolution");
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

    /** The float op of the block's rank, as {@code Conv1d.conv1d} and {@code Conv2d.conv2d} are. */
    interface ConvOp {
        NDList apply(
                NDArray x,
                NDArray weight,
                NDArray bias,
                Shape stride,
                Shape padding,
                Shape dilation,
                int groups);
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

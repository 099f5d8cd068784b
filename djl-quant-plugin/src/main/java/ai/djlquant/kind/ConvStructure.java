package ai.djlquant.kind;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Convolution;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import java.util.Locale;

/**
 * The structure of a convolution of any dimension: kernel, stride, padding and dilation (one value
 * per spatial axis), filters, groups and bias.
 *
 * @param kernel the kernel shape
 * @param stride the stride
 * @param padding the padding
 * @param dilation the dilation
 * @param filters the output channels
 * @param groups the groups
 * @param bias whether it has a bias
 */
public record ConvStructure(
        Shape kernel,
        Shape stride,
        Shape padding,
        Shape dilation,
        int filters,
        int groups,
        boolean bias)
        implements LayerStructure {

    /**
     * Returns the structure of a convolution block.
     *
     * @param conv the block
     * @return its structure
     */
    public static ConvStructure of(Convolution conv) {
        return new ConvStructure(
                conv.getKernelShape(),
                conv.getStride(),
                conv.getPadding(),
                conv.getDilation(),
                conv.getFilters(),
                conv.getGroups(),
                conv.getDirectParameters().contains("bias"));
    }

    /**
     * Reads the structure of a convolution with a number of spatial axes.
     *
     * @param f the fields
     * @param dims the spatial axes
     * @return the structure
     */
    static ConvStructure read(StructureFields f, int dims) {
        return new ConvStructure(
                new Shape(f.longs("kernel", dims, 1)),
                new Shape(f.longs("stride", dims, 1)),
                new Shape(f.longs("padding", dims, 0)),
                new Shape(f.longs("dilation", dims, 1)),
                (int) f.positiveLong("filters"),
                (int) f.positiveLong("groups"),
                f.bool("bias"));
    }

    /**
     * Sets a convolution builder's structure (its setters change the builder itself).
     *
     * @param b the builder
     * @param <B> the builder's type
     * @return the builder
     */
    <B extends Convolution.ConvolutionBuilder<?>> B applyTo(B b) {
        b.setKernelShape(kernel);
        b.optStride(stride);
        b.optPadding(padding);
        b.optDilation(dilation);
        b.setFilters(filters);
        b.optGroups(groups);
        b.optBias(bias);
        return b;
    }

    /** {@inheritDoc} */
    @Override
    public ConvStructure withBias(boolean withBias) {
        return new ConvStructure(kernel, stride, padding, dilation, filters, groups, withBias);
    }

    /** {@inheritDoc} */
    @Override
    public void writeTo(JsonObject o) {
        o.add("kernel", array(kernel));
        o.add("stride", array(stride));
        o.add("padding", array(padding));
        o.add("dilation", array(dilation));
        o.addProperty("filters", filters);
        o.addProperty("groups", groups);
        o.addProperty("bias", bias);
    }

    private static JsonArray array(Shape s) {
        JsonArray a = new JsonArray();
        for (long v : s.getShape()) {
            a.add(v);
        }
        return a;
    }

    /** {@inheritDoc} */
    @Override
    public String describe() {
        return String.format(
                Locale.ROOT,
                "kernel=%s, stride=%s, padding=%s, dilation=%s, filters=%d, groups=%d, bias=%b",
                kernel,
                stride,
                padding,
                dilation,
                filters,
                groups,
                bias);
    }
}

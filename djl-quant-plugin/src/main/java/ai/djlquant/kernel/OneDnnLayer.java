package ai.djlquant.kernel;

import ai.djlquant.quant.FusedActivation;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;

import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.global.dnnl.algorithm;
import org.bytedeco.dnnl.global.dnnl.prop_kind;
import org.bytedeco.dnnl.global.dnnl.scratchpad_mode;
import org.bytedeco.dnnl.inner_product_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.primitive_desc_base;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

import java.util.ArrayList;
import java.util.List;

/**
 * What one oneDNN layer holds whatever its input: the int8 weights in the user layout and packed
 * into each layout a primitive chose (once per layout, shared by every {@link PrimitiveGraph} of
 * the layer), the per-channel weight scales as oneDNN memory, and the bias and channel sums {@code
 * sum(w[c])} the zero-point fold {@code b[c] - s * ws[c] * zp * sum(w[c])} needs.
 *
 * <p>Weights as oneDNN sees them: {@code [N, K]} for an inner product, {@code oihw} for a
 * convolution (a Linear as a 1x1 convolution, a 1-D convolution with {@code kh = 1}), {@code goihw}
 * when grouped.
 */
final class OneDnnLayer implements AutoCloseable {

    final OneDnnRuntime rt;
    final ConvGeometry geometry; // null for Linear
    final int outChannels;
    final int perChannel;
    final int[] channelSums;
    final float[] weightScales;
    final float[] bias;
    final FusedActivation activation;
    final long smallM;
    final memory weightScalesMem;

    /** The bias as the primitive sees it; its values go per call, with the zero point folded in. */
    private final memory.desc biasMd;

    private final memory userWeights;
    private final List<memory> packed = new ArrayList<>();

    OneDnnLayer(
            OneDnnRuntime rt,
            ConvGeometry geometry,
            Int8Weights weights,
            FusedActivation activation,
            long smallM) {
        this.rt = rt;
        this.geometry = geometry;
        this.outChannels = weights.outputChannels();
        this.perChannel = weights.valuesPerChannel();
        this.channelSums = weights.channelSums();
        this.weightScales = weights.scales();
        this.bias = weights.bias();
        this.activation = activation;
        this.smallM = smallM;
        userWeights = new memory(userWeightsDesc(), rt.engine());
        new BytePointer(userWeights.get_data_handle())
                .put(weights.values(), 0, weights.values().length);
        weightScalesMem =
                newMemory(new long[] {outChannels}, memory.data_type.f32, memory.format_tag.a);
        new FloatPointer(weightScalesMem.get_data_handle()).put(weightScales, 0, outChannels);
        biasMd =
                new memory.desc(
                        new long[] {outChannels}, memory.data_type.f32, memory.format_tag.a);
    }

    private memory.desc userWeightsDesc() {
        if (geometry == null) {
            return new memory.desc(
                    new long[] {outChannels, perChannel},
                    memory.data_type.s8,
                    memory.format_tag.ab);
        }
        return new memory.desc(weightDims(), memory.data_type.s8, weightTag());
    }

    /** Weights as a convolution sees them: oihw, or goihw for grouped convolutions. */
    long[] weightDims() {
        if (geometry == null) {
            return new long[] {outChannels, perChannel, 1, 1};
        }
        long[] k = geometry.getKernel();
        long kh = k.length == 1 ? 1 : k[0];
        long kw = k[k.length - 1];
        int g = geometry.getGroups();
        long cinG = geometry.getInChannels() / g;
        if (g == 1) {
            return new long[] {outChannels, cinG, kh, kw};
        }
        return new long[] {g, outChannels / g, cinG, kh, kw};
    }

    private memory.format_tag weightTag() {
        return geometry != null && geometry.getGroups() > 1
                ? memory.format_tag.goihw
                : memory.format_tag.oihw;
    }

    /** Returns the output shape of an input shape, validated with a clear message. */
    long[] outputShape(long[] inputShape) {
        if (geometry == null) {
            return KernelChecks.linearOutput(inputShape, perChannel, outChannels);
        }
        return geometry.outputShape(inputShape);
    }

    /**
     * Returns the descriptor of the int8 primitive: a convolution (the layer's, or a Linear as a
     * 1x1 convolution over {@code [1, K, 1, M]}) or an inner product, weights in the layout oneDNN
     * picks ({@code any}), with {@link #mainAttr}.
     */
    primitive_desc_base mainDescriptor(
            boolean conv,
            memory.desc convSrcMd,
            memory.desc dstMd,
            long[] convPad,
            ActivationQuantization outGrid) {
        primitive_attr attr = mainAttr(outGrid);
        memory.desc anyWeights =
                conv
                        ? new memory.desc(weightDims(), memory.data_type.s8, memory.format_tag.any)
                        : new memory.desc(
                                new long[] {outChannels, perChannel},
                                memory.data_type.s8,
                                memory.format_tag.any);
        if (conv) {
            long[] st = PrimitiveGraph.spatial(geometry == null ? null : geometry.getStride(), 1);
            long[] dl = PrimitiveGraph.spatial(geometry == null ? null : geometry.getDilation(), 1);
            long[] dilates = {dl[0] - 1, dl[1] - 1}; // oneDNN counts the gaps
            return new convolution_forward.primitive_desc(
                    rt.engine(),
                    prop_kind.forward_inference,
                    algorithm.convolution_direct,
                    convSrcMd,
                    anyWeights,
                    biasMd,
                    dstMd,
                    st,
                    dilates,
                    convPad,
                    convPad,
                    attr,
                    false);
        }
        return new inner_product_forward.primitive_desc(
                rt.engine(),
                prop_kind.forward_inference,
                convSrcMd,
                anyWeights,
                biasMd,
                dstMd,
                attr,
                false);
    }

    /**
     * Returns attributes for the int8 primitive: runtime source scale, per-channel weight scales
     * (dim 0 of oihw / {@code [N, K]}, dims 0 and 1 of goihw) and the fused activation (ReLU as
     * eltwise_relu, ReLU6 as eltwise_clip [0, 6]); with a uint8 output grid also the runtime dst
     * scale and zero point, which oneDNN applies after the post-ops as {@code rint(y * (1 / s_out)
     * + zp_out)} saturated to [0, 255], and for a grid narrower than 255 a clip post-op at {@link
     * #gridTop} so the saturation lands on qmax.
     *
     * @param outGrid the uint8 output grid, or null for float32 output
     */
    primitive_attr mainAttr(ActivationQuantization outGrid) {
        primitive_attr attr = newAttr();
        attr.set_scales_mask(DNNL_ARG_SRC, 0);
        boolean grouped = geometry != null && geometry.getGroups() > 1;
        attr.set_scales_mask(DNNL_ARG_WEIGHTS, grouped ? 3 : 1);
        post_ops po = new post_ops();
        boolean any = false;
        if (activation == FusedActivation.RELU) {
            po.append_eltwise(algorithm.eltwise_relu, 0f, 0f);
            any = true;
        } else if (activation == FusedActivation.RELU6) {
            // clip (v1): alpha where s <= alpha, beta where s > beta, else s; so -0 and the
            // negatives give +0 as Math.max(s, 0f) does, and the reference is matched bit for bit
            po.append_eltwise(algorithm.eltwise_clip, activation.lower(), activation.upper());
            any = true;
        }
        if (outGrid != null) {
            attr.set_scales_mask(DNNL_ARG_DST, 0);
            attr.set_zero_points_mask(DNNL_ARG_DST, 0);
            if (outGrid.getQmax() < 255) {
                po.append_eltwise(algorithm.eltwise_clip, -Float.MAX_VALUE, gridTop(outGrid));
                any = true;
            }
        }
        if (any) {
            attr.set_post_ops(po);
        }
        return attr;
    }

    /**
     * Returns a float32 {@code t} that requantizes to qmax, {@code rint(t * (1 / s) + zp) == qmax},
     * found from {@code (qmax - zp) * s} by single ulps. Clipping at {@code t} before
     * the dst scale then equals clamping at qmax after it: requantization is monotonic, every
     * value above {@code t} goes to at least qmax, and none at or below it goes above.
     *
     * @param g the output grid
     * @return the clip's upper bound
     */
    static float gridTop(ActivationQuantization g) {
        float s = g.getScale();
        int zp = g.getZeroPoint();
        int qmax = g.getQmax();
        float t = (qmax - zp) * s;
        while (requantized(t, s, zp) > qmax) {
            t = Math.nextDown(t);
        }
        while (requantized(t, s, zp) < qmax) {
            t = Math.nextUp(t);
        }
        return t;
    }

    private static float requantized(float v, float s, int zp) {
        return (float) Math.rint(v * (1f / s) + zp);
    }

    /**
     * Attributes with a user-managed scratchpad: with the library's (default) scratchpad a
     * primitive must run on the thread that created it, while blocks run on any Predictor thread.
     * Each {@link CallContext} brings its own scratchpad instead.
     */
    static primitive_attr newAttr() {
        primitive_attr a = new primitive_attr();
        a.set_scratchpad_mode(scratchpad_mode.user);
        return a;
    }

    memory newMemory(long[] dims, memory.data_type type, memory.format_tag tag) {
        return new memory(new memory.desc(dims, type, tag), rt.engine());
    }

    /** Returns the packed weights for a layout, reordering the user weights once per layout. */
    synchronized memory packedWeights(memory.desc layout) {
        for (memory m : packed) {
            if (m.get_desc().equals(layout)) {
                return m;
            }
        }
        memory p = new memory(layout, rt.engine());
        try (stream s = new stream(rt.engine())) {
            memory.desc user =
                    layout.get_ndims() == 2 || weightDims().length == 5
                            ? userWeights.get_desc()
                            : userWeights.get_desc().reshape(weightDims());
            memory src = new memory(user, rt.engine(), userWeights.get_data_handle());
            new reorder(src, p).execute(s, src, p);
            s._wait();
            src.close();
        }
        packed.add(p);
        return p;
    }

    /** {@inheritDoc} */
    @Override
    public synchronized void close() {
        for (memory m : packed) {
            m.close();
        }
        userWeights.close();
        weightScalesMem.close();
    }
}

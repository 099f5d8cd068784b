package ai.djlquant.kernel;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_SCALES;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_ZERO_POINTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCRATCHPAD;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.global.dnnl.algorithm;
import org.bytedeco.dnnl.global.dnnl.prop_kind;
import org.bytedeco.dnnl.global.dnnl.scratchpad_mode;
import org.bytedeco.dnnl.inner_product_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.primitive_desc_base;
import org.bytedeco.dnnl.reduction;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A Linear layer or convolution on oneDNN.
 *
 * <p>Data path of {@link #forward} (every step a oneDNN primitive, no Java loop over elements):
 *
 * <ol>
 *   <li>static quantization: clip the float input to the range the grid covers (the reorder below
 *       saturates to [0, 255] only, and 7-bit grids need [0, 127]); dynamic quantization: reduce
 *       the input to its minimum and maximum, and compute scale and zero point in Java;
 *   <li>reorder float to u8 with the scale and zero point as runtime arguments (for convolutions
 *       also NCHW to NHWC, the layout oneDNN's int8 convolutions run in);
 *   <li>(a Linear input of at most {@code ai.djlquant.kernel.javaQuantize} values, 1024 by
 *       default, skips the two steps above: Java computes the same bytes with {@link
 *       ActivationQuantization#quantize}, cheaper than two or three primitive calls at batch 1)
 *   <li>the int8 primitive with runtime source scale, per-channel weight scales, bias with the
 *       source zero point folded in ({@code bias - s * ws * zp * sum(w)}: oneDNN's own zero-point
 *       support costs 10-40% on 3x3 convolutions; a padded convolution reads a buffer whose border
 *       holds the zero point, so padding contributes exactly 0.0) and the optional ReLU post-op,
 *       writing float32 (for Linear straight into the caller's buffer);
 *   <li>convolutions: reorder the NHWC result into the caller's NCHW buffer.
 * </ol>
 *
 * <p>Everything that depends only on the input shape (primitive descriptors, primitives, weights
 * reordered into the layout the primitive chose) is made on the first call with that shape and
 * cached. Scratch memory and streams are not thread-safe in oneDNN, so each concurrent call borrows
 * its own {@link Context} from a per-shape pool; primitives and packed weights are shared.
 */
final class OneDnnKernel implements Int8Kernel {

    private static final org.slf4j.Logger logger =
            org.slf4j.LoggerFactory.getLogger(OneDnnKernel.class);

    /** Multiply-adds below which a call runs on one thread. */
    private static final long TINY_WORK = Long.getLong("ai.djlquant.kernel.tinyWork", 1L << 20);

    /**
     * Float inputs of a Linear up to this many values are quantized in Java: at batch 1 the two or
     * three oneDNN calls it replaces (clip and reorder, or minimum, maximum and reorder) cost more.
     */
    private static final long JAVA_QUANTIZE =
            Long.getLong("ai.djlquant.kernel.javaQuantize", 1024);

    /** Input shapes remembered per kernel. */
    private static final int MAX_PLANS = 256;

    private final OneDnnRuntime rt;
    private final ConvGeometry geometry; // null for Linear
    private final int outChannels;
    private final int perChannel;
    private final int[] channelSums;
    private final float[] wScales;
    private final float[] bias;
    private final boolean relu;
    private final int maxBits;
    private final long smallM;
    private final memory userWeights;
    private final memory weightScalesMem;
    private final memory biasMem;
    private final List<memory> packedWeights = new ArrayList<>();
    private final Map<PlanKey, Plan> plans = new ConcurrentHashMap<>();
    private volatile Plan lastPlan;
    private volatile boolean closed;

    OneDnnKernel(
            OneDnnRuntime rt,
            ConvGeometry geometry,
            Int8Weights weights,
            boolean relu,
            int maxBits,
            long smallM) {
        this.rt = rt;
        this.geometry = geometry;
        this.outChannels = weights.outputChannels();
        this.perChannel = weights.valuesPerChannel();
        this.channelSums = weights.channelSums();
        this.wScales = weights.scales();
        this.bias = weights.bias();
        this.relu = relu;
        this.maxBits = maxBits;
        this.smallM = smallM;
        userWeights = new memory(userWeightsDesc(), rt.engine());
        new BytePointer(userWeights.get_data_handle())
                .put(weights.values(), 0, weights.values().length);
        weightScalesMem =
                newMemory(new long[] {outChannels}, memory.data_type.f32, memory.format_tag.a);
        new FloatPointer(weightScalesMem.get_data_handle()).put(wScales, 0, outChannels);
        biasMem = newMemory(new long[] {outChannels}, memory.data_type.f32, memory.format_tag.a);
        new FloatPointer(biasMem.get_data_handle()).put(bias, 0, outChannels);
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

    /** Weights as oneDNN sees them: oihw, or goihw for grouped convolutions (1-D as kh = 1). */
    private long[] weightDims() {
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

    /**
     * Attributes with a user-managed scratchpad: with the library's (default) scratchpad a
     * primitive must run on the thread that created it, while blocks run on any Predictor thread.
     * Each {@link Context} brings its own scratchpad instead.
     */
    private static primitive_attr newAttr() {
        primitive_attr a = new primitive_attr();
        a.set_scratchpad_mode(scratchpad_mode.user);
        return a;
    }

    private memory newMemory(long[] dims, memory.data_type type, memory.format_tag tag) {
        return new memory(new memory.desc(dims, type, tag), rt.engine());
    }

    // ---------------------------------------------------------------------------------------
    // Int8Kernel

    /** {@inheritDoc} */
    @Override
    public long[] outputShape(long[] inputShape) {
        if (geometry == null) {
            return KernelChecks.linearOutput(inputShape, perChannel, outChannels);
        }
        return geometry.outputShape(inputShape);
    }

    /** {@inheritDoc} */
    @Override
    public void forward(
            ByteBuffer input,
            long[] inputShape,
            boolean inputChannelsLast,
            ActivationQuantization activation,
            ByteBuffer output,
            boolean outputChannelsLast,
            int threads) {
        ActivationQuantization act = activation.narrowTo(maxBits);
        int layouts = layouts(inputChannelsLast, outputChannelsLast);
        Plan plan = plan(inputShape, act, layouts, threads);
        KernelChecks.checkCapacity(input, plan.inputCount, Float.BYTES, "input");
        KernelChecks.checkCapacity(output, plan.outputCount, Float.BYTES, "output");
        rt.useThreads(plan.threads);
        Context ctx = plan.acquire();
        try {
            ctx.run(input, output, act);
        } finally {
            plan.release(ctx);
            if (plan.threads != threads) {
                rt.useThreads(threads); // PyTorch reads the same OpenMP setting
            }
        }
    }

    /** {@inheritDoc} */
    @Override
    public int[] accumulate(byte[] input, long[] inputShape, int threads) {
        Plan plan = plan(inputShape, null, 0, threads);
        if (input.length != plan.inputCount) {
            throw new IllegalArgumentException(
                    "input holds "
                            + input.length
                            + " values, its shape needs "
                            + plan.inputCount
                            + ".");
        }
        rt.useThreads(plan.threads);
        Context ctx = plan.acquire();
        try {
            return ctx.runIntegers(input);
        } finally {
            plan.release(ctx);
            if (plan.threads != threads) {
                rt.useThreads(threads);
            }
        }
    }

    /** {@inheritDoc} */
    @Override
    public String describe(long[] inputShape) {
        return plan(inputShape, ActivationQuantization.dynamic(maxBits), 0, 0).description;
    }

    /** {@inheritDoc} */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Plan p : plans.values()) {
            p.close();
        }
        plans.clear();
        for (memory m : packedWeights) {
            m.close();
        }
        userWeights.close();
        weightScalesMem.close();
        biasMem.close();
    }

    // ---------------------------------------------------------------------------------------
    // plans

    /** Bit 0: input NHWC, bit 1: output NHWC (convolutions only; Linear is row-major). */
    private int layouts(boolean inputChannelsLast, boolean outputChannelsLast) {
        if (geometry == null && (inputChannelsLast || outputChannelsLast)) {
            throw new IllegalArgumentException("a Linear layer has no channels-last layout.");
        }
        return (inputChannelsLast ? 1 : 0) | (outputChannelsLast ? 2 : 0);
    }

    private Plan plan(long[] inputShape, ActivationQuantization act, int layouts, int threads) {
        Plan last = lastPlan;
        if (last != null && last.key.matches(inputShape, act, layouts, threads)) {
            return last;
        }
        if (closed) {
            throw new IllegalStateException("the int8 kernel has been closed.");
        }
        outputShape(inputShape); // validates with a clear message before any native call
        PlanKey key = new PlanKey(inputShape, act, layouts, threads);
        Plan plan = plans.get(key);
        if (plan == null) {
            synchronized (this) {
                if (plans.size() >= MAX_PLANS) {
                    // many input shapes (e.g. varying sequence lengths): forget one; a call still
                    // running on it keeps it alive, JavaCPP frees its native memory after that
                    plans.remove(plans.keySet().iterator().next());
                }
                plan = plans.computeIfAbsent(key, k -> new Plan(k));
            }
        }
        lastPlan = plan;
        return plan;
    }

    /** Input shape plus quantization mode: what a set of primitives depends on. */
    private static final class PlanKey {
        final long[] shape;
        final int mode; // 0 integers, 1 static, 2 dynamic
        final float scale;
        final int zeroPoint;
        final int qmax;
        final int layouts;
        final int threads;

        PlanKey(long[] shape, ActivationQuantization act, int layouts, int threads) {
            this.shape = shape.clone();
            this.layouts = layouts;
            this.threads = threads;
            mode = act == null ? 0 : act.isDynamic() ? 2 : 1;
            scale = mode == 1 ? act.getScale() : 0f;
            zeroPoint = mode == 1 ? act.getZeroPoint() : 0;
            qmax = act == null ? 0 : act.getQmax();
        }

        boolean matches(long[] s, ActivationQuantization act, int l, int t) {
            if (l != layouts || t != threads || !Arrays.equals(shape, s)) {
                return false;
            }
            if (act == null) {
                return mode == 0;
            }
            if (act.isDynamic()) {
                return mode == 2 && qmax == act.getQmax();
            }
            return mode == 1
                    && scale == act.getScale()
                    && zeroPoint == act.getZeroPoint()
                    && qmax == act.getQmax();
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof PlanKey)) {
                return false;
            }
            PlanKey k = (PlanKey) o;
            return Arrays.equals(shape, k.shape)
                    && mode == k.mode
                    && Float.compare(scale, k.scale) == 0
                    && zeroPoint == k.zeroPoint
                    && qmax == k.qmax
                    && layouts == k.layouts
                    && threads == k.threads;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(shape) * 31
                    + mode * 7
                    + Float.hashCode(scale)
                    + zeroPoint
                    + qmax
                    + 1013 * layouts
                    + 7919 * threads;
        }
    }

    /** Returns the packed weights for a layout, reordering the user weights once per layout. */
    private synchronized memory packedWeights(memory.desc layout) {
        for (memory m : packedWeights) {
            if (m.get_desc().equals(layout)) {
                return m;
            }
        }
        memory packed = new memory(layout, rt.engine());
        try (stream s = new stream(rt.engine())) {
            memory.desc user =
                    layout.get_ndims() == 2 || weightDims().length == 5
                            ? userWeights.get_desc()
                            : userWeights.get_desc().reshape(weightDims());
            memory src = new memory(user, rt.engine(), userWeights.get_data_handle());
            new reorder(src, packed).execute(s, src, packed);
            s._wait();
            src.close();
        }
        packedWeights.add(packed);
        return packed;
    }

    /** Primitives for one input shape and quantization mode. */
    private final class Plan {
        final PlanKey key;
        final boolean integers;
        final boolean dynamic;
        final boolean conv; // runs as a convolution (a Linear up to smallM rows, or a convolution)
        final boolean nchw; // a convolution whose caller's input is NCHW (oneDNN runs NHWC)
        final boolean javaQuantize; // small Linear input: quantized in Java straight into src
        final long inputCount;
        final long outputCount;
        // oneDNN fixes a primitive's thread count when it is created (OpenMP's setting then), so
        // plans are per thread count, created and run with it. Tiny layers get one thread, as
        // PyTorch runs ops below its grain size: waking a second thread for each of the three or
        // four primitives costs more than it saves
        final int threads;
        final memory.desc userSrcMd; // f32 (or u8 for integers) in the caller's layout
        final memory.desc srcMd; // u8 in the primitive's layout
        final boolean padded; // the convolution reads a copy with a border of zero points
        final memory.desc convSrcMd; // what the primitive reads (srcMd, or srcMd with a border)
        final memory.desc srcWriteMd; // where quantized values go (srcMd, or the border's inside)
        final long[] convPad;
        final memory.desc dstMd; // primitive's output
        final memory.desc userDstMd; // caller's layout (only when it differs from dstMd)
        final memory.desc flatMd; // the input viewed as [1, count] for reductions
        final memory.desc oneMd;
        final primitive main;
        final primitive clip;
        final primitive quantize;
        final primitive minimum;
        final primitive maximum;
        final primitive toUserDst;
        final primitive transpose; // u8 NCHW -> NHWC after quantizing NCHW input
        final memory.desc quantizedMd;
        final memory.desc transposeScratch;
        final memory weights;
        final memory.desc mainScratch;
        final memory.desc clipScratch;
        final memory.desc minScratch;
        final memory.desc maxScratch;
        final memory.desc quantizeScratch;
        final memory.desc outScratch;
        final long scratchBytes;
        final String description;
        final ConcurrentLinkedQueue<Context> pool = new ConcurrentLinkedQueue<>();

        Plan(PlanKey key) {
            this.key = key;
            integers = key.mode == 0;
            dynamic = key.mode == 2;
            long[] in = key.shape;
            long[] out = outputShape(in);
            inputCount = KernelChecks.count(in);
            outputCount = KernelChecks.count(out);
            threads = outputCount * perChannel < TINY_WORK && key.threads > 1 ? 1 : key.threads;
            javaQuantize = geometry == null && !integers && inputCount <= JAVA_QUANTIZE;
            rt.useThreads(threads);
            memory.data_type userSrcType = integers ? memory.data_type.u8 : memory.data_type.f32;
            memory.data_type dstType = integers ? memory.data_type.s32 : memory.data_type.f32;
            long[] srcDims;
            long[] dstDims;
            if (geometry == null) {
                long m = KernelChecks.linearRows(in, perChannel);
                conv = m <= smallM;
                nchw = false;
                if (conv) {
                    // [1, K, 1, M] in NHWC is the row-major [M, K] matrix, byte for byte
                    srcDims = new long[] {1, perChannel, 1, m};
                    dstDims = new long[] {1, outChannels, 1, m};
                    userSrcMd = new memory.desc(srcDims, userSrcType, memory.format_tag.nhwc);
                    srcMd = new memory.desc(srcDims, memory.data_type.u8, memory.format_tag.nhwc);
                    dstMd = new memory.desc(dstDims, dstType, memory.format_tag.nhwc);
                } else {
                    srcDims = new long[] {m, perChannel};
                    dstDims = new long[] {m, outChannels};
                    userSrcMd = new memory.desc(srcDims, userSrcType, memory.format_tag.ab);
                    srcMd = new memory.desc(srcDims, memory.data_type.u8, memory.format_tag.ab);
                    dstMd = new memory.desc(dstDims, dstType, memory.format_tag.ab);
                }
                userDstMd = null;
            } else {
                conv = true;
                boolean inNhwc = (key.layouts & 1) != 0;
                boolean outNhwc = (key.layouts & 2) != 0;
                nchw = !inNhwc;
                srcDims = as4d(in);
                dstDims = as4d(out);
                userSrcMd =
                        new memory.desc(
                                srcDims,
                                userSrcType,
                                inNhwc ? memory.format_tag.nhwc : memory.format_tag.nchw);
                srcMd = new memory.desc(srcDims, memory.data_type.u8, memory.format_tag.nhwc);
                dstMd = new memory.desc(dstDims, dstType, memory.format_tag.nhwc);
                // an NHWC caller gets the primitive's output directly: no reorder
                userDstMd =
                        outNhwc ? null : new memory.desc(dstDims, dstType, memory.format_tag.nchw);
            }
            // the source zero point is folded into the bias (oneDNN's zero-point support costs
            // 10-40% on 3x3 convolutions); that is exact only if padding reads as the zero point,
            // so a padded convolution reads a buffer with a border of zero points, padding 0
            long[] pad = geometry == null ? new long[] {0, 0} : spatial(geometry.getPadding(), 0);
            padded = !integers && (pad[0] > 0 || pad[1] > 0);
            if (padded) {
                long[] withBorder = {
                    srcDims[0], srcDims[1], srcDims[2] + 2 * pad[0], srcDims[3] + 2 * pad[1]
                };
                convSrcMd =
                        new memory.desc(withBorder, memory.data_type.u8, memory.format_tag.nhwc);
                srcWriteMd = convSrcMd.submemory_desc(srcDims, new long[] {0, 0, pad[0], pad[1]});
                convPad = new long[] {0, 0};
            } else {
                convSrcMd = srcMd;
                srcWriteMd = srcMd;
                convPad = pad;
            }
            // min / max ignore the order, so any dense layout is a flat [1, count] array
            flatMd = new memory.desc(new long[] {1, inputCount}, userSrcType, memory.format_tag.ab);
            oneMd = new memory.desc(new long[] {1, 1}, memory.data_type.f32, memory.format_tag.ab);

            primitive_attr attr = newAttr();
            if (!integers) {
                attr.set_scales_mask(DNNL_ARG_SRC, 0);
                // per output channel: dim 0 of oihw / [N, K], dims 0 and 1 of goihw
                boolean grouped = geometry != null && geometry.getGroups() > 1;
                attr.set_scales_mask(DNNL_ARG_WEIGHTS, grouped ? 3 : 1);
                if (relu) {
                    post_ops po = new post_ops();
                    po.append_eltwise(algorithm.eltwise_relu, 0f, 0f);
                    attr.set_post_ops(po);
                }
            }
            memory.desc anyWeights =
                    conv
                            ? new memory.desc(
                                    weightDims(), memory.data_type.s8, memory.format_tag.any)
                            : new memory.desc(
                                    new long[] {outChannels, perChannel},
                                    memory.data_type.s8,
                                    memory.format_tag.any);
            memory.desc biasMd = integers ? null : biasMem.get_desc();
            String impl;
            if (conv) {
                long[] st = spatial(geometry == null ? null : geometry.getStride(), 1);
                long[] dl = spatial(geometry == null ? null : geometry.getDilation(), 1);
                long[] dilates = {dl[0] - 1, dl[1] - 1}; // oneDNN counts the gaps
                convolution_forward.primitive_desc pdesc =
                        biasMd == null
                                ? new convolution_forward.primitive_desc(
                                        rt.engine(),
                                        prop_kind.forward_inference,
                                        algorithm.convolution_direct,
                                        convSrcMd,
                                        anyWeights,
                                        dstMd,
                                        st,
                                        dilates,
                                        convPad,
                                        convPad,
                                        attr,
                                        false)
                                : new convolution_forward.primitive_desc(
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
                main = new convolution_forward(pdesc);
                mainScratch = scratchOf(pdesc);
                weights = packedWeights(pdesc.weights_desc());
                impl = pdesc.impl_info_str().getString();
            } else {
                inner_product_forward.primitive_desc pdesc =
                        biasMd == null
                                ? new inner_product_forward.primitive_desc(
                                        rt.engine(),
                                        prop_kind.forward_inference,
                                        convSrcMd,
                                        anyWeights,
                                        dstMd,
                                        attr,
                                        false)
                                : new inner_product_forward.primitive_desc(
                                        rt.engine(),
                                        prop_kind.forward_inference,
                                        convSrcMd,
                                        anyWeights,
                                        biasMd,
                                        dstMd,
                                        attr,
                                        false);
                main = new inner_product_forward(pdesc);
                mainScratch = scratchOf(pdesc);
                weights = packedWeights(pdesc.weights_desc());
                impl = pdesc.impl_info_str().getString();
            }

            primitive_desc_base clipPd = null;
            primitive_desc_base minPd = null;
            primitive_desc_base maxPd = null;
            primitive_desc_base quantizePd = null;
            primitive_desc_base transposePd = null;
            quantizedMd =
                    nchw && !integers
                            ? new memory.desc(srcDims, memory.data_type.u8, memory.format_tag.nchw)
                            : null;
            if (javaQuantize) {
                // nothing: Context.run quantizes with ActivationQuantization.quantize, the formula
                // the reorder computes (KernelFloatPathTest checks them against each other)
            } else if (integers) {
                if (nchw) {
                    quantizePd =
                            new reorder.primitive_desc(
                                    rt.engine(), userSrcMd, rt.engine(), srcMd, newAttr(), false);
                }
            } else {
                if (dynamic && inputCount > 1) {
                    minPd =
                            new reduction.primitive_desc(
                                    rt.engine(),
                                    algorithm.reduction_min,
                                    flatMd,
                                    oneMd,
                                    0f,
                                    0f,
                                    newAttr(),
                                    false);
                    maxPd =
                            new reduction.primitive_desc(
                                    rt.engine(),
                                    algorithm.reduction_max,
                                    flatMd,
                                    oneMd,
                                    0f,
                                    0f,
                                    newAttr(),
                                    false);
                } else if (!dynamic) {
                    // the float range the grid covers; everything above saturates to qmax
                    float lo = -key.zeroPoint * key.scale;
                    float hi = (key.qmax - key.zeroPoint) * key.scale;
                    clipPd =
                            new eltwise_forward.primitive_desc(
                                    rt.engine(),
                                    prop_kind.forward_inference,
                                    algorithm.eltwise_clip_v2,
                                    userSrcMd,
                                    userSrcMd,
                                    lo,
                                    hi,
                                    newAttr(),
                                    false);
                }
                // (dynamic with one element: nothing to reduce, the value is read in Java)
                primitive_attr q = newAttr();
                q.set_scales_mask(DNNL_ARG_DST, 0);
                q.set_zero_points_mask(DNNL_ARG_DST, 0);
                // NCHW input: quantize in place of layout, then transpose bytes (twice as fast
                // as one reorder that converts and transposes 4-byte floats)
                quantizePd =
                        new reorder.primitive_desc(
                                rt.engine(),
                                userSrcMd,
                                rt.engine(),
                                nchw ? quantizedMd : srcWriteMd,
                                q,
                                false);
                if (nchw) {
                    transposePd =
                            new reorder.primitive_desc(
                                    rt.engine(),
                                    quantizedMd,
                                    rt.engine(),
                                    srcWriteMd,
                                    newAttr(),
                                    false);
                }
            }
            primitive_desc_base outPd =
                    userDstMd == null
                            ? null
                            : new reorder.primitive_desc(
                                    rt.engine(), dstMd, rt.engine(), userDstMd, newAttr(), false);
            clip =
                    clipPd == null
                            ? null
                            : new eltwise_forward((eltwise_forward.primitive_desc) clipPd);
            minimum = minPd == null ? null : new reduction((reduction.primitive_desc) minPd);
            maximum = maxPd == null ? null : new reduction((reduction.primitive_desc) maxPd);
            quantize = quantizePd == null ? null : new reorder((reorder.primitive_desc) quantizePd);
            toUserDst = outPd == null ? null : new reorder((reorder.primitive_desc) outPd);
            transpose =
                    transposePd == null ? null : new reorder((reorder.primitive_desc) transposePd);
            transposeScratch = scratchOf(transposePd);
            clipScratch = scratchOf(clipPd);
            minScratch = scratchOf(minPd);
            maxScratch = scratchOf(maxPd);
            quantizeScratch = scratchOf(quantizePd);
            outScratch = scratchOf(outPd);
            long most = 0;
            for (memory.desc d :
                    new memory.desc[] {
                        mainScratch,
                        clipScratch,
                        minScratch,
                        maxScratch,
                        quantizeScratch,
                        outScratch,
                        transposeScratch
                    }) {
                most = Math.max(most, d == null ? 0 : d.get_size());
            }
            scratchBytes = most;
            if (impl.startsWith("ref")) {
                logger.warn(
                        "oneDNN has no optimised int8 kernel for {} on input {}; it runs its"
                                + " (exact, slow) reference implementation",
                        geometry,
                        Arrays.toString(in));
            }
            description =
                    (conv ? (geometry == null ? "linear as 1x1 conv " : "conv ") : "inner product ")
                            + impl
                            + " isa="
                            + rt.isaName();
        }

        Context acquire() {
            Context c = pool.poll();
            return c != null ? c : new Context(this);
        }

        void release(Context c) {
            pool.offer(c);
        }

        void close() {
            Context c;
            while ((c = pool.poll()) != null) {
                c.close();
            }
            for (primitive p :
                    new primitive[] {
                        main, clip, quantize, minimum, maximum, toUserDst, transpose
                    }) {
                if (p != null) {
                    p.close();
                }
            }
        }
    }

    private static memory.desc scratchOf(primitive_desc_base pd) {
        if (pd == null) {
            return null;
        }
        memory.desc d = pd.scratchpad_desc();
        return d.get_size() == 0 ? null : d;
    }

    private static long[] as4d(long[] shape) {
        if (shape.length == 4) {
            return shape.clone();
        }
        return new long[] {shape[0], shape[1], 1, shape[2]}; // 1-D as H = 1
    }

    private static long[] spatial(long[] v, long fill) {
        if (v == null) {
            return new long[] {fill, fill};
        }
        return v.length == 2 ? v.clone() : new long[] {fill == 0 ? 0 : 1, v[0]};
    }

    /** Scratch memory and argument maps for one call at a time. */
    private final class Context {
        final Plan plan;
        final stream stream;
        final memory userSrc;
        final memory flatSrc;
        final memory clipped;
        final memory src;
        final memory srcWrite;
        final ByteBuffer srcBytes; // src as a buffer, when Java quantizes into it
        final memory dst;
        final memory userDst;
        final memory scale;
        final memory zeroPoint;
        final memory min;
        final memory max;
        final memory foldedBias;
        final FloatPointer scaleView;
        final IntPointer zeroPointView;
        final FloatPointer minView;
        final FloatPointer maxView;
        final FloatPointer foldedBiasView;
        final IntMemoryMap clipArgs = new IntMemoryMap();
        final IntMemoryMap minArgs = new IntMemoryMap();
        final IntMemoryMap maxArgs = new IntMemoryMap();
        final IntMemoryMap quantizeArgs = new IntMemoryMap();
        final IntMemoryMap mainArgs = new IntMemoryMap();
        final IntMemoryMap outArgs = new IntMemoryMap();
        final IntMemoryMap transposeArgs = new IntMemoryMap();
        final memory quantized;
        final float[] foldScratch;
        final memory scratch; // one buffer shared by the primitives, which run one after another
        final List<memory> scratchViews = new ArrayList<>();
        float lastScale = Float.NaN;
        int lastZeroPoint = -1;

        Context(Plan p) {
            plan = p;
            stream = new stream(rt.engine());
            Pointer none = new Pointer();
            // float input is the caller's buffer; integer input of a convolution is copied in
            userSrc =
                    p.integers && p.quantize != null
                            ? new memory(p.userSrcMd, rt.engine())
                            : new memory(p.userSrcMd, rt.engine(), none);
            clipped = p.clip != null ? new memory(p.userSrcMd, rt.engine()) : null;
            // for Linear the u8 copy of integer input goes straight into src
            src = new memory(p.convSrcMd, rt.engine());
            srcWrite =
                    p.padded ? new memory(p.srcWriteMd, rt.engine(), src.get_data_handle()) : src;
            srcBytes =
                    p.javaQuantize
                            ? new BytePointer(src.get_data_handle())
                                    .capacity(p.inputCount)
                                    .asByteBuffer()
                            : null;
            boolean dstIsUser = p.userDstMd == null && !p.integers;
            dst =
                    dstIsUser
                            ? new memory(p.dstMd, rt.engine(), none)
                            : new memory(p.dstMd, rt.engine());
            userDst =
                    p.userDstMd == null
                            ? null
                            : p.integers
                                    ? new memory(p.userDstMd, rt.engine())
                                    : new memory(p.userDstMd, rt.engine(), none);
            scale = newMemory(new long[] {1}, memory.data_type.f32, memory.format_tag.a);
            zeroPoint = newMemory(new long[] {1}, memory.data_type.s32, memory.format_tag.a);
            scaleView = new FloatPointer(scale.get_data_handle());
            zeroPointView = new IntPointer(zeroPoint.get_data_handle());
            if (p.minimum != null) {
                min = new memory(p.oneMd, rt.engine());
                max = new memory(p.oneMd, rt.engine());
                minView = new FloatPointer(min.get_data_handle());
                maxView = new FloatPointer(max.get_data_handle());
                flatSrc = new memory(p.flatMd, rt.engine(), none);
                // reductions read the caller's input through a flat view that shares its handle
                minArgs.put(DNNL_ARG_SRC, flatSrc);
                minArgs.put(DNNL_ARG_DST, min);
                maxArgs.put(DNNL_ARG_SRC, flatSrc);
                maxArgs.put(DNNL_ARG_DST, max);
            } else {
                min = null;
                max = null;
                flatSrc = null;
                minView = null;
                maxView = null;
            }
            boolean fold = !p.integers;
            foldedBias =
                    fold
                            ? newMemory(
                                    new long[] {outChannels},
                                    memory.data_type.f32,
                                    memory.format_tag.a)
                            : null;
            foldedBiasView = fold ? new FloatPointer(foldedBias.get_data_handle()) : null;
            foldScratch = fold ? new float[outChannels] : null;

            quantized = p.quantizedMd == null ? null : new memory(p.quantizedMd, rt.engine());
            scratch =
                    p.scratchBytes == 0
                            ? null
                            : newMemory(
                                    new long[] {p.scratchBytes},
                                    memory.data_type.u8,
                                    memory.format_tag.a);
            if (p.clip != null) {
                clipArgs.put(DNNL_ARG_SRC, userSrc);
                clipArgs.put(DNNL_ARG_DST, clipped);
            }
            if (p.quantize != null) {
                quantizeArgs.put(DNNL_ARG_FROM, clipped != null ? clipped : userSrc);
                quantizeArgs.put(DNNL_ARG_TO, quantized != null ? quantized : srcWrite);
                if (!p.integers) {
                    quantizeArgs.put(DNNL_ARG_ATTR_SCALES | DNNL_ARG_DST, scale);
                    quantizeArgs.put(DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST, zeroPoint);
                }
            }
            mainArgs.put(DNNL_ARG_SRC, src);
            mainArgs.put(DNNL_ARG_WEIGHTS, p.weights);
            mainArgs.put(DNNL_ARG_DST, dst);
            if (!p.integers) {
                mainArgs.put(DNNL_ARG_BIAS, fold ? foldedBias : biasMem);
                mainArgs.put(DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC, scale);
                mainArgs.put(DNNL_ARG_ATTR_SCALES | DNNL_ARG_WEIGHTS, weightScalesMem);
            }
            if (p.toUserDst != null) {
                outArgs.put(DNNL_ARG_FROM, dst);
                outArgs.put(DNNL_ARG_TO, userDst);
            }
            addScratch(clipArgs, p.clipScratch);
            addScratch(minArgs, p.minScratch);
            addScratch(maxArgs, p.maxScratch);
            addScratch(quantizeArgs, p.quantizeScratch);
            if (quantized != null) {
                transposeArgs.put(DNNL_ARG_FROM, quantized);
                transposeArgs.put(DNNL_ARG_TO, srcWrite);
                addScratch(transposeArgs, p.transposeScratch);
            }
            addScratch(mainArgs, p.mainScratch);
            addScratch(outArgs, p.outScratch);
        }

        private void addScratch(IntMemoryMap args, memory.desc d) {
            if (d != null) {
                memory view = new memory(d, rt.engine(), scratch.get_data_handle());
                scratchViews.add(view);
                args.put(DNNL_ARG_SCRATCHPAD, view);
            }
        }

        void run(ByteBuffer input, ByteBuffer output, ActivationQuantization act) {
            Pointer in = new Pointer(input.position() == 0 ? input : input.slice());
            Pointer out = new Pointer(output.position() == 0 ? output : output.slice());
            userSrc.set_data_handle(in);
            (plan.toUserDst != null ? userDst : dst).set_data_handle(out);
            float s;
            int z;
            if (plan.javaQuantize) {
                FloatBuffer x = input.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
                int n = (int) plan.inputCount;
                if (plan.dynamic) {
                    float lo = Float.POSITIVE_INFINITY;
                    float hi = Float.NEGATIVE_INFINITY;
                    for (int i = 0; i < n; i++) {
                        float v = x.get(i);
                        lo = Math.min(lo, v);
                        hi = Math.max(hi, v);
                    }
                    s = ActivationQuantization.dynamicScale(lo, hi, act.getQmax());
                    z = ActivationQuantization.dynamicZeroPoint(lo, s, act.getQmax());
                } else {
                    s = act.getScale();
                    z = act.getZeroPoint();
                }
                int qmax = act.getQmax();
                for (int i = 0; i < n; i++) {
                    srcBytes.put(i, (byte) ActivationQuantization.quantize(x.get(i), s, z, qmax));
                }
            } else if (plan.dynamic) {
                float lo;
                float hi;
                if (plan.minimum == null) {
                    lo = input.order(java.nio.ByteOrder.nativeOrder()).getFloat(input.position());
                    hi = lo;
                } else {
                    flatSrc.set_data_handle(in);
                    plan.minimum.execute(stream, minArgs);
                    plan.maximum.execute(stream, maxArgs);
                    stream._wait();
                    lo = minView.get(0);
                    hi = maxView.get(0);
                }
                s = ActivationQuantization.dynamicScale(lo, hi, act.getQmax());
                z = ActivationQuantization.dynamicZeroPoint(lo, s, act.getQmax());
            } else {
                s = act.getScale();
                z = act.getZeroPoint();
                plan.clip.execute(stream, clipArgs);
            }
            if (plan.padded && z != lastZeroPoint) {
                // the border reads as the zero point, i.e. as 0.0; the inside is overwritten below
                Pointer.memset(src.get_data_handle(), z, plan.convSrcMd.get_size());
            }
            if (s != lastScale || z != lastZeroPoint) {
                scaleView.put(0, s);
                zeroPointView.put(0, z);
                if (foldedBiasView != null) {
                    // zero point folded into the bias: bias - s * ws * zp * sum(w)
                    for (int c = 0; c < outChannels; c++) {
                        foldScratch[c] = bias[c] - s * wScales[c] * z * (float) channelSums[c];
                    }
                    foldedBiasView.put(foldScratch, 0, outChannels);
                }
                lastScale = s;
                lastZeroPoint = z;
            }
            if (plan.quantize != null) {
                plan.quantize.execute(stream, quantizeArgs);
            }
            if (plan.transpose != null) {
                plan.transpose.execute(stream, transposeArgs);
            }
            plan.main.execute(stream, mainArgs);
            if (plan.toUserDst != null) {
                plan.toUserDst.execute(stream, outArgs);
            }
            stream._wait();
        }

        int[] runIntegers(byte[] input) {
            if (plan.quantize != null) {
                new BytePointer(userSrc.get_data_handle()).put(input, 0, input.length);
                plan.quantize.execute(stream, quantizeArgs);
            } else {
                new BytePointer(src.get_data_handle()).put(input, 0, input.length);
            }
            plan.main.execute(stream, mainArgs);
            memory result = dst;
            if (plan.toUserDst != null) {
                plan.toUserDst.execute(stream, outArgs);
                result = userDst;
            }
            stream._wait();
            int[] acc = new int[(int) plan.outputCount];
            new IntPointer(result.get_data_handle()).get(acc, 0, acc.length);
            return acc;
        }

        void close() {
            if (srcWrite != src) {
                srcWrite.close();
            }
            for (memory m :
                    new memory[] {
                        quantized,
                        userSrc,
                        flatSrc,
                        clipped,
                        src,
                        dst,
                        userDst,
                        scale,
                        zeroPoint,
                        min,
                        max,
                        foldedBias
                    }) {
                if (m != null) {
                    m.close();
                }
            }
            for (memory m : scratchViews) {
                m.close();
            }
            if (scratch != null) {
                scratch.close();
            }
            stream.close();
        }
    }
}

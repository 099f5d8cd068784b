package ai.djlquant.kernel;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;

import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.global.dnnl.algorithm;
import org.bytedeco.dnnl.global.dnnl.prop_kind;
import org.bytedeco.dnnl.inner_product_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.primitive_desc_base;
import org.bytedeco.dnnl.reduction;
import org.bytedeco.dnnl.reorder;

import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The cached unit of a oneDNN kernel: for one {@link GraphKey} (input shape, quantization mode,
 * layouts, threads), the memory descriptors and the list of primitives a call runs in order, as
 * oneDNN's own examples build them, plus a pool of {@link CallContext}s (a call borrows one).
 *
 * <p>The primitives, each optional except the int8 one:
 *
 * <ol>
 *   <li>{@code clip} (static mode): the float input clipped to the range the grid covers, {@code
 *       [-zp * s, (qmax - zp) * s]} (the reorder below saturates to [0, 255] only, and 7-bit grids
 *       need [0, 127]);
 *   <li>{@code minimum}, {@code maximum} (dynamic mode, more than one value): reductions whose
 *       results {@link ActivationQuantization#dynamicScale} and {@code dynamicZeroPoint} turn into
 *       scale and zero point, in Java;
 *   <li>{@code quantize}: a reorder f32 to u8 with runtime scale and zero point, {@code q =
 *       clamp(rint(x * (1 / s) + zp), 0, 255)}; for NCHW convolution input in place of layout, then
 *       {@code transpose} reorders the bytes to NHWC (twice as fast as converting and transposing
 *       4-byte floats in one reorder);
 *   <li>{@code main}: the int8 convolution (or inner product) with runtime source scale,
 *       per-channel weight scales, the bias with the zero point folded in and the optional ReLU
 *       post-op, writing float32: {@code y[c] = s * ws[c] * sum(q * w[c]) + (b[c] - s * ws[c] * zp
 *       * sum(w[c]))}, which is {@code s * ws[c] * sum((q - zp) * w[c]) + b[c]};
 *   <li>{@code toUserDst}: the NHWC result reordered into the caller's NCHW buffer.
 * </ol>
 *
 * <p>In an int8 chain ({@link GraphKey#inputU8}, {@link GraphKey#outputU8}): a uint8 input on the
 * static grid has no clip or quantize step: a Linear reads the caller's bytes directly, a
 * convolution after a u8 reorder into the primitive's layout (and border); a uint8 output grid makes {@code main} write u8 with the runtime dst scale and zero point
 * after its post-ops (see {@link OneDnnLayer#mainAttr}), and {@code toUserDst} reorders bytes.
 *
 * <p>A Linear input of at most {@code ai.djlquant.kernel.javaQuantize} values (1024 by default) has
 * no clip, reductions or quantize reorder: {@link CallContext} quantizes it in Java with {@link
 * ActivationQuantization#quantize}, the reorder's formula (at batch 1 the two or three primitive
 * calls cost more).
 */
final class PrimitiveGraph {

    private static final org.slf4j.Logger logger =
            org.slf4j.LoggerFactory.getLogger(PrimitiveGraph.class);

    /** Multiply-adds below which a call runs on one thread. */
    private static final long TINY_WORK = Long.getLong("ai.djlquant.kernel.tinyWork", 1L << 20);

    /**
     * Float inputs of a Linear up to this many values are quantized in Java: at batch 1 the two or
     * three oneDNN calls it replaces (clip and reorder, or minimum, maximum and reorder) cost more.
     */
    private static final long JAVA_QUANTIZE = Long.getLong("ai.djlquant.kernel.javaQuantize", 1024);

    final OneDnnLayer layer;

    final GraphKey key;
    final boolean dynamic;
    final boolean conv; // a convolution, or a Linear of at most smallM rows as a 1x1 one
    final boolean nchw; // a convolution whose caller's input is NCHW (oneDNN runs NHWC)
    final boolean javaQuantize; // small Linear input: quantized in Java straight into src
    final boolean inputU8; // the input is uint8 on the static grid: copied, not quantized
    final boolean srcDirect; // uint8 Linear input: the primitive reads the caller's bytes
    final ActivationQuantization outGrid; // the uint8 output grid, or null for float32 output
    final long inputCount;
    final long outputCount;
    // oneDNN fixes a primitive's thread count when it is created (OpenMP's setting then), so
    // graphs are per thread count, created and run with it. Tiny layers get one thread, as
    // PyTorch runs ops below its grain size: waking a second thread for each of the three or
    // four primitives costs more than it saves
    final int threads;
    final memory.desc userSrcMd; // f32 in the caller's layout
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
    final ConcurrentLinkedQueue<CallContext> pool = new ConcurrentLinkedQueue<>();

    PrimitiveGraph(OneDnnLayer layer, GraphKey key) {
        this.layer = layer;
        this.key = key;
        dynamic = key.dynamic();
        long[] in = key.dims();
        long[] out = layer.outputShape(in);
        inputCount = KernelChecks.count(in);
        outputCount = KernelChecks.count(out);
        threads =
                outputCount * layer.perChannel < TINY_WORK && key.threads() > 1 ? 1 : key.threads();
        inputU8 = key.inputU8();
        outGrid =
                key.outputU8()
                        ? ActivationQuantization.fixed(
                                key.outScale(), key.outZeroPoint(), bitsOf(key.outQmax()))
                        : null;
        javaQuantize = !inputU8 && layer.geometry == null && inputCount <= JAVA_QUANTIZE;
        // a Linear's u8 source is the caller's row-major [M, K] bytes as they are: no copy
        srcDirect = inputU8 && layer.geometry == null;
        layer.rt.useThreads(threads);
        memory.data_type userSrcType = inputU8 ? memory.data_type.u8 : memory.data_type.f32;
        memory.data_type dstType = outGrid != null ? memory.data_type.u8 : memory.data_type.f32;
        long[] srcDims;
        long[] dstDims;
        if (layer.geometry == null) {
            long m = KernelChecks.linearRows(in, layer.perChannel);
            conv = m <= layer.smallM;
            nchw = false;
            if (conv) {
                // [1, K, 1, M] in NHWC is the row-major [M, K] matrix, byte for byte
                srcDims = new long[] {1, layer.perChannel, 1, m};
                dstDims = new long[] {1, layer.outChannels, 1, m};
                userSrcMd = new memory.desc(srcDims, userSrcType, memory.format_tag.nhwc);
                srcMd = new memory.desc(srcDims, memory.data_type.u8, memory.format_tag.nhwc);
                dstMd = new memory.desc(dstDims, dstType, memory.format_tag.nhwc);
            } else {
                srcDims = new long[] {m, layer.perChannel};
                dstDims = new long[] {m, layer.outChannels};
                userSrcMd = new memory.desc(srcDims, userSrcType, memory.format_tag.ab);
                srcMd = new memory.desc(srcDims, memory.data_type.u8, memory.format_tag.ab);
                dstMd = new memory.desc(dstDims, dstType, memory.format_tag.ab);
            }
            userDstMd = null;
        } else {
            conv = true;
            boolean inNhwc = key.inputNhwc();
            boolean outNhwc = key.outputNhwc();
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
            userDstMd = outNhwc ? null : new memory.desc(dstDims, dstType, memory.format_tag.nchw);
        }
        // the source zero point is folded into the bias (oneDNN's zero-point support costs
        // 10-40% on 3x3 convolutions); that is exact only if padding reads as the zero point,
        // so a padded convolution reads a buffer with a border of zero points, padding 0
        long[] pad =
                layer.geometry == null
                        ? new long[] {0, 0}
                        : spatial(layer.geometry.getPadding(), 0);
        padded = pad[0] > 0 || pad[1] > 0;
        if (padded) {
            long[] withBorder = {
                srcDims[0], srcDims[1], srcDims[2] + 2 * pad[0], srcDims[3] + 2 * pad[1]
            };
            convSrcMd = new memory.desc(withBorder, memory.data_type.u8, memory.format_tag.nhwc);
            srcWriteMd = convSrcMd.submemory_desc(srcDims, new long[] {0, 0, pad[0], pad[1]});
            convPad = new long[] {0, 0};
        } else {
            convSrcMd = srcMd;
            srcWriteMd = srcMd;
            convPad = pad;
        }
        // min / max ignore the order, so any dense layout is a flat [1, count] array
        flatMd =
                new memory.desc(
                        new long[] {1, inputCount}, memory.data_type.f32, memory.format_tag.ab);
        oneMd = new memory.desc(new long[] {1, 1}, memory.data_type.f32, memory.format_tag.ab);

        primitive_desc_base mainPd = layer.mainDescriptor(conv, convSrcMd, dstMd, convPad, outGrid);
        main =
                conv
                        ? new convolution_forward((convolution_forward.primitive_desc) mainPd)
                        : new inner_product_forward((inner_product_forward.primitive_desc) mainPd);
        mainScratch = scratchOf(mainPd);
        weights = layer.packedWeights(mainPd.weights_desc());
        String impl = mainPd.impl_info_str().getString();

        primitive_desc_base clipPd = null;
        primitive_desc_base minPd = null;
        primitive_desc_base maxPd = null;
        primitive_desc_base quantizePd = null;
        primitive_desc_base transposePd = null;
        quantizedMd =
                nchw && !inputU8
                        ? new memory.desc(srcDims, memory.data_type.u8, memory.format_tag.nchw)
                        : null;
        // javaQuantize: no primitive before the int8 one, CallContext.run quantizes with
        // ActivationQuantization.quantize, the reorder's formula (KernelFloatPathTest checks both)
        if (srcDirect) {
            quantizePd = null;
        } else if (inputU8) {
            // already on the grid: a plain u8 copy into the primitive's layout (and border)
            quantizePd = reorderOf(userSrcMd, srcWriteMd, OneDnnLayer.newAttr());
        } else if (!javaQuantize) {
            if (dynamic && inputCount > 1) {
                minPd = reduce(algorithm.reduction_min);
                maxPd = reduce(algorithm.reduction_max);
            } else if (!dynamic) {
                // the float range the grid covers; everything above saturates to qmax
                float lo = -key.zeroPoint() * key.scale();
                float hi = (key.qmax() - key.zeroPoint()) * key.scale();
                clipPd =
                        new eltwise_forward.primitive_desc(
                                layer.rt.engine(),
                                prop_kind.forward_inference,
                                algorithm.eltwise_clip_v2,
                                userSrcMd,
                                userSrcMd,
                                lo,
                                hi,
                                OneDnnLayer.newAttr(),
                                false);
            }
            // (dynamic with one element: nothing to reduce, the value is read in Java)
            primitive_attr q = OneDnnLayer.newAttr();
            q.set_scales_mask(DNNL_ARG_DST, 0);
            q.set_zero_points_mask(DNNL_ARG_DST, 0);
            // NCHW input: quantize in place of layout, then transpose bytes (twice as fast
            // as one reorder that converts and transposes 4-byte floats)
            quantizePd = reorderOf(userSrcMd, nchw ? quantizedMd : srcWriteMd, q);
            if (nchw) {
                transposePd = reorderOf(quantizedMd, srcWriteMd, OneDnnLayer.newAttr());
            }
        }
        primitive_desc_base outPd =
                userDstMd == null ? null : reorderOf(dstMd, userDstMd, OneDnnLayer.newAttr());
        clip = clipPd == null ? null : new eltwise_forward((eltwise_forward.primitive_desc) clipPd);
        minimum = minPd == null ? null : new reduction((reduction.primitive_desc) minPd);
        maximum = maxPd == null ? null : new reduction((reduction.primitive_desc) maxPd);
        quantize = quantizePd == null ? null : new reorder((reorder.primitive_desc) quantizePd);
        toUserDst = outPd == null ? null : new reorder((reorder.primitive_desc) outPd);
        transpose = transposePd == null ? null : new reorder((reorder.primitive_desc) transposePd);
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
                    layer.geometry,
                    Arrays.toString(in));
        }
        description =
                (conv
                                ? (layer.geometry == null ? "linear as 1x1 conv " : "conv ")
                                : "inner product ")
                        + impl
                        + " isa="
                        + layer.rt.isaName();
    }

    CallContext acquire() {
        CallContext c = pool.poll();
        return c != null ? c : new CallContext(layer, this);
    }

    void release(CallContext c) {
        pool.offer(c);
    }

    void close() {
        CallContext c;
        while ((c = pool.poll()) != null) {
            c.close();
        }
        for (primitive p :
                new primitive[] {main, clip, quantize, minimum, maximum, toUserDst, transpose}) {
            if (p != null) {
                p.close();
            }
        }
    }

    private reorder.primitive_desc reorderOf(
            memory.desc from, memory.desc to, primitive_attr attr) {
        return new reorder.primitive_desc(
                layer.rt.engine(), from, layer.rt.engine(), to, attr, false);
    }

    /** The whole input (any dense layout, as a flat {@code [1, count]} array) to one value. */
    private reduction.primitive_desc reduce(algorithm kind) {
        return new reduction.primitive_desc(
                layer.rt.engine(), kind, flatMd, oneMd, 0f, 0f, OneDnnLayer.newAttr(), false);
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

    private static int bitsOf(int qmax) {
        return 32 - Integer.numberOfLeadingZeros(qmax);
    }

    static long[] spatial(long[] v, long fill) {
        if (v == null) {
            return new long[] {fill, fill};
        }
        return v.length == 2 ? v.clone() : new long[] {fill == 0 ? 0 : 1, v[0]};
    }
}

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
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One call at a time on a {@link PrimitiveGraph}: the stream, scratch buffers and argument maps
 * oneDNN does not let two threads share, and the execution of the graph's primitives in order.
 *
 * <p>Per call, in Java: for dynamic quantization {@code s = max((max(x, 0) - min(x, 0)) / qmax,
 * 2^-23)} (nudged up until the maximum fits) and {@code zp = clamp(-rint(min(x, 0) / s), 0, qmax)}
 * ({@link ActivationQuantization#dynamicScale}), and the folded bias {@code b[c] - s * ws[c] * zp *
 * sum(w[c])}, recomputed only when {@code s} or {@code zp} changed. A small Linear input is also
 * quantized here, one value after another, {@code q = clamp(rint(x * (1 / s) + zp), 0, qmax)};
 * every other step is a primitive.
 */
final class CallContext {

    private final OneDnnLayer layer;
    private final PrimitiveGraph graph;
    private final stream stream;
    private final memory userSrc;
    private final memory flatSrc;
    private final memory clipped;
    private final memory src;
    private final memory srcWrite;
    private final ByteBuffer srcBytes; // src as a buffer, when Java quantizes into it
    private final memory dst;
    private final memory userDst;
    private final memory scale;
    private final memory zeroPoint;
    private final memory outScale; // the uint8 output grid's scale and zero point, or null
    private final memory outZeroPoint;
    private final memory min;
    private final memory max;
    private final memory foldedBias;
    private final FloatPointer scaleView;
    private final IntPointer zeroPointView;
    private final FloatPointer minView;
    private final FloatPointer maxView;
    private final FloatPointer foldedBiasView;
    private final IntMemoryMap clipArgs = new IntMemoryMap();
    private final IntMemoryMap minArgs = new IntMemoryMap();
    private final IntMemoryMap maxArgs = new IntMemoryMap();
    private final IntMemoryMap quantizeArgs = new IntMemoryMap();
    private final IntMemoryMap mainArgs = new IntMemoryMap();
    private final IntMemoryMap outArgs = new IntMemoryMap();
    private final IntMemoryMap transposeArgs = new IntMemoryMap();
    private final memory quantized;
    private final float[] foldScratch;
    private final memory
            scratch; // one buffer shared by the primitives, which run one after another
    private final List<memory> scratchViews = new ArrayList<>();
    private float lastScale = Float.NaN;
    private int lastZeroPoint = -1;

    CallContext(OneDnnLayer layer, PrimitiveGraph p) {
        this.layer = layer;
        graph = p;
        stream = new stream(layer.rt.engine());
        Pointer none = new Pointer();
        // the float input is the caller's buffer, set per call
        userSrc = new memory(p.userSrcMd, layer.rt.engine(), none);
        clipped = p.clip != null ? new memory(p.userSrcMd, layer.rt.engine()) : null;
        src = new memory(p.convSrcMd, layer.rt.engine());
        srcWrite =
                p.padded ? new memory(p.srcWriteMd, layer.rt.engine(), src.get_data_handle()) : src;
        srcBytes =
                p.javaQuantize
                        ? new BytePointer(src.get_data_handle())
                                .capacity(p.inputCount)
                                .asByteBuffer()
                        : null;
        // the primitive writes the caller's buffer, or its own that a reorder copies out of
        dst =
                p.userDstMd == null
                        ? new memory(p.dstMd, layer.rt.engine(), none)
                        : new memory(p.dstMd, layer.rt.engine());
        userDst = p.userDstMd == null ? null : new memory(p.userDstMd, layer.rt.engine(), none);
        scale = layer.newMemory(new long[] {1}, memory.data_type.f32, memory.format_tag.a);
        zeroPoint = layer.newMemory(new long[] {1}, memory.data_type.s32, memory.format_tag.a);
        if (p.outGrid != null) {
            outScale = layer.newMemory(new long[] {1}, memory.data_type.f32, memory.format_tag.a);
            outZeroPoint =
                    layer.newMemory(new long[] {1}, memory.data_type.s32, memory.format_tag.a);
            new FloatPointer(outScale.get_data_handle()).put(0, p.outGrid.getScale());
            new IntPointer(outZeroPoint.get_data_handle()).put(0, p.outGrid.getZeroPoint());
        } else {
            outScale = null;
            outZeroPoint = null;
        }
        scaleView = new FloatPointer(scale.get_data_handle());
        zeroPointView = new IntPointer(zeroPoint.get_data_handle());
        if (p.minimum != null) {
            min = new memory(p.oneMd, layer.rt.engine());
            max = new memory(p.oneMd, layer.rt.engine());
            minView = new FloatPointer(min.get_data_handle());
            maxView = new FloatPointer(max.get_data_handle());
            flatSrc = new memory(p.flatMd, layer.rt.engine(), none);
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
        foldedBias =
                layer.newMemory(
                        new long[] {layer.outChannels}, memory.data_type.f32, memory.format_tag.a);
        foldedBiasView = new FloatPointer(foldedBias.get_data_handle());
        foldScratch = new float[layer.outChannels];

        quantized = p.quantizedMd == null ? null : new memory(p.quantizedMd, layer.rt.engine());
        scratch =
                p.scratchBytes == 0
                        ? null
                        : layer.newMemory(
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
            if (!p.inputU8) {
                quantizeArgs.put(DNNL_ARG_ATTR_SCALES | DNNL_ARG_DST, scale);
                quantizeArgs.put(DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST, zeroPoint);
            }
        }
        mainArgs.put(DNNL_ARG_SRC, p.srcDirect ? userSrc : src);
        mainArgs.put(DNNL_ARG_WEIGHTS, p.weights);
        mainArgs.put(DNNL_ARG_DST, dst);
        mainArgs.put(DNNL_ARG_BIAS, foldedBias);
        mainArgs.put(DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC, scale);
        mainArgs.put(DNNL_ARG_ATTR_SCALES | DNNL_ARG_WEIGHTS, layer.weightScalesMem);
        if (outScale != null) {
            mainArgs.put(DNNL_ARG_ATTR_SCALES | DNNL_ARG_DST, outScale);
            mainArgs.put(DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST, outZeroPoint);
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
            memory view = new memory(d, layer.rt.engine(), scratch.get_data_handle());
            scratchViews.add(view);
            args.put(DNNL_ARG_SCRATCHPAD, view);
        }
    }

    void run(ByteBuffer input, ByteBuffer output, ActivationQuantization act) {
        Pointer in = new Pointer(input.position() == 0 ? input : input.slice());
        Pointer out = new Pointer(output.position() == 0 ? output : output.slice());
        userSrc.set_data_handle(in);
        (graph.toUserDst != null ? userDst : dst).set_data_handle(out);
        float s;
        int z;
        if (graph.javaQuantize) {
            FloatBuffer x = input.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
            int n = (int) graph.inputCount;
            if (graph.dynamic) {
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
        } else if (graph.dynamic) {
            float lo;
            float hi;
            if (graph.minimum == null) {
                lo = input.order(ByteOrder.nativeOrder()).getFloat(input.position());
                hi = lo;
            } else {
                flatSrc.set_data_handle(in);
                graph.minimum.execute(stream, minArgs);
                graph.maximum.execute(stream, maxArgs);
                stream._wait();
                lo = minView.get(0);
                hi = maxView.get(0);
            }
            s = ActivationQuantization.dynamicScale(lo, hi, act.getQmax());
            z = ActivationQuantization.dynamicZeroPoint(lo, s, act.getQmax());
        } else {
            s = act.getScale();
            z = act.getZeroPoint();
            if (graph.clip != null) { // none for uint8 input, already on the grid
                graph.clip.execute(stream, clipArgs);
            }
        }
        if (graph.padded && z != lastZeroPoint) {
            // the border reads as the zero point, i.e. as 0.0; the inside is overwritten below
            Pointer.memset(src.get_data_handle(), z, graph.convSrcMd.get_size());
        }
        if (s != lastScale || z != lastZeroPoint) {
            scaleView.put(0, s);
            zeroPointView.put(0, z);
            // zero point folded into the bias: b - s * ws * zp * sum(w)
            for (int c = 0; c < layer.outChannels; c++) {
                foldScratch[c] =
                        layer.bias[c]
                                - s * layer.weightScales[c] * z * (float) layer.channelSums[c];
            }
            foldedBiasView.put(foldScratch, 0, layer.outChannels);
            lastScale = s;
            lastZeroPoint = z;
        }
        if (graph.quantize != null) {
            graph.quantize.execute(stream, quantizeArgs);
        }
        if (graph.transpose != null) {
            graph.transpose.execute(stream, transposeArgs);
        }
        graph.main.execute(stream, mainArgs);
        if (graph.toUserDst != null) {
            graph.toUserDst.execute(stream, outArgs);
        }
        stream._wait();
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
                    outScale,
                    outZeroPoint,
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

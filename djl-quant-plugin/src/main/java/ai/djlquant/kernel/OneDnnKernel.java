package ai.djlquant.kernel;

import ai.djlquant.quant.FusedActivation;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Linear layer or convolution on oneDNN: the layer's weights ({@link OneDnnLayer}) and a cache of
 * {@link PrimitiveGraph}s, one per {@link GraphKey}, each run by a borrowed {@link CallContext}.
 *
 * <p>Data path of {@link #forward}: static mode clips the float input to the calibrated range,
 * dynamic mode reduces it to its minimum and maximum (oneDNN primitives), Java computes scale and
 * zero point; a oneDNN reorder quantizes, {@code q = clamp(rint(x * (1 / s) + zp), 0, qmax)}; the
 * int8 primitive computes {@code y[c] = s * ws[c] * sum((q - zp) * w[c]) + b[c]} (zero point folded
 * into the bias), then ReLU if fused, and writes float32. A Linear input of at most {@code
 * ai.djlquant.kernel.javaQuantize} values (1024 by default) is instead reduced and quantized by a
 * Java loop over its elements, straight into the primitive's u8 buffer. {@link PrimitiveGraph}
 * lists the primitives.
 *
 * <p>Everything that depends only on the key (primitive descriptors, primitives, weights reordered
 * into the layout the primitive chose) is made on the first call with that key and cached, at most
 * {@value #MAX_GRAPHS} per kernel. Scratch memory and streams are not thread-safe in oneDNN, so
 * each concurrent call borrows its own {@link CallContext} from the graph's pool; primitives and
 * packed weights are shared.
 */
final class OneDnnKernel implements Int8Kernel {

    /** Graphs remembered per kernel (input shapes vary, e.g. with sequence length). */
    private static final int MAX_GRAPHS = 256;

    private final OneDnnLayer layer;
    private final int maxBits;
    private final Map<GraphKey, PrimitiveGraph> graphs = new ConcurrentHashMap<>();
    private volatile PrimitiveGraph lastGraph;
    private volatile boolean closed;

    OneDnnKernel(
            OneDnnRuntime rt,
            ConvGeometry geometry,
            Int8Weights weights,
            FusedActivation activation,
            int maxBits,
            long smallM) {
        this.layer = new OneDnnLayer(rt, geometry, weights, activation, smallM);
        this.maxBits = maxBits;
    }

    /** {@inheritDoc} */
    @Override
    public long[] outputShape(long[] inputShape) {
        return layer.outputShape(inputShape);
    }

    /** {@inheritDoc} */
    @Override
    public void forward(
            ByteBuffer input,
            long[] inputShape,
            boolean inputChannelsLast,
            boolean inputQuantized,
            ActivationQuantization activation,
            ByteBuffer output,
            boolean outputChannelsLast,
            ActivationQuantization outputGrid,
            int threads) {
        if (layer.geometry == null && (inputChannelsLast || outputChannelsLast)) {
            throw new IllegalArgumentException("a Linear layer has no channels-last layout.");
        }
        KernelChecks.checkGrids(inputQuantized, activation, outputGrid, maxBits);
        ActivationQuantization act = inputQuantized ? activation : activation.narrowTo(maxBits);
        PrimitiveGraph graph =
                graph(
                        inputShape,
                        act,
                        inputChannelsLast,
                        outputChannelsLast,
                        threads,
                        inputQuantized,
                        outputGrid);
        KernelChecks.checkCapacity(
                input, graph.inputCount, inputQuantized ? 1 : Float.BYTES, "input");
        KernelChecks.checkCapacity(
                output, graph.outputCount, outputGrid != null ? 1 : Float.BYTES, "output");
        layer.rt.useThreads(graph.threads);
        CallContext ctx = graph.acquire();
        try {
            ctx.run(input, output, act);
        } finally {
            graph.release(ctx);
            if (graph.threads != threads) {
                layer.rt.useThreads(threads); // PyTorch reads the same OpenMP setting
            }
        }
    }

    /** {@inheritDoc} */
    @Override
    public String describe(long[] inputShape) {
        return graph(inputShape, ActivationQuantization.dynamic(maxBits), false, false, 0, false, null)
                .description;
    }

    /** {@inheritDoc} */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (PrimitiveGraph g : graphs.values()) {
            g.close();
        }
        graphs.clear();
        layer.close();
    }

    private PrimitiveGraph graph(
            long[] inputShape,
            ActivationQuantization act,
            boolean inNhwc,
            boolean outNhwc,
            int threads,
            boolean inU8,
            ActivationQuantization outGrid) {
        PrimitiveGraph last = lastGraph;
        if (last != null
                && last.key.matches(inputShape, act, inNhwc, outNhwc, threads, inU8, outGrid)) {
            return last;
        }
        if (closed) {
            throw new IllegalStateException("the int8 kernel has been closed.");
        }
        outputShape(inputShape); // validates with a clear message before any native call
        GraphKey key = GraphKey.of(inputShape, act, inNhwc, outNhwc, threads, inU8, outGrid);
        PrimitiveGraph graph = graphs.get(key);
        if (graph == null) {
            synchronized (this) {
                if (graphs.size() >= MAX_GRAPHS) {
                    // many input shapes (e.g. varying sequence lengths): forget one; a call still
                    // running on it keeps it alive, JavaCPP frees its native memory after that
                    graphs.remove(graphs.keySet().iterator().next());
                }
                graph = graphs.computeIfAbsent(key, k -> new PrimitiveGraph(layer, k));
            }
        }
        lastGraph = graph;
        return graph;
    }
}

package ai.djlquant.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djlquant.kernel.ActivationQuantization;
import ai.djlquant.kernel.Int8Kernel;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Runs int8 layers back to back with uint8 between them, all Linear or all Conv2d (the first
 * static or dynamic, every later one static, since it reads bytes on its grid): link {@code i}
 * writes its output as uint8 on link {@code i + 1}'s input grid, requantized in the int8
 * primitive's epilogue (after the bias and the fused activation), and link {@code i + 1} reads
 * those bytes as its quantized input. Only the head quantizes float32, only the tail writes
 * float32.
 *
 * <p>With {@code g[i]} the grid link {@code i}'s kernel runs its input on ({@link
 * Int8Core#kernelGrid}: the static parameters narrowed to the backend's activation bits) and
 * {@code y[i]} the float32 value link {@code i} computes before it writes it:
 *
 * <pre>
 * unchained: q[i+1] = clamp(rint(y[i] * (1 / s[i+1]) + zp[i+1]), 0, qmax[i+1])   (the consumer's quantize)
 * chained:   q[i+1] = clamp(rint(y[i] * (1 / s[i+1]) + zp[i+1]), 0, qmax[i+1])   (the producer's epilogue)
 * </pre>
 *
 * the same formula ({@code ReferenceKernel}'s semantics) on the same float32 {@code y[i]}, which
 * the unchained path stores in between and the chained one keeps in a register: oneDNN computes
 * {@code y[i]} in the same order for a float32 and a uint8 destination on the hosts measured, and
 * the chained output then equals the unchained one bit for bit ({@code ConvChainTest} asserts it
 * for convolutions; {@code Int8ChainTest} asserts SQNR >= 35 dB for Linear layers, measured
 * identical).
 *
 * <p>Convolutions keep the layout the int8 convolutions run in, channels-last (NHWC), from end to
 * end: the head reads a float32 input that is a channels-last view ({@link ChannelsLastViews}) as
 * its NHWC memory (an NCHW tensor as it is), the bytes between links are NHWC on both sides (no
 * reorder), and the tail writes float32 NHWC and returns it as the NCHW-shaped view the unchained
 * tail returns. Linear links follow convolution links only through a flatten ({@link
 * FlattenStep}, which reorders the NHWC bytes to the flattened NCHW order): a Linear on a 4-D tensor works on
 * its last axis, which the NHWC bytes do not hold contiguously.
 *
 * <p>Between two convolution links a chain may run {@link GridStep}s on the bytes, in order (a
 * max pooling, {@link MaxPoolStep}): link {@code i} then writes on link {@code i + 1}'s grid as
 * before, each step maps those bytes to bytes on the same grid, and link {@code i + 1} reads the
 * last step's output. A step commutes with the quantization ({@code step(q(y)) == q(step(y))}), so
 * the chain still equals the layers and the steps' float blocks run one by one, bit for bit.
 *
 * <p>The intermediate bytes live in two direct buffers borrowed per call from a pool (as {@code
 * kernel.CallContext} borrows its native memory), so concurrent predictors each use their own and
 * no NDArray is made between links. A chain runs only where every link would run its native
 * kernel (the CPU, a native backend): elsewhere {@link #forward} returns null and the caller runs
 * the layers one by one, which is the same arithmetic.
 */
final class Int8Chain {

    private final Block[] links;
    private final Int8Core[] cores;
    private final Parameter[] weights;
    private final Parameter[] biases;
    private final boolean[] convolution; // by link: a QuantizedConv2d (else a QuantizedLinear)
    private final GridStep[][] between; // by link: the steps after it, before the next link
    private final ConcurrentLinkedQueue<Scratch> pool = new ConcurrentLinkedQueue<>();

    /**
     * @param links the layers, each a {@link QuantizedLinear} or each a {@link QuantizedConv2d}
     */
    Int8Chain(List<? extends Block> links) {
        this(links, List.of());
    }

    /**
     * @param links the layers: {@link QuantizedConv2d}s, then {@link QuantizedLinear}s (either
     *     part may be empty)
     * @param steps by link, the steps between it and the next link (an empty list for none; the
     *     whole list empty for none anywhere): between convolutions channels-last steps only,
     *     between the last convolution and the first Linear such steps then exactly one that is
     *     not (a flatten), between Linear layers none
     */
    Int8Chain(List<? extends Block> links, List<List<GridStep>> steps) {
        if (links.size() < 2) {
            throw new IllegalArgumentException(
                    "an int8 chain needs at least two layers, got " + links.size() + ".");
        }
        int n = links.size();
        this.links = links.toArray(new Block[0]);
        cores = new Int8Core[n];
        weights = new Parameter[n];
        biases = new Parameter[n];
        convolution = new boolean[n];
        for (int i = 0; i < n; i++) {
            Block b = links.get(i);
            if (b instanceof QuantizedLinear q) {
                cores[i] = q.core();
                weights[i] = q.weightParameter();
                biases[i] = q.biasParameter();
            } else if (b instanceof QuantizedConv2d q && (i == 0 || convolution[i - 1])) {
                convolution[i] = true;
                cores[i] = q.core();
                weights[i] = q.weightParameter();
                biases[i] = q.biasParameter();
            } else {
                throw new IllegalArgumentException(
                        "link "
                                + i
                                + " ("
                                + b
                                + ") cannot be in an int8 chain: its links are QuantizedConv2d"
                                + " layers, then QuantizedLinear ones.");
            }
            if (i > 0 && cores[i].isDynamic()) {
                throw new IllegalArgumentException(
                        "a dynamic " + b + " cannot be a link of an int8 chain: its input grid"
                                + " is not known before the call.");
            }
        }
        if (!steps.isEmpty() && steps.size() != n - 1) {
            throw new IllegalArgumentException(
                    "an int8 chain of " + n + " layers has " + (n - 1) + " gaps for steps, got "
                            + steps.size() + ".");
        }
        between = new GridStep[n - 1][];
        for (int i = 0; i < n - 1; i++) {
            between[i] = steps.isEmpty() ? new GridStep[0] : steps.get(i).toArray(new GridStep[0]);
            // bytes leave a convolution channels-last; a Linear reads them row-major
            boolean last = convolution[i];
            for (GridStep st : between[i]) {
                if (!last) {
                    throw new IllegalArgumentException(
                            "the steps " + steps.get(i) + " after " + links.get(i) + " cannot run:"
                                    + " steps run on the channels-last bytes of a convolution.");
                }
                last = st.channelsLastOutput();
            }
            if (last != convolution[i + 1]) {
                throw new IllegalArgumentException(
                        links.get(i + 1) + " cannot follow " + links.get(i) + " in an int8 chain"
                                + (convolution[i + 1]
                                        ? " after " + List.of(between[i])
                                        : " without a flatten between them")
                                + ".");
            }
        }
    }

    /** Returns the number of layers. */
    int size() {
        return links.length;
    }

    /** Returns the steps between link {@code i} and link {@code i + 1}. */
    List<GridStep> stepsAfter(int i) {
        return List.of(between[i]);
    }

    /**
     * Runs the chain on one float32 input.
     *
     * @return the tail's float32 output, or null where the chain cannot run natively (the caller
     *     then runs the layers one by one)
     */
    NDList forward(ParameterStore store, NDList inputs) {
        if (inputs.size() != 1 || inputs.get(0).getDataType() != DataType.FLOAT32) {
            return null; // the head's own forward gives the clear message
        }
        NDArray x = inputs.get(0);
        Device device = x.getDevice();
        int n = links.length;
        Int8Kernel[] kernels = new Int8Kernel[n];
        for (int i = 0; i < n; i++) {
            kernels[i] = cores[i].chainKernel(store, device, weights[i], biases[i]);
            if (kernels[i] == null) {
                return null;
            }
        }
        // shapes[i]: link i's input (after the steps before it); stepIn[i][j]: step j's input
        long[][] shapes = new long[n + 1][];
        long[][][] stepIn = new long[n][][];
        shapes[0] = x.getShape().getShape();
        long largest = 0;
        for (int i = 0; i < n; i++) {
            long[] out;
            try {
                out = kernels[i].outputShape(shapes[i]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(links[i] + ": " + e.getMessage(), e);
            }
            if (i < n - 1) {
                largest = Math.max(largest, new Shape(out).size());
                stepIn[i] = new long[between[i].length][];
                for (int j = 0; j < between[i].length; j++) {
                    stepIn[i][j] = out;
                    try {
                        out = between[i][j].outputShape(out);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(
                                "the " + between[i][j] + " after " + links[i] + ": " + e.getMessage(), e);
                    }
                    largest = Math.max(largest, new Shape(out).size());
                }
            }
            shapes[i + 1] = out;
        }
        int threads = Int8Core.engineThreads(x.getManager());
        long[] outShape = shapes[n];
        int rank = outShape.length;
        // a convolution tail writes NHWC, returned as the NCHW-shaped view (see Int8Core.forward)
        boolean convTail = convolution[n - 1];
        NDArray out =
                x.getManager()
                        .create(
                                new Shape(convTail ? ChannelsLastViews.nhwcShape(outShape) : outShape),
                                DataType.FLOAT32);
        boolean inNhwc = convolution[0] && ChannelsLastViews.isChannelsLast(x);
        NDArray nhwcIn = inNhwc ? x.transpose(ChannelsLastViews.toNhwc(rank)) : null;
        Scratch s = pool.poll();
        if (s == null) {
            s = new Scratch();
        }
        try {
            ByteBuffer in = (inNhwc ? nhwcIn : x).toByteBuffer(true);
            boolean inLast = inNhwc;
            ActivationQuantization grid = cores[0].activation();
            boolean quantized = false;
            int written = 0; // buffers written so far: each write goes to the one not read
            for (int i = 0; i < n; i++) {
                boolean tail = i == n - 1;
                ActivationQuantization outGrid = tail ? null : cores[i + 1].kernelGrid();
                ByteBuffer dst = tail ? out.toByteBuffer(true) : s.buffer(written++ & 1, largest);
                kernels[i].forward(
                        in, shapes[i], inLast, quantized, grid, dst, convolution[i], outGrid, threads);
                for (int j = 0; !tail && j < between[i].length; j++) {
                    ByteBuffer next = s.buffer(written++ & 1, largest);
                    between[i][j].forward(dst, stepIn[i][j], next);
                    dst = next;
                }
                in = dst;
                inLast = convolution[i] && !tail && convolution[i + 1];
                grid = outGrid;
                quantized = true;
            }
        } catch (RuntimeException e) {
            out.close();
            throw e;
        } finally {
            pool.offer(s);
            if (nhwcIn != null) {
                nhwcIn.close();
            }
        }
        if (!convTail) {
            return new NDList(out);
        }
        NDArray view = out.transpose(ChannelsLastViews.toNchw(rank));
        out.close(); // the view holds the storage
        return new NDList(view);
    }

    /** Two byte buffers one call writes in turn: link i's output is link i + 1's input. */
    private static final class Scratch {
        private final ByteBuffer[] buffers = new ByteBuffer[2];

        ByteBuffer buffer(int which, long bytes) {
            ByteBuffer b = buffers[which];
            if (b == null || b.capacity() < bytes) {
                b = ByteBuffer.allocateDirect(Math.toIntExact(bytes));
                buffers[which] = b;
            }
            b.clear();
            return b;
        }
    }
}

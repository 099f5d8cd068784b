package ai.djlquant.kernel;

import ai.djlquant.quant.FusedActivation;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Scalar Java kernel for Linear and convolution (a Linear layer is a 1x1 convolution over M rows).
 * Written for clarity, not speed: the oneDNN kernels are held to its integers bit for bit.
 *
 * <p>Integer semantics, with input grid {@code (s, zp, qmax)}, per-channel weight scales {@code
 * ws[c]}, int8 weights {@code w[c]}, bias {@code b[c]}, all arithmetic float32 rounded after each
 * operation unless said otherwise:
 *
 * <ul>
 *   <li>{@code q = clamp(rint(x * (1 / s) + zp), 0, qmax)} for float input; a uint8 input is
 *       {@code q} as given;
 *   <li>{@code acc = sum((q - zp) * w[c])}, exact int32 over the taps inside the input;
 *   <li>{@code y = act((s * ws[c]) * float(acc + zp * sum(w[c])) + (b[c] - ((s * ws[c]) * zp) *
 *       sum(w[c])))}: the order of oneDNN's epilogue, which multiplies the int32 {@code sum(q *
 *       w[c])} by the combined scale and adds the bias with the zero point folded in; {@code act}
 *       is {@link FusedActivation#apply};
 *   <li>float32 output: {@code y}; uint8 output on grid {@code (s_out, zp_out, qmax_out)}: {@code
 *       u8 = clamp(rint(y * (1 / s_out) + zp_out), 0, qmax_out)}, the multiply by the reciprocal
 *       and the add of the zero point in float32 before rounding (ties to even), as oneDNN's dst
 *       scale and dst zero point do after the post-ops.
 * </ul>
 */
final class ReferenceKernel implements Int8Kernel {

    private final ConvGeometry geometry; // null for Linear
    private final byte[] w;
    private final float[] wScales;
    private final float[] bias;
    private final FusedActivation activation;
    private final int outChannels;
    private final int perChannel;
    private final int[] channelSums;

    ReferenceKernel(ConvGeometry geometry, Int8Weights weights, FusedActivation activation) {
        this.geometry = geometry;
        this.w = weights.values();
        this.wScales = weights.scales();
        this.bias = weights.bias();
        this.activation = activation;
        this.outChannels = weights.outputChannels();
        this.perChannel = weights.valuesPerChannel();
        this.channelSums = weights.channelSums();
    }

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
            boolean inputQuantized,
            ActivationQuantization quantization,
            ByteBuffer output,
            boolean outputChannelsLast,
            ActivationQuantization outputGrid,
            int threads) {
        long[] outShape = outputShape(inputShape);
        if (geometry == null && (inputChannelsLast || outputChannelsLast)) {
            throw new IllegalArgumentException("a Linear layer has no channels-last layout.");
        }
        KernelChecks.checkGrids(inputQuantized, quantization, outputGrid, 8);
        int n = Math.toIntExact(KernelChecks.count(inputShape));
        KernelChecks.checkCapacity(input, n, inputQuantized ? 1 : Float.BYTES, "input");
        KernelChecks.checkCapacity(
                output, KernelChecks.count(outShape), outputGrid != null ? 1 : Float.BYTES, "output");
        int qmax = quantization.getQmax();
        float scale = quantization.getScale();
        int zp = quantization.getZeroPoint();
        int[] q = new int[n];
        if (inputQuantized) {
            ByteBuffer in = input.duplicate();
            float[] bytes = new float[n]; // 0..255 are exact floats: one transposition helper
            for (int i = 0; i < n; i++) {
                bytes[i] = Byte.toUnsignedInt(in.get());
            }
            if (inputChannelsLast) {
                bytes = Layouts.toChannelsFirst(bytes, inputShape);
            }
            for (int i = 0; i < n; i++) {
                q[i] = (int) bytes[i];
            }
        } else {
            float[] x = new float[n];
            input.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().get(x);
            if (inputChannelsLast) {
                x = Layouts.toChannelsFirst(x, inputShape);
            }
            if (quantization.isDynamic()) {
                float min = Float.POSITIVE_INFINITY;
                float max = Float.NEGATIVE_INFINITY;
                for (float v : x) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
                scale = ActivationQuantization.dynamicScale(min, max, qmax);
                zp = ActivationQuantization.dynamicZeroPoint(min, scale, qmax);
            }
            for (int i = 0; i < n; i++) {
                q[i] = ActivationQuantization.quantize(x[i], scale, zp, qmax);
            }
        }
        int[] acc = accumulate(q, inputShape, zp);
        float[] y = new float[acc.length];
        int inner = innerSize(outShape);
        for (int i = 0; i < acc.length; i++) {
            int c = (i / inner) % outChannels;
            float combined = scale * wScales[c];
            // oneDNN's order: the int32 sum(q * w) times the combined scale, plus the folded bias
            float folded = bias[c] - combined * zp * (float) channelSums[c];
            float v = combined * (float) (acc[i] + zp * channelSums[c]) + folded;
            y[i] = activation.apply(v); // the float semantics of FusedActivation
        }
        if (outputChannelsLast) {
            y = Layouts.toChannelsLast(y, outShape);
        }
        if (outputGrid != null) {
            ByteBuffer out = output.duplicate();
            float so = outputGrid.getScale();
            int zo = outputGrid.getZeroPoint();
            int qo = outputGrid.getQmax();
            for (float v : y) {
                out.put((byte) ActivationQuantization.quantize(v, so, zo, qo));
            }
            return;
        }
        FloatBuffer out = output.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
        out.put(y);
    }

    /** Elements per (batch, channel) pair of the output: 1 for Linear rows. */
    private int innerSize(long[] outShape) {
        if (geometry == null) {
            return 1;
        }
        int inner = 1;
        for (int i = 2; i < outShape.length; i++) {
            inner *= (int) outShape[i];
        }
        return inner;
    }

    /**
     * Returns the exact int32 {@code acc = sum((q - zp) * w)} over the taps inside the input
     * (padding contributes nothing), row-major in the output shape; the tests hold oneDNN's
     * integers to these.
     */
    int[] accumulate(int[] q, long[] inputShape, int zp) {
        long[] outShape = outputShape(inputShape);
        if (geometry == null) {
            int m = (int) KernelChecks.linearRows(inputShape, perChannel);
            int k = perChannel;
            int[] acc = new int[m * outChannels];
            for (int r = 0; r < m; r++) {
                for (int c = 0; c < outChannels; c++) {
                    int s = 0;
                    for (int j = 0; j < k; j++) {
                        s += (q[r * k + j] - zp) * w[c * k + j];
                    }
                    acc[r * outChannels + c] = s;
                }
            }
            return acc;
        }
        boolean oneD = geometry.spatialDims() == 1;
        int batch = (int) inputShape[0];
        int cin = geometry.getInChannels();
        int ih = oneD ? 1 : (int) inputShape[2];
        int iw = (int) inputShape[inputShape.length - 1];
        int oh = oneD ? 1 : (int) outShape[2];
        int ow = (int) outShape[outShape.length - 1];
        long[] k = geometry.getKernel();
        long[] st = geometry.getStride();
        long[] pd = geometry.getPadding();
        long[] dl = geometry.getDilation();
        int kh = oneD ? 1 : (int) k[0];
        int kw = (int) k[k.length - 1];
        int sh = oneD ? 1 : (int) st[0];
        int sw = (int) st[st.length - 1];
        int ph = oneD ? 0 : (int) pd[0];
        int pw = (int) pd[pd.length - 1];
        int dh = oneD ? 1 : (int) dl[0];
        int dw = (int) dl[dl.length - 1];
        int groups = geometry.getGroups();
        int cinG = cin / groups;
        int coutG = outChannels / groups;
        int[] acc = new int[batch * outChannels * oh * ow];
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < outChannels; c++) {
                int g = c / coutG;
                for (int y = 0; y < oh; y++) {
                    for (int x = 0; x < ow; x++) {
                        int s = 0;
                        for (int ci = 0; ci < cinG; ci++) {
                            int inC = g * cinG + ci;
                            for (int u = 0; u < kh; u++) {
                                int iy = y * sh - ph + u * dh;
                                if (iy < 0 || iy >= ih) {
                                    continue;
                                }
                                for (int v = 0; v < kw; v++) {
                                    int ix = x * sw - pw + v * dw;
                                    if (ix < 0 || ix >= iw) {
                                        continue;
                                    }
                                    int qv = q[((b * cin + inC) * ih + iy) * iw + ix];
                                    s += (qv - zp) * w[((c * cinG + ci) * kh + u) * kw + v];
                                }
                            }
                        }
                        acc[((b * outChannels + c) * oh + y) * ow + x] = s;
                    }
                }
            }
        }
        return acc;
    }

    /** {@inheritDoc} */
    @Override
    public String describe(long[] inputShape) {
        return "reference " + (geometry == null ? "linear" : geometry.toString());
    }

    /** {@inheritDoc} */
    @Override
    public void close() {}
}

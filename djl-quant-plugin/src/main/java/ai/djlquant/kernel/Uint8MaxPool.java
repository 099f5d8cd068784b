package ai.djlquant.kernel;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * 2-D max pooling on uint8 channels-last (NHWC) bytes, the pooling an int8 chain runs between two
 * convolutions.
 *
 * <p>With {@code q} the input bytes read as unsigned and the windows of {@link MaxPool2dGeometry}:
 *
 * <pre>
 * out[n, oh, ow, c] = max { q[n, ih, iw, c] : ih in window(oh), iw in window(ow) }
 * </pre>
 *
 * over the clipped windows only (padding never takes part, as it does not in PyTorch's float max
 * pooling, whose padding is minus infinity). Since quantizing, {@code clamp(rint(y / s + zp), 0,
 * qmax)}, is monotone non-decreasing in {@code y}, {@code max(q(y)) == q(max(y))}: pooling the
 * bytes equals quantizing the pooled float32 values, bit for bit, and the output is on the input's
 * grid.
 *
 * <p>Where the JVM has the {@code jdk.incubator.vector} module, 32 channels at a time through
 * the vector API ({@code VectorMaxPool}: an unsigned compare and a blend); the remaining channels
 * (all of them elsewhere) eight at a time as one {@code long} (a per-byte unsigned maximum in
 * plain arithmetic, {@link #unsignedMax8}), the last ones byte by byte. Both give the same bytes
 * ({@code Uint8MaxPoolTest} compares them); a loop of single-byte buffer reads would cost as much
 * as the float32 traffic the chain saves.
 */
public final class Uint8MaxPool {

    private Uint8MaxPool() {}

    /**
     * Pools one batch of NHWC bytes.
     *
     * @param input the input bytes, NHWC, from the buffer's position
     * @param inputShape the logical input shape {@code [N, C, H, W]}
     * @param geometry the windows
     * @param output where the output bytes go, NHWC in {@link MaxPool2dGeometry#outputShape}, from
     *     the buffer's position
     * @throws IllegalArgumentException if the shape does not fit the geometry or a buffer is too
     *     small
     */
    public static void maxPool(
            ByteBuffer input, long[] inputShape, MaxPool2dGeometry geometry, ByteBuffer output) {
        long[] outShape = geometry.outputShape(inputShape);
        long n = inputShape[0];
        int c = Math.toIntExact(inputShape[1]);
        long h = inputShape[2];
        long w = inputShape[3];
        long oh = outShape[2];
        long ow = outShape[3];
        long inBytes = n * h * w * c;
        long outBytes = n * oh * ow * c;
        if (input.remaining() < inBytes || output.remaining() < outBytes) {
            throw new IllegalArgumentException(
                    "max pooling "
                            + Arrays.toString(inputShape)
                            + " needs "
                            + inBytes
                            + " input and "
                            + outBytes
                            + " output bytes, got "
                            + input.remaining()
                            + " and "
                            + output.remaining()
                            + ".");
        }
        int inBase = input.position();
        int outBase = output.position();
        int done = VECTOR == null ? 0 : VECTOR.pool(input, inBase, inputShape, outShape, geometry, output, outBase);
        if (done < c) {
            poolChannels(input, inBase, inputShape, outShape, geometry, output, outBase, done);
        }
    }

    /**
     * The part of the pooling the JDK's vector API runs ({@code VectorMaxPool}), where the JVM has
     * the {@code jdk.incubator.vector} module.
     */
    interface VectorPart {
        /**
         * Pools the channels it takes whole vectors of, from channel 0.
         *
         * @return the number of channels done (the rest are left to {@link #poolChannels})
         */
        int pool(
                ByteBuffer input,
                int inBase,
                long[] inputShape,
                long[] outShape,
                MaxPool2dGeometry g,
                ByteBuffer output,
                int outBase);
    }

    private static final String VECTOR_CLASS = "ai.djlquant.kernel.VectorMaxPool";

    /** System property: {@code scalar} keeps the vector part out (the tests compare the two). */
    public static final String PROPERTY = "ai.djlquant.kernel.maxPool";

    private static final VectorPart VECTOR = loadVector();

    private static VectorPart loadVector() {
        if ("scalar".equals(System.getProperty(PROPERTY))
                || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return null;
        }
        try {
            return (VectorPart) Class.forName(VECTOR_CLASS).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return null; // the long-at-a-time loop does all channels: the same bytes, slower
        }
    }

    /**
     * Returns whether the vector part runs in this JVM.
     *
     * @return whether channels go through the vector API, 32 at a time
     */
    public static boolean isVectorized() {
        return VECTOR != null;
    }

    /**
     * Pools channels {@code [from, C)}: eight at a time as a {@code long}, the rest byte by byte.
     *
     * @param input the input bytes
     * @param inBase the input's first byte
     * @param inputShape {@code [N, C, H, W]}
     * @param outShape {@code [N, C, OH, OW]}
     * @param geometry the windows
     * @param output the output bytes
     * @param outBase the output's first byte
     * @param from the first channel
     */
    static void poolChannels(
            ByteBuffer input,
            int inBase,
            long[] inputShape,
            long[] outShape,
            MaxPool2dGeometry geometry,
            ByteBuffer output,
            int outBase,
            int from) {
        long n = inputShape[0];
        int c = Math.toIntExact(inputShape[1]);
        long h = inputShape[2];
        long w = inputShape[3];
        long oh = outShape[2];
        long ow = outShape[3];
        int rowStride = Math.toIntExact(w * c);
        int wide = from + (c - from) - (c - from) % Long.BYTES; // eight at a time up to here
        int o = outBase;
        for (long b = 0; b < n; b++) {
            int image = inBase + Math.toIntExact(b * h * w * c);
            for (long y = 0; y < oh; y++) {
                int h0 = (int) MaxPool2dGeometry.windowStart(y, geometry.sh(), geometry.ph());
                int h1 = (int) MaxPool2dGeometry.windowEnd(y, geometry.kh(), geometry.sh(), geometry.ph(), h);
                for (long x = 0; x < ow; x++) {
                    int w0 = (int) MaxPool2dGeometry.windowStart(x, geometry.sw(), geometry.pw());
                    int w1 = (int) MaxPool2dGeometry.windowEnd(x, geometry.kw(), geometry.sw(), geometry.pw(), w);
                    // the window's first pixel starts the maxima: every window holds one (2p <= k)
                    int first = image + h0 * rowStride + w0 * c;
                    for (int ch = from; ch < wide; ch += Long.BYTES) {
                        long m = input.getLong(first + ch);
                        for (int ih = h0; ih < h1; ih++) {
                            int row = image + ih * rowStride + ch;
                            for (int iw = w0; iw < w1; iw++) {
                                m = unsignedMax8(m, input.getLong(row + iw * c));
                            }
                        }
                        output.putLong(o + ch, m);
                    }
                    for (int ch = wide; ch < c; ch++) {
                        int m = 0;
                        for (int ih = h0; ih < h1; ih++) {
                            int row = image + ih * rowStride + ch;
                            for (int iw = w0; iw < w1; iw++) {
                                m = Math.max(m, input.get(row + iw * c) & 0xff);
                            }
                        }
                        output.put(o + ch, (byte) m);
                    }
                    o += c;
                }
            }
        }
    }

    private static final long HIGH = 0x8080_8080_8080_8080L;

    /**
     * The unsigned maximum of each of the eight bytes of {@code a} and {@code b} (byte order does
     * not matter: each byte is its own lane). Per byte, {@code a >= b} when its high bit is the
     * larger, or the high bits are equal and the low seven bits of {@code a} are at least those of
     * {@code b}; the latter is the high bit of {@code (a | 0x80) - (b & 0x7f)}, which never borrows
     * from the next byte. The mask {@code (ge - (ge >>> 7)) | ge} is 0xff in each byte where
     * {@code a >= b} (0x80 - 0x01 = 0x7f, then the high bit).
     */
    static long unsignedMax8(long a, long b) {
        long low = (a | HIGH) - (b & ~HIGH);
        long ge = ((a & ~b) | (~(a ^ b) & low)) & HIGH;
        long mask = (ge - (ge >>> 7)) | ge;
        return (a & mask) | (b & ~mask);
    }
}

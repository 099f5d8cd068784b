package ai.djlquant.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The vector-API part of {@link Uint8MaxPool}: channels {@code [0, C - C % 32)} of each output
 * pixel, 32 bytes at a time, {@code m = blend(m, v, m <u v)} over the window (an unsigned
 * compare: the bytes are uint8). Loaded by name where the JVM has {@code jdk.incubator.vector};
 * the equation is {@link Uint8MaxPool}'s.
 */
final class VectorMaxPool implements Uint8MaxPool.VectorPart {

    private static final VectorSpecies<Byte> S = ByteVector.SPECIES_256;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /** {@inheritDoc} */
    @Override
    public int pool(
            ByteBuffer input,
            int inBase,
            long[] inputShape,
            long[] outShape,
            MaxPool2dGeometry g,
            ByteBuffer output,
            int outBase) {
        long n = inputShape[0];
        int c = Math.toIntExact(inputShape[1]);
        long h = inputShape[2];
        long w = inputShape[3];
        long oh = outShape[2];
        long ow = outShape[3];
        int lanes = S.length();
        int wide = c - c % lanes;
        if (wide == 0) {
            return 0;
        }
        int rowStride = Math.toIntExact(w * c);
        int o = outBase;
        for (long b = 0; b < n; b++) {
            int image = inBase + Math.toIntExact(b * h * w * c);
            for (long y = 0; y < oh; y++) {
                int h0 = (int) MaxPool2dGeometry.windowStart(y, g.sh(), g.ph());
                int h1 = (int) MaxPool2dGeometry.windowEnd(y, g.kh(), g.sh(), g.ph(), h);
                for (long x = 0; x < ow; x++) {
                    int w0 = (int) MaxPool2dGeometry.windowStart(x, g.sw(), g.pw());
                    int w1 = (int) MaxPool2dGeometry.windowEnd(x, g.kw(), g.sw(), g.pw(), w);
                    int first = image + h0 * rowStride + w0 * c;
                    for (int ch = 0; ch < wide; ch += lanes) {
                        ByteVector m = ByteVector.fromByteBuffer(S, input, first + ch, ORDER);
                        for (int ih = h0; ih < h1; ih++) {
                            int row = image + ih * rowStride + ch;
                            for (int iw = w0; iw < w1; iw++) {
                                ByteVector v = ByteVector.fromByteBuffer(S, input, row + iw * c, ORDER);
                                m = m.blend(v, m.compare(VectorOperators.UNSIGNED_LT, v));
                            }
                        }
                        m.intoByteBuffer(output, o + ch, ORDER);
                    }
                    o += c;
                }
            }
        }
        return wide;
    }
}

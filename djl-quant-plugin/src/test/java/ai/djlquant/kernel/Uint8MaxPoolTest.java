package ai.djlquant.kernel;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

/**
 * {@link Uint8MaxPool} against the definition written out one value at a time (the clipped
 * windows of {@link MaxPool2dGeometry}, unsigned bytes), on channel counts that take the eight-byte
 * path, the byte path and both (with and without the vector part), and bytes on both sides of
 * 0x80; {@link
 * Uint8MaxPool#unsignedMax8} on every pair of byte values.
 */
class Uint8MaxPoolTest {

    @Test
    void theVectorPartRunsWhereTheJvmHasTheModule() {
        // the tests run with --add-modules jdk.incubator.vector, as the launchers do
        Assertions.assertEquals(
                ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                Uint8MaxPool.isVectorized());
    }

    @Test
    void theEightByteMaximumIsTheUnsignedMaximumOfEveryByte() {
        for (int a = 0; a < 256; a++) {
            for (int b = 0; b < 256; b++) {
                // each pair in one lane, the other lanes other pairs, so that lanes cannot leak
                long x = 0;
                long y = 0;
                for (int lane = 0; lane < 8; lane++) {
                    x |= (long) ((a + 37 * lane) & 0xff) << (8 * lane);
                    y |= (long) ((b + 91 * lane) & 0xff) << (8 * lane);
                }
                long m = Uint8MaxPool.unsignedMax8(x, y);
                for (int lane = 0; lane < 8; lane++) {
                    int want = Math.max((a + 37 * lane) & 0xff, (b + 91 * lane) & 0xff);
                    Assertions.assertEquals(want, (int) (m >>> (8 * lane)) & 0xff, a + ", " + b);
                }
            }
        }
    }

    @Test
    void poolingEqualsTheDefinition() {
        Random r = new Random(42);
        MaxPool2dGeometry[] geometries = {
            new MaxPool2dGeometry(2, 2, 2, 2, 0, 0, false),
            new MaxPool2dGeometry(3, 3, 2, 2, 1, 1, true),
            new MaxPool2dGeometry(2, 3, 1, 2, 1, 1, true),
        };
        for (MaxPool2dGeometry g : geometries) {
            for (int c : new int[] {1, 8, 13, 32, 45, 64}) {
                long[] shape = {2, c, 7, 9};
                byte[] in = new byte[2 * 7 * 9 * c];
                r.nextBytes(in);
                long[] os = g.outputShape(shape);
                int oh = (int) os[2];
                int ow = (int) os[3];
                ByteBuffer out = ByteBuffer.allocateDirect(2 * oh * ow * c + 3);
                out.position(3); // from the buffer's position
                ByteBuffer src = ByteBuffer.allocateDirect(in.length + 5);
                src.position(5);
                src.put(in).position(5);
                for (boolean wholeLongLoop : new boolean[] {false, true}) {
                    for (int i = 0; i < out.capacity(); i++) {
                        out.put(i, (byte) 0x5a); // what a pass does not write shows
                    }
                    if (wholeLongLoop) {
                        // every channel through the long-at-a-time loop, as without the vector API
                        Uint8MaxPool.poolChannels(src, 5, shape, os, g, out, 3, 0);
                    } else {
                        Uint8MaxPool.maxPool(src, shape, g, out);
                    }
                    assertEqualsDefinition(in, g, c, oh, ow, out, g + ", C=" + c + (wholeLongLoop ? ", longs only" : ""));
                }
            }
        }
    }

    private static void assertEqualsDefinition(
            byte[] in, MaxPool2dGeometry g, int c, int oh, int ow, ByteBuffer out, String what) {
                for (int n = 0; n < 2; n++) {
                    for (int y = 0; y < oh; y++) {
                        for (int x = 0; x < ow; x++) {
                            for (int ch = 0; ch < c; ch++) {
                                int want = -1;
                                for (int ih = y * g.sh() - g.ph(); ih < y * g.sh() - g.ph() + g.kh(); ih++) {
                                    for (int iw = x * g.sw() - g.pw(); iw < x * g.sw() - g.pw() + g.kw(); iw++) {
                                        if (ih >= 0 && ih < 7 && iw >= 0 && iw < 9) {
                                            want = Math.max(want, in[((n * 7 + ih) * 9 + iw) * c + ch] & 0xff);
                                        }
                                    }
                                }
                                int got = out.get(3 + ((n * oh + y) * ow + x) * c + ch) & 0xff;
                                Assertions.assertEquals(want, got, what);
                            }
                        }
                    }
                }
    }

    @Test
    void aTooSmallInputOrBufferIsRefused() {
        MaxPool2dGeometry g = new MaxPool2dGeometry(3, 3, 1, 1, 0, 0, false);
        IllegalArgumentException e =
                Assertions.assertThrows(
                        IllegalArgumentException.class, () -> g.outputShape(new long[] {1, 4, 2, 5}));
        Assertions.assertTrue(e.getMessage().contains("[1, 4, 2, 5]"), e.getMessage());
        e =
                Assertions.assertThrows(
                        IllegalArgumentException.class,
                        () -> Uint8MaxPool.maxPool(
                                ByteBuffer.allocate(10), new long[] {1, 4, 3, 3}, g, ByteBuffer.allocate(4)));
        Assertions.assertTrue(e.getMessage().contains("36 input"), e.getMessage());
        Assertions.assertThrows(
                IllegalArgumentException.class, () -> new MaxPool2dGeometry(2, 2, 2, 2, 2, 0, false));
    }
}

package ai.djlquant.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djlquant.kernel.MaxPool2dGeometry;
import ai.djlquant.kernel.Uint8MaxPool;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.WeakHashMap;
import java.util.function.Function;

/**
 * Recognises DJL's 2-D max pooling, {@code Pool.maxPool2dBlock(kernel, stride, padding,
 * ceilMode)}, and learns its windows, so that an int8 chain may run it on uint8 bytes.
 *
 * <p>DJL makes it a {@link LambdaBlock} named {@code "maxPool2d"} whose parameters live only in the
 * lambda's captured values. The rule: a block is that max pooling, with geometry {@code g}, if and
 * only if
 *
 * <ol>
 *   <li>it is exactly a {@code LambdaBlock} named {@code "maxPool2d"};
 *   <li>its function is {@code LambdaBlock.singleton}'s wrapper, holding one function, a lambda
 *       of {@link Pool} that captures exactly three 2-D shapes and one boolean, read as {@code
 *       (kernel, stride, padding, ceilMode)} in the order javac captures them (the order the call
 *       {@code maxPool2d(array, kernelShape, stride, padding, ceilMode)} names them), which gives
 *       {@code g} (a valid {@link MaxPool2dGeometry});
 *   <li>and running the block on probes gives exactly what {@link Uint8MaxPool} gives with {@code
 *       g}: for every input size from the smallest {@code g} accepts to {@code 2s + 1} above it
 *       along each axis (every remainder of the size modulo the stride, twice, which is where
 *       floor and ceil mode and the padding differ), on random integer values in [-128, 127]
 *       (negative ones too, so that a zero padding would show), batch 2 and 11 channels, the output shapes are equal and
 *       every value equals the byte result shifted by -128.
 * </ol>
 *
 * Anything else, including a failure to read the captured values (another DJL or JDK), is not
 * recognised: an int8 chain ends there and the model runs as before. The answer is kept per block
 * (weakly), since the quantizer and the loader ask more than once.
 */
final class DjlMaxPool {

    private static final String NAME = "maxPool2d";
    private static final long PROBE_SEED = 0x5eed_9001L;
    private static final int MAX_PROBES = 144;
    /** Eight channels the pooling takes at once and three it takes one by one. */
    private static final int PROBE_CHANNELS = 11;

    private static final Map<Block, Optional<MaxPool2dGeometry>> KNOWN =
            Collections.synchronizedMap(new WeakHashMap<>());

    private DjlMaxPool() {}

    /**
     * Returns the geometry of a DJL max pooling block (see the class rule), or null if {@code b}
     * is not one.
     *
     * @param b a block
     * @return the geometry, or null
     */
    static MaxPool2dGeometry identify(Block b) {
        if (!(b instanceof LambdaBlock l)
                || l.getClass() != LambdaBlock.class
                || !NAME.equals(l.getName())) {
            return null;
        }
        return KNOWN.computeIfAbsent(b, k -> read(l).filter(g -> agrees(l, g))).orElse(null);
    }

    /** The geometry the captured values give, if they are what {@code Pool.maxPool2dBlock} captures. */
    private static Optional<MaxPool2dGeometry> read(LambdaBlock l) {
        Function<?, ?> inner = LambdaCaptures.singletonFunction(l);
        List<Object> values = inner == null ? null : LambdaCaptures.captured(inner);
        if (values == null || !LambdaCaptures.isLambdaOf(inner, Pool.class)) {
            return Optional.empty();
        }
        List<Shape> shapes = new ArrayList<>();
        List<Boolean> flags = new ArrayList<>();
        for (Object v : values) {
            if (v instanceof Shape s && s.dimension() == 2) {
                shapes.add(s);
            } else if (v instanceof Boolean z) {
                flags.add(z);
            } else {
                return Optional.empty();
            }
        }
        if (shapes.size() != 3 || flags.size() != 1) {
            return Optional.empty();
        }
        Shape k = shapes.get(0);
        Shape s = shapes.get(1);
        Shape p = shapes.get(2);
        try {
            return Optional.of(
                    new MaxPool2dGeometry(
                            Math.toIntExact(k.get(0)),
                            Math.toIntExact(k.get(1)),
                            Math.toIntExact(s.get(0)),
                            Math.toIntExact(s.get(1)),
                            Math.toIntExact(p.get(0)),
                            Math.toIntExact(p.get(1)),
                            flags.get(0)));
        } catch (IllegalArgumentException | ArithmeticException e) {
            return Optional.empty(); // not a geometry we run (nor, mostly, one PyTorch runs)
        }
    }

    /**
     * Whether a block computes what {@link Uint8MaxPool} computes with {@code g} on the probes of
     * the class rule (its third point).
     *
     * @param l the block
     * @param g the geometry
     * @return whether every probe agrees
     */
    static boolean agrees(LambdaBlock l, MaxPool2dGeometry g) {
        long[] hs = sizes(g.kh(), g.sh(), g.ph());
        long[] ws = sizes(g.kw(), g.sw(), g.pw());
        List<long[]> probes = new ArrayList<>();
        if (hs.length * ws.length <= MAX_PROBES) {
            for (long h : hs) {
                for (long w : ws) {
                    probes.add(new long[] {2, PROBE_CHANNELS, h, w});
                }
            }
        } else {
            for (int i = 0; i < Math.max(hs.length, ws.length); i++) {
                probes.add(new long[] {2, PROBE_CHANNELS, hs[i % hs.length], ws[ws.length - 1 - i % ws.length]});
            }
        }
        Random random = new Random(PROBE_SEED);
        try (NDManager m = NDManager.newBaseManager()) {
            for (long[] shape : probes) {
                if (!probeAgrees(l, g, shape, random, m)) {
                    return false;
                }
            }
            return true;
        } catch (RuntimeException e) {
            return false; // the block refuses an input the geometry accepts: not the same
        }
    }

    /** Every input size along an axis from the smallest with a window to 2s + 1 above it. */
    private static long[] sizes(int k, int s, int p) {
        long lo = Math.max(1, k - 2L * p);
        long[] out = new long[2 * s + 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = lo + i;
        }
        return out;
    }

    private static boolean probeAgrees(
            LambdaBlock l, MaxPool2dGeometry g, long[] shape, Random random, NDManager m) {
        int n = (int) shape[0];
        int c = (int) shape[1];
        int h = (int) shape[2];
        int w = (int) shape[3];
        byte[] nhwc = new byte[n * h * w * c];
        random.nextBytes(nhwc);
        float[] nchw = new float[nhwc.length];
        for (int b = 0; b < n; b++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int ch = 0; ch < c; ch++) {
                        int q = nhwc[((b * h + y) * w + x) * c + ch] & 0xff;
                        nchw[((b * c + ch) * h + y) * w + x] = q - 128;
                    }
                }
            }
        }
        long[] outShape = g.outputShape(shape);
        NDArray djl =
                l.forward(new ParameterStore(m, false), new NDList(m.create(nchw, new Shape(shape))), false)
                        .singletonOrThrow();
        if (djl.getDataType() != DataType.FLOAT32
                || !Arrays.equals(outShape, djl.getShape().getShape())) {
            return false;
        }
        float[] want = djl.toFloatArray();
        int oh = (int) outShape[2];
        int ow = (int) outShape[3];
        ByteBuffer out = ByteBuffer.allocate(n * oh * ow * c);
        Uint8MaxPool.maxPool(ByteBuffer.wrap(nhwc), shape, g, out);
        for (int b = 0; b < n; b++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    for (int ch = 0; ch < c; ch++) {
                        int q = out.get(((b * oh + y) * ow + x) * c + ch) & 0xff;
                        if (want[((b * c + ch) * oh + y) * ow + x] != q - 128) {
                            return false;
                        }
                    }
                }
            }
        }
        return true;
    }
}

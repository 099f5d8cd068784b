package ai.djlquant.kernel;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Measures this host's int8 and fp32 GEMM throughput: one compute-bound Linear ({@value #M} x
 * {@value #K} x {@value #N}) through the int8 backend in use and through the engine's own fp32
 * linear op (what DJL's {@code Linear} runs), same thread count, alternating rounds, each side's
 * fastest round (a peak: load from other processes only ever slows a round down).
 *
 * <p>Why measured and not derived from the ISA: the same ISA name gives very different ratios
 * (oneDNN's AVX2 int8 kernels run 36-190 GOPS on our hosts depending on the CPU and its load, and
 * libtorch's fp32 GEMM differs as much), and the plan's decisions (issue 15) need the number this
 * host delivers. The probe runs once per JVM and thread count (cached), lazily, on the first
 * question; it costs about {@value #ROUNDS} x 2 GEMMs of {@value #M}x{@value #K}x{@value #N} plus
 * a warm-up of at least {@value #WARMUP_MS} ms each and the weight packing: 0.27-0.6 s measured on
 * a 2-core AVX-512 host shared with another build, at most {@value #BUDGET_MS} ms of timed rounds
 * (at least 3 rounds) plus the warm-ups on a slow one. On a shared host the ratio moves with the
 * neighbours' load (2.0x-12x in runs there with the median of rounds, whose fp32 side suffered
 * most); the fastest round of each side is what the host can do, which is the question.
 *
 * <p>Where the reference backend is in use, the int8 layers run the engine's float ops on
 * dequantized weights after quantizing the activations on the engine (see {@link Int8Backends});
 * that is what the int8 side measures then, so the ratio is below 1, as it is for those layers.
 */
public final class HostProbe {

    /** Rows of the probe's Linear: large enough that both sides are compute-bound. */
    public static final int M = 256;

    /** Input features of the probe's Linear. */
    public static final int K = 1024;

    /** Output features of the probe's Linear. */
    public static final int N = 1024;

    /** Timed rounds per side (alternating), at most. */
    static final int ROUNDS = 9;

    /** Timed rounds stop early once this many milliseconds have passed (at least 3 rounds). */
    static final long BUDGET_MS = 300;

    /** The least warm-up per side, in milliseconds (libtorch's threads, caches, first calls). */
    static final long WARMUP_MS = 50;

    private static final Map<Integer, Measurement> CACHE = new ConcurrentHashMap<>();

    private HostProbe() {}

    /**
     * What the probe measured.
     *
     * @param backend the int8 backend's name
     * @param isa oneDNN's effective ISA (e.g. {@code avx2}, {@code avx512_core_vnni}, {@code
     *     avx512_core_amx}), or {@code none} without oneDNN
     * @param implementation the implementation oneDNN chose for the probe's int8 Linear (its
     *     primitive names), or the fallback's description
     * @param activationBits the activation grid's width on this host, 7 (no VNNI) or 8
     * @param threads the thread count both sides ran with
     * @param int8Gops the int8 Linear's throughput, 10^9 multiply-adds x 2 per second
     * @param fp32Gflops the fp32 Linear's throughput, 10^9 floating-point operations per second
     * @param probeSeconds what the probe cost, wall-clock (data, packing, warm-up, rounds)
     */
    public record Measurement(
            String backend,
            String isa,
            String implementation,
            int activationBits,
            int threads,
            double int8Gops,
            double fp32Gflops,
            double probeSeconds) {}

    /**
     * Returns the measurement for the engine's current intra-op thread count (DJL's, which the
     * int8 blocks pass on to oneDNN), measuring on the first call for that count.
     *
     * @return the measurement
     */
    public static Measurement get() {
        Int8Backends.get(); // loads the PyTorch engine first (see Int8Backends)
        return get(JniUtils.getNumThreads());
    }

    /**
     * Returns the measurement for a thread count, measuring on the first call for it.
     *
     * @param threads the thread count, at least 1
     * @return the measurement
     */
    public static Measurement get(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads + ".");
        }
        return CACHE.computeIfAbsent(threads, HostProbe::measure);
    }

    private static Measurement measure(int threads) {
        Int8Backend backend = Int8Backends.get();
        int before = JniUtils.getNumThreads();
        // PyTorch's intra-op count is process-wide: touched only when another count is asked for
        // (a benchmark's thread list), and set back at once
        boolean change = before != threads;
        if (change) {
            JniUtils.setNumThreads(threads);
        }
        try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            return measure(manager, backend, threads);
        } finally {
            if (change) {
                JniUtils.setNumThreads(before);
            }
        }
    }

    private static Measurement measure(NDManager manager, Int8Backend backend, int threads) {
        long probeStart = System.nanoTime();
        Random random = new Random(20261201L);
        float[] xs = new float[M * K];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = random.nextFloat() * 4f - 2f;
        }
        byte[] wq = new byte[N * K];
        float[] wf = new float[N * K];
        for (int i = 0; i < wq.length; i++) {
            wq[i] = (byte) (random.nextInt(255) - 127);
        }
        float[] scales = new float[N];
        Arrays.fill(scales, 0.01f);
        float[] bias = new float[N];
        for (int i = 0; i < wq.length; i++) {
            wf[i] = wq[i] * 0.01f;
        }
        int bits = backend.getActivationBits();
        int qmax = (1 << bits) - 1;
        float scale = 4f / qmax;
        int zeroPoint = qmax / 2;
        ActivationQuantization act = ActivationQuantization.fixed(scale, zeroPoint, bits);
        NDArray x = manager.create(xs, new Shape(M, K));
        NDArray w = manager.create(wf, new Shape(N, K));
        NDArray b = manager.create(bias);
        NDArray out = manager.create(new Shape(M, N), DataType.FLOAT32);
        long[] shape = {M, K};
        String isa = backend instanceof OneDnnBackend one ? one.getIsa() : "none";
        Int8Weights weights = new Int8Weights(wq, new long[] {N, K}, scales, bias);
        try (Int8Kernel kernel = backend.newLinear(weights, false)) {
            Runnable int8;
            String implementation;
            if (backend.isNative()) {
                ByteBuffer in = x.toByteBuffer(true);
                ByteBuffer o = out.toByteBuffer(true);
                int8 =
                        () -> {
                            in.rewind();
                            o.rewind();
                            kernel.forward(in, shape, act, o, threads);
                        };
                implementation = kernel.describe(shape);
            } else {
                // what the int8 blocks run without oneDNN: the activation grid on the engine, then
                // the float op on the dequantized weights
                // (the intermediates live until the probe's manager closes: a few MB)
                int8 =
                        () ->
                                floatLinear(
                                        ActivationQuantization.quantize(x, scale, zeroPoint, qmax)
                                                .sub(zeroPoint)
                                                .mul(scale),
                                        w,
                                        b);
                implementation = backend.getName() + " (engine float ops on dequantized weights)";
            }
            Runnable fp32 = () -> floatLinear(x, w, b);
            // warm-up: weight packing, primitive creation, libtorch's first-call costs and threads
            long warm = System.nanoTime();
            for (int i = 0; i < 2 || System.nanoTime() - warm < 2 * WARMUP_MS * 1_000_000L; i++) {
                int8.run();
                fp32.run();
            }
            double[] tInt8 = new double[ROUNDS];
            double[] tFp32 = new double[ROUNDS];
            int rounds = 0;
            long start = System.nanoTime();
            while (rounds < ROUNDS
                    && (rounds < 3 || System.nanoTime() - start < BUDGET_MS * 1_000_000L)) {
                // alternating, and the order flipped each round, so drifts (turbo, a neighbour's
                // build) fall on both sides alike
                if (rounds % 2 == 0) {
                    tInt8[rounds] = time(int8);
                    tFp32[rounds] = time(fp32);
                } else {
                    tFp32[rounds] = time(fp32);
                    tInt8[rounds] = time(int8);
                }
                rounds++;
            }
            double ops = 2.0 * M * K * N;
            return new Measurement(
                    backend.getName(),
                    isa,
                    implementation,
                    bits,
                    threads,
                    ops / fastest(tInt8, rounds) / 1e9,
                    ops / fastest(tFp32, rounds) / 1e9,
                    (System.nanoTime() - probeStart) / 1e9);
        }
    }

    /** DJL's {@code Linear} forward without the block: the engine's linear op, then sync. */
    private static void floatLinear(NDArray x, NDArray w, NDArray b) {
        try (NDArray y = x.getNDArrayInternal().linear(x, w, b).singletonOrThrow()) {
            // PyTorch on the CPU runs synchronously; reading one value makes sure of it
            y.getFloat(0, 0);
        }
    }

    private static double time(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double fastest(double[] seconds, int n) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            best = Math.min(best, seconds[i]);
        }
        return best;
    }
}

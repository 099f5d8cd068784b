package ai.djlquant.examples.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djlquant.HostProfile;
import ai.djlquant.SideBySideTimer;
import ai.djlquant.kernel.Int8Backend;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.kernel.OneDnnBackend;
import ai.djlquant.nn.QuantizedConv2d;
import ai.djlquant.nn.QuantizedLinear;
import ai.djlquant.plan.SpeedComparison;
import ai.djlquant.quant.AffineQuantizer;
import ai.djlquant.quant.QuantParams;
import ai.djlquant.quant.QuantScheme;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * DJL's fp32 Linear and Conv2d against our int8 blocks, layer by layer, in one process and with the
 * same thread count on both sides (DJL's intra-op threads, which the int8 blocks pass on to
 * oneDNN).
 *
 * <p>Shapes (issue 4): Linear M in {1, 8, 64, 256} x (K, N) in {(512, 512), (768, 3072), (3072,
 * 768), (4096, 4096)}; Conv2d at batch 1 and 16 on ResNet-50's four stages (56x56x64, 28x28x128,
 * 14x14x256, 7x7x512): the stage's 3x3 convolution C -> C (padding 1) and its 1x1 expansion C ->
 * 4C. Int8 blocks run static quantization (activation parameters calibrated beforehand, as a
 * converted model runs); {@code --dynamic} adds the dynamic Linear.
 *
 * <p>Timing: the library's one timer ({@code SideBySideTimer.forBenchmarks}): a warm-up until
 * the time per call settles (500 calls first), then fp32 and int8 alternate in paired rounds of
 * back-to-back calls lasting about 50 ms each, so load from other processes hits both alike.
 * Reported as microseconds per call in the median round and the ratio fp32 / int8.
 *
 * <pre>
 * mvn -B -q verify -DskipTests -Prun -Drun.main=ai.djlquant.examples.bench.LayerBenchmark \
 *     -Drun.args="--threads 1,2 --json layer-benchmark.json"
 * </pre>
 *
 * Options: {@code --threads 1,2}, {@code --ops linear,conv}, {@code --dynamic}, {@code --quick}
 * (fewer rounds), {@code --json FILE}.
 */
public final class LayerBenchmark {

    private static final int[] LINEAR_M = {1, 8, 64, 256};
    private static final int[][] LINEAR_KN = {{512, 512}, {768, 3072}, {3072, 768}, {4096, 4096}};
    private static final int[][] STAGES = {{56, 64}, {28, 128}, {14, 256}, {7, 512}};
    private static final int[] CONV_BATCH = {1, 16};

    private final List<Row> rows = new ArrayList<>();
    private final boolean quick;
    private final ParameterStore store;
    private final SideBySideTimer timer;

    private LayerBenchmark(NDManager manager, boolean quick) {
        this.quick = quick;
        this.timer = SideBySideTimer.forBenchmarks(quick ? 5 : 9, 50);
        this.store = new ParameterStore(manager, false);
    }

    /** One measured row. */
    static final class Row {
        final String op;
        final String shape;
        final int threads;
        final double fp32;
        final double int8;

        Row(String op, String shape, int threads, double fp32, double int8) {
            this.op = op;
            this.shape = shape;
            this.threads = threads;
            this.fp32 = fp32;
            this.int8 = int8;
        }

        double speedup() {
            return fp32 / int8;
        }

        String json() {
            return String.format(
                    Locale.ROOT,
                    "{\"op\": \"%s\", \"shape\": \"%s\", \"threads\": %d, \"fp32_us\": %.1f,"
                            + " \"int8_us\": %.1f, \"speedup\": %.3f}",
                    op,
                    shape,
                    threads,
                    fp32,
                    int8,
                    speedup());
        }
    }

    /**
     * Runs the benchmark.
     *
     * @param args see the class documentation
     * @throws IOException if the JSON file cannot be written
     */
    public static void main(String[] args) throws IOException {
        int[] threads = {1, 2};
        List<String> ops = Arrays.asList("linear", "conv");
        boolean dynamic = false;
        boolean quick = false;
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads":
                    threads =
                            Arrays.stream(args[++i].split(","))
                                    .mapToInt(Integer::parseInt)
                                    .toArray();
                    break;
                case "--ops":
                    ops = Arrays.asList(args[++i].split(","));
                    break;
                case "--dynamic":
                    dynamic = true;
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--json":
                    json = Paths.get(args[++i]);
                    break;
                default:
                    throw new IllegalArgumentException(
                            "unknown option " + args[i] + " (see the class documentation)");
            }
        }
        Int8Backend backend = Int8Backends.get();
        Engine engine = Engine.getEngine("PyTorch");
        if (backend instanceof OneDnnBackend) {
            System.out.println(
                    "# oneDNN OpenMP runtime: " + ((OneDnnBackend) backend).getOpenMpLibrary());
        }
        System.out.printf(
                "# DJL %s, PyTorch %s, int8 backend %s%s, %d-bit activations, %d CPUs%n",
                Engine.getDjlVersion(),
                engine.getVersion(),
                backend.getName(),
                backend instanceof OneDnnBackend
                        ? " (" + ((OneDnnBackend) backend).getIsa() + ")"
                        : "",
                backend.getActivationBits(),
                Runtime.getRuntime().availableProcessors());
        // the host line of the project's standards: ISA as oneDNN sees it and this host's measured
        // int8-vs-fp32 GEMM ratio, at each thread count the table uses
        for (int t : threads) {
            System.out.println("# " + HostProfile.current(t).toLine());
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            manager.getEngine().setRandomSeed(42);
            LayerBenchmark bench = new LayerBenchmark(manager, quick);
            bench.warmUp(manager);
            System.out.printf(
                    "%-9s %-26s %7s %12s %12s %8s%n",
                    "op", "shape", "threads", "fp32_us", "int8_us", "speedup");
            for (int t : threads) {
                // DJL's intra-op threads; the int8 blocks read them and set oneDNN's per call
                JniUtils.setNumThreads(t);
                if (ops.contains("linear")) {
                    bench.linear(manager, t, false);
                    if (dynamic) {
                        bench.linear(manager, t, true);
                    }
                }
                if (ops.contains("conv")) {
                    bench.conv(manager, t);
                }
            }
            if (json != null) {
                writeJson(json, bench.rows);
            }
        }
    }

    private void linear(NDManager manager, int threads, boolean dynamic) {
        for (int[] kn : LINEAR_KN) {
            int k = kn[0];
            int n = kn[1];
            Linear fp32 = Linear.builder().setUnits(n).build();
            fp32.initialize(manager, DataType.FLOAT32, new Shape(1, k));
            NDArray calibration = manager.randomNormal(new Shape(64, k));
            QuantizedLinear.Builder b = QuantizedLinear.builder().setFloatBlock(fp32);
            QuantizedLinear int8 =
                    dynamic
                            ? b.optDynamic().build()
                            : b.optActivationParams(calibrate(calibration)).build();
            calibration.close();
            for (int m : LINEAR_M) {
                NDArray x = manager.randomNormal(new Shape(m, k));
                record(
                        dynamic ? "linear-dyn" : "linear",
                        m + "x" + k + "x" + n,
                        threads,
                        fp32,
                        int8,
                        x,
                        2.0 * m * k * n);
                x.close();
            }
            fp32.clear();
            int8.clear();
        }
    }

    private void conv(NDManager manager, int threads) {
        for (int[] stage : STAGES) {
            int hw = stage[0];
            int c = stage[1];
            for (int[] kind : new int[][] {{3, c}, {1, 4 * c}}) {
                int k = kind[0];
                int out = kind[1];
                Conv2d fp32 =
                        Conv2d.builder()
                                .setKernelShape(new Shape(k, k))
                                .setFilters(out)
                                .optPadding(new Shape(k / 2, k / 2))
                                .build();
                fp32.initialize(manager, DataType.FLOAT32, new Shape(1, c, hw, hw));
                NDArray calibration = manager.randomNormal(new Shape(2, c, hw, hw));
                QuantizedConv2d int8 =
                        QuantizedConv2d.builder()
                                .setFloatBlock(fp32)
                                .optActivationParams(calibrate(calibration))
                                .build();
                calibration.close();
                for (int batch : CONV_BATCH) {
                    NDArray x = manager.randomNormal(new Shape(batch, c, hw, hw));
                    String shape = batch + "x" + c + "x" + hw + "x" + hw + " k" + k + " ->" + out;
                    record(
                            "conv" + k + "x" + k,
                            shape,
                            threads,
                            fp32,
                            int8,
                            x,
                            2.0 * batch * hw * hw * c * out * k * k);
                    x.close();
                }
                fp32.clear();
                int8.clear();
            }
        }
    }

    /**
     * Three seconds of every kind of layer (fp32, static and dynamic int8 Linear at the first
     * measured shape, fp32 and int8 convolution), so the first measured row is not the JIT's.
     */
    private void warmUp(NDManager manager) {
        Linear fp32 = Linear.builder().setUnits(512).build();
        fp32.initialize(manager, DataType.FLOAT32, new Shape(1, 512));
        NDArray calibration = manager.randomNormal(new Shape(64, 512));
        QuantizedLinear fixed =
                QuantizedLinear.builder()
                        .setFloatBlock(fp32)
                        .optActivationParams(calibrate(calibration))
                        .build();
        QuantizedLinear dynamic =
                QuantizedLinear.builder().setFloatBlock(fp32).optDynamic().build();
        Conv2d conv =
                Conv2d.builder()
                        .setKernelShape(new Shape(3, 3))
                        .setFilters(32)
                        .optPadding(new Shape(1, 1))
                        .build();
        conv.initialize(manager, DataType.FLOAT32, new Shape(1, 32, 14, 14));
        QuantizedConv2d qconv =
                QuantizedConv2d.builder()
                        .setFloatBlock(conv)
                        .optActivationParams(calibrate(calibration))
                        .build();
        NDList x = new NDList(manager.randomNormal(new Shape(1, 512)));
        NDList xc = new NDList(manager.randomNormal(new Shape(2, 32, 14, 14)));
        long end = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < end) {
            time(fp32, x, 200);
            time(fixed, x, 200);
            time(dynamic, x, 200);
            time(conv, xc, 5);
            time(qconv, xc, 5);
        }
        x.close();
        xc.close();
        calibration.close();
    }

    private static QuantParams calibrate(NDArray sample) {
        QuantScheme s = QuantScheme.uint8Activation(Int8Backends.get().getActivationBits());
        return AffineQuantizer.fromRange(s, sample.min().getFloat(), sample.max().getFloat());
    }

    private void record(
            String op, String shape, int threads, Block fp32, Block int8, NDArray x, double flops) {
        NDList in = new NDList(x);
        // the shared timer: warm-up until settled (500 calls first), paired alternating rounds
        SpeedComparison c = timer.compare(fp32, int8, in, x.getManager());
        Row row = new Row(op, shape, threads, c.fp32Micros(), c.int8Micros());
        rows.add(row);
        System.out.printf(
                Locale.ROOT,
                "%-9s %-26s %7d %12.1f %12.1f %7.2fx  (%.0f / %.0f GOPS)%n",
                op,
                shape,
                threads,
                row.fp32,
                row.int8,
                row.speedup(),
                flops / row.fp32 / 1e3,
                flops / row.int8 / 1e3);
    }

    /** Mean microseconds per call over {@code calls} back-to-back calls. */
    private double time(Block block, NDList in, int calls) {
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            block.forward(store, in, false).close();
        }
        return (System.nanoTime() - start) / 1e3 / calls;
    }

    /** Writes rows as a JSON array, one object per line (also used by ModelBenchmark). */
    static void writeJson(Path file, List<Row> rows) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("[\n");
            for (int i = 0; i < rows.size(); i++) {
                w.write("  " + rows.get(i).json() + (i + 1 < rows.size() ? ",\n" : "\n"));
            }
            w.write("]\n");
        }
        System.out.println("# wrote " + rows.size() + " rows to " + file);
    }
}

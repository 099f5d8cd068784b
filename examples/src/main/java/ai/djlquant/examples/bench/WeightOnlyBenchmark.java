package ai.djlquant.examples.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import ai.djlquant.HostProfile;
import ai.djlquant.SideBySideTimer;
import ai.djlquant.kernel.WeightOnlyKernels;
import ai.djlquant.nn.QuantizedLinear;
import ai.djlquant.nn.WeightOnlyLinear;
import ai.djlquant.plan.SpeedComparison;

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
 * DJL's fp32 Linear against the weight-only Linears ({@code linear-w8}, {@code linear-w4g32/64/128}
 * and the {@code m} variants with a per-group minimum) and the dynamic int8 Linear, in one process, same thread
 * count, with the library's one timer ({@code SideBySideTimer.forBenchmarks}: paired alternating
 * rounds, the ratio fp32 / other per round, median round reported), after the host line.
 *
 * <p>Shapes: M in {1, 4, 8, 32} x (K, N) in {(512, 512), (768, 3072), (3072, 768), (4096, 4096)}.
 * The weight-only kernel needs the vector API for its speed ({@code --add-modules
 * jdk.incubator.vector}, which the {@code run} profile passes); the first line says which kernel
 * runs.
 *
 * <pre>
 * mvn -B -q verify -DskipTests -Prun -Drun.main=ai.djlquant.examples.bench.WeightOnlyBenchmark \
 *     -Drun.args="--threads 1 --json weight-only.json"
 * </pre>
 *
 * Options: {@code --threads 1,2}, {@code --m 1,8}, {@code --kn 4096x4096,512x512}, {@code
 * --formats w8,w4g64,...}, {@code --quick}, {@code --json FILE} (the layer benchmark's row format:
 * {@code op}, {@code shape}, {@code threads}, {@code fp32_us}, {@code int8_us}, {@code speedup}).
 */
public final class WeightOnlyBenchmark {

    private static final String[] ALL_FORMATS = {
        "w8", "w4g32", "w4g64", "w4g128", "w4g32m", "w4g64m", "w4g128m", "dyn"
    };

    private WeightOnlyBenchmark() {}

    /**
     * Runs the benchmark.
     *
     * @param args see the class documentation
     * @throws IOException if the JSON file cannot be written
     */
    public static void main(String[] args) throws IOException {
        int[] threads = {1};
        int[] ms = {1, 4, 8, 32};
        String[] kns = {"512x512", "768x3072", "3072x768", "4096x4096"};
        String[] formats = ALL_FORMATS;
        boolean quick = false;
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads":
                    threads = ints(args[++i]);
                    break;
                case "--m":
                    ms = ints(args[++i]);
                    break;
                case "--kn":
                    kns = args[++i].split(",");
                    break;
                case "--formats":
                    formats = args[++i].split(",");
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
        System.out.println(
                "# weight-only kernel: "
                        + (WeightOnlyKernels.isVectorized()
                                ? "vector API"
                                : "scalar (run with --add-modules jdk.incubator.vector)"));
        for (int t : threads) {
            System.out.println("# " + HostProfile.current(t).toLine());
        }
        SideBySideTimer timer = SideBySideTimer.forBenchmarks(quick ? 5 : 9, quick ? 30 : 50);
        List<String> rows = new ArrayList<>();
        System.out.printf(
                "%-14s %-16s %7s %12s %12s %8s %8s %8s%n",
                "op", "shape", "threads", "fp32_us", "other_us", "speedup", "min", "max");
        try (NDManager manager = NDManager.newBaseManager()) {
            manager.getEngine().setRandomSeed(42);
            for (int t : threads) {
                JniUtils.setNumThreads(t);
                for (String kn : kns) {
                    String[] p = kn.split("x");
                    int k = Integer.parseInt(p[0]);
                    int n = Integer.parseInt(p[1]);
                    Linear fp32 = Linear.builder().setUnits(n).build();
                    fp32.initialize(manager, DataType.FLOAT32, new Shape(1, k));
                    for (String f : formats) {
                        Block other = build(fp32, f);
                        for (int m : ms) {
                            NDArray x = manager.randomNormal(new Shape(m, k));
                            SpeedComparison c =
                                    timer.compare(fp32, other, new NDList(x), manager);
                            String op = f.equals("dyn") ? "linear-dyn" : "linear-" + f;
                            String shape = m + "x" + k + "x" + n;
                            System.out.printf(
                                    Locale.ROOT,
                                    "%-14s %-16s %7d %12.1f %12.1f %7.2fx %7.2fx %7.2fx%n",
                                    op,
                                    shape,
                                    t,
                                    c.fp32Micros(),
                                    c.int8Micros(),
                                    c.speedup(),
                                    c.minSpeedup(),
                                    c.maxSpeedup());
                            rows.add(
                                    String.format(
                                            Locale.ROOT,
                                            "{\"op\": \"%s\", \"shape\": \"%s\", \"threads\": %d,"
                                                    + " \"fp32_us\": %.1f, \"int8_us\": %.1f,"
                                                    + " \"speedup\": %.3f}",
                                            op,
                                            shape,
                                            t,
                                            c.fp32Micros(),
                                            c.int8Micros(),
                                            c.speedup()));
                            x.close();
                        }
                        other.clear();
                    }
                    fp32.clear();
                }
            }
        }
        if (json != null) {
            try (Writer w = Files.newBufferedWriter(json, StandardCharsets.UTF_8)) {
                w.write("[\n  " + String.join(",\n  ", rows) + "\n]\n");
            }
        }
    }

    private static Block build(Linear fp32, String f) {
        if (f.equals("dyn")) {
            return QuantizedLinear.builder().setFloatBlock(fp32).optDynamic().build();
        }
        if (f.equals("w8")) {
            return WeightOnlyLinear.builder().setFloatBlock(fp32).optFormat(8, 0, true).build();
        }
        if (!f.startsWith("w4g")) {
            throw new IllegalArgumentException("unknown format " + f + ": one of " + Arrays.toString(ALL_FORMATS));
        }
        boolean asym = f.endsWith("m");
        int g = Integer.parseInt(f.substring(3, asym ? f.length() - 1 : f.length()));
        return WeightOnlyLinear.builder().setFloatBlock(fp32).optFormat(4, g, !asym).build();
    }

    private static int[] ints(String s) {
        return Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}

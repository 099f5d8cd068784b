package ai.djlquant.examples.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djlquant.observe.HistogramObserver;
import ai.djlquant.observe.MinMaxObserver;
import ai.djlquant.observe.MovingAverageMinMaxObserver;
import ai.djlquant.observe.Observer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What observing costs during calibration: each observer's {@code update} on the output of a 3x3
 * convolution (32 x 64 x 56 x 56 floats), against the fp32 convolution (64 to 64 channels, padding
 * 1) that produced it on the DJL PyTorch engine. Same process, same threads; the operations run
 * interleaved, round after round, so that both see the same machine load; the table shows medians
 * and the ratio to the convolution.
 *
 * <p>Run from the repository root (the first command compiles the reactor and writes the runtime
 * classpath; nothing is installed):
 *
 * <pre>
 * mvn -B -q -pl examples -am compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
 * java -Dai.djl.offline=true -cp examples/target/classes:$(cat examples/target/classpath.txt) \
 *     ai.djlquant.examples.bench.ObserverCostBenchmark [rounds]
 * </pre>
 *
 * <p>or, with the examples module's {@code run} profile: {@code mvn -B -q verify -DskipTests -Prun
 * -Drun.main=ai.djlquant.examples.bench.ObserverCostBenchmark}.
 */
public final class ObserverCostBenchmark {

    private ObserverCostBenchmark() {}

    /**
     * Runs the benchmark.
     *
     * @param args optional: the number of measured rounds (default 15)
     */
    public static void main(String[] args) {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int warmup = 5;
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            manager.getEngine().setRandomSeed(7);
            NDArray input = manager.randomNormal(new Shape(32, 64, 56, 56));
            NDArray weight =
                    manager.randomNormal(0f, 0.06f, new Shape(64, 64, 3, 3), DataType.FLOAT32);
            NDArray bias = manager.zeros(new Shape(64));
            NDArray output = conv(input, weight, bias).singletonOrThrow();

            Map<String, Runnable> ops = new LinkedHashMap<>();
            ops.put(
                    "fp32 conv 3x3, 64->64, pad 1 (baseline)",
                    () -> {
                        try (NDManager scope = manager.newSubManager()) {
                            input.tempAttach(scope);
                            conv(input, weight, bias);
                        }
                    });
            ops.put(
                    "HistogramObserver.update (2048 bins)",
                    updating(output, () -> HistogramObserver.builder().build()));
            ops.put("MinMaxObserver.update", updating(output, MinMaxObserver::new));
            ops.put(
                    "MovingAverageMinMaxObserver.update",
                    updating(output, () -> MovingAverageMinMaxObserver.builder().build()));
            // what counting the bins with NDArray operations alone would cost (DJL has no
            // bincount / histc / scatter-add; unique with counts sorts the tensor)
            ops.put(
                    "(not used) bins via NDArray.unique",
                    () -> {
                        try (NDManager scope = manager.newSubManager()) {
                            output.tempAttach(scope);
                            NDArray bins =
                                    output.mul(64f)
                                            .floor()
                                            .add(1024f)
                                            .clip(0, 2047)
                                            .toType(DataType.INT32, false);
                            bins.unique(null, true, false, true).get(1).toLongArray();
                        }
                    });

            Map<String, List<Double>> times = new LinkedHashMap<>();
            ops.keySet().forEach(k -> times.put(k, new ArrayList<>()));
            for (int round = 0; round < warmup + rounds; round++) {
                for (Map.Entry<String, Runnable> op : ops.entrySet()) {
                    long start = System.nanoTime();
                    op.getValue().run();
                    double ms = (System.nanoTime() - start) / 1e6;
                    if (round >= warmup) {
                        times.get(op.getKey()).add(ms);
                    }
                }
            }

            System.out.printf(
                    "%nObserver cost on a %s float32 tensor vs the fp32 convolution that produced"
                            + " it%n",
                    output.getShape());
            System.out.printf(
                    "engine %s %s, %d CPU threads available, median of %d rounds after %d warm-up"
                            + " rounds%n%n",
                    engine.getEngineName(),
                    engine.getVersion(),
                    Runtime.getRuntime().availableProcessors(),
                    rounds,
                    warmup);
            System.out.printf(
                    "%-44s %10s %10s %10s %12s%n",
                    "operation", "median ms", "min ms", "max ms", "vs conv");
            double baseline = median(times.values().iterator().next());
            for (Map.Entry<String, List<Double>> t : times.entrySet()) {
                double med = median(t.getValue());
                System.out.printf(
                        "%-44s %10.2f %10.2f %10.2f %11.3fx%n",
                        t.getKey(),
                        med,
                        t.getValue().stream().mapToDouble(d -> d).min().orElse(0),
                        t.getValue().stream().mapToDouble(d -> d).max().orElse(0),
                        med / baseline);
            }
        }
    }

    private static NDList conv(NDArray input, NDArray weight, NDArray bias) {
        return Conv2d.conv2d(
                input, weight, bias, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1));
    }

    /** One update of a fresh observer per run: the cost of folding in one batch. */
    private static Runnable updating(NDArray x, Supplier<Observer> factory) {
        return () -> {
            Observer o = factory.get();
            o.update(x);
            if (o.getCount() != x.size()) {
                throw new IllegalStateException("the observer missed values: " + o.getCount());
            }
        };
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(d -> d).toArray();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}

package ai.djlquant;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djlquant.annotations.Internal;
import ai.djlquant.plan.SpeedComparison;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The one way djl-quant times fp32 against int8 (the planner, the plan check, the model timing,
 * the CLI's {@code bench}, the calibration scripts and the benchmarks all use it). Times an fp32
 * side and an int8 side of the same computation alternately, in one thread of this
 * process at the engine's thread count, so that other load hits both alike: a warm-up of both
 * (the JIT, oneDNN's primitive creation, caches), then rounds of back-to-back calls, the order of
 * the sides swapped every round; each round gives each side's mean time per call, and {@link
 * SpeedComparison#of} makes the verdict from the paired rounds.
 *
 * <p>Bounded: a side whose call is longer than a round runs one call per round, and the number of
 * rounds drops (to no fewer than three) so that the rounds of one comparison take about {@code
 * budgetNanos}.
 */
@Internal
public final class SideBySideTimer {

    /** One side: {@link #enter} before its calls in a round, {@link #exit} after (even on failure). */
    public interface Side {
        /** Makes one call. */
        void call();

        /** Gets ready for a round of calls. */
        default void enter() {}

        /** Undoes {@link #enter}. */
        default void exit() {}
    }

    private static final int MAX_CALLS = 100_000;

    /** Two warm-up rounds this close (relative) mean the side has settled. */
    private static final double SETTLED = 0.1;


    private final int rounds;
    private final long warmupNanos;
    private final long roundNanos;
    private final long budgetNanos;
    private final long maxWarmupNanos;
    private final int coldCalls;
    private final Set<String> warm = new HashSet<>();

    /**
     * Creates a timer.
     *
     * @param rounds the rounds when calls are short (odd, for a true median)
     * @param warmupNanos the least warm-up per side
     * @param roundNanos the target length of a round per side
     * @param budgetNanos the target time of all rounds of one comparison
     * @param maxWarmupNanos the most warm-up per side
     * @param coldCalls the calls each side makes before the first timing of a kind of
     *     computation (within {@code maxWarmupNanos}): the JIT compiles the int8 path's Java code
     *     only after a few thousand calls (the reference MLP's int8 layer at batch 1: 160 us per
     *     call after a 5 ms warm-up, its whole int8 model 44 us after 1 s; the time per call
     *     looked settled long before it was)
     */
    private SideBySideTimer(
            int rounds,
            long warmupNanos,
            long roundNanos,
            long budgetNanos,
            long maxWarmupNanos,
            int coldCalls) {
        this.rounds = rounds;
        this.warmupNanos = warmupNanos;
        this.roundNanos = roundNanos;
        this.budgetNanos = budgetNanos;
        this.maxWarmupNanos = maxWarmupNanos;
        this.coldCalls = coldCalls;
    }

    /**
     * For one layer at one batch size: 7 rounds of 1 ms a side, after 5 ms to 1 s of warm-up
     * (3,000 calls the first time a kind of int8 block is timed).
     *
     * @return the timer
     */
    public static SideBySideTimer forLayers() {
        return new SideBySideTimer(7, 5_000_000L, 1_000_000L, 400_000_000L, 1_000_000_000L, 3000);
    }

    /**
     * For a whole model at one batch size: 7 rounds of 10 ms a side, after 50 ms to 3 s of
     * warm-up (500 calls of the model the first time: thousands of its layers' calls).
     *
     * @return the timer
     */
    public static SideBySideTimer forModels() {
        return new SideBySideTimer(7, 50_000_000L, 10_000_000L, 4_000_000_000L, 3_000_000_000L, 500);
    }

    /**
     * For benchmarks of whole models: {@code rounds} rounds of about {@code roundMillis} a side,
     * after at least three rounds' time of warm-up (and 500 calls per model pair), all rounds run
     * whatever their total time.
     *
     * @param rounds the rounds, odd (3 or more for a spread)
     * @param roundMillis the length of a round per side, at least 1
     * @return the timer
     * @throws IllegalArgumentException if a value is out of range
     */
    public static SideBySideTimer forBenchmarks(int rounds, int roundMillis) {
        if (rounds < 1 || rounds % 2 == 0) {
            throw new IllegalArgumentException(
                    "rounds must be odd (a median), got " + rounds + ".");
        }
        if (roundMillis < 1) {
            throw new IllegalArgumentException("roundMillis must be at least 1, got " + roundMillis + ".");
        }
        long round = roundMillis * 1_000_000L;
        return new SideBySideTimer(rounds, 3 * round, round, Long.MAX_VALUE, 30_000_000_000L, 500);
    }

    /**
     * Times two models (or blocks) on the same input, each call in its own NDManager scope so
     * that its intermediates are freed at once, as a Predictor frees them with its context.
     *
     * @param fp32 the fp32 block
     * @param int8 the int8 block
     * @param input the input, batch first (its first array's first dimension is the batch size)
     * @param manager a manager for the per-call scopes and the parameter store
     * @return the comparison
     */
    public SpeedComparison compare(Block fp32, Block int8, NDList input, NDManager manager) {
        ParameterStore store = new ParameterStore(manager, false);
        int batch = (int) input.get(0).getShape().get(0);
        return compare(
                batch,
                () -> forward(fp32, store, manager, input),
                () -> forward(int8, store, manager, input),
                "pair " + System.identityHashCode(fp32) + "/" + System.identityHashCode(int8));
    }

    /**
     * Times several models (or blocks) on the same input together ({@link #time(int, List,
     * String)}), each call in its own NDManager scope as in {@link #compare(Block, Block, NDList,
     * NDManager)}.
     *
     * @param blocks the blocks, at least two
     * @param input the input, batch first
     * @param manager a manager for the per-call scopes and the parameter store
     * @return the rounds, by block in the order given
     */
    public Rounds time(List<Block> blocks, NDList input, NDManager manager) {
        ParameterStore store = new ParameterStore(manager, false);
        int batch = (int) input.get(0).getShape().get(0);
        List<Side> sides = new java.util.ArrayList<>();
        StringBuilder kind = new StringBuilder("blocks");
        for (Block b : blocks) {
            sides.add(() -> forward(b, store, manager, input));
            kind.append(' ').append(System.identityHashCode(b));
        }
        return time(batch, sides, kind.toString());
    }

    /** One forward of a block in its own scope (see {@link #inScope}). */
    static void forward(Block block, ParameterStore store, NDManager parent, NDList input) {
        inScope(parent, input, () -> block.forward(store, input, false));
    }

    /**
     * Runs one call in its own scope, so that its intermediates are freed at once, as a
     * Predictor frees them with its context: they land in the input's manager, so the input is
     * lent to the scope for the call.
     */
    static void inScope(NDManager parent, NDList input, Runnable body) {
        try (NDManager call = parent.newSubManager()) {
            input.tempAttach(call);
            body.run();
        }
    }

    /**
     * Times both sides.
     *
     * @param batchSize the batch size the sides run at (for the result)
     * @param fp32 the fp32 side
     * @param int8 the int8 side
     * @param kind what the computation is (the int8 block's class and mode, "model"): the first
     *     comparison of a kind warms both sides for the cold calls
     * @return the comparison
     */
    public SpeedComparison compare(int batchSize, Side fp32, Side int8, String kind) {
        return time(batchSize, List.of(fp32, int8), kind).compare(0, 1);
    }

    /**
     * The rounds of several sides timed together: every pair of sides can be compared on the
     * same rounds, so that the comparisons of one row agree with each other.
     *
     * @param batchSize the batch size the sides ran at
     * @param micros by side, the microseconds per call in each round
     * @param calls by side, its calls per round
     */
    public record Rounds(int batchSize, double[][] micros, int[] calls) {

        /**
         * Compares two of the sides on the same rounds.
         *
         * @param first the index of the comparison's fp32 (slower-expected) side
         * @param second the index of its int8 side
         * @return the comparison
         */
        public SpeedComparison compare(int first, int second) {
            return SpeedComparison.of(
                    batchSize, micros[first], micros[second], Math.min(calls[first], calls[second]));
        }
    }

    /**
     * Times any number of sides alternately: after each one's warm-up, rounds in which every side
     * makes its calls, the order rotated every round (with two sides: swapped every round), so
     * that other load hits all alike.
     *
     * @param batchSize the batch size the sides run at (for the result)
     * @param sides the sides, at least two
     * @param kind what the computation is (see {@link #compare(int, Side, Side, String)})
     * @return the rounds
     * @throws IllegalArgumentException if fewer than two sides are given
     */
    public Rounds time(int batchSize, List<Side> sides, String kind) {
        int k = sides.size();
        if (k < 2) {
            throw new IllegalArgumentException("timing needs two sides or more, got " + k + ".");
        }
        int cold = warm.add(kind) ? coldCalls : 0;
        int[] calls = new int[k];
        double perRound = 0;
        for (int i = 0; i < k; i++) {
            double t = warmUp(sides.get(i), cold);
            calls[i] = calls(t);
            perRound += t * calls[i];
        }
        int n =
                (int) Math.max(Math.min(3, rounds), Math.min(rounds, budgetNanos / Math.max(1.0, perRound)))
                        | 1;
        double[][] t = new double[k][n];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < k; j++) {
                int i = (r + j) % k;
                t[i][r] = round(sides.get(i), calls[i]);
            }
        }
        double[][] us = new double[k][];
        for (int i = 0; i < k; i++) {
            us[i] = micros(t[i]);
        }
        return new Rounds(batchSize, us, calls);
    }

    /**
     * Runs a side until its time per call settles: first {@code coldCalls} calls (the first time
     * a kind is timed), then rounds grow to about a round's length and repeat until one is within
     * {@value #SETTLED} of the one before, after at least the warm-up time; all of it within
     * {@code maxWarmupNanos} (then the side is timed as it is).
     *
     * @return its last mean nanoseconds per call
     */
    private double warmUp(Side side, int coldCalls) {
        long spent = 0;
        int calls = 1;
        double last = round(side, calls);
        spent += (long) last;
        for (int done = 1; done < coldCalls && spent < maxWarmupNanos; done += 100) {
            last = round(side, 100);
            spent += (long) (last * 100);
        }
        while (calls < MAX_CALLS && last * calls < roundNanos) {
            calls *= 2;
            last = round(side, calls);
            spent += (long) (last * calls);
        }
        double previous = Double.MAX_VALUE;
        while (spent < maxWarmupNanos
                && (spent < warmupNanos || Math.abs(last - previous) > SETTLED * previous)) {
            previous = last;
            last = round(side, calls);
            spent += (long) (last * calls);
        }
        return last;
    }

    private int calls(double nanosPerCall) {
        return (int) Math.max(1, Math.min(MAX_CALLS, roundNanos / Math.max(1, nanosPerCall)));
    }

    /** Mean nanoseconds per call over {@code calls} back-to-back calls. */
    private static double round(Side side, int calls) {
        side.enter();
        try {
            long start = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                side.call();
            }
            return (double) (System.nanoTime() - start) / calls;
        } finally {
            side.exit();
        }
    }

    private static double[] micros(double[] nanos) {
        double[] us = new double[nanos.length];
        for (int i = 0; i < us.length; i++) {
            us[i] = Math.max(nanos[i], 1) / 1e3;
        }
        return us;
    }
}

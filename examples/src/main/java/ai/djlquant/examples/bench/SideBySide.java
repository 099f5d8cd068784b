package ai.djlquant.examples.bench;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;

import java.util.Arrays;

/**
 * Times two whole models on the same input, alternately, so that load from other processes hits
 * both alike: after a warm-up of at least {@code warmupMicros} per side (JIT, oneDNN primitive
 * creation, caches), rounds of back-to-back calls lasting about {@code roundMicros} per side; each
 * side's time is the median over rounds of its mean call time. Every call runs in its own
 * NDManager scope, so a model's intermediates are freed after the call (as a Predictor frees them
 * with its context).
 */
public final class SideBySide {

    private final int rounds;
    private final double warmupMicros;
    private final double roundMicros;

    /**
     * Creates a timer.
     *
     * @param rounds the number of measured rounds (odd, for a true median)
     * @param warmupMicros the least warm-up per side
     * @param roundMicros the target length of a round per side
     */
    public SideBySide(int rounds, double warmupMicros, double roundMicros) {
        this.rounds = rounds;
        this.warmupMicros = warmupMicros;
        this.roundMicros = roundMicros;
    }

    /**
     * Times both models.
     *
     * @param a the first model's block (the fp32 one)
     * @param b the second model's block (the int8 one)
     * @param manager a manager for the per-call scopes and the parameter stores
     * @param input the input, batch-first
     * @return microseconds per call of {@code a} and of {@code b}
     */
    public double[] time(Block a, Block b, NDManager manager, NDList input) {
        ParameterStore store = new ParameterStore(manager, false);
        double ta = 0;
        double tb = 0;
        for (int calls = 1; ta * calls < warmupMicros || tb * calls < warmupMicros; calls *= 2) {
            ta = time(a, store, manager, input, calls);
            tb = time(b, store, manager, input, calls);
            if (calls >= 1 << 14) {
                break;
            }
        }
        int callsA = (int) Math.max(1, Math.min(20_000, roundMicros / ta));
        int callsB = (int) Math.max(1, Math.min(20_000, roundMicros / tb));
        double[] ra = new double[rounds];
        double[] rb = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            ra[r] = time(a, store, manager, input, callsA);
            rb[r] = time(b, store, manager, input, callsB);
        }
        return new double[] {median(ra), median(rb)};
    }

    /** Mean microseconds per call over {@code calls} back-to-back calls. */
    private static double time(
            Block block, ParameterStore store, NDManager manager, NDList input, int calls) {
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            try (NDManager scope = manager.newSubManager()) {
                // intermediates land in the input's manager: borrow it per call, then free them
                input.tempAttach(scope);
                block.forward(store, input, false);
            }
        }
        return (System.nanoTime() - start) / 1e3 / calls;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}

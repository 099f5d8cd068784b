package ai.djlquant.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What each {@link Objective} does with made-up timings. */
class SpeedRuleTest {

    private static final ModeRules.Choice AUTO =
            new ModeRules.Choice(QuantizationMode.AUTO, "the default mode");

    private static final ModeDecision STATIC_BY_SQNR =
            new ModeDecision(QuantizationMode.STATIC, "AUTO: static fine", 40, 41);

    /** One comparison per batch size with int8 {@code speedup} times faster in every round. */
    private static List<SpeedComparison> speeds(double... speedups) {
        List<SpeedComparison> out = new ArrayList<>();
        int[] sizes = {1, 32, 64};
        for (int i = 0; i < speedups.length; i++) {
            double[] f = {100, 100, 100};
            double[] q = {100 / speedups[i], 100 / speedups[i], 100 / speedups[i]};
            out.add(SpeedComparison.of(sizes[i], f, q, 10));
        }
        return out;
    }

    /** A timer that answers from a table and records what it was asked. */
    private static final class Table implements SpeedRule.Timer {
        final Map<QuantizationMode, List<SpeedComparison>> answers;
        final List<QuantizationMode> asked = new ArrayList<>();

        Table(Map<QuantizationMode, List<SpeedComparison>> answers) {
            this.answers = answers;
        }

        @Override
        public List<SpeedComparison> time(QuantizationMode mode) {
            asked.add(mode);
            return answers.get(mode);
        }
    }

    @Test
    void balancedKeepsInt8UnlessItIsSlower() {
        Table t = new Table(Map.of(QuantizationMode.STATIC, speeds(1.0, 2.0)));
        ModeDecision d = new SpeedRule(Objective.BALANCED).apply(AUTO, STATIC_BY_SQNR, null, t);
        assertEquals(QuantizationMode.STATIC, d.mode());
        assertEquals("AUTO: static fine", d.reason());
        assertEquals(2, d.speeds().size());

        Table slow = new Table(Map.of(QuantizationMode.STATIC, speeds(0.5, 2.0)));
        ModeDecision f = new SpeedRule(Objective.BALANCED).apply(AUTO, STATIC_BY_SQNR, null, slow);
        assertEquals(QuantizationMode.FP32, f.mode());
        assertEquals(
                "AUTO (BALANCED): static int8 is slower than fp32 at batch 1: fp32 100 us, int8"
                        + " 200 us (0.50x)",
                f.reason());
        assertEquals(40, f.staticSqnr(), "the measurements stay with the decision");
    }

    @Test
    void aSlowStaticLayerMayGoDynamic() {
        Table t =
                new Table(
                        Map.of(
                                QuantizationMode.STATIC, speeds(0.5, 0.9),
                                QuantizationMode.DYNAMIC, speeds(1.2, 1.0)));
        ModeDecision d =
                new SpeedRule(Objective.BALANCED)
                        .apply(AUTO, STATIC_BY_SQNR, QuantizationMode.DYNAMIC, t);
        assertEquals(QuantizationMode.DYNAMIC, d.mode());
        assertTrue(d.reason().endsWith("dynamic int8 is accurate enough and is not"), d.reason());
        assertEquals(List.of(QuantizationMode.STATIC, QuantizationMode.DYNAMIC), t.asked);
    }

    @Test
    void latencyWantsAWinSomewhere() {
        Table even = new Table(Map.of(QuantizationMode.STATIC, speeds(1.0, 1.02)));
        ModeDecision d = new SpeedRule(Objective.LATENCY).apply(AUTO, STATIC_BY_SQNR, null, even);
        assertEquals(QuantizationMode.FP32, d.mode());
        assertTrue(d.reason().contains("not measurably faster"), d.reason());
        Table win = new Table(Map.of(QuantizationMode.STATIC, speeds(1.0, 1.5)));
        assertEquals(
                QuantizationMode.STATIC,
                new SpeedRule(Objective.LATENCY).apply(AUTO, STATIC_BY_SQNR, null, win).mode());
    }

    @Test
    void sizeForcedModesAndFp32AreNotTimed() {
        Table t = new Table(Map.of());
        assertEquals(
                STATIC_BY_SQNR, new SpeedRule(Objective.SIZE).apply(AUTO, STATIC_BY_SQNR, null, t));
        ModeRules.Choice forced = new ModeRules.Choice(QuantizationMode.STATIC, "rule '**'");
        ModeDecision byRule = new ModeDecision(QuantizationMode.STATIC, "STATIC by rule", 40, 41);
        assertEquals(byRule, new SpeedRule(Objective.LATENCY).apply(forced, byRule, null, t));
        ModeDecision fp32 = new ModeDecision(QuantizationMode.FP32, "below the floor", 5, 6);
        assertEquals(fp32, new SpeedRule(Objective.LATENCY).apply(AUTO, fp32, null, t));
        assertTrue(t.asked.isEmpty());
    }
}

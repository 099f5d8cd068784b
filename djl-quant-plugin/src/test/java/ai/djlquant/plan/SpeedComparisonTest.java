package ai.djlquant.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The verdict rule of {@link SpeedComparison} on made-up rounds. */
class SpeedComparisonTest {

    private static SpeedComparison of(double[] fp32, double[] int8) {
        return SpeedComparison.of(1, fp32, int8, 10);
    }

    @Test
    void clearlyFasterAndClearlySlower() {
        SpeedComparison fast =
                of(new double[] {100, 110, 95, 105, 100}, new double[] {50, 52, 49, 60, 51});
        assertEquals(SpeedComparison.Verdict.FASTER, fast.verdict());
        SpeedComparison slow =
                of(new double[] {50, 52, 49, 60, 51}, new double[] {100, 110, 95, 105, 100});
        assertEquals(SpeedComparison.Verdict.SLOWER, slow.verdict());
    }

    @Test
    void withinTheToleranceOrSpreadIsNoise() {
        // 3% faster in every round: under the 5% tolerance
        assertEquals(
                SpeedComparison.Verdict.WITHIN_NOISE,
                of(new double[] {103, 103, 103}, new double[] {100, 100, 100}).verdict());
        // a 20% median win, but int8 lost two rounds of five: the lower quartile is under 1
        assertEquals(
                SpeedComparison.Verdict.WITHIN_NOISE,
                of(new double[] {120, 120, 120, 80, 80}, new double[] {100, 100, 100, 100, 100})
                        .verdict());
    }

    @Test
    void theTimesShownAreTheMedianRounds() {
        SpeedComparison c =
                of(new double[] {100, 300, 200}, new double[] {50, 100, 200});
        // speed-ups 2, 3, 1: the median round is the first
        assertEquals(2.0, c.speedup(), 1e-12);
        assertEquals(100, c.fp32Micros(), 1e-12);
        assertEquals(50, c.int8Micros(), 1e-12);
        assertEquals(3, c.rounds());
        assertEquals(1.5, c.lowQuartile(), 1e-12);
        assertEquals(2.5, c.highQuartile(), 1e-12);
        assertEquals(1.0, c.minSpeedup(), 1e-12);
        assertEquals(3.0, c.maxSpeedup(), 1e-12);
        assertEquals(10, c.callsPerRound());
        assertEquals("batch 1: fp32 100 us, int8 50.0 us (2.00x)", c.describe());
    }

    @Test
    void badRoundsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> of(new double[0], new double[0]));
        assertThrows(
                IllegalArgumentException.class, () -> of(new double[] {1, 2}, new double[] {1}));
        assertThrows(
                IllegalArgumentException.class, () -> of(new double[] {0}, new double[] {1}));
        assertThrows(
                IllegalArgumentException.class,
                () -> of(new double[] {Double.NaN}, new double[] {1}));
    }
}

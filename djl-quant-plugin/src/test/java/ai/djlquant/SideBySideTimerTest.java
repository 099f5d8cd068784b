package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * The timer's rounds (not its times: no timed assertion): every side runs in every round, the
 * order rotated from round to round so that no side always goes first, and each pair of sides
 * compares on the same rounds.
 */
class SideBySideTimerTest {

    /** A side that records when each of its rounds starts. */
    private static SideBySideTimer.Side side(int id, List<Integer> order) {
        return new SideBySideTimer.Side() {
            @Override
            public void enter() {
                order.add(id);
            }

            @Override
            public void call() {
                Math.sqrt(id + 1.0); // next to nothing
            }
        };
    }

    @Test
    void threeSidesRunInEveryRoundInRotatedOrder() {
        List<Integer> order = new ArrayList<>();
        SideBySideTimer timer = SideBySideTimer.forBenchmarks(5, 1);
        List<SideBySideTimer.Side> sides = List.of(side(0, order), side(1, order), side(2, order));
        SideBySideTimer.Rounds rounds = timer.time(4, sides, "three");
        assertEquals(3, rounds.micros().length);
        for (double[] m : rounds.micros()) {
            assertEquals(5, m.length);
        }
        // the last 15 rounds entered are the timed ones (warm-up comes first): 0 1 2, 1 2 0, ...
        List<Integer> timed = order.subList(order.size() - 15, order.size());
        for (int r = 0; r < 5; r++) {
            for (int j = 0; j < 3; j++) {
                assertEquals((r + j) % 3, timed.get(3 * r + j), "round " + r + ": " + timed);
            }
        }
        assertEquals(4, rounds.compare(1, 2).batchSize());
        assertTrue(rounds.compare(0, 2).speedup() > 0);
        assertThrows(
                IllegalArgumentException.class, () -> timer.time(1, List.of(side(0, order)), "one"));
    }
}

package ai.djlquant.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;

import org.junit.jupiter.api.Test;

class ModeChooserTest {

    private final ModeChooser planner = new ModeChooser(3, 20);
    private final ModeRules.Choice auto = ModeRules.builder().build().modeFor("a", Linear.class);

    @Test
    void autoRule() {
        // within the margin: static; beyond it: dynamic; both under the floor: fp32
        assertEquals(QuantizationMode.STATIC, planner.decide(auto, 35, 37.9, null).mode());
        assertEquals(QuantizationMode.STATIC, planner.decide(auto, 38, 35, null).mode());
        assertEquals(QuantizationMode.DYNAMIC, planner.decide(auto, 35, 38.1, null).mode());
        assertEquals(QuantizationMode.FP32, planner.decide(auto, 12, 19.9, null).mode());
        // one choice above the floor is enough
        assertEquals(QuantizationMode.DYNAMIC, planner.decide(auto, 12, 21, null).mode());
        assertEquals(
                "AUTO: static 35.0 dB trails dynamic 38.1 dB by more than 3.0 dB",
                planner.decide(auto, 35, 38.1, null).reason());
        assertEquals(
                "AUTO: static 12.0 and dynamic 19.9 dB are both below the 20.0 dB floor",
                planner.decide(auto, 12, 19.9, null).reason());
        // exact (noise-free) layers
        assertEquals(
                QuantizationMode.STATIC,
                planner.decide(auto, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, null)
                        .mode());
    }

    @Test
    void unmeasuredLayers() {
        ModeDecision none = planner.decide(auto, Double.NaN, Double.NaN, "no batch reached it");
        assertEquals(QuantizationMode.FP32, none.mode());
        assertEquals("AUTO: no batch reached it", none.reason());
        assertEquals(
                QuantizationMode.DYNAMIC,
                planner.decide(auto, Double.NaN, 30, "no finite input").mode());
    }

    @Test
    void rulesWin() {
        ModeRules rules =
                ModeRules.builder()
                        .optMode(Linear.class, QuantizationMode.DYNAMIC)
                        .optMode("**/head", QuantizationMode.FP32)
                        .optMode("**", QuantizationMode.STATIC)
                        .optExclude("skip/**")
                        .build();
        ModeRules.Choice head = rules.modeFor("x/y/head", Linear.class);
        assertEquals(QuantizationMode.FP32, head.mode());
        assertEquals("FP32 by path pattern '**/head'", planner.decide(head, 40, 40, null).reason());
        ModeRules.Choice other = rules.modeFor("x/conv", Conv2d.class);
        assertEquals(QuantizationMode.STATIC, planner.decide(other, 5, 40, null).mode());
        ModeDecision unreached =
                planner.decide(other, Double.NaN, Double.NaN, "no batch reached it");
        assertEquals(QuantizationMode.FP32, unreached.mode());
        assertEquals(
                "STATIC by path pattern '**', but no batch reached it; left fp32",
                unreached.reason());
        assertEquals("skip/**", rules.exclusionOf("skip/a/b").toString());
        assertEquals(null, rules.exclusionOf("skipper"));
        // no path rule: the type rule
        ModeRules typeOnly = ModeRules.builder().optMode(Linear.class, QuantizationMode.DYNAMIC).build();
        assertEquals(QuantizationMode.DYNAMIC, typeOnly.modeFor("a", Linear.class).mode());
        assertEquals(QuantizationMode.AUTO, typeOnly.modeFor("a", Conv2d.class).mode());
    }

    @Test
    void rejectsBadNumbers() {
        assertThrows(IllegalArgumentException.class, () -> new ModeChooser(-1, 20));
        assertThrows(IllegalArgumentException.class, () -> new ModeChooser(Double.NaN, 20));
        assertThrows(
                IllegalArgumentException.class,
                () -> new ModeChooser(3, Double.POSITIVE_INFINITY));
        assertThrows(
                IllegalArgumentException.class,
                () -> new ModeDecision(QuantizationMode.AUTO, "x", 0, 0));
    }

    @Test
    void pathPatterns() {
        assertTrue(PathPattern.of("a/*/c").matches("a/b/c"));
        assertFalse(PathPattern.of("a/*/c").matches("a/b/b/c"));
        assertTrue(PathPattern.of("a/**/c").matches("a/b/b/c"));
        assertTrue(PathPattern.of("**Linear").matches("01SequentialBlock/03Linear"));
        assertFalse(PathPattern.of("*Linear").matches("01SequentialBlock/03Linear"));
        assertTrue(PathPattern.of("0?Linear").matches("03Linear"));
        assertFalse(PathPattern.of("0?Linear").matches("03Linear/x"));
        // regex characters are literal
        assertTrue(PathPattern.of("a.b(c)[d]+").matches("a.b(c)[d]+"));
        assertFalse(PathPattern.of("a.b").matches("axb"));
        assertThrows(IllegalArgumentException.class, () -> PathPattern.of(""));
    }
}

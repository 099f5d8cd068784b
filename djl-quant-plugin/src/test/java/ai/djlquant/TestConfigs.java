package ai.djlquant;

import ai.djlquant.plan.Objective;

/**
 * Configurations for tests that check what quantization does by accuracy and structure: objective
 * SIZE (no layer is timed, so the modes do not depend on this host's speed or load) and no model
 * timing (it would only cost time). Tests of the speed-aware plan use the real defaults.
 */
public final class TestConfigs {

    private TestConfigs() {}

    /**
     * The defaults, with the plan made by accuracy alone.
     *
     * @return the config
     */
    public static QuantizationConfig bySqnr() {
        return builder().build();
    }

    /**
     * A builder with the defaults, the plan made by accuracy alone.
     *
     * @return the builder
     */
    public static QuantizationConfig.Builder builder() {
        return QuantizationConfig.builder().optObjective(Objective.SIZE).optTimeModel(false);
    }
}

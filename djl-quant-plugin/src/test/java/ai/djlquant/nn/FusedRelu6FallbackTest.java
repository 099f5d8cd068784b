package ai.djlquant.nn;

import ai.djlquant.kernel.Int8Backends;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * {@link FusedRelu6BlocksTest}'s cases on the float fallback (the JVM of the {@code
 * fallback-backend} run, without native kernels): there the blocks apply ReLU6 with DJL's own op.
 */
class FusedRelu6FallbackTest extends FusedRelu6BlocksTest {

    @Test
    void fallbackBackendIsInForce() {
        Assertions.assertFalse(Int8Backends.get().isNative(), Int8Backends.get().getName());
    }
}

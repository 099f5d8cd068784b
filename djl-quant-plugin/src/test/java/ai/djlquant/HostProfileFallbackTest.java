package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.kernel.ReferenceBackend;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The host profile where the int8 layers have no oneDNN (the fallback JVM of the build, {@code
 * -Dai.djlquant.kernel.backend=reference}): no ISA, and the int8 side measures what the int8 blocks
 * run then, the engine's float ops, so the numbers are still finite and positive.
 */
class HostProfileFallbackTest {

    @Test
    void withoutOneDnnTheProfileSaysSoAndStillMeasures() {
        Assumptions.assumeTrue(
                Int8Backends.get() instanceof ReferenceBackend,
                "runs in the build's fallback JVM (-Dai.djlquant.kernel.backend=reference)");
        HostProfile host = HostProfile.current();
        assertEquals("none", host.isa());
        assertEquals(Int8Backends.get().getName(), host.backend());
        assertTrue(host.implementation().contains("float ops"), host.implementation());
        for (double v : new double[] {host.int8Gops(), host.fp32Gflops(), host.ratio()}) {
            assertTrue(Double.isFinite(v) && v > 0, host.toString());
        }
        assertTrue(host.toLine().startsWith("host: none (" + host.backend() + " backend"), host.toLine());
    }
}

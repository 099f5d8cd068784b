package ai.djlquant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.util.JsonUtils;
import ai.djlquant.kernel.HostProbe;
import ai.djlquant.kernel.Int8Backend;
import ai.djlquant.kernel.Int8Backends;
import ai.djlquant.kernel.OneDnnBackend;

import org.junit.jupiter.api.Test;

import java.util.Map;

/**
 * The host profile's structure: what it says about the ISA and activation width agrees with the
 * backend, the measured numbers are finite and positive, the probe runs once per thread count.
 * The numbers themselves are not pass/fail criteria (machines are noisy).
 */
class HostProfileTest {

    @Test
    void profileAgreesWithTheBackendAndItsNumbersAreFinite() {
        HostProfile host = HostProfile.current();
        Int8Backend backend = Int8Backends.get();
        assertEquals(backend.getName(), host.backend());
        assertEquals(backend.getActivationBits(), host.activationBits());
        assertFalse(host.isa().isBlank());
        assertFalse(host.implementation().isBlank());
        if (backend instanceof OneDnnBackend one) {
            assertEquals(one.getIsa(), host.isa());
            assertNotEquals("none", host.isa());
        } else {
            assertEquals("none", host.isa());
        }
        assertTrue(host.threads() >= 1, "threads " + host.threads());
        for (double v : new double[] {host.int8Gops(), host.fp32Gflops(), host.ratio()}) {
            assertTrue(Double.isFinite(v) && v > 0, host.toString());
        }
        assertTrue(host.probeSeconds() > 0, host.toString());
        assertEquals(host.int8Gops() / host.fp32Gflops(), host.ratio(), 1e-12);
        String ratio = String.format(java.util.Locale.ROOT, "%.1fx fp32", host.ratio());
        assertTrue(host.sentence().contains(ratio), host.sentence());
        String line = host.toLine();
        assertTrue(line.startsWith("host: " + host.isa() + " "), line);
        assertTrue(line.contains(host.activationBits() + "-bit activations"), line);
        assertTrue(line.contains(host.threads() + " threads"), line);
    }

    @Test
    void probeRunsOncePerThreadCount() {
        HostProbe.Measurement a = HostProbe.get(1);
        assertSame(a, HostProbe.get(1));
        assertEquals(1, a.threads());
        assertEquals(HostProfile.current(1), HostProfile.current(1));
        assertThrows(IllegalArgumentException.class, () -> HostProbe.get(0));
    }

    @Test
    void jsonHoldsEveryField() {
        HostProfile host = HostProfile.current();
        Map<?, ?> json = JsonUtils.GSON.fromJson(JsonUtils.GSON.toJson(host.toMap()), Map.class);
        for (String field :
                new String[] {
                    "isa", "implementation", "backend", "activationBits", "threads", "probeShape",
                    "int8Gops", "fp32Gflops", "ratio", "probeSeconds", "sentence"
                }) {
            assertTrue(json.containsKey(field), field + " missing from " + json);
        }
        assertEquals("256x1024x1024", json.get("probeShape"));
        assertEquals(host.threads(), ((Number) json.get("threads")).intValue());
    }

    @Test
    void sentenceSaysWhatTheRatioMeans() {
        String low = HostProfile.sentence(1.0, 7);
        assertTrue(low.contains("peaks at 1.0x fp32"), low);
        assertTrue(low.contains("compute-bound layers gain little"), low);
        assertTrue(low.contains("memory-bound ones (small M Linear) still gain"), low);
        String high = HostProfile.sentence(2.1, 8);
        assertTrue(high.contains("8-bit activations) peaks at 2.1x fp32"), high);
        assertTrue(high.contains("compute-bound layers (large batches, convolutions) gain"), high);
    }
}

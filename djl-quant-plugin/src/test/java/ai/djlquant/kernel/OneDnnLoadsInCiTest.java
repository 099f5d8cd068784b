package ai.djlquant.kernel;

import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Locale;

/**
 * On CI the oneDNN tests must not be skipped: where oneDNN is expected to load (x86-64 Linux) and
 * the build runs on CI (environment {@code CI=true}, or {@code -D}{@value #PROPERTY}{@code =true},
 * which {@code .ci/run} sets), the oneDNN backend has to load, or this test fails with the reason.
 */
class OneDnnLoadsInCiTest {

    /** System property that makes oneDNN required (as {@code CI=true} does). */
    static final String PROPERTY = "ai.djlquant.requireOneDnn";

    static boolean required() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        boolean x86Linux =
                os.startsWith("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
        boolean ci =
                "true".equalsIgnoreCase(System.getenv("CI")) || Boolean.getBoolean(PROPERTY);
        return x86Linux && ci;
    }

    @Test
    void oneDnnLoadsOnCiOnX86Linux() {
        Assumptions.assumeTrue(
                required(), "not CI on x86-64 Linux: oneDNN may be missing, tests skip loudly");
        assertNull(
                RequiresOneDnn.whyNotLoaded(),
                "oneDNN backend not loaded on x86-64 Linux CI: the int8 kernel tests would be"
                        + " skipped");
        // and the blocks use it (the fallback, forced by a property, has its own test run)
        Assertions.assertTrue(Int8Backends.get().isNative(), Int8Backends.get().getName());
    }
}

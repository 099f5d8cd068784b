package ai.djlquant.artifact;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Base64;
import java.util.stream.Stream;

/**
 * Signed artifacts: Ed25519 keys read from PKCS#8 and X.509 PEM files, the manifest signed at
 * export, and a trusted key at load that refuses unsigned, wrongly signed and edited artifacts.
 */
class ArtifactSigningTest {

    @TempDir static Path tmp;

    private static Path signed;
    private static Path unsigned;
    private static Path publicPem;
    private static Path otherPublicPem;
    private static Path privatePem;
    private static int copies;

    @BeforeAll
    static void export() throws Exception {
        KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        privatePem = pem(tmp.resolve("signing.pem"), "PRIVATE KEY", pair.getPrivate().getEncoded());
        publicPem = pem(tmp.resolve("trusted.pem"), "PUBLIC KEY", pair.getPublic().getEncoded());
        otherPublicPem =
                pem(tmp.resolve("other.pem"), "PUBLIC KEY", other.getPublic().getEncoded());
        PrivateKey key = ArtifactSigning.readPrivateKey(privatePem);
        signed = tmp.resolve("signed");
        unsigned = tmp.resolve("unsigned");
        try (Model m = TestNets.floatModel(new TestNets.ResidualNet(), "net", 1)) {
            TestNets.quantize(m);
            ArtifactWriter.builder()
                    .setModel(m)
                    .setBaseBlockFactory(TestNets.ResidualNet.class)
                    .optSigningKey(key)
                    .build()
                    .write(signed);
            ArtifactWriter.builder()
                    .setModel(m)
                    .setBaseBlockFactory(TestNets.ResidualNet.class)
                    .build()
                    .write(unsigned);
        }
    }

    /** Writes a PEM file as openssl does (64-character lines). */
    static Path pem(Path file, String label, byte[] der) throws Exception {
        String body = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der);
        Files.writeString(
                file, "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n");
        return file;
    }

    private static Path copy(Path from) throws Exception {
        Path dir = tmp.resolve("copy" + (++copies));
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(ArtifactLoader.filesDirectory(from))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        return dir;
    }

    @Test
    void aSignedArtifactLoadsWithTheTrustedKeyWithoutAKeyAndThroughCriteria() throws Exception {
        assertTrue(Files.isRegularFile(ArtifactLoader.filesDirectory(signed).resolve(ArtifactFormat.SIGNATURE_FILE)));
        PublicKey trusted = ArtifactSigning.readPublicKey(publicPem);
        try (Model m = ArtifactLoader.load(signed, trusted)) {
            assertTrue(m.getBlock().isInitialized());
        }
        try (Model m = ArtifactLoader.load(signed)) {
            assertTrue(m.getBlock().isInitialized());
        }
        Criteria<NDList, NDList> c =
                Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(signed).build();
        try (ZooModel<NDList, NDList> m = c.loadModel()) {
            assertTrue(m.getBlock().isInitialized());
        }
    }

    @Test
    void unsignedWronglySignedAndEditedArtifactsAreRefusedWithAKey() throws Exception {
        PublicKey trusted = ArtifactSigning.readPublicKey(publicPem);
        ArtifactException none =
                assertThrows(ArtifactException.class, () -> ArtifactLoader.load(unsigned, trusted));
        assertTrue(none.getMessage().contains("is not signed"), none.getMessage());

        PublicKey other = ArtifactSigning.readPublicKey(otherPublicPem);
        ArtifactException wrong =
                assertThrows(ArtifactException.class, () -> ArtifactLoader.verify(signed, other));
        assertTrue(wrong.getMessage().contains("does not verify"), wrong.getMessage());

        // an edit that loading without a key accepts (an informative field) breaks the signature
        Path edited = copy(signed);
        Path q = edited.resolve(ArtifactFormat.MANIFEST_FILE);
        JsonObject o = JsonParser.parseString(Files.readString(q)).getAsJsonObject();
        o.addProperty("libraryVersion", "edited");
        Files.writeString(q, ArtifactManifest.GSON.toJson(o));
        try (Model m = ArtifactLoader.load(edited)) {
            assertTrue(m.getBlock().isInitialized());
        }
        ArtifactException changed =
                assertThrows(ArtifactException.class, () -> ArtifactLoader.load(edited, trusted));
        assertTrue(changed.getMessage().contains("changed after signing"), changed.getMessage());
    }

    @Test
    void keysInTheWrongEncodingAreNamed() throws Exception {
        ArtifactException e =
                assertThrows(
                        ArtifactException.class, () -> ArtifactSigning.readPrivateKey(publicPem));
        assertTrue(e.getMessage().contains("-----BEGIN PRIVATE KEY-----"), e.getMessage());
        Path garbage = tmp.resolve("garbage.pem");
        Files.writeString(garbage, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        ArtifactException g =
                assertThrows(
                        ArtifactException.class, () -> ArtifactSigning.readPublicKey(garbage));
        assertTrue(g.getMessage().contains("is not an Ed25519 public key"), g.getMessage());
    }
}

package ai.djlquant.artifact;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * Ed25519 signatures of artifacts, with the JDK's own {@code java.security}. The signature covers
 * the exact bytes of {@code quantization.json}, which holds the SHA-256 and size of every other
 * file: a valid signature vouches for the whole directory. It is stored, Base64 on one line, in
 * {@value ArtifactFormat#SIGNATURE_FILE} beside the manifest (the one file besides the manifest
 * that the manifest does not list). Keys are read from the standard PEM encodings: PKCS#8 ({@code
 * -----BEGIN PRIVATE KEY-----}) and X.509 ({@code -----BEGIN PUBLIC KEY-----}), as {@code openssl
 * genpkey -algorithm ed25519} and {@code openssl pkey -pubout} write them.
 */
public final class ArtifactSigning {

    private static final String ALGORITHM = "Ed25519";

    private ArtifactSigning() {}

    /**
     * Reads an Ed25519 private key from a PKCS#8 PEM file.
     *
     * @param pem the file
     * @return the key
     * @throws ArtifactException naming the file if it is not such a key
     */
    public static PrivateKey readPrivateKey(Path pem) throws ArtifactException {
        byte[] der = pemBody(pem, "PRIVATE KEY");
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new ArtifactException(pem + " is not an Ed25519 private key (PKCS#8): " + e, e);
        }
    }

    /**
     * Reads an Ed25519 public key from an X.509 PEM file.
     *
     * @param pem the file
     * @return the key
     * @throws ArtifactException naming the file if it is not such a key
     */
    public static PublicKey readPublicKey(Path pem) throws ArtifactException {
        byte[] der = pemBody(pem, "PUBLIC KEY");
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new ArtifactException(pem + " is not an Ed25519 public key (X.509): " + e, e);
        }
    }

    private static byte[] pemBody(Path pem, String label) throws ArtifactException {
        String text;
        try {
            text = Files.readString(pem, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new ArtifactException(pem + " cannot be read: " + e.getMessage(), e);
        }
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b < 0 || e < b) {
            throw new ArtifactException(
                    pem + " is not a PEM file with a '" + begin + "' block.");
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
        } catch (IllegalArgumentException x) {
            throw new ArtifactException(pem + " holds no valid Base64 in its PEM block.", x);
        }
    }

    /**
     * Signs a written artifact's manifest.
     *
     * @param dir the artifact directory (its manifest written)
     * @param key the Ed25519 private key
     * @throws ArtifactException if the key cannot sign or the signature cannot be written
     */
    static void sign(Path dir, PrivateKey key) throws ArtifactException {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(key);
            s.update(Files.readAllBytes(dir.resolve(ArtifactFormat.MANIFEST_FILE)));
            String sig = Base64.getEncoder().encodeToString(s.sign()) + "\n";
            Files.writeString(
                    dir.resolve(ArtifactFormat.SIGNATURE_FILE), sig, StandardCharsets.US_ASCII);
        } catch (GeneralSecurityException e) {
            throw new ArtifactException("the signing key cannot sign with Ed25519: " + e, e);
        } catch (IOException e) {
            throw new ArtifactException("the signature cannot be written: " + e, e);
        }
    }

    /**
     * Checks the signature of a manifest's bytes against a trusted key.
     *
     * @param dir the artifact directory
     * @param manifest the manifest's bytes, as read (the same bytes are then parsed)
     * @param trusted the trusted Ed25519 public key
     * @throws ArtifactException if the artifact is unsigned or the signature does not verify
     */
    static void verify(Path dir, byte[] manifest, PublicKey trusted) throws ArtifactException {
        Path file = dir.resolve(ArtifactFormat.SIGNATURE_FILE);
        if (Files.isSymbolicLink(file) || !Files.isRegularFile(file)) {
            throw new ArtifactException(
                    dir
                            + " is not signed (no regular "
                            + ArtifactFormat.SIGNATURE_FILE
                            + "), and loading was given a trusted key: it is refused.");
        }
        byte[] sig;
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (text.length() > 1024) {
                throw new ArtifactException(file + " is too long for an Ed25519 signature.");
            }
            sig = Base64.getDecoder().decode(text);
        } catch (IOException | IllegalArgumentException e) {
            throw new ArtifactException(file + " is not a Base64 signature: " + e.getMessage(), e);
        }
        boolean valid;
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initVerify(trusted);
            s.update(manifest);
            valid = s.verify(sig);
        } catch (GeneralSecurityException e) {
            valid = false;
        }
        if (!valid) {
            throw new ArtifactException(
                    file
                            + " does not verify "
                            + ArtifactFormat.MANIFEST_FILE
                            + " with the trusted key: the manifest was changed after signing, or"
                            + " signed with another key.");
        }
    }
}

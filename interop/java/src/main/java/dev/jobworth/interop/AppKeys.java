package dev.jobworth.interop;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Base64;

/** An RSA-2048 app key pair in the forms the Java SDKs (bare base64) and the sandbox (PEM) take. */
public final class AppKeys {
    public final PrivateKey privateKey;
    public final PublicKey publicKey;

    private AppKeys(KeyPair kp) {
        this.privateKey = kp.getPrivate();
        this.publicKey = kp.getPublic();
    }

    public static AppKeys generate() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return new AppKeys(g.generateKeyPair());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** PKCS#8 DER, bare base64: what the SDKs' setPrivateKey takes. */
    public String privatePkcs8Base64() {
        return Base64.getEncoder().encodeToString(privateKey.getEncoded());
    }

    /** SPKI DER, bare base64. */
    public String publicSpkiBase64() {
        return Base64.getEncoder().encodeToString(publicKey.getEncoded());
    }

    public String publicSpkiPem() {
        return pem("PUBLIC KEY", publicKey.getEncoded());
    }

    public String privatePkcs8Pem() {
        return pem("PRIVATE KEY", privateKey.getEncoded());
    }

    public static String pem(String label, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der);
        return "-----BEGIN " + label + "-----\n" + b64 + "\n-----END " + label + "-----\n";
    }

    /** The base64 inside a PEM (the Java SDKs want keys without armor). */
    public static String pemBody(String pem) {
        return pem.replaceAll("-----(BEGIN|END) [A-Z ]+-----", "").replaceAll("\\s", "");
    }

    /** A random 16-digit app id of the usual 2021… shape. */
    public static String newAppId() {
        long n = Math.floorMod(new java.security.SecureRandom().nextLong(), 1_000_000_000_000L);
        return String.format("2021%012d", n);
    }
}

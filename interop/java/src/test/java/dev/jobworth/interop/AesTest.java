package dev.jobworth.interop;

import static dev.jobworth.interop.Query.expectError;
import static dev.jobworth.interop.Query.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.v3.ApiClient;
import com.alipay.v3.ApiException;
import com.google.gson.JsonParser;
import dev.jobworth.interop.TestApp.Flow;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** AES content encryption: setEncryptKey, app registered with encrypt_key. */
class AesTest {
    @RegisterExtension
    static Sandbox sandbox = new Sandbox();

    static TestApp app;

    static String newAesKey() {
        byte[] k = new byte[16];
        new SecureRandom().nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    @BeforeAll
    static void setUp() {
        app = sandbox.newApp(newAesKey());
    }

    @Test
    void keyModeAesOnTheWire() throws Exception {
        try (WireProxy proxy = new WireProxy(sandbox.base())) {
            ApiClient c = app.keyClient(proxy.base());
            Flow flow = app.desk("teacher");
            var res = run(c, app.params(flow, "teacher"));
            assertEquals("SUCCESS", res.getIdentityResult());
            assertEquals(sandbox.userId("teacher"), res.getUserId());
            WireProxy.Exchange x = proxy.last();
            // The Java SDK marks even a body-less GET as encrypted.
            assertEquals("AES", x.request().header("alipay-encrypt-type"));
            assertEquals("text/plain", x.request().header("content-type"));
            assertEquals("", x.request().bodyText());
            assertEquals("text/plain", x.response().header("content-type"), "exactly text/plain: the SDK compares with equals");
            String cipher = x.response().bodyText();
            assertFalse(cipher.startsWith("{"), cipher);
            String plain = decrypt(app.encryptKey, cipher);
            assertEquals("SUCCESS", JsonParser.parseString(plain).getAsJsonObject().get("identity_result").getAsString());

            expectError(c, app.params(flow, "teacher"), 400, "TOKEN_INVALID");
            assertTrue(proxy.last().response().header("content-type").startsWith("application/json"), "errors stay plaintext JSON");
        }
    }

    /**
     * Why the sandbox sends exactly "text/plain": ApiClient.deserialize accepts a JSON type or
     * "text/plain".equals(contentType); with a charset parameter the SDK refuses the (verified) answer.
     */
    @Test
    void aesAnswerWithACharsetParameterIsRefusedByTheSdk() throws Exception {
        try (WireProxy proxy = new WireProxy(sandbox.base())) {
            ApiClient c = app.keyClient(proxy.base());
            Flow flow = app.desk("pending");
            proxy.responseRewrite = WireProxy.header("content-type", v -> "text/plain; charset=utf-8");
            ApiException e = assertThrows(ApiException.class, () -> run(c, app.params(flow, "pending")));
            assertTrue(e.getMessage().contains("Content type \"text/plain; charset=utf-8\" is not supported"), e.getMessage());
            assertEquals(200, e.getCode());
            proxy.responseRewrite = m -> m;
            assertEquals("WAITING_VERIFY", run(c, app.params(flow, "pending")).getIdentityResult());
        }
    }

    @Test
    void certModeAes() throws Exception {
        Flow flow = app.desk("pending");
        ApiClient c = app.certClient();
        var res = run(c, app.params(flow, "pending"));
        assertEquals("WAITING_VERIFY", res.getIdentityResult());
        assertEquals("PROCESSING", res.getTokenStatus());
        sandbox.cp.postOk("/sandbox/desk/" + flow.deskId() + "/resolve", java.util.Map.of("identity_result", "SUCCESS"), 200);
        assertEquals("SUCCESS", run(c, app.params(flow, "pending")).getIdentityResult());
        expectError(c, app.params(flow, "pending"), 400, "TOKEN_INVALID");
    }

    @Test
    void noEncryptKeyOnTheClientGetsPlaintext() throws Exception {
        ApiClient plain = Sdk.keyMode(sandbox.base(), app.appId, app.keys, app.field("alipay_public_key"), null);
        Flow flow = app.desk("teacher");
        assertEquals("SUCCESS", run(plain, app.params(flow, "teacher")).getIdentityResult());
    }

    /** A wrong AES key: the answer verifies (signed over the ciphertext) but does not decrypt. */
    @Test
    void wrongAesKeyFailsToDecrypt() throws Exception {
        ApiClient wrong = Sdk.keyMode(sandbox.base(), app.appId, app.keys, app.field("alipay_public_key"), newAesKey());
        Flow flow = app.desk("pending");
        // Almost always a padding failure (ApiException "AES解密失败…"); in the rare case the padding happens
        // to be valid, the garbage fails JSON parsing instead. Either way no answer comes out.
        Exception e = assertThrows(Exception.class, () -> run(wrong, app.params(flow, "pending")));
        if (e instanceof ApiException api) {
            assertTrue(api.getMessage().contains("AES解密失败"), api.getMessage());
            assertNull(api.getResponseBody(), "not an API error");
        } else {
            assertTrue(e instanceof com.google.gson.JsonParseException, e.toString());
        }
    }

    /** A request body encrypted with another AES key (a POST of the family, via GenericExecuteApi) → decryption-error. */
    @Test
    void bodyEncryptedWithAnotherKeyIsDecryptionError() throws Exception {
        ApiClient wrong = Sdk.keyMode(sandbox.base(), app.appId, app.keys, app.field("alipay_public_key"), newAesKey());
        com.alipay.v3.util.model.OpenApiGenericRequest req = new com.alipay.v3.util.model.OpenApiGenericRequest();
        req.setBodyParams(java.util.Map.of("conn_key", "conn-x"));
        ApiException e = assertThrows(ApiException.class,
                () -> new com.alipay.v3.util.GenericExecuteApi(wrong).execute("/v3/zhima/customer/jobworth/jobdata/add", "POST", req));
        Query.assertApiError(e, 400, "decryption-error");
    }

    static String decrypt(String keyB64, String cipherB64) throws Exception {
        Cipher c = Cipher.getInstance("AES/CBC/PKCS5Padding");
        c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(Base64.getDecoder().decode(keyB64), "AES"), new IvParameterSpec(new byte[16]));
        return new String(c.doFinal(Base64.getDecoder().decode(cipherB64)), java.nio.charset.StandardCharsets.UTF_8);
    }
}

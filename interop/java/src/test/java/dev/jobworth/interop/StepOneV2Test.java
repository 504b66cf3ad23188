package dev.jobworth.interop;

import static dev.jobworth.interop.Query.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.api.AlipayConfig;
import com.alipay.api.DefaultAlipayClient;
import com.alipay.api.internal.util.AlipaySignature;
import com.alipay.api.request.ZhimaCreditPayafteruseCreditagreementSignRequest;
import com.alipay.v3.util.GenericExecuteApi;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jobworth.interop.TestApp.Flow;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Step 1 with the official v2 SDK (sdkExecute), and the v2 SDK's signature check on jobworth's order strings. */
class StepOneV2Test {
    @RegisterExtension
    static Sandbox sandbox = new Sandbox();

    static TestApp app;

    @BeforeAll
    static void setUp() {
        app = sandbox.newApp();
    }

    static Map<String, String> parse(String orderStr) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String pair : orderStr.split("&")) {
            int i = pair.indexOf('=');
            m.put(URLDecoder.decode(pair.substring(0, i), StandardCharsets.UTF_8), URLDecoder.decode(pair.substring(i + 1), StandardCharsets.UTF_8));
        }
        return m;
    }

    @Test
    void v2SdkExecuteOrderStringOpensTheDeskAndLeadsToSuccess() throws Exception {
        String onceToken = "tok-" + TestApp.tag();
        Flow flow = app.desk("teacher", onceToken, "04");
        Map<String, String> p = parse(flow.orderStr());
        assertEquals(TestApp.ORDER_METHOD, p.get("method"));
        assertEquals(app.appId, p.get("app_id"));
        assertEquals("RSA2", p.get("sign_type"));
        JsonObject biz = JsonParser.parseString(p.get("biz_content")).getAsJsonObject();
        assertEquals(flow.connKey(), biz.get("out_agreement_no").getAsString());
        assertEquals(TestApp.SERVICE_ID, biz.get("zm_service_id").getAsString());
        assertTrue(biz.get("extra_param").isJsonPrimitive(), "extra_param is a JSON string");
        JsonObject extra = JsonParser.parseString(biz.get("extra_param").getAsString()).getAsJsonObject();
        assertEquals(onceToken, extra.get("onceToken").getAsString());
        assertEquals("04", extra.get("identityType").getAsString());
        // The v2 SDK checks its own output.
        assertTrue(AlipaySignature.rsaCheckV2(new LinkedHashMap<>(p), app.keys.publicSpkiBase64(), "UTF-8", "RSA2"));

        var res = run(app.keyClient(), app.params(flow, "teacher"));
        assertEquals("SUCCESS", res.getIdentityResult());
    }

    /** The v3 SDK also has sdkExecute (GenericExecuteApi): its order string opens the desk too. */
    @Test
    void v3GenericSdkExecuteOrderString() throws Exception {
        String conn = "conn-" + TestApp.tag();
        String token = "tok-" + TestApp.tag();
        Map<String, Object> biz = new LinkedHashMap<>();
        biz.put("out_agreement_no", conn);
        biz.put("zm_service_id", TestApp.SERVICE_ID);
        biz.put("extra_param", "{\"onceToken\":\"" + token + "\",\"identityType\":\"04\"}");
        // GenericExecuteApi serialises the value under "biz_content"; other keys would become top-level parameters.
        String orderStr = new GenericExecuteApi(app.keyClient()).sdkExecute(TestApp.ORDER_METHOD, Map.of("biz_content", biz));
        Map<String, String> p = parse(orderStr);
        assertTrue(AlipaySignature.rsaCheckV2(new LinkedHashMap<>(p), app.keys.publicSpkiBase64(), "UTF-8", "RSA2"), "the v2 SDK accepts the v3 SDK's order string");
        JsonObject desk = sandbox.cp.postOk("/sandbox/desk", Map.of("order_str", orderStr), 201);
        assertEquals(conn, desk.get("conn_key").getAsString());
        assertEquals(token, desk.get("once_token").getAsString());
        sandbox.cp.postOk("/sandbox/desk/" + desk.get("desk_id").getAsString() + "/complete", Map.of("persona", "teacher"), 200);
        Map<String, String> q = Map.of("conn_key", conn, "once_token", token, "query_type", "exact", "identity_type", "04",
                "service_id", TestApp.SERVICE_ID, "user_id", sandbox.userId("teacher"));
        assertEquals("SUCCESS", run(app.keyClient(), q).getIdentityResult());
    }

    static DefaultAlipayClient v2(TestApp app, boolean certMode, boolean aes) throws Exception {
        AlipayConfig cfg = new AlipayConfig();
        cfg.setServerUrl(sandbox.base() + "/gateway.do");
        cfg.setAppId(app.appId);
        cfg.setPrivateKey(app.keys.privatePkcs8Base64());
        if (certMode) {
            cfg.setAppCertContent(app.field("app_cert"));
            cfg.setAlipayPublicCertContent(app.field("alipay_cert"));
            cfg.setRootCertContent(app.field("alipay_root_cert"));
        } else {
            cfg.setAlipayPublicKey(AppKeys.pemBody(app.field("alipay_public_key")));
        }
        if (aes) {
            cfg.setEncryptKey(app.encryptKey);
            cfg.setEncryptType("AES");
        }
        cfg.setFormat("json");
        cfg.setCharset("UTF-8");
        cfg.setSignType("RSA2");
        return new DefaultAlipayClient(cfg);
    }

    static ZhimaCreditPayafteruseCreditagreementSignRequest signRequest(String conn, String token, boolean aes) {
        JsonObject extra = new JsonObject();
        extra.addProperty("onceToken", token);
        extra.addProperty("identityType", "04");
        JsonObject biz = new JsonObject();
        biz.addProperty("out_agreement_no", conn);
        biz.addProperty("zm_service_id", TestApp.SERVICE_ID);
        biz.addProperty("extra_param", extra.toString());
        ZhimaCreditPayafteruseCreditagreementSignRequest req = new ZhimaCreditPayafteruseCreditagreementSignRequest();
        req.setBizContent(biz.toString());
        req.setNeedEncrypt(aes);
        return req;
    }

    /** Certificate mode adds app_cert_sn and alipay_root_cert_sn to the order string; the desk takes it. */
    @Test
    void v2CertModeOrderString() throws Exception {
        TestApp certApp = sandbox.newApp();
        String conn = "conn-" + TestApp.tag();
        String token = "tok-" + TestApp.tag();
        String orderStr = v2(certApp, true, false).sdkExecute(signRequest(conn, token, false)).getBody();
        Map<String, String> p = parse(orderStr);
        assertEquals(certApp.field("app_cert_sn"), p.get("app_cert_sn"));
        assertEquals(certApp.field("alipay_root_cert_sn"), p.get("alipay_root_cert_sn"));
        JsonObject desk = sandbox.cp.postOk("/sandbox/desk", Map.of("order_str", orderStr), 201);
        sandbox.cp.postOk("/sandbox/desk/" + desk.get("desk_id").getAsString() + "/complete", Map.of("persona", "teacher"), 200);
        Map<String, String> q = Map.of("conn_key", conn, "once_token", token, "query_type", "exact", "identity_type", "04",
                "service_id", TestApp.SERVICE_ID, "user_id", sandbox.userId("teacher"));
        assertEquals("SUCCESS", run(certApp.certClient(), q).getIdentityResult());
    }

    /**
     * With an AES key the official SDKs encrypt biz_content of the order string (v2:
     * setNeedEncrypt(true); v3 GenericExecuteApi.sdkExecute: always, once setEncryptKey was called)
     * and add encrypt_type=AES, signing the ciphertext. The desk decrypts it with the app's key.
     */
    @Test
    void aesOrderStringsFromBothSdksOpenTheDesk() throws Exception {
        TestApp aesApp = sandbox.newApp(AesTest.newAesKey());
        String conn = "conn-" + TestApp.tag();
        String token = "tok-" + TestApp.tag();
        String fromV2 = v2(aesApp, false, true).sdkExecute(signRequest(conn, token, true)).getBody();
        Map<String, Object> biz = new LinkedHashMap<>();
        biz.put("out_agreement_no", conn);
        biz.put("zm_service_id", TestApp.SERVICE_ID);
        String fromV3 = new GenericExecuteApi(aesApp.keyClient()).sdkExecute(TestApp.ORDER_METHOD, Map.of("biz_content", biz));
        for (String orderStr : List.of(fromV2, fromV3)) {
            Map<String, String> p = parse(orderStr);
            assertEquals("AES", p.get("encrypt_type"));
            assertTrue(AlipaySignature.rsaCheckV2(new LinkedHashMap<>(p), aesApp.keys.publicSpkiBase64(), "UTF-8", "RSA2"), "signed over the ciphertext");
            JsonObject plain = JsonParser.parseString(AesTest.decrypt(aesApp.encryptKey, p.get("biz_content"))).getAsJsonObject();
            assertEquals(conn, plain.get("out_agreement_no").getAsString(), "biz_content is AES-CBC (zero IV) of the JSON");
            ControlPlane.Reply r = sandbox.cp.post("/sandbox/desk", Map.of("order_str", orderStr));
            assertEquals(201, r.status(), r.body());
            assertEquals(conn, r.obj().get("conn_key").getAsString(), r.body());
        }
    }

    static String cli(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of(SandboxProcess.bin().toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed: " + err);
        return out.trim();
    }

    /** jobworth keys generate + jobworth order-string: the v2 SDK's AlipaySignature accepts the output. */
    @Test
    void v2SignatureCheckAcceptsJobworthOrderString(@TempDir Path dir) throws Exception {
        cli(dir, "keys", "generate", "--out", dir.resolve("keys").toString());
        String privPem = Files.readString(dir.resolve("keys/app_private_key.pem"));
        String pubPem = Files.readString(dir.resolve("keys/app_public_key.pem"));
        assertTrue(privPem.contains("BEGIN PRIVATE KEY"), "PKCS#8 PEM");
        String appId = AppKeys.newAppId();
        String conn = "conn-" + TestApp.tag();
        String token = "tok-" + TestApp.tag();
        String orderStr = cli(dir, "order-string", "--app-id", appId, "--private-key", dir.resolve("keys/app_private_key.pem").toString(),
                "--out-agreement-no", conn, "--service-id", TestApp.SERVICE_ID, "--once-token", token, "--identity-type", "04");
        Map<String, String> p = parse(orderStr);
        String pub = AppKeys.pemBody(pubPem);
        // AlipaySignature removes sign (and sign_type) from the map it is given: hand it copies.
        assertTrue(AlipaySignature.rsaCheckV2(new LinkedHashMap<>(p), pub, "UTF-8", "RSA2"), "rsaCheckV2 (sign_type included, as sdkExecute signs)");
        // rsaCheckV1 drops sign_type from the signed content (the notification rule), so it must not match.
        assertFalse(AlipaySignature.rsaCheckV1(new LinkedHashMap<>(p), pub, "UTF-8", "RSA2"), "rsaCheckV1 excludes sign_type");
        Map<String, String> tampered = new LinkedHashMap<>(p);
        tampered.put("biz_content", p.get("biz_content").replace(conn, conn + "x"));
        assertFalse(AlipaySignature.rsaCheckV2(tampered, pub, "UTF-8", "RSA2"));

        JsonObject biz = JsonParser.parseString(p.get("biz_content")).getAsJsonObject();
        JsonObject extra = JsonParser.parseString(biz.get("extra_param").getAsString()).getAsJsonObject();
        assertEquals(token, extra.get("onceToken").getAsString());
        assertEquals("04", extra.get("identityType").getAsString());

        // Registered with the CLI's public key, the same string opens the desk and the Java SDK reads the result.
        sandbox.cp.registerApp(appId, pubPem, null);
        JsonObject desk = sandbox.cp.postOk("/sandbox/desk", Map.of("order_str", orderStr), 201);
        assertEquals(conn, desk.get("conn_key").getAsString());
        sandbox.cp.postOk("/sandbox/desk/" + desk.get("desk_id").getAsString() + "/complete", Map.of("persona", "not-teacher"), 200);
        var client = new com.alipay.v3.ApiClient();
        client.setBasePath(sandbox.base());
        com.alipay.v3.util.model.AlipayConfig cfg = new com.alipay.v3.util.model.AlipayConfig();
        cfg.setAppId(appId);
        cfg.setPrivateKey(AppKeys.pemBody(privPem));
        cfg.setAlipayPublicKey(AppKeys.pemBody(sandbox.cp.get("/sandbox/alipay-public-key").body()));
        client.setAlipayConfig(cfg);
        Map<String, String> q = Map.of("conn_key", conn, "once_token", token, "query_type", "exact", "identity_type", "04",
                "service_id", TestApp.SERVICE_ID, "user_id", sandbox.userId("not-teacher"));
        assertEquals("FAILED", run(client, q).getIdentityResult());
    }
}

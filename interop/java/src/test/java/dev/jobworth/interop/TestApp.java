package dev.jobworth.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.alipay.api.AlipayApiException;
import com.alipay.api.AlipayConfig;
import com.alipay.api.DefaultAlipayClient;
import com.alipay.api.request.ZhimaCreditPayafteruseCreditagreementSignRequest;
import com.alipay.v3.ApiClient;
import com.alipay.v3.ApiException;
import com.google.gson.JsonObject;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/** An app registered on a sandbox, and the official SDKs configured for it. */
public final class TestApp {
    public static final String SERVICE_ID = "2019120400000000000004450100";
    public static final String ORDER_METHOD = "zhima.credit.payafteruse.creditagreement.sign";
    private static final SecureRandom RANDOM = new SecureRandom();

    public final Sandbox sandbox;
    public final String appId;
    public final AppKeys keys;
    public final JsonObject registration;
    public final String encryptKey;

    TestApp(Sandbox sandbox, String appId, AppKeys keys, JsonObject registration, String encryptKey) {
        this.sandbox = sandbox;
        this.appId = appId;
        this.keys = keys;
        this.registration = registration;
        this.encryptKey = encryptKey;
    }

    public String field(String name) {
        return registration.get(name).getAsString();
    }

    public ApiClient keyClient() throws ApiException {
        return keyClient(sandbox.base());
    }

    /** Key mode against {@code base}: the sandbox, or a proxy in front of it. */
    public ApiClient keyClient(String base) throws ApiException {
        return Sdk.keyMode(base, appId, keys, field("alipay_public_key"), encryptKey);
    }

    public ApiClient certClient() throws ApiException {
        return certClient(sandbox.base());
    }

    /** Certificate mode against {@code base}: the sandbox, or a proxy in front of it. */
    public ApiClient certClient(String base) throws ApiException {
        return Sdk.certMode(base, appId, keys, field("app_cert"), field("alipay_cert"), field("alipay_root_cert"), encryptKey);
    }

    public static String tag() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** The official v2 SDK, as a merchant backend configures it for sdkExecute (never sends anything). */
    public DefaultAlipayClient v2Client() throws AlipayApiException {
        AlipayConfig cfg = new AlipayConfig();
        cfg.setServerUrl(sandbox.base() + "/gateway.do");
        cfg.setAppId(appId);
        cfg.setPrivateKey(keys.privatePkcs8Base64());
        cfg.setAlipayPublicKey(AppKeys.pemBody(field("alipay_public_key")));
        cfg.setFormat("json");
        cfg.setCharset("UTF-8");
        cfg.setSignType("RSA2");
        return new DefaultAlipayClient(cfg);
    }

    /** Step 1 with the v2 SDK: sdkExecute of creditagreement.sign; extra_param is a JSON string. */
    public String orderString(String outAgreementNo, String serviceId, String onceToken, String identityType) throws AlipayApiException {
        JsonObject extra = new JsonObject();
        if (onceToken != null) extra.addProperty("onceToken", onceToken);
        if (identityType != null) extra.addProperty("identityType", identityType);
        JsonObject biz = new JsonObject();
        biz.addProperty("out_agreement_no", outAgreementNo);
        biz.addProperty("zm_service_id", serviceId);
        biz.addProperty("extra_param", extra.toString());
        ZhimaCreditPayafteruseCreditagreementSignRequest req = new ZhimaCreditPayafteruseCreditagreementSignRequest();
        req.setBizContent(biz.toString());
        String body = v2Client().sdkExecute(req).getBody();
        assertNotNull(body);
        return body;
    }

    /** Order string (v2 SDK) → POST /sandbox/desk → complete as persona (null: leave the desk open). */
    public Flow desk(String persona) throws AlipayApiException {
        return desk(persona, "tok-" + tag() + tag(), "04");
    }

    public Flow desk(String persona, String onceToken, String identityType) throws AlipayApiException {
        String connKey = "conn-" + tag();
        String orderStr = orderString(connKey, SERVICE_ID, onceToken, identityType);
        Map<String, String> body = Map.of("order_str", orderStr);
        JsonObject desk = sandbox.cp.postOk("/sandbox/desk", body, 201);
        for (String f : new String[] {"desk_id", "desk_url", "conn_key", "once_token"}) {
            assertNotNull(desk.get(f), "desk response lacks " + f + ": " + desk);
        }
        assertEquals(connKey, desk.get("conn_key").getAsString(), "conn_key is step 1's out_agreement_no");
        if (onceToken != null) assertEquals(onceToken, desk.get("once_token").getAsString(), "once_token is extra_param.onceToken");
        else assertFalse(desk.get("once_token").getAsString().isEmpty(), "the sandbox issues a once_token");
        String deskId = desk.get("desk_id").getAsString();
        JsonObject completed = null;
        if (persona != null) {
            completed = sandbox.cp.postOk("/sandbox/desk/" + deskId + "/complete", Map.of("persona", persona), 200);
        }
        return new Flow(connKey, desk.get("once_token").getAsString(), SERVICE_ID, identityType == null ? "04" : identityType, deskId, orderStr, completed);
    }

    /** POST /sandbox/authentications: the same authorization without the desk. */
    public Flow authenticated(String persona) {
        String connKey = "conn-" + tag();
        String token = "tok-" + tag() + tag();
        JsonObject done = sandbox.cp.authenticate(appId, connKey, SERVICE_ID, "04", token, persona);
        assertEquals(connKey, done.get("conn_key").getAsString());
        assertEquals(token, done.get("once_token").getAsString());
        return new Flow(connKey, token, SERVICE_ID, "04", null, null, done);
    }

    /** The query parameters of a flow in the API's names, user identified by user_id. */
    public Map<String, String> params(Flow flow, String persona) {
        Map<String, String> q = new LinkedHashMap<>();
        q.put("conn_key", flow.connKey());
        q.put("once_token", flow.onceToken());
        q.put("query_type", "exact");
        q.put("identity_type", flow.identityType());
        q.put("service_id", flow.serviceId());
        if (persona != null) q.put("user_id", sandbox.userId(persona));
        return q;
    }

    public record Flow(String connKey, String onceToken, String serviceId, String identityType, String deskId, String orderStr, JsonObject completed) {}
}

package dev.jobworth.interop;

import static dev.jobworth.interop.Query.expectError;
import static dev.jobworth.interop.Query.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.v3.ApiClient;
import com.alipay.v3.ApiException;
import com.alipay.v3.model.ZhimaCustomerJobworthAuthenticationQueryDefaultResponse;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What the Java v3 SDK actually puts on the wire, recorded by a raw-socket proxy, and how the sandbox takes it. */
class SdkWireTest {
    @RegisterExtension
    static Sandbox sandbox = new Sandbox();

    static TestApp app;
    static WireProxy proxy;
    static ApiClient client;

    @BeforeAll
    static void setUp() throws Exception {
        app = sandbox.newApp();
        proxy = new WireProxy(sandbox.base());
        client = app.keyClient(proxy.base());
    }

    @AfterAll
    static void tearDown() throws Exception {
        proxy.close();
    }

    @Test
    void requestHeaders() throws Exception {
        TestApp.Flow flow = app.desk("teacher");
        assertEquals("SUCCESS", run(client, app.params(flow, "teacher")).getIdentityResult());
        WireProxy.Message req = proxy.last().request();
        assertTrue(req.startLine.startsWith("GET /v3/zhima/customer/jobworth/authentication?conn_key="), req.startLine);
        List<String> names = WireProxy.names(req);
        // Mixed-case names as the SDK writes them (servers must match names case-insensitively).
        assertTrue(names.contains("Authorization"), names.toString());
        assertTrue(names.contains("Accept") && names.contains("User-Agent"), names.toString());
        assertTrue(names.contains("alipay-request-id"), names.toString());
        String auth = req.header("authorization");
        assertTrue(auth.matches("ALIPAY-SHA256withRSA app_id=" + app.appId
                + ",nonce=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12},timestamp=\\d{13},sign=[A-Za-z0-9+/]+=*"), auth);
        assertTrue(req.header("alipay-request-id").matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "dashed UUID request id");
        // No Content-Type on a GET without an encrypt key (with one it is text/plain: AesTest).
        assertNull(req.header("content-type"));
        assertEquals("application/json", req.header("accept"));
        assertEquals(0, req.body.length);
        assertNull(req.header("alipay-root-cert-sn"), "key mode");
        assertNull(req.header("alipay-encrypt-type"), "no encrypt key configured");
        assertNotNull(req.header("alipay-sdk-version"));
        assertTrue(req.header("user-agent").startsWith("OpenAPI-Generator/"), req.header("user-agent"));

        WireProxy.Message res = proxy.last().response();
        for (String n : WireProxy.names(res)) {
            if (n.toLowerCase().startsWith("alipay-")) assertEquals(n.toLowerCase(), n, "sandbox response header names are lower case");
        }
    }

    /**
     * URLEncoder + "+"→"%20" (ApiClient.escapeString): space %20, '*' kept, '~' %7E, "'()!" encoded.
     * OkHttp sends that target unchanged, the sandbox verifies it raw, so any conn_key round-trips.
     */
    @Test
    void queryEncodingRoundTrips() throws Exception {
        String conn = "conn x*~'()!中+/&=?#" + TestApp.tag();
        JsonObject auth = sandbox.cp.authenticate(app.appId, conn, TestApp.SERVICE_ID, "04", null, "teacher");
        Map<String, String> q = Map.of("conn_key", conn, "once_token", auth.get("once_token").getAsString(), "query_type", "exact",
                "identity_type", "04", "service_id", TestApp.SERVICE_ID, "user_id", sandbox.userId("teacher"));
        assertEquals("SUCCESS", run(client, q).getIdentityResult());
        String target = proxy.last().request().target();
        String expected = URLEncoder.encode(conn, StandardCharsets.UTF_8).replace("+", "%20");
        assertTrue(target.contains("conn_key=" + expected + "&"), target);
        assertTrue(expected.contains("%20") && expected.contains("*") && expected.contains("%7E") && expected.contains("%27"), expected);
    }

    /** The query's parameters in the SDK's fixed order; unset (null) ones are left out entirely. */
    @Test
    void parameterOrderAndOmittedNulls() throws Exception {
        TestApp.Flow flow = app.desk("teacher");
        JsonObject t = sandbox.persona("teacher");
        Map<String, String> q = Query.with(app.params(flow, null), "cert_type", "0", "cert_no", t.get("cert_no").getAsString());
        assertEquals("SUCCESS", run(client, q).getIdentityResult());
        String query = proxy.last().request().target().split("\\?", 2)[1];
        StringBuilder keys = new StringBuilder();
        for (String kv : query.split("&")) keys.append(kv, 0, kv.indexOf('=')).append(',');
        assertEquals("conn_key,once_token,query_type,identity_type,service_id,cert_no,cert_type,", keys.toString());
    }

    /**
     * The SDK's typed error object: the generated model types links as a string, the gateway (and the
     * sandbox) send an array of {link, desc}, so ApiException.getErrorObject() stays null and the SDK
     * logs "no class matched". getResponseBody() has everything.
     */
    @Test
    void typedErrorObjectDoesNotParseArrayLinks() throws Exception {
        TestApp.Flow flow = app.desk("teacher");
        ApiException e = expectError(client, Query.with(app.params(flow, "teacher"), "service_id", "2019120400000000000000000000"), 400, "MERCHANT_INTERCEPT");
        JsonObject body = JsonParser.parseString(e.getResponseBody()).getAsJsonObject();
        assertTrue(body.get("links").isJsonArray(), "links is an array of {link, desc}");
        assertNull(e.getErrorObject(), "the SDK could not map the body to its models");
    }

    /** With links as a plain string (unsigned errors, rewritten on the way) the same SDK fills getErrorObject(). */
    @Test
    void typedErrorObjectParsesStringLinks() throws Exception {
        try (SandboxProcess unsigned = SandboxProcess.start("--unsigned-errors"); WireProxy rewrite = new WireProxy(unsigned.base)) {
            ControlPlane cp = new ControlPlane(unsigned.base);
            AppKeys keys = AppKeys.generate();
            String appId = AppKeys.newAppId();
            JsonObject reg = cp.registerApp(appId, keys.publicSpkiPem(), null);
            rewrite.responseRewrite = m -> {
                JsonObject b = JsonParser.parseString(m.bodyText()).getAsJsonObject();
                b.addProperty("links", b.getAsJsonArray("links").get(0).getAsJsonObject().get("link").getAsString());
                m.body = b.toString().getBytes(StandardCharsets.UTF_8);
                return m;
            };
            ApiClient c = Sdk.keyMode(rewrite.base(), appId, keys, reg.get("alipay_public_key").getAsString(), null);
            Map<String, String> q = Map.of("conn_key", "conn-none", "once_token", "t", "query_type", "exact", "identity_type", "04",
                    "service_id", TestApp.SERVICE_ID, "user_id", "2088000000000000");
            ApiException e = expectError(c, q, 400, "WRONG_OUT_AGREEMENT_NO_INTERCEPT");
            assertNotNull(e.getErrorObject(), "with a string links the SDK's models match");
            assertTrue(e.getErrorObject() instanceof ZhimaCustomerJobworthAuthenticationQueryDefaultResponse, e.getErrorObject().getClass().toString());
        }
    }
}

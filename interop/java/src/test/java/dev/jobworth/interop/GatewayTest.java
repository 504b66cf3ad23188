package dev.jobworth.interop;

import static dev.jobworth.interop.Query.assertApiError;
import static dev.jobworth.interop.Query.expectError;
import static dev.jobworth.interop.Query.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.v3.ApiClient;
import com.alipay.v3.ApiException;
import com.alipay.v3.util.GenericExecuteApi;
import com.alipay.v3.util.model.OpenApiGenericRequest;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jobworth.interop.TestApp.Flow;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Gateway error codes as the Java SDK sees them: ApiException with the HTTP status and the JSON body. */
class GatewayTest extends SandboxWithApp {
    GatewayTest() {
        super(TestApp::keyClient);
    }

    @Test
    void invalidAppId() throws Exception {
        Flow flow = app.desk("teacher");
        ApiClient stranger = Sdk.keyMode(sandbox.base(), AppKeys.newAppId(), app.keys, app.field("alipay_public_key"), null);
        expectError(stranger, app.params(flow, "teacher"), 400, "invalid-app-id");
        assertEquals("SUCCESS", run(client, app.params(flow, "teacher")).getIdentityResult(), "nothing consumed");
    }

    @Test
    void invalidSignatureWithAKeyTheAppDidNotRegister() throws Exception {
        Flow flow = app.desk("teacher");
        ApiClient forger = Sdk.keyMode(sandbox.base(), app.appId, AppKeys.generate(), app.field("alipay_public_key"), null);
        expectError(forger, app.params(flow, "teacher"), 400, "invalid-signature");
        assertEquals("SUCCESS", run(client, app.params(flow, "teacher")).getIdentityResult(), "nothing consumed");
    }

    @Test
    void invalidMethodThroughGenericExecuteApi() {
        OpenApiGenericRequest req = new OpenApiGenericRequest();
        req.setQueryParams(Map.of("a", "1"));
        ApiException e = assertThrows(ApiException.class,
                () -> new GenericExecuteApi(client).execute("/v3/zhima/customer/jobworth/nonexistent", "GET", req));
        assertApiError(e, 400, "invalid-method");
    }

    @Test
    void appAuthTokenIsSignedAndAccepted() throws Exception {
        Flow flow = app.desk("teacher");
        Map<String, String> q = app.params(flow, "teacher");
        com.alipay.v3.util.model.CustomizedParams custom = new com.alipay.v3.util.model.CustomizedParams();
        custom.setAppAuthToken("202406BB0123456789abcdef");
        var res = new com.alipay.v3.api.ZhimaCustomerJobworthAuthenticationApi(client).query(q.get("conn_key"), q.get("once_token"),
                q.get("query_type"), q.get("identity_type"), q.get("service_id"), q.get("user_id"), null, null, null, custom);
        assertEquals("SUCCESS", res.getIdentityResult());
    }

    @Test
    void missingSignatureWithoutAuthorization() {
        ControlPlane.Reply r = sandbox.cp.get("/v3/zhima/customer/jobworth/authentication?conn_key=a&once_token=b&query_type=exact&service_id=c&user_id=d");
        assertEquals(400, r.status());
        assertEquals("missing-signature", r.obj().get("code").getAsString());
    }

    /** A real SDK request held back past the window: the SDK's own timestamp is then stale. */
    @Test
    void invalidTimestampWhenTheRequestArrivesLate() throws Exception {
        try (SandboxProcess strict = SandboxProcess.start("--timestamp-window", "1"); WireProxy slow = new WireProxy(strict.base)) {
            ControlPlane cp = new ControlPlane(strict.base);
            AppKeys keys = AppKeys.generate();
            String appId = AppKeys.newAppId();
            JsonObject reg = cp.registerApp(appId, keys.publicSpkiPem(), null);
            JsonObject auth = cp.authenticate(appId, "conn-" + TestApp.tag(), TestApp.SERVICE_ID, "04", null, "teacher");
            ApiClient late = Sdk.keyMode(slow.base(), appId, keys, reg.get("alipay_public_key").getAsString(), null);
            Map<String, String> q = Map.of("conn_key", auth.get("conn_key").getAsString(), "once_token", auth.get("once_token").getAsString(),
                    "query_type", "exact", "identity_type", "04", "service_id", TestApp.SERVICE_ID, "user_id", auth.get("user_id").getAsString());
            slow.delayMillis = 2500;
            expectError(late, q, 400, "invalid-timestamp");
            slow.delayMillis = 0;
            assertEquals("SUCCESS", run(late, q).getIdentityResult(), "the stale request consumed nothing");
        }
    }

    /** The SDK's exact request bytes sent a second time: the nonce was seen → invalid-signature, replay. */
    @Test
    void replayOfAnSdkRequestIsRefused() throws Exception {
        try (WireProxy proxy = new WireProxy(sandbox.base())) {
            ApiClient viaProxy = app.keyClient(proxy.base());
            Flow flow = app.desk("pending");
            assertEquals("WAITING_VERIFY", run(viaProxy, app.params(flow, "pending")).getIdentityResult());
            WireProxy.Message again = proxy.send(proxy.last().request());
            assertEquals(400, again.status(), again.bodyText());
            JsonObject body = JsonParser.parseString(again.bodyText()).getAsJsonObject();
            assertEquals("invalid-signature", body.get("code").getAsString());
            assertTrue(body.get("message").getAsString().toLowerCase().contains("replay"), body.toString());
        }
    }

    @Test
    void eachAnswerHasItsOwnTraceId() throws Exception {
        Flow flow = app.desk("teacher");
        var ok = new com.alipay.v3.api.ZhimaCustomerJobworthAuthenticationApi(client).queryWithHttpInfo(flow.connKey(), flow.onceToken(), "exact", "04",
                flow.serviceId(), sandbox.userId("teacher"), null, null, null, null);
        assertEquals(200, ok.getStatusCode());
        String trace = Query.header(ok.getHeaders(), "alipay-trace-id").get(0);
        ApiException e = expectError(client, app.params(flow, "teacher"), 400, "TOKEN_INVALID");
        assertNotEquals(trace, Query.header(e.getResponseHeaders(), "alipay-trace-id").get(0));
    }
}

package dev.jobworth.interop;

import static dev.jobworth.interop.Query.expectError;
import static dev.jobworth.interop.Query.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.v3.ApiClient;
import com.alipay.v3.ApiException;
import com.alipay.v3.util.AntCertificationUtil;
import com.google.gson.JsonObject;
import dev.jobworth.interop.TestApp.Flow;
import org.junit.jupiter.api.Test;

/** Certificate mode with the PEMs POST /sandbox/apps returns: setAppCertContent / setAlipayPublicCertContent / setRootCertContent. */
class CertModeTest extends SandboxWithApp {
    CertModeTest() {
        super(TestApp::certClient);
    }

    @Test
    void theSdksSnsAreTheSandboxs() throws Exception {
        assertEquals(app.field("app_cert_sn"), AntCertificationUtil.getCertSN(app.field("app_cert")));
        assertEquals(app.field("alipay_cert_sn"), AntCertificationUtil.getCertSN(app.field("alipay_cert")));
        assertEquals(app.field("alipay_root_cert_sn"), AntCertificationUtil.getRootCertSN(app.field("alipay_root_cert")));
    }

    @Test
    void flowOnTheWire() throws Exception {
        try (WireProxy proxy = new WireProxy(sandbox.base())) {
            ApiClient viaProxy = app.certClient(proxy.base());
            Flow flow = app.desk("teacher");
            var res = run(viaProxy, app.params(flow, "teacher"));
            assertEquals("SUCCESS", res.getIdentityResult());
            assertEquals("FINISH", res.getTokenStatus());
            WireProxy.Exchange x = proxy.last();
            String auth = x.request().header("authorization");
            assertTrue(auth.startsWith("ALIPAY-SHA256withRSA app_id=" + app.appId + ",app_cert_sn=" + app.field("app_cert_sn") + ",nonce="), auth);
            assertEquals(app.field("alipay_root_cert_sn"), x.request().header("alipay-root-cert-sn"));
            assertEquals(app.field("alipay_cert_sn"), x.response().header("alipay-sn"));

            ApiException e = expectError(viaProxy, app.params(flow, "teacher"), 400, "TOKEN_INVALID");
            assertEquals(app.field("alipay_cert_sn"), proxy.last().response().header("alipay-sn"), "errors carry alipay-sn too");
            assertEquals(app.field("alipay_cert_sn"), Query.header(e.getResponseHeaders(), "alipay-sn").get(0));
        }
    }

    @Test
    void pendingAndErrorsInCertMode() throws Exception {
        Flow flow = app.desk("pending");
        assertEquals("WAITING_VERIFY", run(client, app.params(flow, "pending")).getIdentityResult());
        assertEquals("WAITING_VERIFY", run(client, app.params(flow, "pending")).getIdentityResult());
        sandbox.cp.postOk("/sandbox/desk/" + flow.deskId() + "/resolve", java.util.Map.of("identity_result", "FAILED"), 200);
        assertEquals("FAILED", run(client, app.params(flow, "pending")).getIdentityResult());
        Flow risk = app.authenticated("risk");
        expectError(client, app.params(risk, "risk"), 400, "RISK_INTERCEPT");
    }

    /** Another app's certificate: its SN is not this app's → app-cert-not-exist. */
    @Test
    void foreignAppCertIsAppCertNotExist() throws Exception {
        TestApp other = sandbox.newApp();
        assertNotEquals(app.field("app_cert_sn"), other.field("app_cert_sn"));
        ApiClient wrong = Sdk.certMode(sandbox.base(), app.appId, app.keys, other.field("app_cert"), app.field("alipay_cert"), app.field("alipay_root_cert"), null);
        Flow flow = app.desk("teacher");
        expectError(wrong, app.params(flow, "teacher"), 400, "app-cert-not-exist");
        assertEquals("SUCCESS", run(client, app.params(flow, "teacher")).getIdentityResult(), "nothing consumed");
    }

    /**
     * The Alipay cert of another sandbox (another CA, another key): the answer's alipay-sn is not in the
     * SDK's SN→key map, and the SDK refuses it before verifying, with a plain ApiException (getCode() 0).
     */
    @Test
    void anotherAlipayCertIsRefusedBySn() throws Exception {
        try (SandboxProcess second = SandboxProcess.start()) {
            JsonObject foreign = new ControlPlane(second.base).registerApp(AppKeys.newAppId(), AppKeys.generate().publicSpkiPem(), null);
            assertNotEquals(app.field("alipay_cert_sn"), foreign.get("alipay_cert_sn").getAsString());
            ApiClient wrong = Sdk.certMode(sandbox.base(), app.appId, app.keys, app.field("app_cert"),
                    foreign.get("alipay_cert").getAsString(), foreign.get("alipay_root_cert").getAsString(), null);
            Flow flow = app.desk("pending");
            ApiException e = assertThrows(ApiException.class, () -> run(wrong, app.params(flow, "pending")));
            assertEquals(0, e.getCode(), "not an HTTP status: " + e.getMessage());
            assertTrue(e.getMessage().contains("支付宝公钥证书[" + app.field("alipay_cert_sn") + "]已过期"), e.getMessage());
            assertNull(e.getResponseBody());
            assertEquals("WAITING_VERIFY", run(client, app.params(flow, "pending")).getIdentityResult());
        }
    }
}

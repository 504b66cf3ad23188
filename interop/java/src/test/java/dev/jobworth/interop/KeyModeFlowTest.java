package dev.jobworth.interop;

import static dev.jobworth.interop.Query.expectError;
import static dev.jobworth.interop.Query.run;
import static dev.jobworth.interop.Query.with;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.v3.ApiClient;
import com.alipay.v3.model.ZhimaCustomerJobworthAuthenticationQueryResponseModel;
import com.google.gson.JsonObject;
import dev.jobworth.interop.TestApp.Flow;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The whole flow with the official Java SDKs, key mode: v2 sdkExecute → desk → complete → v3 query. */
class KeyModeFlowTest extends SandboxWithApp {
    KeyModeFlowTest() {
        super(TestApp::keyClient);
    }

    @Test
    void personasAreWhatTheReadmeSays() {
        assertEquals(Set.of("teacher", "not-teacher", "pending", "blacklisted", "no-zhima", "no-jobworth", "risk"), sandbox.personas.keySet());
        for (JsonObject p : sandbox.personas.values()) {
            assertTrue(p.get("user_id").getAsString().matches("2088\\d{12}"), "user_id of " + p);
            assertEquals("0", p.get("cert_type").getAsString());
            assertTrue(Ids.validResidentId(p.get("cert_no").getAsString()), "cert_no of " + p);
        }
    }

    @Test
    void teacherSucceedsOnceThenTokenInvalid() throws Exception {
        Flow flow = app.desk("teacher");
        assertEquals("SUCCESS", flow.completed().get("identity_result").getAsString());
        JsonObject teacher = sandbox.persona("teacher");
        ZhimaCustomerJobworthAuthenticationQueryResponseModel res = run(client, app.params(flow, "teacher"));
        assertEquals("SUCCESS", res.getIdentityResult());
        assertEquals("FINISH", res.getTokenStatus());
        assertEquals(teacher.get("user_id").getAsString(), res.getUserId());
        assertEquals(teacher.get("open_id").getAsString(), res.getOpenId());
        assertNotNull(res.getIdentityResultSkipUrl(), "identity_result_skip_url");
        // 3.1.15.ALL's model predates merchant_identity_id: Gson keeps it as an additional property.
        Object mid = res.getAdditionalProperty("merchant_identity_id");
        assertTrue(mid instanceof String s && !s.isEmpty(), "merchant_identity_id via getAdditionalProperty: " + res);
        expectError(client, app.params(flow, "teacher"), 400, "TOKEN_INVALID");
    }

    @Test
    void authenticationsRouteSkipsTheDesk() throws Exception {
        Flow flow = app.authenticated("teacher");
        assertEquals("SUCCESS", run(client, app.params(flow, "teacher")).getIdentityResult());
        expectError(client, app.params(flow, "teacher"), 400, "TOKEN_INVALID");
        Flow failed = app.authenticated("not-teacher");
        assertEquals("FAILED", run(client, app.params(failed, "not-teacher")).getIdentityResult());
    }

    @Test
    void merchantIdentityIdStablePerUserAndOpenIdOrCertNoIdentify() throws Exception {
        JsonObject teacher = sandbox.persona("teacher");
        Flow a = app.desk("teacher");
        var byOpenId = run(client, with(app.params(a, null), "open_id", teacher.get("open_id").getAsString()));
        assertEquals("SUCCESS", byOpenId.getIdentityResult());
        Flow b = app.desk("teacher");
        var byCert = run(client, with(app.params(b, null), "cert_type", "0", "cert_no", teacher.get("cert_no").getAsString()));
        assertEquals("SUCCESS", byCert.getIdentityResult());
        assertEquals(byOpenId.getAdditionalProperty("merchant_identity_id"), byCert.getAdditionalProperty("merchant_identity_id"));
        Flow c = app.desk("not-teacher");
        var other = run(client, app.params(c, "not-teacher"));
        assertNotEquals(byOpenId.getAdditionalProperty("merchant_identity_id"), other.getAdditionalProperty("merchant_identity_id"));
    }

    @Test
    void notTeacherFailedOnce() throws Exception {
        Flow flow = app.desk("not-teacher");
        assertEquals("FAILED", flow.completed().get("identity_result").getAsString());
        var res = run(client, app.params(flow, "not-teacher"));
        assertEquals("FAILED", res.getIdentityResult());
        assertEquals("FINISH", res.getTokenStatus());
        expectError(client, app.params(flow, "not-teacher"), 400, "TOKEN_INVALID");
    }

    @ParameterizedTest
    @CsvSource({"SUCCESS", "FAILED"})
    void pendingPolledThenResolved(String verdict) throws Exception {
        Flow flow = app.desk("pending");
        assertEquals("WAITING_VERIFY", flow.completed().get("identity_result").getAsString());
        for (int i = 0; i < 5; i++) {
            var res = run(client, app.params(flow, "pending"));
            assertEquals("WAITING_VERIFY", res.getIdentityResult(), "poll " + i);
            assertEquals("PROCESSING", res.getTokenStatus(), "poll " + i);
        }
        sandbox.cp.postOk("/sandbox/desk/" + flow.deskId() + "/resolve", Map.of("identity_result", verdict), 200);
        var done = run(client, app.params(flow, "pending"));
        assertEquals(verdict, done.getIdentityResult());
        assertEquals("FINISH", done.getTokenStatus());
        expectError(client, app.params(flow, "pending"), 400, "TOKEN_INVALID");
    }

    @ParameterizedTest
    @CsvSource({"blacklisted,JOB_WORTH_BLACK_LIST", "no-zhima,NOT_OPEN_ZM", "no-jobworth,USER_NOT_OPEN_JOBWORTH", "risk,RISK_INTERCEPT"})
    void errorPersonas(String persona, String code) throws Exception {
        Flow flow = app.desk(persona);
        expectError(client, app.params(flow, persona), 400, code);
        Flow viaRoute = app.authenticated(persona);
        expectError(client, app.params(viaRoute, persona), 400, code);
    }

    @Test
    void cancelledAtTheDeskIsUserNotAuthorize() throws Exception {
        Flow flow = app.desk(null);
        sandbox.cp.postOk("/sandbox/desk/" + flow.deskId() + "/cancel", null, 200);
        expectError(client, app.params(flow, "teacher"), 400, "USER_NOT_AUTHORIZE");
    }

    @Test
    void stepOneWithoutOnceTokenOrIdentityType() throws Exception {
        Flow flow = app.desk("teacher", null, null);
        assertEquals(flow.onceToken(), flow.completed().get("once_token").getAsString());
        assertEquals("SUCCESS", run(client, app.params(flow, "teacher")).getIdentityResult());
    }

    @Test
    void dimQueryNeedsNoIdentifier() throws Exception {
        Flow flow = app.desk("teacher");
        assertEquals("SUCCESS", run(client, with(app.params(flow, null), "query_type", "dim")).getIdentityResult());
    }

    @TestFactory
    List<DynamicTest> businessErrorsConsumeNothing() throws Exception {
        JsonObject teacher = sandbox.persona("teacher");
        JsonObject other = sandbox.persona("not-teacher");
        Flow flow = app.desk("teacher");
        Map<String, String> q = app.params(flow, "teacher");
        String certNo = teacher.get("cert_no").getAsString();
        String otherId = Ids.anotherValidId(certNo);
        String badCheck = Ids.wrongCheckDigit(certNo);
        Object[][] cases = {
            {"unknown conn_key", with(q, "conn_key", "conn-unknown-" + TestApp.tag()), "WRONG_OUT_AGREEMENT_NO_INTERCEPT"},
            {"unknown once_token", with(q, "once_token", "tok-never-issued"), "TOKEN_INVALID"},
            {"other identity_type", with(q, "identity_type", "01"), "TOKEN_NOT_MATCH_IDENTITY_TYPE"},
            {"other service_id", with(q, "service_id", "2019120400000000000000000000"), "MERCHANT_INTERCEPT"},
            {"missing conn_key", with(q, "conn_key", null), "INVALID_PARAMETER"},
            {"missing once_token", with(q, "once_token", null), "INVALID_PARAMETER"},
            {"missing service_id", with(q, "service_id", null), "INVALID_PARAMETER"},
            {"query_type not exact|dim", with(q, "query_type", "fuzzy"), "INVALID_PARAMETER"},
            {"exact without a user identifier", with(q, "user_id", null), "INVALID_PARAMETER"},
            {"cert_type out of range", with(q, "user_id", null, "cert_type", "9", "cert_no", certNo), "INVALID_PARAMETER"},
            {"cert_no without cert_type", with(q, "user_id", null, "cert_no", certNo), "INVALID_PARAMETER"},
            {"another user_id", with(q, "user_id", other.get("user_id").getAsString()), "USER_NOT_AUTHORIZE"},
            {"another open_id", with(q, "user_id", null, "open_id", other.get("open_id").getAsString()), "USER_NOT_AUTHORIZE"},
            {"another valid cert_no", with(q, "user_id", null, "cert_type", "0", "cert_no", otherId), "CARD_NO_NOT_MATCH"},
            {"cert_no with a wrong check digit", with(q, "user_id", null, "cert_type", "0", "cert_no", badCheck), "PARAM_ERROR"},
            {"dim with another user_id", with(q, "query_type", "dim", "user_id", other.get("user_id").getAsString()), "USER_NOT_AUTHORIZE"},
        };
        List<DynamicTest> tests = new java.util.ArrayList<>();
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked")
            Map<String, String> params = (Map<String, String>) c[1];
            tests.add(DynamicTest.dynamicTest((String) c[0], () -> expectError(client, params, 400, (String) c[2])));
        }
        tests.add(DynamicTest.dynamicTest("after all of them: SUCCESS (nothing consumed)",
                () -> assertEquals("SUCCESS", run(client, q).getIdentityResult())));
        return tests;
    }

    @Test
    void aTokenBelongsToItsConnKey() throws Exception {
        Flow a = app.desk("teacher");
        Flow b = app.desk("teacher");
        expectError(client, with(app.params(a, "teacher"), "once_token", b.onceToken()), 400, "TOKEN_INVALID");
        assertEquals("SUCCESS", run(client, app.params(b, "teacher")).getIdentityResult());
    }

    @Test
    void tamperedOrderStringIsRefused() throws Exception {
        Flow flow = app.desk(null);
        String tampered = flow.orderStr().replace(TestApp.SERVICE_ID, "2019120400000000000000000001");
        assertNotEquals(flow.orderStr(), tampered);
        ControlPlane.Reply r = sandbox.cp.post("/sandbox/desk", Map.of("order_str", tampered));
        assertEquals(400, r.status(), r.body());
        assertEquals("invalid-signature", r.obj().get("code").getAsString());
        assertFalse(r.obj().get("message").getAsString().isEmpty());
    }
}

package dev.jobworth.interop;

import static dev.jobworth.interop.Query.expectError;
import static dev.jobworth.interop.Query.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.v3.ApiClient;
import com.alipay.v3.ApiException;
import com.google.gson.JsonParser;
import dev.jobworth.interop.TestApp.Flow;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The SDK's own response check (ApiClient.verifyResponse): a failed check is an ApiException with the
 * message "sign check fail: check Sign and Data Fail!", getCode() hard-coded to 400 whatever the HTTP
 * status was, and the refused body in getResponseBody().
 */
class ResponseVerificationTest extends SandboxWithApp {
    static final String SIGN_CHECK_FAIL = "sign check fail: check Sign and Data Fail!";

    ResponseVerificationTest() {
        super(TestApp::keyClient);
    }

    static void assertSignCheckFail(ApiException e) {
        assertTrue(e.getMessage().startsWith("Message: " + SIGN_CHECK_FAIL) || e.getMessage().contains(SIGN_CHECK_FAIL), e.getMessage());
        assertEquals(400, e.getCode(), "the SDK reports 400 for a failed check");
    }

    @Test
    void anotherAlipayPublicKeyRefusesTheSuccess() throws Exception {
        ApiClient wrong = Sdk.keyMode(sandbox.base(), app.appId, app.keys, AppKeys.generate().publicSpkiPem(), null);
        Flow flow = app.desk("teacher");
        ApiException e = assertThrows(ApiException.class, () -> run(wrong, app.params(flow, "teacher")));
        assertSignCheckFail(e);
        assertEquals("SUCCESS", JsonParser.parseString(e.getResponseBody()).getAsJsonObject().get("identity_result").getAsString(),
                "the refused body is the sandbox's 200 answer");
        // The sandbox answered the terminal result; the client threw it away, so the token is gone.
        expectError(client, app.params(flow, "teacher"), 400, "TOKEN_INVALID");
    }

    @Test
    void signedErrorsAreVerifiedToo() throws Exception {
        ApiClient wrong = Sdk.keyMode(sandbox.base(), app.appId, app.keys, AppKeys.generate().publicSpkiPem(), null);
        Flow flow = app.desk("teacher");
        ApiException e = assertThrows(ApiException.class, () -> run(wrong, Query.with(app.params(flow, "teacher"), "conn_key", "conn-nope")));
        assertSignCheckFail(e);
        assertEquals("WRONG_OUT_AGREEMENT_NO_INTERCEPT", JsonParser.parseString(e.getResponseBody()).getAsJsonObject().get("code").getAsString());
    }

    @Test
    void flippedBodyByteIsRefused() throws Exception {
        try (WireProxy proxy = new WireProxy(sandbox.base())) {
            ApiClient c = app.keyClient(proxy.base());
            Flow flow = app.desk("pending");
            proxy.responseRewrite = WireProxy.replaceInBody("WAITING_VERIFY", "SUCCESS");
            ApiException e = assertThrows(ApiException.class, () -> run(c, app.params(flow, "pending")));
            assertSignCheckFail(e);
            assertTrue(e.getResponseBody().contains("\"SUCCESS\""), "the forged body was what got refused");
            proxy.responseRewrite = m -> {
                m.body[m.body.length / 2] ^= 0x01;
                return m;
            };
            assertSignCheckFail(assertThrows(ApiException.class, () -> run(c, app.params(flow, "pending"))));
            proxy.responseRewrite = m -> m;
            assertEquals("WAITING_VERIFY", run(c, app.params(flow, "pending")).getIdentityResult(), "untouched answers verify");
        }
    }

    @Test
    void alteredTimestampOrNonceIsRefused() throws Exception {
        try (WireProxy proxy = new WireProxy(sandbox.base())) {
            ApiClient c = app.keyClient(proxy.base());
            Flow flow = app.desk("pending");
            proxy.responseRewrite = WireProxy.header("alipay-timestamp", v -> Long.toString(Long.parseLong(v) + 1));
            assertSignCheckFail(assertThrows(ApiException.class, () -> run(c, app.params(flow, "pending"))));
            proxy.responseRewrite = WireProxy.header("alipay-nonce", v -> v + "0");
            assertSignCheckFail(assertThrows(ApiException.class, () -> run(c, app.params(flow, "pending"))));
        }
    }

    /** A 200 without alipay-signature is not accepted (the SDK verifies 2xx unconditionally). */
    @Test
    void unsignedSuccessIsRefused() throws Exception {
        try (WireProxy proxy = new WireProxy(sandbox.base())) {
            ApiClient c = app.keyClient(proxy.base());
            Flow flow = app.desk("pending");
            proxy.responseRewrite = WireProxy.header("alipay-signature", v -> null);
            ApiException e = assertThrows(ApiException.class, () -> run(c, app.params(flow, "pending")));
            assertTrue(e.getMessage().contains("验签遭遇异常") || e.getMessage().contains(SIGN_CHECK_FAIL), e.getMessage());
        }
    }

    /** An error without alipay-signature is passed through unverified; a tampered signed one is refused. */
    @Test
    void unsignedErrorsPassSignedTamperedErrorsDoNot() throws Exception {
        try (WireProxy proxy = new WireProxy(sandbox.base())) {
            ApiClient c = app.keyClient(proxy.base());
            Flow flow = app.desk("teacher");
            Map<String, String> bad = Query.with(app.params(flow, "teacher"), "once_token", "tok-never-issued");
            proxy.responseRewrite = WireProxy.header("alipay-signature", v -> null);
            expectError(c, bad, 400, "TOKEN_INVALID");
            proxy.responseRewrite = WireProxy.replaceInBody("TOKEN_INVALID", "SYSTEM_ERROR");
            ApiException e = assertThrows(ApiException.class, () -> run(c, bad));
            assertSignCheckFail(e);
            assertNotEquals(-1, e.getResponseBody().indexOf("SYSTEM_ERROR"));
        }
    }
}

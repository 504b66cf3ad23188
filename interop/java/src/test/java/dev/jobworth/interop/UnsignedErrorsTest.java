package dev.jobworth.interop;

import static dev.jobworth.interop.Query.expectError;
import static dev.jobworth.interop.Query.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.alipay.v3.ApiClient;
import com.alipay.v3.ApiException;
import dev.jobworth.interop.TestApp.Flow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** jobworth sandbox --unsigned-errors: the SDK takes unsigned errors as they are; successes stay signed. */
class UnsignedErrorsTest {
    @RegisterExtension
    static Sandbox sandbox = new Sandbox("--unsigned-errors");

    @Test
    void errorsUnsignedSuccessesSigned() throws Exception {
        TestApp app = sandbox.newApp();
        ApiClient client = app.keyClient();
        Flow flow = app.desk("teacher");
        assertEquals("SUCCESS", run(client, app.params(flow, "teacher")).getIdentityResult());
        ApiException e = expectError(client, app.params(flow, "teacher"), 400, "TOKEN_INVALID");
        assertNull(Query.header(e.getResponseHeaders(), "alipay-signature"), "no alipay-signature on errors");
    }
}

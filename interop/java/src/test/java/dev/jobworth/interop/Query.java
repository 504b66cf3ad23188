package dev.jobworth.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.v3.ApiClient;
import com.alipay.v3.ApiException;
import com.alipay.v3.api.ZhimaCustomerJobworthAuthenticationApi;
import com.alipay.v3.model.ZhimaCustomerJobworthAuthenticationQueryResponseModel;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The seed's call: new ZhimaCustomerJobworthAuthenticationApi(client).query(9 positional strings). */
public final class Query {
    private Query() {}

    public static ZhimaCustomerJobworthAuthenticationQueryResponseModel run(ApiClient client, Map<String, String> q) throws ApiException {
        return new ZhimaCustomerJobworthAuthenticationApi(client).query(
                q.get("conn_key"), q.get("once_token"), q.get("query_type"), q.get("identity_type"), q.get("service_id"),
                q.get("user_id"), q.get("open_id"), q.get("cert_no"), q.get("cert_type"));
    }

    /** q with some parameters replaced; a null value drops the parameter. */
    public static Map<String, String> with(Map<String, String> q, String... kv) {
        Map<String, String> m = new HashMap<>(q);
        for (int i = 0; i < kv.length; i += 2) {
            if (kv[i + 1] == null) m.remove(kv[i]);
            else m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    /** The query must fail with an ApiException: HTTP status and body code as given. */
    public static ApiException expectError(ApiClient client, Map<String, String> q, int status, String code) {
        ApiException e = assertThrows(ApiException.class, () -> run(client, q), "expected " + code);
        assertApiError(e, status, code);
        return e;
    }

    /** getCode() is the HTTP status, getResponseBody() the gateway's JSON error, with message, links, trace id. */
    public static JsonObject assertApiError(ApiException e, int status, String code) {
        assertEquals(status, e.getCode(), "HTTP status (body: " + e.getResponseBody() + ", message: " + e.getMessage() + ")");
        assertNotNull(e.getResponseBody(), "response body kept: " + e.getMessage());
        JsonObject body = JsonParser.parseString(e.getResponseBody()).getAsJsonObject();
        assertEquals(code, body.get("code").getAsString(), "code in " + e.getResponseBody());
        assertFalse(body.get("message").getAsString().isEmpty(), "message");
        assertTrue(body.has("links"), "links in " + e.getResponseBody());
        List<String> trace = header(e.getResponseHeaders(), "alipay-trace-id");
        assertNotNull(trace, "alipay-trace-id in " + e.getResponseHeaders());
        return body;
    }

    /** A header from the SDK's multimap (OkHttp lower-cases names in toMultimap). */
    public static List<String> header(Map<String, List<String>> headers, String name) {
        if (headers == null) return null;
        for (var en : headers.entrySet()) {
            if (en.getKey() != null && en.getKey().equalsIgnoreCase(name)) return en.getValue();
        }
        return null;
    }
}

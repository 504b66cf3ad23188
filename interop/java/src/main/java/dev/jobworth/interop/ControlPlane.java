package dev.jobworth.interop;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** JSON calls to the sandbox's /sandbox/* control plane, with java.net.http (not the SDK under test). */
public final class ControlPlane {
    private static final Gson GSON = new Gson();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;

    public ControlPlane(String base) {
        this.base = base.replaceAll("/+$", "");
    }

    public String base() {
        return base;
    }

    public record Reply(int status, String body) {
        public JsonElement json() {
            return JsonParser.parseString(body);
        }

        public JsonObject obj() {
            return json().getAsJsonObject();
        }
    }

    public Reply get(String route) {
        return send(HttpRequest.newBuilder(URI.create(base + route)).GET());
    }

    /** POST with a JSON body (null: no body, still application/json as the control plane requires). */
    public Reply post(String route, Object body) {
        String text = body == null ? "" : (body instanceof String s ? s : GSON.toJson(body));
        return send(HttpRequest.newBuilder(URI.create(base + route))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(text)));
    }

    /** POST that must answer {@code expect}; returns the JSON object. */
    public JsonObject postOk(String route, Object body, int expect) {
        Reply r = post(route, body);
        if (r.status() != expect) {
            throw new IllegalStateException("POST " + route + " answered " + r.status() + ", expected " + expect + ": " + r.body());
        }
        return r.obj();
    }

    public JsonElement getOk(String route) {
        Reply r = get(route);
        if (r.status() != 200) {
            throw new IllegalStateException("GET " + route + " answered " + r.status() + ": " + r.body());
        }
        return r.json();
    }

    private Reply send(HttpRequest.Builder b) {
        try {
            HttpResponse<String> res = http.send(b.header("accept", "application/json").timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Reply(res.statusCode(), res.body());
        } catch (IOException e) {
            throw new IllegalStateException("control plane " + base + " unreachable: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** POST /sandbox/apps; public_key as SPKI PEM, encrypt_key optional. */
    public JsonObject registerApp(String appId, String publicKeyPem, String encryptKey) {
        Map<String, String> body = new java.util.LinkedHashMap<>();
        body.put("app_id", appId);
        if (publicKeyPem != null) body.put("public_key", publicKeyPem);
        if (encryptKey != null) body.put("encrypt_key", encryptKey);
        return postOk("/sandbox/apps", body, 201);
    }

    /** POST /sandbox/authentications (the desk skipped). */
    public JsonObject authenticate(String appId, String connKey, String serviceId, String identityType, String onceToken, String persona) {
        Map<String, String> body = new java.util.LinkedHashMap<>();
        body.put("app_id", appId);
        body.put("conn_key", connKey);
        body.put("service_id", serviceId);
        if (identityType != null) body.put("identity_type", identityType);
        if (onceToken != null) body.put("once_token", onceToken);
        body.put("persona", persona);
        return postOk("/sandbox/authentications", body, 201);
    }
}

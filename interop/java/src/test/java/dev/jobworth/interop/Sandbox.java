package dev.jobworth.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** One sandbox process per test class: {@code @RegisterExtension static Sandbox sandbox = new Sandbox();} */
public final class Sandbox implements BeforeAllCallback, AfterAllCallback {
    private final String[] flags;
    private SandboxProcess process;
    public ControlPlane cp;
    public final Map<String, JsonObject> personas = new LinkedHashMap<>();

    public Sandbox(String... flags) {
        this.flags = flags;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    /** What beforeAll does, for a class that runs the sandbox from its own @BeforeAll. */
    public void start() throws Exception {
        process = SandboxProcess.start(flags);
        cp = new ControlPlane(process.base);
        for (JsonElement p : cp.getOk("/sandbox/personas").getAsJsonArray()) {
            personas.put(p.getAsJsonObject().get("persona").getAsString(), p.getAsJsonObject());
        }
    }

    public void stop() {
        if (process != null) process.close();
    }

    public String base() {
        return process.base;
    }

    public String output() {
        return process.output();
    }

    public JsonObject persona(String name) {
        JsonObject p = personas.get(name);
        if (p == null) throw new IllegalArgumentException("no persona " + name + " in " + personas.keySet());
        return p;
    }

    public String userId(String persona) {
        return persona(persona).get("user_id").getAsString();
    }

    /** Registers a fresh app (new RSA-2048 key, SPKI PEM) and checks the documented fields. */
    public TestApp newApp(String encryptKey) {
        AppKeys keys = AppKeys.generate();
        String appId = AppKeys.newAppId();
        JsonObject reg = cp.registerApp(appId, keys.publicSpkiPem(), encryptKey);
        assertEquals(appId, reg.get("app_id").getAsString());
        for (String f : new String[] {"alipay_public_key", "alipay_cert", "alipay_cert_sn", "alipay_root_cert", "alipay_root_cert_sn", "app_cert", "app_cert_sn"}) {
            assertTrue(reg.has(f) && reg.get(f).isJsonPrimitive(), "apps response lacks " + f + ": " + reg);
        }
        return new TestApp(this, appId, keys, reg, encryptKey);
    }

    public TestApp newApp() {
        return newApp(null);
    }
}

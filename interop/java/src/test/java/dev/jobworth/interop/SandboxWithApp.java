package dev.jobworth.interop;

import com.alipay.v3.ApiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * Base of the classes whose tests share one sandbox and one app registered on it, queried with the
 * v3 client the subclass picks: {@code CertModeTest() { super(TestApp::certClient); }}. One test
 * instance per class, so the fields are the class's own, never shared with another class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SandboxWithApp {
    /** The v3 client a class queries its app with: TestApp::keyClient or TestApp::certClient. */
    @FunctionalInterface
    interface ClientOf {
        ApiClient of(TestApp app) throws Exception;
    }

    final Sandbox sandbox = new Sandbox();
    private final ClientOf clientOf;
    TestApp app;
    ApiClient client;

    SandboxWithApp(ClientOf clientOf) {
        this.clientOf = clientOf;
    }

    @BeforeAll
    void startSandboxAndRegisterApp() throws Exception {
        sandbox.start();
        app = sandbox.newApp();
        client = clientOf.of(app);
    }

    @AfterAll
    void stopSandbox() {
        sandbox.stop();
    }
}

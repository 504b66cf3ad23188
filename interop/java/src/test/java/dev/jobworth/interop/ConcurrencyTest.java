package dev.jobworth.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.alipay.v3.ApiClient;
import com.alipay.v3.ApiException;
import com.google.gson.JsonParser;
import dev.jobworth.interop.TestApp.Flow;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.extension.RegisterExtension;

/** 16 Java threads, one ApiClient, one token: exactly one SUCCESS, 15 TOKEN_INVALID. */
class ConcurrencyTest {
    @RegisterExtension
    static Sandbox sandbox = new Sandbox();

    @RepeatedTest(3)
    void oneTerminalTokenSucceedsExactlyOnce() throws Exception {
        TestApp app = sandbox.newApp();
        ApiClient client = app.keyClient();
        Flow flow = app.desk("teacher");
        Map<String, String> q = app.params(flow, "teacher");
        int n = 16;
        CyclicBarrier start = new CyclicBarrier(n);
        AtomicInteger success = new AtomicInteger();
        Map<String, Integer> errors = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                fs.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    try {
                        String r = Query.run(client, q).getIdentityResult();
                        if ("SUCCESS".equals(r)) success.incrementAndGet();
                        else errors.merge("result " + r, 1, Integer::sum);
                    } catch (ApiException e) {
                        String code = e.getCode() == 400 && e.getResponseBody() != null
                                ? JsonParser.parseString(e.getResponseBody()).getAsJsonObject().get("code").getAsString()
                                : "status " + e.getCode() + ": " + e.getMessage();
                        errors.merge(code, 1, Integer::sum);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) f.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, success.get(), "successes; other outcomes: " + errors);
        assertEquals(Map.of("TOKEN_INVALID", n - 1), errors);
    }
}

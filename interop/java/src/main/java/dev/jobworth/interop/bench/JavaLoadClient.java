package dev.jobworth.interop.bench;

import com.alipay.v3.ApiClient;
import com.alipay.v3.api.ZhimaCustomerJobworthAuthenticationApi;
import com.alipay.v3.model.ZhimaCustomerJobworthAuthenticationQueryResponseModel;
import com.alipay.v3.util.AlipayLogger;
import com.google.gson.JsonObject;
import dev.jobworth.interop.AppKeys;
import dev.jobworth.interop.ControlPlane;
import dev.jobworth.interop.Sdk;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The official Java v3 SDK doing what bench/node-client.mjs does: N worker threads in a closed loop,
 * each repeating the query of its own `pending` authentication (WAITING_VERIFY, repeatable) through
 * one shared ApiClient, which signs every request and verifies every response.
 *
 *   java -cp … dev.jobworth.interop.bench.JavaLoadClient --endpoint http://127.0.0.1:PORT
 *        [--concurrency N] [--duration SECS] [--warmup SECS] [--json]
 *
 * Before the clock: one query per worker (opens the connections), then --warmup seconds (default 2)
 * of the same loop so the JIT has compiled the hot path. cpu_secs is this process's CPU time during
 * the timed loop only.
 */
public final class JavaLoadClient {
    private static final String SERVICE_ID = "2019120400000000000004450100";

    private JavaLoadClient() {}

    static final class Args {
        String endpoint;
        int concurrency = 2 * Runtime.getRuntime().availableProcessors();
        double duration = 5;
        double warmup = 2;
        boolean json;
    }

    static void usage(String message) {
        System.err.println("error: " + message);
        System.err.println("usage: java-client.sh --endpoint URL [--concurrency N] [--duration SECS] [--warmup SECS] [--json]");
        System.exit(2);
    }

    static Args parse(String[] argv) {
        Args a = new Args();
        for (int i = 0; i < argv.length; i++) {
            String k = argv[i];
            if (k.equals("--json")) {
                a.json = true;
                continue;
            }
            if (i + 1 >= argv.length) usage(k + " needs a value");
            String v = argv[++i];
            try {
                switch (k) {
                    case "--endpoint" -> a.endpoint = v.replaceAll("/+$", "");
                    case "--concurrency" -> a.concurrency = Integer.parseInt(v);
                    case "--duration" -> a.duration = Double.parseDouble(v);
                    case "--warmup" -> a.warmup = Double.parseDouble(v);
                    default -> usage("unknown argument " + k);
                }
            } catch (NumberFormatException e) {
                usage(k + " needs a number, got " + v);
            }
        }
        if (a.endpoint == null) usage("--endpoint is required");
        String host = URI.create(a.endpoint).getHost();
        if (!Set.of("127.0.0.1", "localhost", "[::1]", "::1").contains(host)) usage("--endpoint must be a loopback address");
        if (a.concurrency < 1 || a.concurrency > 1024) usage("--concurrency must be an integer from 1 to 1024");
        if (!(a.duration > 0 && a.duration <= 3600)) usage("--duration must be a number of seconds (0 < s <= 3600)");
        if (!(a.warmup >= 0 && a.warmup <= 600)) usage("--warmup must be a number of seconds (0 <= s <= 600)");
        return a;
    }

    /** One worker's query, as the seed calls it. */
    record Q(String connKey, String onceToken, String userId) {}

    static void once(ZhimaCustomerJobworthAuthenticationApi api, Q q) throws Exception {
        ZhimaCustomerJobworthAuthenticationQueryResponseModel r = api.query(q.connKey, q.onceToken, "exact", "04", SERVICE_ID, q.userId, null, null, null);
        if (!"WAITING_VERIFY".equals(r.getIdentityResult())) throw new IllegalStateException("expected WAITING_VERIFY, got " + r);
    }

    /** Latencies in microseconds of one worker, growable without boxing. */
    static final class Lat {
        long[] v = new long[1 << 14];
        int n;

        void add(long x) {
            if (n == v.length) v = Arrays.copyOf(v, n * 2);
            v[n++] = x;
        }
    }

    public static void main(String[] argv) throws Exception {
        Args args = parse(argv);
        AlipayLogger.setNeedEnableLogger(false); // the SDK logs every call otherwise
        ControlPlane cp = new ControlPlane(args.endpoint);
        AppKeys keys = AppKeys.generate();
        String appId = AppKeys.newAppId();
        JsonObject app = cp.registerApp(appId, keys.publicSpkiPem(), null);
        ApiClient client = Sdk.keyMode(args.endpoint, appId, keys, app.get("alipay_public_key").getAsString(), null);
        ZhimaCustomerJobworthAuthenticationApi api = new ZhimaCustomerJobworthAuthenticationApi(client);
        String tag = Long.toHexString(System.nanoTime());
        List<Q> queries = new ArrayList<>();
        for (int i = 0; i < args.concurrency; i++) {
            JsonObject auth = cp.authenticate(appId, "java-bench-" + tag + "-" + i, SERVICE_ID, "04", null, "pending");
            queries.add(new Q(auth.get("conn_key").getAsString(), auth.get("once_token").getAsString(), auth.get("user_id").getAsString()));
        }

        // Warm-up: one query per worker (connections), then a timed-out loop for the JIT; none of it is measured.
        runLoop(api, queries, null, System.nanoTime() + 1, true);
        runLoop(api, queries, null, System.nanoTime() + (long) (args.warmup * 1e9), false);

        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Lat[] lats = new Lat[args.concurrency];
        for (int i = 0; i < lats.length; i++) lats[i] = new Lat();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        long deadline = t0 + (long) (args.duration * 1e9);
        Result r = runLoop(api, queries, lats, deadline, false);
        long elapsedNs = System.nanoTime() - t0;
        long cpu1 = os.getProcessCpuTime();

        int total = 0;
        for (Lat l : lats) total += l.n;
        if (total == 0) {
            System.err.println("error: no query succeeded: " + r.firstError.get());
            System.exit(4);
        }
        if (r.errors.get() > 0) System.err.println("warning: " + r.errors.get() + " queries failed; first: " + r.firstError.get());
        long[] all = new long[total];
        int at = 0;
        for (Lat l : lats) {
            System.arraycopy(l.v, 0, all, at, l.n);
            at += l.n;
        }
        Arrays.sort(all);
        double elapsed = elapsedNs / 1e9;
        StringBuilder out = new StringBuilder("{");
        field(out, "requests_per_sec", round(total / elapsed, 1));
        field(out, "p50_ms", round(quantile(all, 0.5) / 1000.0, 3));
        field(out, "p99_ms", round(quantile(all, 0.99) / 1000.0, 3));
        field(out, "requests", total);
        field(out, "errors", r.errors.get());
        field(out, "duration_secs", round(elapsed, 3));
        field(out, "concurrency", args.concurrency);
        Double rss = peakRssMib();
        if (rss != null) field(out, "peak_rss_mib", round(rss, 1));
        field(out, "cpu_secs", round((cpu1 - cpu0) / 1e9, 3));
        out.append("\"client\":").append(new com.google.gson.Gson().toJson(clientName())).append('}');
        if (args.json) {
            System.out.println(out);
        } else {
            System.out.println("java alipay-sdk-java-v3 — " + args.concurrency + " workers for " + round(elapsed, 3) + "s against " + args.endpoint);
            com.google.gson.JsonParser.parseString(out.toString()).getAsJsonObject().entrySet()
                    .forEach(e -> System.out.printf(Locale.ROOT, "  %-16s %s%n", e.getKey(), e.getValue().isJsonPrimitive() ? e.getValue().getAsString() : e.getValue()));
        }
        System.exit(0);
    }

    record Result(AtomicLong errors, AtomicReference<String> firstError) {}

    /** Runs every worker until deadline (or exactly once each with single); records latencies when lats != null. */
    static Result runLoop(ZhimaCustomerJobworthAuthenticationApi api, List<Q> queries, Lat[] lats, long deadline, boolean single) throws InterruptedException {
        AtomicLong errors = new AtomicLong();
        AtomicReference<String> first = new AtomicReference<>();
        Thread[] ts = new Thread[queries.size()];
        for (int i = 0; i < ts.length; i++) {
            Q q = queries.get(i);
            Lat lat = lats == null ? null : lats[i];
            ts[i] = new Thread(() -> {
                do {
                    long s = System.nanoTime();
                    try {
                        once(api, q);
                        if (lat != null) lat.add((System.nanoTime() - s) / 1000);
                    } catch (Exception e) {
                        if (single) throw new IllegalStateException("warm-up query failed: " + e.getMessage(), e);
                        errors.incrementAndGet();
                        first.compareAndSet(null, String.valueOf(e.getMessage()));
                    }
                } while (!single && System.nanoTime() < deadline);
            }, "bench-worker-" + i);
        }
        AtomicReference<Throwable> crash = new AtomicReference<>();
        for (Thread t : ts) {
            t.setUncaughtExceptionHandler((th, e) -> crash.compareAndSet(null, e));
            t.start();
        }
        for (Thread t : ts) t.join();
        if (crash.get() != null) {
            System.err.println("error: " + crash.get().getMessage());
            System.exit(1);
        }
        return new Result(errors, first);
    }

    static long quantile(long[] sorted, double q) {
        int rank = (int) Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
        return sorted[rank - 1];
    }

    static double round(double v, int d) {
        double p = Math.pow(10, d);
        return Math.round(v * p) / p;
    }

    static void field(StringBuilder b, String k, Object v) {
        b.append('"').append(k).append("\":").append(v).append(',');
    }

    /** VmHWM of this process (Linux), like node's resourceUsage().maxRSS. */
    static Double peakRssMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return null;
    }

    static String clientName() {
        String v = "?";
        try (InputStream in = ApiClient.class.getResourceAsStream("/META-INF/maven/com.alipay.sdk/alipay-sdk-java-v3/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                v = p.getProperty("version", "?");
            }
        } catch (IOException ignored) {
            // unknown version
        }
        return "alipay-sdk-java-v3 " + v + " on Java " + System.getProperty("java.version");
    }
}

package dev.jobworth.interop;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code $JOBWORTH_BIN sandbox --listen 127.0.0.1:0 --data <fresh temp dir> ...flags}; ready once it
 * printed {@code listening on http://HOST:PORT}. close() sends SIGTERM, then kills, and removes the data dir.
 */
public final class SandboxProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://\\S+)");

    public final String base;
    public final Path dataDir;
    private final Process process;
    private final StringBuffer output = new StringBuffer();

    /** The jobworth binary: $JOBWORTH_BIN, required — a missing binary fails the run, it is never skipped. */
    public static Path bin() {
        String env = System.getenv("JOBWORTH_BIN");
        if (env == null || env.isBlank()) {
            throw new IllegalStateException("JOBWORTH_BIN is not set: point it at a jobworth binary "
                    + "(cargo build -p jobworth-cli, then JOBWORTH_BIN=$PWD/target/debug/jobworth)");
        }
        Path p = Path.of(env).toAbsolutePath();
        if (!Files.isExecutable(p)) {
            throw new IllegalStateException("JOBWORTH_BIN=" + env + " is not an executable file");
        }
        return p;
    }

    public static SandboxProcess start(String... flags) throws IOException, InterruptedException {
        return new SandboxProcess(flags);
    }

    private SandboxProcess(String... flags) throws IOException, InterruptedException {
        Path bin = bin();
        dataDir = Files.createTempDirectory("jobworth-interop-java-");
        List<String> cmd = new ArrayList<>(List.of(bin.toString(), "sandbox", "--listen", "127.0.0.1:0", "--data", dataDir.toString()));
        cmd.addAll(List.of(flags));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putIfAbsent("RUST_LOG", "warn");
        process = pb.start();
        CompletableFuture<String> url = new CompletableFuture<>();
        drain(process.getInputStream(), url);
        drain(process.getErrorStream(), null);
        try {
            base = url.get(30, TimeUnit.SECONDS).replaceAll("/+$", "");
        } catch (Exception e) {
            close();
            throw new IllegalStateException("sandbox did not print \"listening on\" within 30 s (" + e + "); output:\n" + output, e);
        }
    }

    // Keeps reading so a chatty sandbox never blocks on a full pipe.
    private void drain(InputStream in, CompletableFuture<String> url) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (output.length() < 1 << 20) output.append(line).append('\n');
                    if (url != null && !url.isDone()) {
                        Matcher m = LISTENING.matcher(line);
                        if (m.find()) url.complete(m.group(1));
                    }
                }
            } catch (IOException ignored) {
                // the process is gone
            }
            if (url != null) url.completeExceptionally(new IllegalStateException("sandbox output ended"));
        }, "sandbox-drain");
        t.setDaemon(true);
        t.start();
    }

    public String output() {
        return output.toString();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> walk = Files.walk(dataDir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // already gone
        }
    }
}

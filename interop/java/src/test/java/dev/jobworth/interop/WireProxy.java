package dev.jobworth.interop;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A loopback HTTP/1.1 man-in-the-middle between the SDK and the sandbox, on raw sockets so that it
 * sees header names exactly as the client wrote them. One request per connection (it answers with
 * connection: close); it records every exchange and can rewrite responses or delay requests.
 */
public final class WireProxy implements AutoCloseable {
    /** A raw HTTP message: start line, headers in wire order and case, body bytes. */
    public static final class Message {
        public final String startLine;
        public final List<Map.Entry<String, String>> headers;
        public byte[] body;

        Message(String startLine, List<Map.Entry<String, String>> headers, byte[] body) {
            this.startLine = startLine;
            this.headers = headers;
            this.body = body;
        }

        public String header(String name) {
            for (var h : headers) if (h.getKey().equalsIgnoreCase(name)) return h.getValue();
            return null;
        }

        public void setHeader(String name, String value) {
            headers.removeIf(h -> h.getKey().equalsIgnoreCase(name));
            if (value != null) headers.add(Map.entry(name, value));
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The request-target of a request line. */
        public String target() {
            return startLine.split(" ")[1];
        }

        public int status() {
            return Integer.parseInt(startLine.split(" ")[1]);
        }
    }

    public record Exchange(Message request, Message response) {}

    /** A response rewrite: header {@code name} becomes what {@code change} makes of its value (null drops it). */
    public static UnaryOperator<Message> header(String name, UnaryOperator<String> change) {
        return m -> {
            m.setHeader(name, change.apply(m.header(name)));
            return m;
        };
    }

    /** A response rewrite: every {@code from} in the body becomes {@code to}. */
    public static UnaryOperator<Message> replaceInBody(String from, String to) {
        return m -> {
            m.body = m.bodyText().replace(from, to).getBytes(StandardCharsets.UTF_8);
            return m;
        };
    }

    private final ServerSocket server;
    private final String upstreamHost;
    private final int upstreamPort;
    public final List<Exchange> exchanges = Collections.synchronizedList(new ArrayList<>());
    public volatile UnaryOperator<Message> responseRewrite = UnaryOperator.identity();
    public volatile long delayMillis = 0;

    public WireProxy(String upstreamBase) throws IOException {
        URI u = URI.create(upstreamBase);
        upstreamHost = u.getHost();
        upstreamPort = u.getPort();
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread t = new Thread(this::acceptLoop, "wire-proxy");
        t.setDaemon(true);
        t.start();
    }

    public String base() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    public Exchange last() {
        synchronized (exchanges) {
            return exchanges.get(exchanges.size() - 1);
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> handle(s), "wire-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void handle(Socket client) {
        try (client) {
            Message req = read(client.getInputStream(), true);
            if (req == null) return;
            if (delayMillis > 0) Thread.sleep(delayMillis);
            Message res = send(req);
            exchanges.add(new Exchange(req, res));
            Message out = responseRewrite.apply(res);
            write(client.getOutputStream(), out);
        } catch (IOException | InterruptedException e) {
            // client went away
        }
    }

    /** Sends a recorded request to the sandbox again, byte for byte (apart from connection: close). */
    public Message send(Message req) throws IOException {
        try (Socket up = new Socket(upstreamHost, upstreamPort)) {
            List<Map.Entry<String, String>> hs = new ArrayList<>(req.headers);
            Message fwd = new Message(req.startLine, hs, req.body);
            fwd.setHeader("Connection", "close");
            write(up.getOutputStream(), fwd);
            return read(up.getInputStream(), false);
        }
    }

    private static void write(OutputStream out, Message m) throws IOException {
        StringBuilder head = new StringBuilder(m.startLine).append("\r\n");
        boolean isResponse = m.startLine.startsWith("HTTP/");
        Message copy = new Message(m.startLine, new ArrayList<>(m.headers), m.body);
        copy.setHeader("Transfer-Encoding", null);
        if (m.body.length > 0 || isResponse || m.header("content-length") != null) copy.setHeader("content-length", Integer.toString(m.body.length));
        if (isResponse) copy.setHeader("connection", "close");
        for (var h : copy.headers) head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        head.append("\r\n");
        out.write(head.toString().getBytes(StandardCharsets.UTF_8));
        out.write(m.body);
        out.flush();
    }

    private static Message read(InputStream in, boolean request) throws IOException {
        ByteArrayOutputStream headBuf = new ByteArrayOutputStream();
        int last4 = 0;
        while (last4 != 0x0D0A0D0A) {
            int b = in.read();
            if (b < 0) {
                if (headBuf.size() == 0) return null;
                throw new IOException("connection closed inside the head");
            }
            headBuf.write(b);
            last4 = (last4 << 8) | b;
        }
        String[] lines = headBuf.toString(StandardCharsets.UTF_8).split("\r\n");
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) headers.add(new java.util.AbstractMap.SimpleEntry<>(lines[i].substring(0, c), lines[i].substring(c + 1).trim()));
        }
        Message m = new Message(lines[0], headers, new byte[0]);
        String te = m.header("transfer-encoding");
        String cl = m.header("content-length");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            m.body = readChunked(in);
        } else if (cl != null) {
            m.body = in.readNBytes(Integer.parseInt(cl));
        } else if (!request) {
            m.body = in.readAllBytes();
        }
        return m;
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            String size = readLine(in);
            int n = Integer.parseInt(size.split(";")[0].trim(), 16);
            if (n == 0) {
                while (!readLine(in).isEmpty()) { /* trailers */ }
                return out.toByteArray();
            }
            out.write(in.readNBytes(n));
            readLine(in);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') if (c != '\r') b.write(c);
        return b.toString(StandardCharsets.UTF_8);
    }

    /** Header names of a message, in wire order and case. */
    public static List<String> names(Message m) {
        List<String> n = new ArrayList<>();
        for (var h : m.headers) n.add(h.getKey());
        return n;
    }

    static Map<String, String> lower(Message m) {
        Map<String, String> r = new LinkedHashMap<>();
        for (var h : m.headers) r.put(h.getKey().toLowerCase(Locale.ROOT), h.getValue());
        return r;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}

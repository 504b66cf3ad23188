// The official Alipay Node SDK (`alipay-sdk`, installed in ../interop) doing what `jobworth bench`
// does: N concurrent workers in a closed loop, each repeating the v3 query of its own `pending`
// authentication (WAITING_VERIFY, repeatable) through the SDK's `curl()`, which signs every request
// and verifies every response.
//
//   node bench/node-client.mjs --endpoint http://127.0.0.1:PORT [--concurrency N] [--duration SECS] [--json]
//
// The endpoint must be a `jobworth sandbox` whose control plane answers this process: the script
// registers its own app and creates its authentications there. Loopback only; the loop ends at the
// deadline.
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(new URL('../interop/package.json', import.meta.url));
let AlipaySdk;
try {
  ({ AlipaySdk } = require('alipay-sdk'));
} catch (err) {
  console.error(`cannot load alipay-sdk from interop/node_modules (run \`npm ci\` in interop/): ${err.message}`);
  process.exit(2);
}

const QUERY_PATH = '/v3/zhima/customer/jobworth/authentication';
const SERVICE_ID = '2019120400000000000004450100';

function parseArgs(argv) {
  const args = { endpoint: null, concurrency: 2 * os.availableParallelism(), duration: 5, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--endpoint') args.endpoint = value().replace(/\/+$/, '');
    else if (a === '--concurrency') args.concurrency = Number(value());
    else if (a === '--duration') args.duration = Number(value());
    else if (a === '--json') args.json = true;
    else usage(`unknown argument ${a}`);
  }
  if (!args.endpoint) usage('--endpoint is required');
  const host = new URL(args.endpoint).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) usage('--endpoint must be a loopback address');
  if (!Number.isInteger(args.concurrency) || args.concurrency < 1 || args.concurrency > 1024) {
    usage('--concurrency must be an integer from 1 to 1024');
  }
  if (!(args.duration > 0 && args.duration <= 3600)) usage('--duration must be a number of seconds (0 < s <= 3600)');
  return args;
}

function usage(message) {
  console.error(`error: ${message}`);
  console.error('usage: node bench/node-client.mjs --endpoint URL [--concurrency N] [--duration SECS] [--json]');
  process.exit(2);
}

async function post(base, route, body) {
  const res = await fetch(`${base}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`POST ${route} answered HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  return JSON.parse(text);
}

function quantile(sorted, q) {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const appId = `2021${crypto.randomInt(0, 1e12).toString().padStart(12, '0')}`;
  const app = await post(args.endpoint, '/sandbox/apps', {
    app_id: appId,
    public_key: publicKey.export({ type: 'spki', format: 'pem' }),
  });
  // The way the SDK's README configures it: PEM strings.
  const sdk = new AlipaySdk({
    appId,
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }),
    alipayPublicKey: app.alipay_public_key,
    endpoint: args.endpoint,
    timeout: 10_000,
  });
  const tag = crypto.randomBytes(4).toString('hex');
  const queries = [];
  for (let i = 0; i < args.concurrency; i++) {
    const auth = await post(args.endpoint, '/sandbox/authentications', {
      app_id: appId,
      conn_key: `node-bench-${tag}-${i}`,
      service_id: SERVICE_ID,
      identity_type: '04',
      persona: 'pending',
    });
    queries.push({
      conn_key: auth.conn_key,
      once_token: auth.once_token,
      query_type: 'exact',
      identity_type: '04',
      service_id: SERVICE_ID,
      user_id: auth.user_id,
    });
  }

  const once = async (query) => {
    const res = await sdk.curl('GET', QUERY_PATH, { query });
    if (res.data?.identity_result !== 'WAITING_VERIFY') {
      throw new Error(`expected WAITING_VERIFY, got ${JSON.stringify(res.data)}`);
    }
  };
  // Warm-up: one query per worker opens the keep-alive connections before the clock starts.
  await Promise.all(queries.map(once));

  const latencies = [];
  let errors = 0;
  let firstError = null;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(args.duration * 1e9));
  const progress = process.stderr.isTTY
    ? setInterval(() => {
        const secs = Number(process.hrtime.bigint() - started) / 1e9;
        process.stderr.write(
          `\r\x1b[K[node] ${secs.toFixed(1)}/${args.duration}s  ${latencies.length} requests  ${(latencies.length / secs).toFixed(0)} req/s`,
        );
      }, 200)
    : null;
  await Promise.all(
    queries.map(async (query) => {
      while (process.hrtime.bigint() < deadline) {
        const t0 = process.hrtime.bigint();
        try {
          await once(query);
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        } catch (err) {
          errors++;
          firstError ??= err.message;
        }
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  if (progress) {
    clearInterval(progress);
    process.stderr.write('\r\x1b[K');
  }
  if (latencies.length === 0) {
    console.error(`error: no query succeeded: ${firstError}`);
    process.exit(4);
  }
  if (errors > 0) console.error(`warning: ${errors} queries failed; first: ${firstError}`);
  latencies.sort((a, b) => a - b);
  const round = (v, d) => Math.round(v * 10 ** d) / 10 ** d;
  const report = {
    requests_per_sec: round(latencies.length / elapsed, 1),
    p50_ms: round(quantile(latencies, 0.5), 3),
    p99_ms: round(quantile(latencies, 0.99), 3),
    requests: latencies.length,
    errors,
    duration_secs: round(elapsed, 3),
    concurrency: args.concurrency,
    peak_rss_mib: round(process.resourceUsage().maxRSS / 1024, 1),
    // Process CPU (user + system) during the timed loop only.
    cpu_secs: round((cpu.user + cpu.system) / 1e6, 3),
    client: `alipay-sdk ${require('alipay-sdk/package.json').version} on node ${process.version}`,
  };
  if (args.json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(`node alipay-sdk — ${args.concurrency} workers for ${report.duration_secs}s against ${args.endpoint}`);
    for (const [k, v] of Object.entries(report)) console.log(`  ${k.padEnd(16)} ${v}`);
  }
}

main().catch((err) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});

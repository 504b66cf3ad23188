// Shared helpers for the interop suite: start/stop the sandbox binary, talk to its control
// plane, make app keys, drive the official SDK, run the Rust cross-check example, and open pages
// in the system Chromium.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AlipaySdk, AlipayRequestError } from 'alipay-sdk';
import { chromium } from 'playwright-core';

export { AlipaySdk, AlipayRequestError };

export const INTEROP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(INTEROP_DIR, '..');
export const TARGET_DIR = process.env.CARGO_TARGET_DIR
  ? path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR)
  : path.join(REPO_ROOT, 'target');
export const FIXTURES = path.join(REPO_ROOT, 'crates/alipay-v3/tests/fixtures');

export const QUERY_PATH = '/v3/zhima/customer/jobworth/authentication';
export const ORDER_METHOD = 'zhima.credit.payafteruse.creditagreement.sign';
export const PERSONAS = ['teacher', 'not-teacher', 'pending', 'blacklisted', 'no-zhima', 'no-jobworth', 'risk'];

/** The system Chromium the browser tests drive, and its flags for a closed network and a root user. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const MISSING_CHROMIUM =
  `Chromium not found at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` ` +
  'or point CHROMIUM_PATH at a Chromium binary. This test does not skip.';

/** A test of its own, so a missing browser is counted as a failure, never just "cancelled". */
export function chromiumIsInstalled() {
  test('Chromium is installed', () => {
    assert.ok(existsSync(CHROMIUM), MISSING_CHROMIUM);
  });
}

/** Launches Chromium; playwright-core gives every launch a fresh, empty profile directory. */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** A page that records script errors and refuses (and records) any non-loopback request. */
export async function guardedPage(browser, viewport = { width: 1100, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN' });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.protocol === 'data:') {
      return route.continue();
    }
    problems.push(`external request refused: ${url.href}`);
    return route.abort();
  });
  return { context, page, problems };
}

/** Path of the `jobworth` binary under test. */
export function jobworthBin() {
  return process.env.JOBWORTH_BIN
    ? path.resolve(INTEROP_DIR, process.env.JOBWORTH_BIN)
    : path.join(TARGET_DIR, 'debug', 'jobworth');
}

// Children still running when the process exits (a crashed test) are killed, not leaked.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Starts `jobworth sandbox --listen 127.0.0.1:0 --data <fresh temp dir> ...flags` and resolves
 * once it printed `listening on http://HOST:PORT`. `stop()` ends it and removes the data dir.
 */
export async function startSandbox({ flags = [], timeoutMs = 30_000 } = {}) {
  const bin = jobworthBin();
  if (!existsSync(bin)) {
    throw new Error(
      `jobworth binary not found at ${bin}: build it with \`cargo build -p jobworth-cli\` or set JOBWORTH_BIN`,
    );
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'jobworth-interop-'));
  const args = ['sandbox', '--listen', '127.0.0.1:0', '--data', dataDir, ...flags];
  const child = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  live.add(child);
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => live.delete(child));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const base = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`sandbox did not print "listening on" within ${timeoutMs} ms; output:\n${output}`)),
        timeoutMs,
      );
      const onData = (chunk) => {
        output += chunk.toString();
        const m = output.match(/listening on (http:\/\/[^\s]+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1].replace(/\/+$/, ''));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk) => {
        output += chunk.toString();
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot start ${bin}: ${err.message}`));
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`sandbox exited (code ${code}, signal ${signal}) before listening; output:\n${output}`));
      });
    });
    // Keep draining the pipes so a chatty sandbox never blocks on a full pipe.
    child.stdout.resume();
    child.stderr.resume();
    return { base, dataDir, stop, output: () => output };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One JSON call to the sandbox's control plane. Returns {status, headers, text, json}. */
export async function api(base, method, route, body, { headers = {} } = {}) {
  const init = { method, headers: { accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  // The control plane refuses a POST that is not declared JSON (a web page can send text/plain
  // without a preflight), body or not.
  if (method === 'POST' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${base}${route}`, init);
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Like `api` but asserts the status and returns the parsed JSON. */
export async function apiOk(base, method, route, body, expectStatus = 200) {
  const res = await api(base, method, route, body);
  assert.equal(
    res.status,
    expectStatus,
    `${method} ${route} answered ${res.status}, expected ${expectStatus}: ${res.text.slice(0, 500)}`,
  );
  return res.json;
}

/** A fresh RSA-2048 app key pair in the forms the SDK and the sandbox take. */
export function generateAppKeys() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey,
    publicKey,
    privatePkcs1Pem: privateKey.export({ type: 'pkcs1', format: 'pem' }),
    privatePkcs8Pem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    publicSpkiPem: publicKey.export({ type: 'spki', format: 'pem' }),
    publicSpkiBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** A random 16-digit app id of the usual `2021…` shape. */
export function newAppId() {
  return `2021${crypto.randomInt(0, 1e12).toString().padStart(12, '0')}`;
}

/** Unique step-1 identifiers for one flow. */
export function newFlowIds() {
  const tag = crypto.randomBytes(6).toString('hex');
  return {
    outAgreementNo: `conn-${tag}`,
    onceToken: `tok-${crypto.randomBytes(12).toString('hex')}`,
    serviceId: '2019120400000000000004450100',
  };
}

/** `POST /sandbox/apps`; asserts 201 and the documented fields. */
export async function registerApp(base, { appId, publicKey, encryptKey } = {}) {
  const body = { app_id: appId };
  if (publicKey !== undefined) body.public_key = publicKey;
  if (encryptKey !== undefined) body.encrypt_key = encryptKey;
  const res = await apiOk(base, 'POST', '/sandbox/apps', body, 201);
  assert.equal(res.app_id, appId);
  for (const field of [
    'alipay_public_key',
    'alipay_cert',
    'alipay_cert_sn',
    'alipay_root_cert',
    'alipay_root_cert_sn',
  ]) {
    assert.equal(typeof res[field], 'string', `apps response lacks ${field}: ${JSON.stringify(res)}`);
  }
  return res;
}

/** An official SDK client in key mode against the sandbox. */
export function keyModeSdk({ base, appId, keys, alipayPublicKey, ...rest }) {
  return new AlipaySdk({
    appId,
    privateKey: keys.privatePkcs1Pem,
    alipayPublicKey,
    endpoint: base,
    timeout: 10_000,
    ...rest,
  });
}

/** The official SDK in certificate mode with the certificates the registration `app` issued. */
export function certModeSdk({ base, appId, keys, app, ...rest }) {
  return new AlipaySdk({
    appId,
    // PKCS#8 PEM needs keyType PKCS8 in the Node SDK.
    privateKey: keys.privatePkcs8Pem,
    keyType: 'PKCS8',
    appCertContent: app.app_cert,
    alipayPublicCertContent: app.alipay_cert,
    alipayRootCertContent: app.alipay_root_cert,
    endpoint: base,
    timeout: 10_000,
    ...rest,
  });
}

/**
 * What most test files start from: a fresh sandbox (`sandbox.stop()` ends it), one app registered
 * with a new key, the key-mode SDK for that app, and the personas by name. `publicKeyForm: 'base64'`
 * registers the key as bare base64 SPKI instead of PEM; `encryptKey` goes to both the app and the SDK.
 */
export async function sandboxWithApp({ flags, publicKeyForm = 'pem', encryptKey } = {}) {
  const sandbox = await startSandbox({ flags });
  try {
    const { base } = sandbox;
    const keys = generateAppKeys();
    const appId = newAppId();
    const publicKey = publicKeyForm === 'base64' ? keys.publicSpkiBase64 : keys.publicSpkiPem;
    const app = await registerApp(base, { appId, publicKey, encryptKey });
    const aes = encryptKey === undefined ? {} : { encryptKey };
    const sdk = keyModeSdk({ base, appId, keys, alipayPublicKey: app.alipay_public_key, ...aes });
    const personas = {};
    for (const p of await apiOk(base, 'GET', '/sandbox/personas')) personas[p.persona] = p;
    return { sandbox, base, keys, appId, app, sdk, personas };
  } catch (err) {
    await sandbox.stop();
    throw err;
  }
}

/** The step-1 order string made by the official SDK (extra_param as a JSON *string*). */
export function orderString(sdk, { outAgreementNo, serviceId, onceToken, identityType = '04' }) {
  const extra = {};
  if (onceToken != null) extra.onceToken = onceToken;
  if (identityType != null) extra.identityType = identityType;
  return sdk.sdkExecute(ORDER_METHOD, {
    bizContent: {
      out_agreement_no: outAgreementNo,
      zm_service_id: serviceId,
      extra_param: JSON.stringify(extra),
    },
  });
}

/** `POST /sandbox/desk`; asserts 201 and the documented fields. */
export async function openDesk(base, orderStr) {
  const desk = await apiOk(base, 'POST', '/sandbox/desk', { order_str: orderStr }, 201);
  for (const field of ['desk_id', 'desk_url', 'conn_key', 'once_token']) {
    assert.equal(typeof desk[field], 'string', `desk response lacks ${field}: ${JSON.stringify(desk)}`);
  }
  return desk;
}

export async function completeDesk(base, deskId, persona) {
  return apiOk(base, 'POST', `/sandbox/desk/${encodeURIComponent(deskId)}/complete`, { persona });
}

/**
 * The whole step 1 with the official SDK: order string → desk → completed as `persona`
 * (or left open when persona is null). Returns the ids a query needs.
 */
export async function runDesk(base, sdk, { persona = 'teacher', identityType = '04', onceToken } = {}) {
  const ids = newFlowIds();
  if (onceToken !== undefined) ids.onceToken = onceToken;
  const orderStr = orderString(sdk, { ...ids, identityType });
  const desk = await openDesk(base, orderStr);
  assert.equal(desk.conn_key, ids.outAgreementNo, 'conn_key must be the out_agreement_no of step 1');
  if (ids.onceToken != null) assert.equal(desk.once_token, ids.onceToken, 'once_token must be extra_param.onceToken');
  else assert.ok(desk.once_token.length > 0, 'the sandbox generates a once_token when step 1 has none');
  let completed;
  if (persona) completed = await completeDesk(base, desk.desk_id, persona);
  return {
    ...ids,
    identityType: identityType ?? '04',
    orderStr,
    desk,
    completed,
    connKey: desk.conn_key,
    onceToken: desk.once_token,
  };
}

/** The query parameters in the API's names; `override` replaces or (with undefined) drops some. */
export function queryParams(flow, user, override = {}) {
  const q = {
    conn_key: flow.connKey,
    once_token: flow.onceToken,
    query_type: 'exact',
    identity_type: flow.identityType ?? '04',
    service_id: flow.serviceId,
  };
  if (user?.user_id) q.user_id = user.user_id;
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) delete q[k];
    else q[k] = v;
  }
  return q;
}

/** The v3 query through the official SDK's `curl` (queries only via options.query). */
export function sdkQuery(sdk, query, options = {}) {
  return sdk.curl('GET', QUERY_PATH, { query, ...options });
}

/** Asserts `promise` rejects with the SDK's AlipayRequestError carrying `code` (and `status`). */
export async function expectSdkError(promise, code, { status, messageIncludes } = {}) {
  let caught;
  try {
    const res = await promise;
    assert.fail(`expected AlipayRequestError ${code}, got success: ${JSON.stringify(res?.data)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    caught = err;
  }
  assert.ok(
    caught instanceof AlipayRequestError,
    `expected AlipayRequestError ${code}, got ${caught?.name}: ${caught?.message}`,
  );
  assert.equal(caught.code, code, `error code (message: ${caught.message})`);
  if (status !== undefined) assert.equal(caught.responseHttpStatus, status, `HTTP status of ${code}`);
  if (messageIncludes !== undefined) {
    assert.ok(
      caught.message.toLowerCase().includes(messageIncludes.toLowerCase()),
      `message of ${code} should mention "${messageIncludes}": ${caught.message}`,
    );
  }
  return caught;
}

/** Checks an API error the SDK parsed from a ≥ 400 body: message, links, trace id. */
export function assertApiErrorShape(err) {
  assert.equal(typeof err.message, 'string');
  assert.ok(err.message.replace(/ \(traceId: .*\)$/, '').length > 0, 'error message must not be empty');
  assert.ok(err.traceId, 'the SDK reports alipay-trace-id as traceId');
  assert.equal(err.responseHttpHeaders['alipay-trace-id'], err.traceId, 'traceId comes from alipay-trace-id');
  assert.ok(Array.isArray(err.links), `links must be an array of {link, desc}: ${JSON.stringify(err.links)}`);
  for (const l of err.links) {
    assert.equal(typeof l.link, 'string', `link entry: ${JSON.stringify(l)}`);
    assert.equal(typeof l.desc, 'string', `link entry: ${JSON.stringify(l)}`);
  }
}

/** Check digit rule of an 18-digit Chinese resident ID (GB 11643). */
export function validResidentId(id) {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
  return '10X98765432'[sum % 11] === id[17];
}

/** Reads a fixture file (public test data from the official SDK's tests). */
export function fixture(name) {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

/** Path of the Rust cross-check example. */
export function signCorpusBin() {
  return process.env.SIGN_CORPUS_BIN
    ? path.resolve(INTEROP_DIR, process.env.SIGN_CORPUS_BIN)
    : path.join(TARGET_DIR, 'debug', 'examples', 'sign_corpus');
}

/** Runs `sign_corpus` over `cases` and returns its results, one per case. */
export function rustCorpus(cases) {
  const bin = signCorpusBin();
  if (!existsSync(bin)) {
    throw new Error(
      `sign_corpus example not found at ${bin}: build it with \`cargo build -p alipay-v3 --example sign_corpus\``,
    );
  }
  const run = spawnSync(bin, [], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.error) throw run.error;
  assert.equal(run.status, 0, `sign_corpus exited ${run.status}: ${run.stdout}\n${run.stderr}`);
  const results = JSON.parse(run.stdout);
  assert.equal(results.length, cases.length, 'one result per case');
  return results;
}

// --- the protocol, written out independently with node's crypto (request string-to-sign, authorization header, response string-to-sign) ---

export function requestStringToSign({ authString, method, requestUri, body, appAuthToken }) {
  let s = `${authString}\n${method.toUpperCase()}\n${requestUri}\n${body}\n`;
  if (appAuthToken) s += `${appAuthToken}\n`;
  return s;
}

export function nodeSign(privateKey, text) {
  return crypto.createSign('RSA-SHA256').update(text, 'utf8').sign(privateKey, 'base64');
}

export function nodeVerify(publicKey, text, signatureB64) {
  return crypto.verify('sha256', Buffer.from(text, 'utf8'), publicKey, Buffer.from(signatureB64, 'base64'));
}

/** Splits `ALIPAY-SHA256withRSA authString,sign=…` at the last `,sign=`. */
export function parseAuthorization(header) {
  const prefix = 'ALIPAY-SHA256withRSA ';
  assert.ok(header.startsWith(prefix), `authorization scheme: ${header}`);
  const rest = header.slice(prefix.length);
  const i = rest.lastIndexOf(',sign=');
  assert.ok(i > 0, `authorization has no ,sign=: ${header}`);
  const authString = rest.slice(0, i);
  const fields = Object.fromEntries(
    authString.split(',').map((p) => {
      const j = p.indexOf('=');
      return [p.slice(0, j), p.slice(j + 1)];
    }),
  );
  return { authString, signature: rest.slice(i + 6), fields };
}

/**
 * A signed v3 request made with node's crypto (not the SDK), for checks on the raw wire: the
 * response's headers and exact body bytes. Query encoding as the Node SDK does it.
 */
export async function rawSignedRequest({
  base,
  appId,
  privateKey,
  method = 'GET',
  path: reqPath = QUERY_PATH,
  query,
  body = '',
  appCertSn,
  headers = {},
  nonce = crypto.randomUUID(),
  timestamp = Date.now(),
}) {
  const url = new URL(`${base}${reqPath}`);
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, String(v));
  const requestUri = `${url.pathname}${url.search}`;
  let authString = `app_id=${appId}`;
  if (appCertSn) authString += `,app_cert_sn=${appCertSn}`;
  authString += `,nonce=${nonce},timestamp=${timestamp}`;
  const sig = nodeSign(privateKey, requestStringToSign({ authString, method, requestUri, body }));
  const init = {
    method,
    headers: {
      accept: 'application/json',
      authorization: `ALIPAY-SHA256withRSA ${authString},sign=${sig}`,
      'alipay-request-id': crypto.randomUUID().replaceAll('-', ''),
      ...headers,
    },
  };
  if (method !== 'GET' && method !== 'HEAD') init.body = body;
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

/** Verifies a raw response's signature with node's crypto over `ts LF nonce LF body LF`. */
export function verifyRawResponse(res, alipayPublicKey) {
  const ts = res.headers.get('alipay-timestamp');
  const nonce = res.headers.get('alipay-nonce');
  const sig = res.headers.get('alipay-signature');
  assert.ok(ts && nonce && sig, 'response carries alipay-timestamp, alipay-nonce and alipay-signature');
  return nodeVerify(alipayPublicKey, `${ts}\n${nonce}\n${res.text}\n`, sig);
}

// Cross-checks outside the sandbox, both directions: the project's Rust protocol core (through
// the `sign_corpus` example) against node's own crypto and the official SDK.
//
// A fixed corpus is generated at test time (fresh keys, fixed nonces and timestamps): non-ASCII
// bodies, odd query strings, empty bodies, app auth tokens, extra authString fields. RSA PKCS#1
// v1.5 is deterministic, so besides "verifies on the other side" the signatures must be equal.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';

import {
  AlipaySdk,
  ORDER_METHOD,
  fixture,
  nodeSign,
  nodeVerify,
  parseAuthorization,
  requestStringToSign,
  rustCorpus,
} from './helpers.mjs';

const APP_ID = '2021000122671080';
const NONCE = '5f0f9350-7609-4cdd-93a1-764c23605c5d';
const TS = '1717756911576';

const appKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });

// The key in every form the Rust side must accept.
const privateForms = {
  pkcs1Pem: appKey.privateKey.export({ type: 'pkcs1', format: 'pem' }),
  pkcs8Pem: appKey.privateKey.export({ type: 'pkcs8', format: 'pem' }),
  pkcs8Bare: appKey.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
  pkcs1Bare: appKey.privateKey.export({ type: 'pkcs1', format: 'der' }).toString('base64'),
};
const publicForms = {
  spkiPem: appKey.publicKey.export({ type: 'spki', format: 'pem' }),
  spkiBare: appKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  pkcs1Pem: appKey.publicKey.export({ type: 'pkcs1', format: 'pem' }),
};
const privateList = Object.values(privateForms);
const publicList = Object.values(publicForms);
const otherPublicPem = otherKey.publicKey.export({ type: 'spki', format: 'pem' });

/** Node SDK query encoding: WHATWG URLSearchParams, insertion order. */
function nodeUri(pathname, query) {
  const u = new URL(`http://127.0.0.1${pathname}`);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, String(v));
  return `${u.pathname}${u.search}`;
}

const aesKey = Buffer.alloc(16, 7);
function nodeAesEncrypt(key, text) {
  const c = crypto.createCipheriv(`aes-${key.length * 8}-cbc`, key, Buffer.alloc(16));
  return Buffer.concat([c.update(text, 'utf8'), c.final()]).toString('base64');
}

const requestCorpus = [
  {
    name: 'POST JSON with non-ASCII',
    method: 'POST',
    requestUri: '/v3/alipay/user/info/share',
    body: JSON.stringify({ name: '张三', note: 'naïve ☃ 😀', teacher: '👩‍🏫', quote: '"\\/' }),
  },
  {
    name: 'GET with odd raw query a=x+y&b=%E4%B8%AD&c=*~',
    method: 'GET',
    requestUri: '/v3/zhima/customer/jobworth/authentication?a=x+y&b=%E4%B8%AD&c=*~',
    body: '',
  },
  {
    name: 'GET with a node-encoded query of special characters',
    method: 'GET',
    requestUri: nodeUri('/v3/alipay/x/query', { a: 'x y', b: '1,2', c: '中', d: "*~-._!'()", e: 'a+b/c?&=', f: 123 }),
    body: '',
  },
  {
    name: 'GET with lower-case escapes, dot segments, empty and repeated parameters (signed raw)',
    method: 'GET',
    requestUri: '/v3/a/./b/../c?q=%e4%b8%ad&&empty=&dup=1&dup=2',
    body: '',
  },
  { name: 'POST with an empty body', method: 'POST', requestUri: '/v3/alipay/empty/body', body: '' },
  {
    name: 'DELETE with an app auth token line',
    method: 'DELETE',
    requestUri: '/v3/alipay/thing/123',
    body: '{"k":"v"}',
    appAuthToken: '202406BBe2b0c0e4d1f94d8bb5c5d1234567X21',
  },
  {
    name: 'PATCH with newlines and CRLF inside the body',
    method: 'PATCH',
    requestUri: '/v3/alipay/patch',
    body: '{"a":"line1\\nline2"}\n\r\n',
  },
  {
    name: 'extra authString field and a third-party field order',
    method: 'GET',
    requestUri: '/v3/alipay/x',
    body: '',
    authString: `app_id=${APP_ID},timestamp=${TS},nonce=${NONCE},expired_seconds=120`,
  },
  {
    name: 'certificate-mode authString (app_cert_sn)',
    method: 'POST',
    requestUri: '/v3/alipay/cert',
    body: '{"x":1}',
    authString: `app_id=${APP_ID},app_cert_sn=866efef280dec9137a87d047ac446315,nonce=${NONCE},timestamp=${TS}`,
  },
  {
    name: 'AES ciphertext body',
    method: 'POST',
    requestUri: '/v3/alipay/encrypted',
    body: nodeAesEncrypt(aesKey, '{"a":"中文"}'),
  },
  {
    name: 'lower-case method in, upper-case signed',
    method: 'post',
    requestUri: '/v3/alipay/lower',
    body: '{}',
  },
].map((c) => ({ ...c, authString: c.authString ?? `app_id=${APP_ID},nonce=${NONCE},timestamp=${TS}` }));

describe('request signatures: node crypto ⇄ Rust core', () => {
  test('node-signed requests verify in Rust; Rust signs the same bytes and the same signature', () => {
    const nodeHeaders = requestCorpus.map((c) => {
      const text = requestStringToSign(c);
      return { text, header: `ALIPAY-SHA256withRSA ${c.authString},sign=${nodeSign(appKey.privateKey, text)}` };
    });
    const cases = requestCorpus.flatMap((c, i) => [
      {
        op: 'verify_request',
        key_pem: publicList[i % publicList.length],
        authorization: nodeHeaders[i].header,
        method: c.method,
        request_uri: c.requestUri,
        body: c.body,
        app_auth_token: c.appAuthToken ?? null,
      },
      {
        op: 'sign_request',
        key_pem: privateList[i % privateList.length],
        auth_string: c.authString,
        method: c.method,
        request_uri: c.requestUri,
        body: c.body,
        app_auth_token: c.appAuthToken ?? null,
      },
    ]);
    const results = rustCorpus(cases);
    requestCorpus.forEach((c, i) => {
      const verified = results[2 * i];
      const signed = results[2 * i + 1];
      assert.ok(verified.ok, `${c.name}: ${verified.error}`);
      assert.equal(verified.valid, true, `${c.name}: Rust rejected node's signature: ${verified.reason}`);
      assert.ok(signed.ok, `${c.name}: ${signed.error}`);
      assert.equal(signed.string_to_sign, nodeHeaders[i].text, `${c.name}: string-to-sign`);
      assert.equal(signed.authorization, nodeHeaders[i].header, `${c.name}: authorization header`);
      // And node checks Rust's header independently.
      const parsed = parseAuthorization(signed.authorization);
      assert.equal(parsed.authString, c.authString);
      assert.ok(nodeVerify(appKey.publicKey, requestStringToSign(c), parsed.signature), `${c.name}: node verify`);
    });
  });

  test('Rust builds the authString the official SDKs emit, and node verifies its header', () => {
    const cases = [
      { app_id: APP_ID, nonce: NONCE, timestamp: TS },
      { app_id: APP_ID, app_cert_sn: '866efef280dec9137a87d047ac446315', nonce: NONCE, timestamp: TS },
    ].map((a) => ({
      op: 'sign_request',
      key_pem: privateForms.pkcs8Bare,
      ...a,
      method: 'GET',
      request_uri: '/v3/zhima/customer/jobworth/authentication?conn_key=c&once_token=t',
      body: '',
    }));
    const [plain, cert] = rustCorpus(cases);
    assert.equal(plain.auth_string, `app_id=${APP_ID},nonce=${NONCE},timestamp=${TS}`);
    assert.equal(
      cert.auth_string,
      `app_id=${APP_ID},app_cert_sn=866efef280dec9137a87d047ac446315,nonce=${NONCE},timestamp=${TS}`,
    );
    for (const r of [plain, cert]) {
      const { authString, signature, fields } = parseAuthorization(r.authorization);
      assert.equal(fields.app_id, APP_ID);
      const text = requestStringToSign({
        authString,
        method: 'GET',
        requestUri: '/v3/zhima/customer/jobworth/authentication?conn_key=c&once_token=t',
        body: '',
      });
      assert.ok(nodeVerify(appKey.publicKey, text, signature));
      assert.ok(!nodeVerify(otherKey.publicKey, text, signature), 'and not with another key');
    }
  });

  test('mutations are refused by Rust (the check can fail)', () => {
    const c = requestCorpus[0];
    const q = requestCorpus[1];
    const t = requestCorpus[5];
    const sign = (x) =>
      `ALIPAY-SHA256withRSA ${x.authString},sign=${nodeSign(appKey.privateKey, requestStringToSign(x))}`;
    const base = (x, over) => ({
      op: 'verify_request',
      key_pem: publicForms.spkiPem,
      authorization: sign(x),
      method: x.method,
      request_uri: x.requestUri,
      body: x.body,
      app_auth_token: x.appAuthToken ?? null,
      ...over,
    });
    const mutations = [
      ['body changed by one character', base(c, { body: c.body.replace('张', '李') })],
      ['query re-encoded (%E4 → %e4)', base(q, { request_uri: q.requestUri.replace('%E4', '%e4') })],
      ['+ read as %20', base(q, { request_uri: q.requestUri.replace('x+y', 'x%20y') })],
      ['method changed', base(c, { method: 'PUT' })],
      ['app auth token dropped', base(t, { app_auth_token: null })],
      ['app auth token added', base(c, { app_auth_token: 'tok' })],
      ['another key', base(c, { key_pem: otherPublicPem })],
      ['signature of another message', base(c, { authorization: sign(requestCorpus[4]) })],
      [
        'authString field reordered after signing',
        base(c, {
          authorization: sign(c).replace(`nonce=${NONCE},timestamp=${TS}`, `timestamp=${TS},nonce=${NONCE}`),
        }),
      ],
    ];
    const results = rustCorpus(mutations.map(([, m]) => m));
    mutations.forEach(([name], i) => {
      assert.ok(results[i].ok, `${name}: ${results[i].error}`);
      assert.equal(results[i].valid, false, `${name} must not verify`);
    });
  });

  test('bad input gives an error result, not a crash', () => {
    const results = rustCorpus([
      { op: 'verify_request', key_pem: 'not a key', authorization: 'x', method: 'GET', request_uri: '/', body: '' },
      { op: 'sign_request', key_pem: publicForms.spkiPem, auth_string: 'a', method: 'GET', request_uri: '/', body: '' },
      {
        op: 'verify_request',
        key_pem: publicForms.spkiPem,
        authorization: 'Bearer x',
        method: 'GET',
        request_uri: '/',
        body: '',
      },
      { op: 'no-such-op' },
    ]);
    assert.equal(results[0].ok, false);
    assert.match(results[0].error, /public key/);
    assert.equal(results[1].ok, false);
    assert.equal(results[2].ok, true);
    assert.equal(results[2].valid, false);
    assert.equal(results[3].ok, false);
  });
});

describe('response signatures: node crypto ⇄ Rust core', () => {
  const bodies = [
    '{"identity_result":"SUCCESS","token_status":"FINISH","user_id":"2088000000000001"}',
    '{"message":"中文 ✓ 😀"}',
    '',
    nodeAesEncrypt(aesKey, '{"identity_result":"WAITING_VERIFY"}'),
    'line1\nline2\r\n',
  ];

  test('node-signed responses verify in Rust; Rust signatures equal node signatures and verify in node', () => {
    const cases = bodies.flatMap((body, i) => {
      const ts = String(1717762879833 + i);
      const nonce = `3c0d6c77f4f773b427eb7e79625cdf4${i}`;
      const sig = nodeSign(appKey.privateKey, `${ts}\n${nonce}\n${body}\n`);
      return [
        {
          op: 'verify_response',
          key_pem: publicList[i % publicList.length],
          timestamp: ts,
          nonce,
          body,
          signature: sig,
        },
        { op: 'sign_response', key_pem: privateList[i % privateList.length], timestamp: ts, nonce, body },
        { op: 'verify_response', key_pem: publicForms.spkiPem, timestamp: ts, nonce, body: `${body} `, signature: sig },
      ];
    });
    const results = rustCorpus(cases);
    bodies.forEach((body, i) => {
      const [verified, signed, mutated] = results.slice(3 * i, 3 * i + 3);
      const { timestamp: ts, nonce, signature } = cases[3 * i];
      assert.equal(verified.valid, true, `body ${i}: ${verified.reason ?? verified.error}`);
      assert.equal(signed.signature, signature, `body ${i}: Rust and node signatures are identical`);
      assert.ok(nodeVerify(appKey.publicKey, `${ts}\n${nonce}\n${body}\n`, signed.signature));
      assert.equal(mutated.valid, false, `body ${i}: a changed body must not verify`);
    });
  });
});

describe('AES content encryption: node crypto ⇄ Rust core', () => {
  test('same ciphertext both ways (zero IV, PKCS#7), including the upstream vector', () => {
    const keys = [
      'aYA0GP8JEW+D7/UFaskCWA==',
      crypto.randomBytes(16).toString('base64'),
      crypto.randomBytes(32).toString('base64'),
    ];
    const texts = ['{"a":"中文"}', '', '0123456789abcdef', '{"identity_result":"SUCCESS","x":"😀"}'.repeat(5)];
    const cases = [];
    for (const key of keys) {
      for (const plaintext of texts) {
        cases.push({ op: 'aes_encrypt', key, plaintext });
        cases.push({ op: 'aes_decrypt', key, ciphertext: nodeAesEncrypt(Buffer.from(key, 'base64'), plaintext) });
      }
    }
    cases.push({ op: 'aes_decrypt', key: keys[1], ciphertext: nodeAesEncrypt(Buffer.from(keys[2], 'base64'), 'x') });
    const results = rustCorpus(cases);
    let i = 0;
    for (const key of keys) {
      for (const plaintext of texts) {
        const enc = results[i++];
        const dec = results[i++];
        assert.equal(enc.ciphertext, nodeAesEncrypt(Buffer.from(key, 'base64'), plaintext), `encrypt ${plaintext}`);
        assert.equal(dec.plaintext, plaintext, `decrypt ${plaintext}`);
      }
    }
    assert.equal(results[0].ciphertext, 'TI5fGWVveeuELxAfOcy45g==', 'upstream vector');
    assert.equal(results[i].ok, false, 'ciphertext under another key does not decrypt');
  });
});

describe('order strings: official sdkExecute ⇄ Rust core', () => {
  let savedTz;
  before(() => {
    savedTz = process.env.TZ;
    process.env.TZ = 'Asia/Shanghai';
  });
  after(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  // The SDK's timestamp comes from `new Date()` in the process time zone; pin both.
  const withClock = (epochMs, fn) => {
    const RealDate = globalThis.Date;
    globalThis.Date = class FixedDate extends RealDate {
      constructor(...args) {
        if (args.length === 0) super(epochMs);
        else super(...args);
      }
      static now() {
        return epochMs;
      }
    };
    try {
      return fn();
    } finally {
      globalThis.Date = RealDate;
    }
  };

  test('the SDK reproduces vector V-ORDER with a fixed clock, and Rust verifies it', () => {
    const vectors = JSON.parse(fixture('vectors.json'));
    const v = vectors.v2_order_string.vectors.find((x) => x.id === 'V-ORDER');
    const sdk = new AlipaySdk({
      appId: APP_ID,
      privateKey: fixture('app-private-key-pkcs1.pem'),
      alipayPublicKey: fixture('app-public-key.pem'),
    });
    const orderStr = withClock(Date.UTC(2024, 5, 7, 10, 41, 51), () =>
      sdk.sdkExecute(ORDER_METHOD, { bizContent: v.biz_content_object }),
    );
    assert.equal(orderStr, v.order_string, 'sdkExecute output = vector');
    const [verified, resigned] = rustCorpus([
      { op: 'verify_order_string', key_pem: fixture('app-public-key.pem'), order_string: orderStr },
      {
        op: 'sign_order_string',
        key_pem: fixture('app-private-key-pkcs8-bare.txt'),
        params: v.params_in_emitted_order,
      },
    ]);
    assert.equal(verified.valid, true, verified.reason);
    assert.equal(verified.sign_content, v.string_to_sign);
    assert.deepEqual(verified.params, [...v.params_in_emitted_order, ['sign', v.signature]]);
    assert.equal(resigned.order_string, v.order_string, 'Rust builds the identical order string');
  });

  test('odd values, extra parameters and certificate mode: SDK → Rust and Rust → node', () => {
    const keyPem = privateForms.pkcs1Pem;
    const bizContent = {
      out_agreement_no: 'conn-中文 +&=?/%',
      zm_service_id: '2019120400000000000004450100',
      extra_param: JSON.stringify({ onceToken: "tok-*~'()!", identityType: '04', note: 'a b+c' }),
    };
    const sdks = {
      key: new AlipaySdk({ appId: APP_ID, privateKey: keyPem, alipayPublicKey: publicForms.spkiPem }),
      cert: new AlipaySdk({
        appId: APP_ID,
        privateKey: keyPem,
        appCertContent: fixture('appCertPublicKey_2021001161683774.crt'),
        alipayPublicCertContent: fixture('alipayCertPublicKey_RSA2.crt'),
        alipayRootCertContent: fixture('alipayRootCert.crt'),
      }),
    };
    const strings = withClock(Date.UTC(2025, 0, 31, 23, 59, 59), () =>
      Object.fromEntries(
        Object.entries(sdks).map(([mode, sdk]) => [
          mode,
          sdk.sdkExecute(ORDER_METHOD, { bizContent, notifyUrl: 'https://merchant.example/cb?a=1&b=2' }),
        ]),
      ),
    );
    assert.match(strings.key, /timestamp=2025-02-01%2007%3A59%3A59/, 'Shanghai local time');
    assert.match(strings.cert, /app_cert_sn=866efef280dec9137a87d047ac446315/);
    const parse = (s) =>
      s.split('&').map((p) => {
        const j = p.indexOf('=');
        return [p.slice(0, j), decodeURIComponent(p.slice(j + 1))];
      });
    const cases = [];
    for (const s of Object.values(strings)) {
      cases.push({ op: 'verify_order_string', key_pem: publicForms.pkcs1Pem, order_string: s });
      cases.push({ op: 'verify_order_string', key_pem: otherPublicPem, order_string: s });
      cases.push({
        op: 'verify_order_string',
        key_pem: publicForms.spkiPem,
        order_string: s.replace('zm_service_id%22%3A%222019', 'zm_service_id%22%3A%222018'),
      });
      cases.push({ op: 'sign_order_string', key_pem: keyPem, params: parse(s).filter(([k]) => k !== 'sign') });
    }
    const results = rustCorpus(cases);
    Object.values(strings).forEach((s, n) => {
      const [ok, otherKeyResult, tampered, resigned] = results.slice(4 * n, 4 * n + 4);
      assert.equal(ok.valid, true, ok.reason);
      assert.equal(JSON.parse(Object.fromEntries(ok.params).biz_content).out_agreement_no, bizContent.out_agreement_no);
      assert.equal(otherKeyResult.valid, false, 'another key');
      assert.equal(tampered.valid, false, 'a tampered biz_content');
      assert.equal(resigned.order_string, s, 'Rust re-signs to the identical order string');
      // node verifies Rust's order string with the protocol's v2 rule (sorted params, RSA2 over the unsigned string), written out here.
      const params = parse(resigned.order_string);
      const sign = params.find(([k]) => k === 'sign')[1];
      const content = params
        .filter(([k]) => k !== 'sign')
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`)
        .join('&');
      assert.equal(content, resigned.sign_content);
      assert.ok(nodeVerify(appKey.publicKey, content, sign), 'node verifies the Rust order string');
    });
  });
});

describe('certificate SNs: official SDK ⇄ Rust core', () => {
  test('SDK and Rust agree on the upstream fixtures', () => {
    const sdk = new AlipaySdk({
      appId: APP_ID,
      privateKey: privateForms.pkcs1Pem,
      appCertContent: fixture('appCertPublicKey_2021001161683774.crt'),
      alipayPublicCertContent: fixture('alipayCertPublicKey_RSA2.crt'),
      alipayRootCertContent: fixture('alipayRootCert.crt'),
    });
    const [appSn, alipaySn, rootSn] = rustCorpus([
      { op: 'cert_sn', cert_pem: fixture('appCertPublicKey_2021001161683774.crt') },
      { op: 'cert_sn', cert_pem: fixture('alipayCertPublicKey_RSA2.crt') },
      { op: 'cert_sn', cert_pem: fixture('alipayRootCert.crt'), root: true },
    ]);
    assert.equal(appSn.sn, sdk.config.appCertSn);
    assert.equal(alipaySn.sn, sdk.config.alipayCertSn);
    assert.equal(rootSn.sn, sdk.config.alipayRootCertSn);
    assert.equal(appSn.sn, '866efef280dec9137a87d047ac446315');
    assert.equal(rootSn.sn, '687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6');
  });
});

describe('the official SDK on the wire ⇄ Rust core (local capture server, no sandbox)', () => {
  // The SDK talks to a node http server on loopback that records each request exactly and
  // answers with a body signed (and, for needEncrypt, encrypted) by the Rust core.
  const alipayKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const alipayPrivatePem = alipayKey.privateKey.export({ type: 'pkcs8', format: 'pem' });
  const encryptKey = crypto.randomBytes(16).toString('base64');
  let server;
  let base;
  const captured = [];
  const replies = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        captured.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        const reply = replies[captured.length - 1];
        if (!reply) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"code":"unexpected","message":"no reply prepared"}');
          return;
        }
        res.writeHead(200, {
          'content-type': reply.encrypted ? 'text/plain' : 'application/json',
          'alipay-timestamp': reply.timestamp,
          'alipay-nonce': reply.nonce,
          'alipay-signature': reply.signature,
          'alipay-trace-id': `trace-${captured.length}`,
        });
        res.end(reply.body);
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  test('SDK requests verify in Rust; Rust-signed (and Rust-encrypted) answers pass the SDK', async () => {
    const sdkPlain = new AlipaySdk({
      appId: APP_ID,
      privateKey: privateForms.pkcs1Pem,
      alipayPublicKey: alipayKey.publicKey.export({ type: 'spki', format: 'pem' }),
      endpoint: base,
      encryptKey,
    });
    const sdkExtra = new AlipaySdk({
      appId: APP_ID,
      privateKey: privateForms.pkcs8Bare,
      keyType: 'PKCS8',
      alipayPublicKey: alipayKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      endpoint: base,
      additionalAuthInfo: 'expired_seconds=120',
    });
    const calls = [
      {
        sdk: sdkPlain,
        method: 'GET',
        path: '/v3/zhima/customer/jobworth/authentication',
        options: {
          query: { conn_key: 'c x+y', once_token: '中文', query_type: "*~'()", service_id: 'a/b?c&d=e', n: 0 },
        },
      },
      {
        sdk: sdkPlain,
        method: 'POST',
        path: '/v3/alipay/user/info/share',
        options: { body: { name: '张三', list: [1, 2] } },
      },
      { sdk: sdkPlain, method: 'POST', path: '/v3/alipay/empty', options: {} },
      {
        sdk: sdkPlain,
        method: 'PUT',
        path: '/v3/alipay/token',
        options: { body: { a: 1 }, appAuthToken: '202406BBtok' },
      },
      { sdk: sdkExtra, method: 'GET', path: '/v3/alipay/extra', options: { query: { a: 'b' } } },
      { sdk: sdkPlain, method: 'POST', path: '/v3/alipay/secret', options: { body: { a: '中文' }, needEncrypt: true } },
    ];
    // Prepare the answers with the Rust core: encrypt where asked, then sign the exact body.
    const answers = calls.map((c, i) => ({ n: i, echo: `回答 ${i}`, encrypted: !!c.options.needEncrypt }));
    const encrypted = rustCorpus(
      answers.map((a) => ({ op: 'aes_encrypt', key: encryptKey, plaintext: JSON.stringify(a) })),
    );
    const bodies = answers.map((a, i) => (a.encrypted ? encrypted[i].ciphertext : JSON.stringify(a)));
    const timestamp = String(Date.now());
    const signed = rustCorpus(
      bodies.map((body, i) => ({
        op: 'sign_response',
        key_pem: alipayPrivatePem,
        timestamp,
        nonce: `nonce${i}`,
        body,
      })),
    );
    bodies.forEach((body, i) => {
      replies.push({
        body,
        encrypted: answers[i].encrypted,
        timestamp,
        nonce: `nonce${i}`,
        signature: signed[i].signature,
      });
    });

    for (const [i, c] of calls.entries()) {
      const res = await c.sdk.curl(c.method, c.path, c.options);
      assert.deepEqual(res.data, answers[i], `call ${i}: the SDK accepted and decoded the Rust-made answer`);
      assert.equal(res.traceId, `trace-${i + 1}`);
    }
    assert.equal(captured.length, calls.length);

    const checks = captured.map((r) => ({
      op: 'verify_request',
      key_pem: publicForms.spkiBare,
      authorization: r.headers.authorization,
      method: r.method,
      request_uri: r.url,
      body: r.body,
      app_auth_token: r.headers['alipay-app-auth-token'] ?? null,
    }));
    const results = rustCorpus(checks);
    results.forEach((r, i) => {
      assert.equal(r.valid, true, `call ${i} (${calls[i].method} ${captured[i].url}): ${r.reason ?? r.error}`);
      assert.equal(r.app_id, APP_ID);
    });
    assert.match(captured[0].url, /conn_key=c\+x%2By&once_token=%E4%B8%AD/, 'node query encoding on the wire');
    assert.deepEqual(results[4].extra, [['expired_seconds', '120']], 'additionalAuthInfo arrives as an extra field');
    assert.equal(captured[5].headers['alipay-encrypt-type'], 'AES');
    assert.equal(captured[5].headers['content-type'], 'text/plain');
    const decrypted = rustCorpus([{ op: 'aes_decrypt', key: encryptKey, ciphertext: captured[5].body }]);
    assert.equal(decrypted[0].plaintext, '{"a":"中文"}', 'Rust decrypts the SDK-encrypted request body');

    // The same request with one byte of the body changed must fail in Rust.
    const [bad] = rustCorpus([{ ...checks[1], body: checks[1].body.replace('张', '李') }]);
    assert.equal(bad.valid, false);
  });
});

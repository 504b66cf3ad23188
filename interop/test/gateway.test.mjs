// Gateway behaviour as the official SDK sees it: gateway error codes, signed errors on the raw
// wire, and the negative case of issue 6 — a response whose signature is wrong from the SDK's
// point of view must be rejected with `response-signature-verify-error`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  QUERY_PATH,
  assertApiErrorShape,
  expectSdkError,
  generateAppKeys,
  keyModeSdk,
  newAppId,
  queryParams,
  rawSignedRequest,
  runDesk,
  sandboxWithApp,
  sdkQuery,
  verifyRawResponse,
} from './helpers.mjs';

describe('gateway checks and response signatures (default sandbox)', () => {
  let sandbox, base, keys, appId, app, sdk, teacher;

  before(async () => {
    ({ sandbox, base, keys, appId, app, sdk, personas: { teacher } } = await sandboxWithApp());
  });
  after(() => sandbox?.stop());

  test('NEGATIVE: another Alipay public key → the SDK rejects the 200 (response-signature-verify-error)', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const impostor = generateAppKeys(); // not the sandbox's Alipay key
    const wrongSdk = keyModeSdk({ base, appId, keys, alipayPublicKey: impostor.publicSpkiPem });
    const err = await expectSdkError(sdkQuery(wrongSdk, queryParams(flow, teacher)), 'response-signature-verify-error');
    assert.equal(err.responseHttpStatus, 200, 'the sandbox answered 200; the SDK refused its signature');
    assert.ok(err.responseDataRaw, 'the SDK keeps the raw body it refused');
    assert.equal(JSON.parse(err.responseDataRaw).identity_result, 'SUCCESS');
    // The same kind of answer verifies with the right key: the failure above is the key, not the sandbox.
    const flow2 = await runDesk(base, sdk, { persona: 'teacher' });
    assert.equal((await sdkQuery(sdk, queryParams(flow2, teacher))).data.identity_result, 'SUCCESS');
  });

  test('invalid-app-id for an app that was never registered', async () => {
    const stranger = keyModeSdk({ base, appId: newAppId(), keys, alipayPublicKey: app.alipay_public_key });
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const err = await expectSdkError(sdkQuery(stranger, queryParams(flow, teacher)), 'invalid-app-id', { status: 400 });
    assertApiErrorShape(err);
  });

  test('invalid-signature when the SDK signs with a key the app did not register', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const forger = keyModeSdk({ base, appId, keys: generateAppKeys(), alipayPublicKey: app.alipay_public_key });
    const err = await expectSdkError(sdkQuery(forger, queryParams(flow, teacher)), 'invalid-signature', {
      status: 400,
    });
    assertApiErrorShape(err);
    assert.equal((await sdkQuery(sdk, queryParams(flow, teacher))).data.identity_result, 'SUCCESS', 'nothing consumed');
  });

  test('invalid-method for an unknown /v3 path', async () => {
    const err = await expectSdkError(
      sdk.curl('GET', '/v3/zhima/customer/jobworth/nonexistent', { query: { a: '1' } }),
      'invalid-method',
      {
        status: 400,
      },
    );
    assertApiErrorShape(err);
  });

  test('appAuthToken and additionalAuthInfo (extra authString field) are accepted', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const extraSdk = keyModeSdk({
      base,
      appId,
      keys,
      alipayPublicKey: app.alipay_public_key,
      additionalAuthInfo: 'expired_seconds=120',
    });
    const res = await sdkQuery(extraSdk, queryParams(flow, teacher), { appAuthToken: '202406BB0123456789abcdef' });
    assert.equal(res.data.identity_result, 'SUCCESS');
  });

  test('missing-signature without an authorization header (raw request)', async () => {
    const res = await fetch(`${base}${QUERY_PATH}?conn_key=a&once_token=b&query_type=exact&service_id=c&user_id=d`);
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, 'missing-signature');
    assert.ok(res.headers.get('alipay-trace-id'), 'alipay-trace-id on every response');
  });

  test('invalid-timestamp outside the window, and replay refused as invalid-signature', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const query = queryParams(flow, teacher);
    const stale = await rawSignedRequest({
      base,
      appId,
      privateKey: keys.privateKey,
      query,
      timestamp: Date.now() - 60 * 60 * 1000,
    });
    assert.equal(stale.status, 400, stale.text);
    assert.equal(JSON.parse(stale.text).code, 'invalid-timestamp');

    const probe = { base, appId, privateKey: keys.privateKey, query: { ...query, conn_key: 'conn-not-there' } };
    probe.nonce = `replay-${Date.now()}`;
    probe.timestamp = Date.now();
    const first = await rawSignedRequest(probe);
    assert.equal(JSON.parse(first.text).code, 'WRONG_OUT_AGREEMENT_NO_INTERCEPT', first.text);
    const again = await rawSignedRequest(probe);
    assert.equal(again.status, 400);
    const body = JSON.parse(again.text);
    assert.equal(body.code, 'invalid-signature');
    assert.match(body.message, /replay/i, 'the message says replay');

    assert.equal((await sdkQuery(sdk, query)).data.identity_result, 'SUCCESS', 'refused requests consumed nothing');
  });

  test('raw wire: success and error bodies are signed over the exact bytes, lower-case alipay-* headers', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const ok = await rawSignedRequest({ base, appId, privateKey: keys.privateKey, query: queryParams(flow, teacher) });
    assert.equal(ok.status, 200, ok.text);
    assert.ok(ok.text.length > 2, 'never an empty success body');
    assert.ok(verifyRawResponse(ok, app.alipay_public_key), 'success signature verifies with node crypto');
    assert.ok(ok.headers.get('alipay-trace-id'));
    assert.equal(JSON.parse(ok.text).identity_result, 'SUCCESS');

    const err = await rawSignedRequest({ base, appId, privateKey: keys.privateKey, query: queryParams(flow, teacher) });
    assert.equal(err.status, 400);
    assert.equal(JSON.parse(err.text).code, 'TOKEN_INVALID');
    assert.ok(err.headers.get('alipay-trace-id'));
    assert.ok(verifyRawResponse(err, app.alipay_public_key), 'errors are signed by default and the signature verifies');
  });
});

describe('--unsigned-errors', () => {
  let sandbox, base, sdk, teacher;

  before(async () => {
    ({ sandbox, base, sdk, personas: { teacher } } = await sandboxWithApp({ flags: ['--unsigned-errors'] }));
  });
  after(() => sandbox?.stop());

  test('errors carry no signature, the SDK still parses them; successes stay signed', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });

    const ok = await sdkQuery(sdk, queryParams(flow, teacher));
    assert.equal(ok.data.identity_result, 'SUCCESS');
    const err = await expectSdkError(sdkQuery(sdk, queryParams(flow, teacher)), 'TOKEN_INVALID', { status: 400 });
    assertApiErrorShape(err);
    assert.equal(err.responseHttpHeaders['alipay-signature'], undefined, 'no alipay-signature on errors');
  });
});

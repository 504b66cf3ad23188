// AES content encryption with the official SDK (`encryptKey` + `needEncrypt`).
//
// Node SDK quirk (alipay-sdk 4.14.0 `#curl`): `needEncrypt` sets `alipay-encrypt-type: AES` only
// on requests with a body, never on GET/HEAD, yet it decrypts every answer. The v3 query is a
// GET, so the tests add the header the way the Java/PHP/.NET SDKs send it on every request once
// an encrypt key is configured: a dispatcher that adds it. The header is not part
// of the string-to-sign, so the SDK's own signing is untouched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { Agent } from 'urllib';

import {
  expectSdkError,
  keyModeSdk,
  queryParams,
  rawSignedRequest,
  runDesk,
  sandboxWithApp,
  sdkQuery,
  verifyRawResponse,
} from './helpers.mjs';

/** Adds the AES marking headers to every request, like the Java/PHP/.NET SDKs. */
class AesMarkingAgent extends Agent {
  dispatch(opts, handler) {
    const extra = { 'alipay-encrypt-type': 'AES', 'alipay-encryption-algm': 'AES' };
    if (Array.isArray(opts.headers)) {
      opts.headers = [...opts.headers, ...Object.entries(extra).flat()];
    } else {
      opts.headers = { ...opts.headers, ...extra };
    }
    return super.dispatch(opts, handler);
  }
}

function aesDecrypt(keyB64, ciphertextB64) {
  const key = Buffer.from(keyB64, 'base64');
  const d = crypto.createDecipheriv(`aes-${key.length * 8}-cbc`, key, Buffer.alloc(16));
  return Buffer.concat([d.update(Buffer.from(ciphertextB64, 'base64')), d.final()]).toString('utf8');
}

describe('official SDK, AES content encryption', () => {
  let sandbox, base, keys, appId, app, sdk, teacher, agent;
  const encryptKey = crypto.randomBytes(16).toString('base64');

  before(async () => {
    // The public key as bare base64 SPKI this time (the sandbox takes PEM or bare base64).
    ({ sandbox, base, keys, appId, app, sdk, personas: { teacher } } = await sandboxWithApp({
      publicKeyForm: 'base64',
      encryptKey,
    }));
    agent = new AesMarkingAgent();
  });
  after(async () => {
    await agent?.close();
    await sandbox?.stop();
  });

  test('needEncrypt: SDK verifies + decrypts SUCCESS; then TOKEN_INVALID in plaintext', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const res = await sdkQuery(sdk, queryParams(flow, teacher), { needEncrypt: true, agent });
    assert.equal(res.data.identity_result, 'SUCCESS');
    assert.equal(res.data.token_status, 'FINISH');
    assert.equal(res.data.user_id, teacher.user_id);
    // Errors stay plaintext JSON: the SDK parses them without decrypting.
    await expectSdkError(sdkQuery(sdk, queryParams(flow, teacher), { needEncrypt: true, agent }), 'TOKEN_INVALID', {
      status: 400,
    });
  });

  test('pending → resolve → SUCCESS, every answer encrypted', async () => {
    const flow = await runDesk(base, sdk, { persona: 'pending' });
    const pending = (await (await fetch(`${base}/sandbox/personas`)).json()).find((p) => p.persona === 'pending');
    const first = await sdkQuery(sdk, queryParams(flow, pending), { needEncrypt: true, agent });
    assert.equal(first.data.identity_result, 'WAITING_VERIFY');
    const resolve = await fetch(`${base}/sandbox/desk/${flow.desk.desk_id}/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity_result: 'SUCCESS' }),
    });
    assert.equal(resolve.status, 200);
    const done = await sdkQuery(sdk, queryParams(flow, pending), { needEncrypt: true, agent });
    assert.equal(done.data.identity_result, 'SUCCESS');
  });

  test('raw wire: text/plain base64 ciphertext, signed over the ciphertext', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const res = await rawSignedRequest({
      base,
      appId,
      privateKey: keys.privateKey,
      query: queryParams(flow, teacher),
      headers: { 'alipay-encrypt-type': 'AES' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('content-type'), 'text/plain', 'content-type exactly text/plain');
    assert.match(res.text, /^[A-Za-z0-9+/]+={0,2}$/, 'body is base64');
    assert.ok(verifyRawResponse(res, app.alipay_public_key), 'signature over the ciphertext');
    assert.equal(JSON.parse(aesDecrypt(encryptKey, res.text)).identity_result, 'SUCCESS');
  });

  test('SDK with another encryptKey cannot read the answer', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const other = keyModeSdk({
      base,
      appId,
      keys,
      alipayPublicKey: app.alipay_public_key,
      encryptKey: crypto.randomBytes(16).toString('base64'),
    });
    await assert.rejects(sdkQuery(other, queryParams(flow, teacher), { needEncrypt: true, agent }));
  });

  test('no alipay-encrypt-type: plaintext answer; plain GET+needEncrypt cannot decrypt it', async () => {
    // Plain SDK call with no encryption: plaintext JSON even though the app has a key.
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const plain = await sdkQuery(sdk, queryParams(flow, teacher));
    assert.equal(plain.data.identity_result, 'SUCCESS');
    // On the raw wire: no marking header → a JSON body, not ciphertext.
    const flow2 = await runDesk(base, sdk, { persona: 'teacher' });
    const raw = await rawSignedRequest({
      base,
      appId,
      privateKey: keys.privateKey,
      query: queryParams(flow2, teacher),
    });
    assert.equal(raw.status, 200, raw.text);
    assert.match(raw.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(JSON.parse(raw.text).identity_result, 'SUCCESS');
    // The SDK's own GET + needEncrypt sends no marking header, gets that plaintext and fails to decrypt it
    // (`decrypt-error`, or CryptoJS's "Malformed UTF-8 data", depending on the bytes).
    const flow3 = await runDesk(base, sdk, { persona: 'teacher' });
    await assert.rejects(
      sdkQuery(sdk, queryParams(flow3, teacher), { needEncrypt: true }),
      (err) => err.code === 'decrypt-error' || /Malformed UTF-8/.test(err.message),
    );
  });
});

// Certificate mode with the official SDK: app cert, Alipay cert and root bundle exactly as the
// sandbox issued them; the SDK computes the SNs itself and checks `alipay-sn` on every answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import {
  assertApiErrorShape,
  certModeSdk,
  expectSdkError,
  fixture,
  queryParams,
  rawSignedRequest,
  runDesk,
  sandboxWithApp,
  sdkQuery,
  verifyRawResponse,
} from './helpers.mjs';

describe('official SDK, certificate mode', () => {
  let sandbox, base, keys, appId, app, sdk, teacher;

  const certSdk = (overrides = {}) => certModeSdk({ base, appId, keys, app, ...overrides });

  before(async () => {
    ({ sandbox, base, keys, appId, app, personas: { teacher } } = await sandboxWithApp());
    assert.equal(typeof app.app_cert, 'string', 'an app cert is issued over the registered public key');
    assert.equal(typeof app.app_cert_sn, 'string');
    sdk = certSdk();
  });
  after(() => sandbox?.stop());

  test('the SDK computes the same SNs as the sandbox reports', () => {
    assert.equal(sdk.config.appCertSn, app.app_cert_sn, 'app_cert_sn');
    assert.equal(sdk.config.alipayCertSn, app.alipay_cert_sn, 'alipay_cert_sn');
    assert.equal(sdk.config.alipayRootCertSn, app.alipay_root_cert_sn, 'alipay_root_cert_sn');
    for (const sn of [app.app_cert_sn, app.alipay_cert_sn]) assert.match(sn, /^[0-9a-f]{32}$/);
    assert.match(app.alipay_root_cert_sn, /^[0-9a-f]{32}(_[0-9a-f]{32})*$/);
  });

  test('certificates: app cert over the registered key; Alipay cert over the Alipay key, signed by the root', () => {
    const appCert = new crypto.X509Certificate(app.app_cert);
    const spki = (k) => k.export({ type: 'spki', format: 'der' });
    assert.ok(spki(appCert.publicKey).equals(spki(keys.publicKey)), 'app cert is issued over the app public key');
    const alipayCert = new crypto.X509Certificate(app.alipay_cert);
    const alipayKey = crypto.createPublicKey(app.alipay_public_key);
    assert.ok(spki(alipayCert.publicKey).equals(spki(alipayKey)), 'Alipay cert holds the sandbox Alipay key');
    const root = new crypto.X509Certificate(app.alipay_root_cert);
    assert.ok(alipayCert.verify(root.publicKey), 'the root signs the Alipay cert');
  });

  test('teacher flow: SUCCESS (alipay-sn checked by the SDK), then TOKEN_INVALID', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    // The order string carries app_cert_sn and alipay_root_cert_sn in certificate mode.
    const params = new URLSearchParams(flow.orderStr);
    assert.equal(params.get('app_cert_sn'), app.app_cert_sn);
    assert.equal(params.get('alipay_root_cert_sn'), app.alipay_root_cert_sn);
    const res = await sdkQuery(sdk, queryParams(flow, teacher));
    assert.equal(res.data.identity_result, 'SUCCESS');
    assert.equal(res.data.token_status, 'FINISH');
    const err = await expectSdkError(sdkQuery(sdk, queryParams(flow, teacher)), 'TOKEN_INVALID', { status: 400 });
    assertApiErrorShape(err);
    assert.equal(err.responseHttpHeaders['alipay-sn'], app.alipay_cert_sn, 'alipay-sn on errors too');
  });

  test('other personas in certificate mode', async () => {
    const all = await (await fetch(`${base}/sandbox/personas`)).json();
    const user = (name) => all.find((p) => p.persona === name);
    const notTeacher = await runDesk(base, sdk, { persona: 'not-teacher' });
    assert.equal((await sdkQuery(sdk, queryParams(notTeacher, user('not-teacher')))).data.identity_result, 'FAILED');
    const pending = await runDesk(base, sdk, { persona: 'pending' });
    assert.equal((await sdkQuery(sdk, queryParams(pending, user('pending')))).data.identity_result, 'WAITING_VERIFY');
    const risky = await runDesk(base, sdk, { persona: 'risk' });
    const err = await expectSdkError(sdkQuery(sdk, queryParams(risky, user('risk'))), 'RISK_INTERCEPT', {
      status: 400,
    });
    assert.equal(err.responseHttpHeaders['alipay-sn'], app.alipay_cert_sn);
  });

  test('raw wire: success carries alipay-sn of the Alipay cert, signed by its key', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const res = await rawSignedRequest({
      base,
      appId,
      privateKey: keys.privateKey,
      appCertSn: app.app_cert_sn,
      query: queryParams(flow, teacher),
      headers: { 'alipay-root-cert-sn': app.alipay_root_cert_sn },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('alipay-sn'), app.alipay_cert_sn);
    const certKey = new crypto.X509Certificate(app.alipay_cert).publicKey;
    assert.ok(verifyRawResponse(res, certKey));
  });

  test('NEGATIVE: a different configured Alipay cert → response-alipay-sn-verify-error', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    // The official SDK's own test fixture: another SN, another key.
    const wrong = certSdk({ alipayPublicCertContent: fixture('alipayCertPublicKey_RSA2.crt') });
    assert.notEqual(wrong.config.alipayCertSn, app.alipay_cert_sn);
    const err = await expectSdkError(sdkQuery(wrong, queryParams(flow, teacher)), 'response-alipay-sn-verify-error');
    assert.equal(err.responseHttpStatus, 200);
    assert.ok(err.message.includes(app.alipay_cert_sn), `message names the SN the sandbox sent: ${err.message}`);
  });

  test('app-cert-not-exist when the authString names a cert the app was not issued', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const wrong = certSdk({ appCertContent: fixture('appCertPublicKey_2021001161683774.crt') });
    assert.notEqual(wrong.config.appCertSn, app.app_cert_sn);
    const err = await expectSdkError(sdkQuery(wrong, queryParams(flow, teacher)), 'app-cert-not-exist', {
      status: 400,
    });
    assertApiErrorShape(err);
    assert.equal((await sdkQuery(sdk, queryParams(flow, teacher))).data.identity_result, 'SUCCESS', 'nothing consumed');
  });
});

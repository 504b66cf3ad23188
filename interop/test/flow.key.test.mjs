// The whole Jobworth flow with the official Node SDK as the merchant client, key mode:
// sdkExecute builds the step-1 order string, the control plane completes the desk, curl() queries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import {
  PERSONAS,
  apiOk,
  assertApiErrorShape,
  expectSdkError,
  queryParams,
  runDesk,
  sandboxWithApp,
  sdkQuery,
  validResidentId,
} from './helpers.mjs';

describe('official SDK, key mode', () => {
  let sandbox, base, sdk, app, personas;

  before(async () => {
    ({ sandbox, base, app, sdk, personas } = await sandboxWithApp());
  });
  after(() => sandbox?.stop());

  test('control plane basics: health, Alipay public key, personas', async () => {
    assert.deepEqual(await apiOk(base, 'GET', '/sandbox/health'), { status: 'ok' });
    const res = await fetch(`${base}/sandbox/alipay-public-key`);
    assert.equal(res.status, 200);
    const pem = await res.text();
    const served = crypto.createPublicKey(pem).export({ type: 'spki', format: 'der' });
    const fromApps = crypto.createPublicKey(app.alipay_public_key).export({ type: 'spki', format: 'der' });
    assert.ok(served.equals(fromApps), 'alipay-public-key route and apps response name the same key');

    assert.deepEqual(Object.keys(personas).sort(), [...PERSONAS].sort());
    const userIds = new Set();
    for (const name of PERSONAS) {
      const p = personas[name];
      assert.match(p.user_id, /^2088\d{12}$/, `${name}.user_id`);
      assert.equal(typeof p.open_id, 'string', `${name}.open_id`);
      assert.ok(p.open_id.length > 0);
      assert.equal(String(p.cert_type), '0', `${name}.cert_type`);
      assert.ok(validResidentId(p.cert_no), `${name}.cert_no is an 18-digit ID with a valid check digit`);
      assert.equal(typeof p.name, 'string');
      assert.equal(typeof p.outcome, 'string');
      userIds.add(p.user_id);
    }
    assert.equal(userIds.size, PERSONAS.length, 'personas have distinct user ids');
  });

  test('teacher: SUCCESS once, then TOKEN_INVALID', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const teacher = personas.teacher;
    assert.equal(flow.completed.conn_key, flow.connKey);
    assert.equal(flow.completed.once_token, flow.onceToken);
    assert.equal(flow.completed.identity_result, 'SUCCESS');
    assert.equal(flow.completed.user_id, teacher.user_id);
    assert.equal(flow.completed.open_id, teacher.open_id);

    const res = await sdkQuery(sdk, queryParams(flow, teacher));
    assert.equal(res.responseHttpStatus, 200);
    assert.ok(res.traceId, 'trace id reported');
    assert.equal(res.data.identity_result, 'SUCCESS');
    assert.equal(res.data.token_status, 'FINISH');
    assert.equal(res.data.user_id, teacher.user_id);
    assert.equal(res.data.open_id, teacher.open_id);
    assert.equal(typeof res.data.merchant_identity_id, 'string');
    assert.ok(res.data.merchant_identity_id.length > 0);
    assert.ok('identity_result_skip_url' in res.data, 'identity_result_skip_url is part of the answer');

    const err = await expectSdkError(sdkQuery(sdk, queryParams(flow, teacher)), 'TOKEN_INVALID', { status: 400 });
    assertApiErrorShape(err);
    assert.notEqual(err.traceId, res.traceId, 'each response has its own trace id');
  });

  test('merchant_identity_id is stable per (app, user); open_id and cert_no identify the user too', async () => {
    const teacher = personas.teacher;
    const a = await runDesk(base, sdk, { persona: 'teacher' });
    const byOpenId = await sdkQuery(sdk, queryParams(a, null, { open_id: teacher.open_id }));
    assert.equal(byOpenId.data.identity_result, 'SUCCESS');

    const b = await runDesk(base, sdk, { persona: 'teacher' });
    const byCert = await sdkQuery(sdk, queryParams(b, null, { cert_type: '0', cert_no: teacher.cert_no }));
    assert.equal(byCert.data.identity_result, 'SUCCESS');
    assert.equal(byCert.data.merchant_identity_id, byOpenId.data.merchant_identity_id);

    const c = await runDesk(base, sdk, { persona: 'not-teacher' });
    const other = await sdkQuery(sdk, queryParams(c, personas['not-teacher']));
    assert.notEqual(other.data.merchant_identity_id, byOpenId.data.merchant_identity_id, 'differs per user');
  });

  test('not-teacher: FAILED (terminal, once)', async () => {
    const flow = await runDesk(base, sdk, { persona: 'not-teacher' });
    assert.equal(flow.completed.identity_result, 'FAILED');
    const res = await sdkQuery(sdk, queryParams(flow, personas['not-teacher']));
    assert.equal(res.data.identity_result, 'FAILED');
    assert.equal(res.data.token_status, 'FINISH');
    await expectSdkError(sdkQuery(sdk, queryParams(flow, personas['not-teacher'])), 'TOKEN_INVALID', { status: 400 });
  });

  test('pending: WAITING_VERIFY (repeatable), resolve SUCCESS, then SUCCESS once', async () => {
    const pending = personas.pending;
    const flow = await runDesk(base, sdk, { persona: 'pending' });
    assert.equal(flow.completed.identity_result, 'WAITING_VERIFY');
    for (let i = 0; i < 2; i++) {
      const res = await sdkQuery(sdk, queryParams(flow, pending));
      assert.equal(res.data.identity_result, 'WAITING_VERIFY', `poll ${i + 1}`);
      assert.equal(res.data.token_status, 'PROCESSING', `poll ${i + 1}`);
    }
    await apiOk(base, 'POST', `/sandbox/desk/${flow.desk.desk_id}/resolve`, { identity_result: 'SUCCESS' });
    const done = await sdkQuery(sdk, queryParams(flow, pending));
    assert.equal(done.data.identity_result, 'SUCCESS');
    assert.equal(done.data.token_status, 'FINISH');
    await expectSdkError(sdkQuery(sdk, queryParams(flow, pending)), 'TOKEN_INVALID', { status: 400 });
  });

  test('pending resolved FAILED gives FAILED', async () => {
    const flow = await runDesk(base, sdk, { persona: 'pending' });
    await apiOk(base, 'POST', `/sandbox/desk/${flow.desk.desk_id}/resolve`, { identity_result: 'FAILED' });
    const res = await sdkQuery(sdk, queryParams(flow, personas.pending));
    assert.equal(res.data.identity_result, 'FAILED');
    assert.equal(res.data.token_status, 'FINISH');
  });

  const errorPersonas = {
    blacklisted: 'JOB_WORTH_BLACK_LIST',
    'no-zhima': 'NOT_OPEN_ZM',
    'no-jobworth': 'USER_NOT_OPEN_JOBWORTH',
    risk: 'RISK_INTERCEPT',
  };
  for (const [persona, code] of Object.entries(errorPersonas)) {
    test(`${persona}: ${code} parsed by the SDK into code/message/links`, async () => {
      const flow = await runDesk(base, sdk, { persona });
      const err = await expectSdkError(sdkQuery(sdk, queryParams(flow, personas[persona])), code, { status: 400 });
      assertApiErrorShape(err);
    });
  }

  test('cancelled at the desk: USER_NOT_AUTHORIZE', async () => {
    const flow = await runDesk(base, sdk, { persona: null });
    await apiOk(base, 'POST', `/sandbox/desk/${flow.desk.desk_id}/cancel`);
    const err = await expectSdkError(sdkQuery(sdk, queryParams(flow, personas.teacher)), 'USER_NOT_AUTHORIZE', {
      status: 400,
    });
    assertApiErrorShape(err);
  });

  test('step 1 without onceToken/identityType: generated token, identity type 04', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher', onceToken: null, identityType: null });
    assert.equal(flow.completed.once_token, flow.onceToken);
    const res = await sdkQuery(sdk, queryParams(flow, personas.teacher, { identity_type: '04' }));
    assert.equal(res.data.identity_result, 'SUCCESS');
  });

  test('query_type dim: identifiers optional', async () => {
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    const res = await sdkQuery(sdk, queryParams(flow, null, { query_type: 'dim' }));
    assert.equal(res.data.identity_result, 'SUCCESS');
  });

  test('business errors through the SDK; none of them consumes the token', async (t) => {
    const teacher = personas.teacher;
    const other = personas['not-teacher'];
    const flow = await runDesk(base, sdk, { persona: 'teacher' });
    // A valid ID that is not the teacher's: change a digit, recompute the check digit.
    const body = `${teacher.cert_no.slice(0, 16)}${(Number(teacher.cert_no[16]) + 1) % 10}`;
    const otherId = [...'0123456789X'].map((d) => body + d).find(validResidentId);
    const badCheckDigit = [...'0123456789X']
      .map((d) => teacher.cert_no.slice(0, 17) + d)
      .find((id) => !validResidentId(id));
    const cases = [
      ['unknown conn_key', { conn_key: `conn-unknown-${Date.now()}` }, 'WRONG_OUT_AGREEMENT_NO_INTERCEPT'],
      ['unknown once_token', { once_token: 'tok-never-issued' }, 'TOKEN_INVALID'],
      ['other identity_type', { identity_type: '01' }, 'TOKEN_NOT_MATCH_IDENTITY_TYPE'],
      ['other service_id', { service_id: '2019120400000000000000000000' }, 'MERCHANT_INTERCEPT'],
      ['missing conn_key', { conn_key: undefined }, 'INVALID_PARAMETER'],
      ['missing once_token', { once_token: undefined }, 'INVALID_PARAMETER'],
      ['missing service_id', { service_id: undefined }, 'INVALID_PARAMETER'],
      ['query_type not exact|dim', { query_type: 'fuzzy' }, 'INVALID_PARAMETER'],
      ['exact without a user identifier', { user_id: undefined }, 'INVALID_PARAMETER'],
      ['cert_type out of range', { user_id: undefined, cert_type: '9', cert_no: teacher.cert_no }, 'INVALID_PARAMETER'],
      ['cert_no without cert_type', { user_id: undefined, cert_no: teacher.cert_no }, 'INVALID_PARAMETER'],
      ['another user_id', { user_id: other.user_id }, 'USER_NOT_AUTHORIZE'],
      ['another open_id', { user_id: undefined, open_id: other.open_id }, 'USER_NOT_AUTHORIZE'],
      ['another valid cert_no', { user_id: undefined, cert_type: '0', cert_no: otherId }, 'CARD_NO_NOT_MATCH'],
      [
        'cert_no with a wrong check digit',
        { user_id: undefined, cert_type: '0', cert_no: badCheckDigit },
        'PARAM_ERROR',
      ],
      ['dim with another user_id', { query_type: 'dim', user_id: other.user_id }, 'USER_NOT_AUTHORIZE'],
    ];
    assert.ok(otherId && badCheckDigit);
    for (const [what, override, code] of cases) {
      await t.test(what, async () => {
        const err = await expectSdkError(sdkQuery(sdk, queryParams(flow, teacher, override)), code, { status: 400 });
        assertApiErrorShape(err);
      });
    }
    const res = await sdkQuery(sdk, queryParams(flow, teacher));
    assert.equal(res.data.identity_result, 'SUCCESS', 'the refused queries consumed nothing');
  });

  test('a token belongs to its conn_key', async () => {
    const a = await runDesk(base, sdk, { persona: 'teacher' });
    const b = await runDesk(base, sdk, { persona: 'teacher' });
    await expectSdkError(
      sdkQuery(sdk, queryParams(a, personas.teacher, { once_token: b.onceToken })),
      'TOKEN_INVALID',
      {
        status: 400,
      },
    );
    assert.equal((await sdkQuery(sdk, queryParams(b, personas.teacher))).data.identity_result, 'SUCCESS');
  });

  test('completing an unknown desk is a 4xx JSON error', async () => {
    const res = await fetch(`${base}/sandbox/desk/no-such-desk/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ persona: 'teacher' }),
    });
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
    const body = await res.json();
    assert.equal(typeof body.code, 'string');
  });

  test('order string with a tampered parameter is refused with invalid-signature', async () => {
    const flow = await runDesk(base, sdk, { persona: null });
    const tampered = flow.orderStr.replace(
      encodeURIComponent(flow.serviceId),
      encodeURIComponent('2019120400000000000000000001'),
    );
    assert.notEqual(tampered, flow.orderStr);
    const res = await fetch(`${base}/sandbox/desk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ order_str: tampered }),
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, 'invalid-signature');
  });
});

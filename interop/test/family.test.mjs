// The family's six endpoints through the official SDK's `curl` (v3), key mode and certificate
// mode: each answers and its answer checks out (the SDK verifies every signature and, in
// certificate mode, `alipay-sn`), what was pushed is listed by the control plane, and one
// documented error per endpoint comes back as the SDK's typed error (or, for a 200 business
// outcome, as sub_code in the data).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { apiOk, certModeSdk, expectSdkError, runDesk, sandboxWithApp } from './helpers.mjs';

const INFO = '/v3/zhima/customer/jobworth/info/query';
const RESUME = '/v3/zhima/customer/jobworth/cloudresume/query';
const JOBDATA = '/v3/zhima/customer/jobworth/jobdata/add';
const PICTURE = '/v3/zhima/customer/jobworth/picture/upload';
const POSITION = '/v3/zhima/customer/jobworth/position/add';
const AGREEMENT = '/v3/zhima/credit/payafteruse/creditagreement/query';

const png = (size = 64) => {
  const b = Buffer.alloc(size);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b);
  return b.toString('base64');
};

for (const mode of ['key', 'certificate']) {
  describe(`official SDK, family endpoints, ${mode} mode`, () => {
    let sandbox, base, appId, sdk;

    before(async () => {
      let keys, app;
      ({ sandbox, base, keys, appId, app, sdk } = await sandboxWithApp());
      if (mode === 'certificate') sdk = certModeSdk({ base, appId, keys, app });
    });
    after(() => sandbox?.stop());

    const listed = (what) => apiOk(base, 'GET', `/sandbox/apps/${appId}/${what}`);

    test('info/query: the work card links open sandbox pages; JOB_ID_NOT_MATCH; USER_NOT_OPEN_ZHIMA as sub_code', async () => {
      const flow = await runDesk(base, sdk, { persona: 'teacher' });
      const userId = flow.completed.user_id;
      const res = await sdk.curl('GET', INFO, {
        query: { user_id: userId, conn_key: flow.connKey, has_html: 'true', has_qr_code: 'true' },
      });
      assert.equal(res.responseHttpStatus, 200);
      for (const link of ['url', 'html_url', 'picture_url', 'update_url']) {
        assert.ok(res.data[link]?.startsWith(base), `${link}: ${JSON.stringify(res.data)}`);
      }
      assert.equal(res.data.sub_code, undefined);
      const page = await fetch(res.data.url);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type'), /text\/html/);

      await expectSdkError(sdk.curl('GET', INFO, { query: { user_id: userId, job_id: 'no-such-job' } }), 'JOB_ID_NOT_MATCH', {
        status: 400,
      });
      const noZhima = await runDesk(base, sdk, { persona: 'no-zhima' });
      const refused = await sdk.curl('GET', INFO, { query: { user_id: noZhima.completed.user_id } });
      assert.equal(refused.responseHttpStatus, 200);
      assert.equal(refused.data.sub_code, 'USER_NOT_OPEN_ZHIMA');
      assert.ok(refused.data.sub_msg);
    });

    test('cloudresume/query: the résumé once, then INVALID_PARAMETER; QUERY_DATA_IS_NULL for a user without one', async () => {
      const flow = await runDesk(base, sdk, { persona: 'teacher' });
      const query = { conn_key: flow.connKey, once_token: flow.onceToken };
      const res = await sdk.curl('GET', RESUME, { query });
      assert.equal(res.responseHttpStatus, 200);
      assert.ok(res.data.user_name);
      assert.ok(res.data.education_experiences.length > 0, JSON.stringify(res.data));
      assert.ok(res.data.work_experiences.length > 0, JSON.stringify(res.data));
      assert.ok(Array.isArray(res.data.skills));
      await expectSdkError(sdk.curl('GET', RESUME, { query }), 'INVALID_PARAMETER', { status: 400 });
      const none = await runDesk(base, sdk, { persona: 'no-jobworth' });
      await expectSdkError(
        sdk.curl('GET', RESUME, { query: { conn_key: none.connKey, once_token: none.onceToken } }),
        'QUERY_DATA_IS_NULL',
        { status: 400 },
      );
    });

    test('picture/upload: a PNG gets a pic_id, listed; PICTURE_TYPE_ERROR and PICTURE_UPLOAD_LIMIT_ERROR', async () => {
      const res = await sdk.curl('POST', PICTURE, { body: { content: png(), pic_type: 'JOB_DATA_UPLOAD' } });
      assert.equal(res.responseHttpStatus, 200);
      assert.ok(res.data.pic_id);
      const pictures = await listed('pictures');
      assert.ok(pictures.some((p) => p.pic_id === res.data.pic_id && p.size === 64 && p.pic_type === 'JOB_DATA_UPLOAD'));
      const gif = Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1').toString('base64');
      await expectSdkError(sdk.curl('POST', PICTURE, { body: { content: gif, pic_type: 'JOB_DATA_UPLOAD' } }), 'PICTURE_TYPE_ERROR', { status: 400 });
      await expectSdkError(
        sdk.curl('POST', PICTURE, { body: { content: png(1024 * 1024 + 1), pic_type: 'JOB_DATA_UPLOAD' } }),
        'PICTURE_UPLOAD_LIMIT_ERROR',
        { status: 400 },
      );
    });

    test('jobdata/add: records stored and listed; an empty job_data_list is INVALID_PARAMETER', async () => {
      const flow = await runDesk(base, sdk, { persona: 'teacher' });
      const userId = flow.completed.user_id;
      const body = {
        user_id: userId,
        job_data_list: [
          { type: 'WORK', company_name: '北京市朝阳区实验中学', job_name: '高中数学教师', salary_min: '15000', salary_max: '20000' },
          { type: 'SKILL', skill_name: '板书' },
        ],
      };
      const res = await sdk.curl('POST', JOBDATA, { body });
      assert.equal(res.responseHttpStatus, 200);
      assert.match(res.data.acceptance_id, /^.{32}$/);
      const rows = await listed('job-data');
      const row = rows.find((r) => r.acceptance_id === res.data.acceptance_id);
      assert.equal(row.user_id, userId);
      assert.equal(row.job_data_list[0].job_name, '高中数学教师');
      assert.equal(row.job_data_list[1].type, 'SKILL');
      await expectSdkError(sdk.curl('POST', JOBDATA, { body: { user_id: userId, job_data_list: [] } }), 'INVALID_PARAMETER', {
        status: 400,
      });
    });

    test('position/add: a posting stored and updated by ka_position_id; no position_title is INVALID_PARAMETER', async () => {
      const info = { ka_position_id: `KA-${mode}`, position_title: '高中数学教师', company_name: '北京市朝阳区实验中学', count: 2 };
      const res = await sdk.curl('POST', POSITION, { body: { jobworth_position_info: info } });
      assert.equal(res.responseHttpStatus, 200);
      const id = res.data.position_id;
      assert.ok(id);
      const again = await sdk.curl('POST', POSITION, { body: { jobworth_position_info: { ...info, count: 3 } } });
      assert.equal(again.data.position_id, id, 'the same ka_position_id updates the posting');
      const stored = (await listed('positions')).find((p) => p.position_id === id);
      assert.equal(stored.jobworth_position_info.position_title, '高中数学教师');
      await expectSdkError(
        sdk.curl('POST', POSITION, { body: { jobworth_position_info: { company_name: '实验中学' } } }),
        'INVALID_PARAMETER',
        { status: 400 },
      );
    });

    test('creditagreement/query: VALID after the desk, by number and by id; CREDIT_AGREEMENT_NOT_EXIST before', async () => {
      const flow = await runDesk(base, sdk, { persona: 'teacher' });
      const res = await sdk.curl('GET', AGREEMENT, { query: { out_agreement_no: flow.connKey } });
      assert.equal(res.responseHttpStatus, 200);
      assert.equal(res.data.agreement_status, 'VALID');
      assert.equal(res.data.out_agreement_no, flow.connKey);
      assert.equal(res.data.alipay_user_id, flow.completed.user_id);
      assert.match(res.data.biz_time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      const byId = await sdk.curl('GET', AGREEMENT, { query: { credit_agreement_id: res.data.credit_agreement_id } });
      assert.deepEqual(byId.data, res.data);
      await expectSdkError(
        sdk.curl('GET', AGREEMENT, { query: { out_agreement_no: 'never-signed' } }),
        'CREDIT_AGREEMENT_NOT_EXIST',
        { status: 400 },
      );
    });
  });
}

// The request inspector in a real browser: requests made with the official SDK (one answered, some
// refused with a diagnosis), then the list, its filter form and a detail page, at desktop width
// (1280 px) and phone width (390 px). Screenshots go to target/inspector-*.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import {
  TARGET_DIR,
  apiOk,
  chromiumIsInstalled,
  expectSdkError,
  generateAppKeys,
  guardedPage,
  keyModeSdk,
  launchChromium,
  newAppId,
  queryParams,
  registerApp,
  runDesk,
  sandboxWithApp,
  sdkQuery,
} from './helpers.mjs';

chromiumIsInstalled();

const WIDTHS = [
  { name: 'desktop', viewport: { width: 1280, height: 900 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
];

describe('request inspector in a real browser', () => {
  let sandbox;
  let base;
  let appId;
  let otherAppId;
  let refusedTrace;
  let browser;

  before(async () => {
    const setup = await sandboxWithApp();
    ({ sandbox, base, appId } = setup);
    const { keys, app, sdk, personas } = setup;
    const teacher = personas.teacher;

    // Answered: a completed desk read once.
    const flow = await runDesk(base, sdk);
    const ok = await sdkQuery(sdk, queryParams(flow, teacher));
    assert.equal(ok.data.identity_result, 'SUCCESS');
    // Refused: the same app id, signed with another key (the SDK sends the query as signed).
    const stranger = keyModeSdk({ base, appId, keys: generateAppKeys(), alipayPublicKey: app.alipay_public_key });
    const err = await expectSdkError(sdkQuery(stranger, queryParams(flow, teacher)), 'invalid-signature');
    refusedTrace = err.traceId;
    // Another app, so the filter has a choice: signed with the first app's key, refused too.
    otherAppId = newAppId();
    const other = await registerApp(base, { appId: otherAppId, publicKey: generateAppKeys().publicSpkiPem });
    const wrong = keyModeSdk({ base, appId: otherAppId, keys, alipayPublicKey: other.alipay_public_key });
    await expectSdkError(sdkQuery(wrong, queryParams(flow, teacher)), 'invalid-signature');

    const logged = await apiOk(base, 'GET', '/sandbox/requests');
    assert.equal(logged.length, 4, `an order string at the desk and three queries: ${JSON.stringify(logged)}`);
    browser = await launchChromium();
    mkdirSync(TARGET_DIR, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await sandbox?.stop();
  });

  /** Fails when the page is wider than the viewport (a horizontal scrollbar on a phone). */
  async function assertNoOverflow(page, width, what) {
    const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scroll <= width, `${what}: document is ${scroll} px wide in a ${width} px viewport`);
  }

  for (const { name, viewport } of WIDTHS) {
    test(`list, filter, detail at ${viewport.width} px (${name})`, async () => {
      const { context, page, problems } = await guardedPage(browser, viewport);
      const shot = (what) => page.screenshot({ path: path.join(TARGET_DIR, `inspector-${what}-${viewport.width}.png`), fullPage: true });
      try {
        const res = await page.goto(`${base}/sandbox/inspector`, { waitUntil: 'load' });
        assert.equal(res.status(), 200);
        assert.match(res.headers()['content-type'] ?? '', /text\/html/);
        assert.equal(await page.locator('.requests li').count(), 4, 'every logged request is listed');
        assert.equal(await page.locator('.requests li[data-verdict="refused"]').count(), 2);
        assert.equal(
          await page.locator('.requests li').first().getAttribute('data-app'),
          otherAppId,
          'newest first',
        );
        await assertNoOverflow(page, viewport.width, 'list');
        await shot('list');

        // The plain GET form: pick the app and "refused", submit.
        await page.locator('select[name="app_id"]').selectOption(appId);
        await page.locator('select[name="verdict"]').selectOption('refused');
        await Promise.all([page.waitForURL(/verdict=refused/), page.locator('[data-action="filter"]').click()]);
        assert.match(page.url(), new RegExp(`app_id=${appId}`));
        const rows = page.locator('.requests li');
        assert.equal(await rows.count(), 1, 'one refused request of this app');
        assert.equal(await rows.first().getAttribute('data-id'), refusedTrace, 'the SDK error names its trace id');
        assert.equal(await page.locator('select[name="verdict"]').inputValue(), 'refused', 'the form keeps the filter');
        assert.match(await rows.first().innerText(), /wrong-key/);
        await assertNoOverflow(page, viewport.width, 'filtered list');
        await shot('filtered');

        await Promise.all([page.waitForURL(/\/sandbox\/inspector\/[0-9a-f]+/), rows.first().locator('a').click()]);
        assert.equal(await page.locator('[data-field="diagnosis"]').innerText(), 'wrong-key');
        assert.equal(await page.locator('[data-field="app_id"]').innerText(), appId);
        const message = await page.locator('[data-field="message"]').innerText();
        assert.match(message, /signed with another key than the one registered for app/);
        assert.match(message, /SHA256:([0-9a-f]{2}:){31}[0-9a-f]{2}/, 'the registered fingerprint');
        assert.match(message, /jobworth keys fingerprint FILE/);
        const sts = await page.locator('[data-field="string_to_sign"]').innerText();
        assert.ok(sts.startsWith(`app_id=${appId},nonce=`), sts);
        assert.match(sts, /\nGET\\n\n\/v3\/zhima\/customer\/jobworth\/authentication\?/, 'line ends shown as \\n');
        assert.match(sts, /once_token=[^&\n]*\*{4}/, 'the once_token is masked');
        const headers = await page.locator('[data-field="headers"]').innerText();
        assert.match(headers, /authorization\s+ALIPAY-SHA256withRSA app_id=/);
        assert.match(headers, /sign=[A-Za-z0-9+/]{8}…\(\d+ chars\)/, 'the signature is elided');
        await assertNoOverflow(page, viewport.width, 'detail');
        await shot('detail');

        await Promise.all([page.waitForURL(/\/sandbox\/inspector\?/), page.locator('[data-action="back"]').click()]);
        assert.equal(await page.locator('.requests li').count(), 1, 'back to the filtered list');
        assert.deepEqual(problems, [], 'no script errors, no external requests');
      } finally {
        await context.close();
      }
    });
  }
});

// The acceptance desk in a real browser (Debian Chromium driven by playwright-core): open the
// desk for a real order string made by the official SDK, click a persona, see the result, and
// query with the official SDK. Screenshots go to target/ as CI artifacts.
//
// Chromium is required, not optional: if it is missing this test fails with a message saying how
// to install it (CI runs `apt-get install -y chromium`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import {
  CHROMIUM,
  CHROMIUM_ARGS,
  TARGET_DIR,
  apiOk,
  generateAppKeys,
  keyModeSdk,
  newAppId,
  newFlowIds,
  orderString,
  queryParams,
  registerApp,
  sdkQuery,
  expectSdkError,
  startSandbox,
} from './helpers.mjs';

const SHOT_BEFORE = path.join(TARGET_DIR, 'desk-screenshot.png');
const SHOT_AFTER = path.join(TARGET_DIR, 'desk-screenshot-completed.png');
const SHOT_PENDING = path.join(TARGET_DIR, 'desk-screenshot-pending.png');

const MISSING_CHROMIUM =
  `Chromium not found at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` ` +
  'or point CHROMIUM_PATH at a Chromium binary. This test does not skip.';

// Counted as a failure of its own, so a missing browser is never just "cancelled".
test('Chromium is installed', () => {
  assert.ok(existsSync(CHROMIUM), MISSING_CHROMIUM);
});

describe('acceptance desk in a real browser', () => {
  let sandbox;
  let base;
  let browser;
  let sdk;
  let appId;
  let personas;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
    sandbox = await startSandbox();
    base = sandbox.base;
    const keys = generateAppKeys();
    appId = newAppId();
    const app = await registerApp(base, { appId, publicKey: keys.publicSpkiPem });
    sdk = keyModeSdk({ base, appId, keys, alipayPublicKey: app.alipay_public_key });
    personas = await apiOk(base, 'GET', '/sandbox/personas');
    // playwright-core gives every launch a fresh, empty profile directory.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
    mkdirSync(TARGET_DIR, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await sandbox?.stop();
  });

  /** A page that records script errors and refuses (and records) any non-loopback request. */
  async function openPage() {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'zh-CN' });
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

  function newOrder(identityType = '04') {
    const ids = newFlowIds();
    return { ids, orderStr: orderString(sdk, { ...ids, identityType }) };
  }

  const flowOf = (ids) => ({
    connKey: ids.outAgreementNo,
    onceToken: ids.onceToken,
    serviceId: ids.serviceId,
    identityType: '04',
  });

  test('teacher: open the desk, click the persona, query SUCCESS with the official SDK', async () => {
    const { ids, orderStr } = newOrder();
    const { context, page, problems } = await openPage();
    try {
      const res = await page.goto(`${base}/desk?${orderStr}`, { waitUntil: 'load' });
      assert.equal(res.status(), 200, 'desk page answers 200');
      assert.match(res.headers()['content-type'] ?? '', /text\/html/);
      const text = await page.locator('body').innerText();
      assert.ok(text.includes(appId), 'the page shows the merchant app id');
      assert.ok(text.includes('04'), 'the page shows the identity type');
      for (const p of personas) {
        assert.equal(
          (await page.locator(`[data-persona="${p.persona}"]`).count()) > 0,
          true,
          `persona ${p.persona} shown`,
        );
      }
      await page.screenshot({ path: SHOT_BEFORE, fullPage: true });

      await page.locator('[data-persona="teacher"]').first().click();
      // The completion view: the result card for SUCCESS, naming the test user.
      const result = page.locator('[data-outcome="SUCCESS"]');
      await result.waitFor({ timeout: 15_000 });
      const resultText = await result.innerText();
      assert.ok(resultText.includes('SUCCESS'), resultText);
      assert.ok(resultText.includes(personas.find((p) => p.persona === 'teacher').name), resultText);
      assert.equal(await page.locator('[data-persona]').count(), 0, 'persona choice gone once completed');
      await page.screenshot({ path: SHOT_AFTER, fullPage: true });
      assert.deepEqual(problems, [], 'no script errors, no external requests');
    } finally {
      await context.close();
    }

    const teacher = personas.find((p) => p.persona === 'teacher');
    const q = await sdkQuery(sdk, queryParams(flowOf(ids), teacher));
    assert.equal(q.data.identity_result, 'SUCCESS');
    assert.equal(q.data.user_id, teacher.user_id);
  });

  test('cancel in the browser: the query is refused with USER_NOT_AUTHORIZE', async () => {
    const { ids, orderStr } = newOrder();
    const { context, page, problems } = await openPage();
    try {
      await page.goto(`${base}/desk?${orderStr}`);
      await page.locator('[data-action="cancel"]').first().click();
      const result = page.locator('[data-outcome]');
      await result.waitFor({ timeout: 15_000 });
      assert.match(await result.innerText(), /取消|cancel/i);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
    const teacher = personas.find((p) => p.persona === 'teacher');
    await expectSdkError(sdkQuery(sdk, queryParams(flowOf(ids), teacher)), 'USER_NOT_AUTHORIZE', { status: 400 });
  });

  test('pending in the browser, then resolve there: WAITING_VERIFY, then SUCCESS', async () => {
    const { ids, orderStr } = newOrder();
    const pending = personas.find((p) => p.persona === 'pending');
    const { context, page, problems } = await openPage();
    try {
      await page.goto(`${base}/desk?${orderStr}`);
      await page.locator('[data-persona="pending"]').first().click();
      await page.locator('[data-outcome="WAITING_VERIFY"]').waitFor({ timeout: 15_000 });
      await page.screenshot({ path: SHOT_PENDING, fullPage: true });
      const waiting = await sdkQuery(sdk, queryParams(flowOf(ids), pending));
      assert.equal(waiting.data.identity_result, 'WAITING_VERIFY');
      await page.locator('[data-action="resolve-success"]').first().click();
      await page.locator('[data-outcome="SUCCESS"]').waitFor({ timeout: 15_000 });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
    const done = await sdkQuery(sdk, queryParams(flowOf(ids), pending));
    assert.equal(done.data.identity_result, 'SUCCESS');
  });

  test('a tampered order string gets a 4xx page, not a desk', async () => {
    const { ids, orderStr } = newOrder();
    const tampered = orderStr.replace(
      encodeURIComponent(ids.outAgreementNo),
      encodeURIComponent(`${ids.outAgreementNo}x`),
    );
    assert.notEqual(tampered, orderStr);
    const { context, page } = await openPage();
    try {
      const res = await page.goto(`${base}/desk?${tampered}`);
      assert.ok(res.status() >= 400 && res.status() < 500, `status ${res.status()}`);
      assert.equal(await page.locator('[data-persona="teacher"]').count(), 0, 'no persona buttons');
    } finally {
      await context.close();
    }
  });
});

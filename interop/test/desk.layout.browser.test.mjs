// The sandbox's pages at a phone's width (390 px) and a desktop's (1280 px) in a real browser: the
// desk before a choice, waiting for review, with a result, the index and the personas page. On each,
// nothing is wider than the window and no word is broken across lines (ids may wrap anywhere; they
// are marked `.id`). The result page's `jobworth query` line is run as copied, in bash. Screenshots
// go to target/desk-390-*.png and target/desk-1280-*.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

import {
  CHROMIUM,
  CHROMIUM_ARGS,
  TARGET_DIR,
  apiOk,
  generateAppKeys,
  jobworthBin,
  keyModeSdk,
  newAppId,
  newFlowIds,
  orderString,
  startSandbox,
} from './helpers.mjs';

const WIDTHS = [390, 1280];
// A long name, to see it wrap between words.
const MERCHANT = '示例书店 Example Bookshop & Learning Supplies';

/** In the page: what overflows, which words are split across lines, and which fields wrap. */
function measure() {
  const splitWords = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    // Ids and the command may wrap anywhere; everything else only between words.
    if (n.parentElement.closest('.id, pre, code, style, title')) continue;
    const re = /[A-Za-z0-9_][A-Za-z0-9_'’]*[A-Za-z0-9_]/g;
    let m;
    while ((m = re.exec(n.data))) {
      const r = document.createRange();
      r.setStart(n, m.index);
      r.setEnd(n, m.index + m[0].length);
      const lines = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
      if (lines.size > 1) splitWords.push(m[0]);
    }
  }
  const linesOf = (el) => {
    const r = document.createRange();
    r.selectNodeContents(el);
    return new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top))).size;
  };
  const oneLine = {};
  for (const sel of ['.label', '[data-field="app_id"]', '[data-field="service_id"]', '.badge', '.btn', '.cmd .nowrap']) {
    const els = [...document.querySelectorAll(sel)];
    if (els.length) oneLine[sel] = els.every((el) => el.getClientRects().length === 1 && linesOf(el) === 1);
  }
  const wide = [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    splitWords,
    oneLine,
    wide: wide.slice(0, 10),
  };
}

describe('the pages at 390 px and 1280 px', () => {
  let sandbox;
  let base;
  let browser;
  let sdk;
  let appId;
  let keys;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; this test does not skip`);
    sandbox = await startSandbox();
    base = sandbox.base;
    keys = generateAppKeys();
    appId = newAppId();
    const app = await apiOk(base, 'POST', '/sandbox/apps', { app_id: appId, public_key: keys.publicSpkiPem, name: MERCHANT }, 201);
    assert.equal(app.name, MERCHANT);
    keys.alipayPublicKey = app.alipay_public_key;
    sdk = keyModeSdk({ base, appId, keys, alipayPublicKey: app.alipay_public_key });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
    mkdirSync(TARGET_DIR, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await sandbox?.stop();
  });

  async function check(page, width, name) {
    const m = await page.evaluate(measure);
    await page.screenshot({ path: path.join(TARGET_DIR, `desk-${width}-${name}.png`), fullPage: true });
    assert.ok(m.scrollWidth <= m.innerWidth, `${name} at ${width}px: ${m.scrollWidth} > ${m.innerWidth}; wide: ${m.wide}`);
    assert.deepEqual(m.wide, [], `${name} at ${width}px: elements past the right edge`);
    assert.deepEqual(m.splitWords, [], `${name} at ${width}px: words broken across lines`);
    for (const [sel, ok] of Object.entries(m.oneLine)) assert.ok(ok, `${name} at ${width}px: ${sel} is not on one line`);
    return m;
  }

  for (const width of WIDTHS) {
    test(`desk, result, index and personas at ${width} px`, async () => {
      const context = await browser.newContext({ viewport: { width, height: 844 }, locale: 'zh-CN' });
      const page = await context.newPage();
      try {
        // Before a choice.
        const ids = newFlowIds();
        await page.goto(`${base}/desk?${orderString(sdk, ids)}`);
        assert.equal(await page.locator('[data-field="merchant"]').innerText(), MERCHANT);
        assert.match(await page.locator('[data-field="state"]').innerText(), /Waiting for the user/);
        await check(page, width, 'pending');

        // Waiting for review, then the result.
        await page.locator('[data-persona="pending"]').click();
        await page.locator('[data-outcome="WAITING_VERIFY"]').waitFor();
        await check(page, width, 'review');
        await page.locator('[data-action="resolve-success"]').click();
        await page.locator('[data-outcome="SUCCESS"]').waitFor();
        assert.equal(await page.locator('[data-field="once_token"]').innerText(), ids.onceToken);
        await check(page, width, 'result');

        // The query line as copied from the page runs and reads the result.
        const command = await page.locator('[data-field="query_command"]').innerText();
        assert.match(command, /^jobworth query --endpoint /);
        if (width === WIDTHS[0]) {
          const dir = mkdtempSync(path.join(os.tmpdir(), 'jobworth-copy-'));
          try {
            mkdirSync(path.join(dir, 'keys'));
            writeFileSync(path.join(dir, 'keys/app_private_key.pem'), keys.privatePkcs8Pem);
            writeFileSync(path.join(dir, 'keys/alipay_public_key.pem'), keys.alipayPublicKey);
            const run = spawnSync('bash', ['-c', command], {
              cwd: dir,
              encoding: 'utf8',
              env: { ...process.env, PATH: `${path.dirname(jobworthBin())}:${process.env.PATH}` },
            });
            assert.equal(run.status, 0, `${command}\n${run.stdout}\n${run.stderr}`);
            assert.match(run.stdout, /SUCCESS/);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }

        // The index lists the app (with its name) and the desk, linked.
        await page.goto(`${base}/`);
        assert.match(await page.locator(`[data-app-id="${appId}"]`).innerText(), /Example Bookshop/);
        const deskId = await page.locator('[data-desk-id]').first().getAttribute('data-desk-id');
        assert.equal(await page.locator(`a[href="/desk/${deskId}"]`).count(), 1);
        await check(page, width, 'index');

        await page.goto(`${base}/personas`);
        assert.equal(await page.locator('[data-persona-row]').count(), 7);
        await check(page, width, 'personas');
      } finally {
        await context.close();
      }
    });
  }
});

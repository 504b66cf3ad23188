// The work card (工作证) that info/query links to, in a real browser at a phone's width (390 px) and
// a desktop's (1280 px): the official SDK asks for the card of a user who authorized at the desk,
// the browser opens the `url` it answered. The card shows what the display flags asked for, nothing
// is wider than the window, and the page makes no request off the machine. Screenshots go to
// target/workcard-390.png and target/workcard-1280.png (and -embed for html_url).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { TARGET_DIR, chromiumIsInstalled, guardedPage, launchChromium, runDesk, sandboxWithApp } from './helpers.mjs';

const INFO_PATH = '/v3/zhima/customer/jobworth/info/query';
const WIDTHS = [390, 1280];

chromiumIsInstalled();

describe('work card in a real browser', () => {
  let ctx;
  let browser;
  let links;

  before(async () => {
    ctx = await sandboxWithApp();
    browser = await launchChromium();
    mkdirSync(TARGET_DIR, { recursive: true });
    const flow = await runDesk(ctx.base, ctx.sdk, { persona: 'teacher' });
    const res = await ctx.sdk.curl('GET', INFO_PATH, {
      query: {
        user_id: ctx.personas.teacher.user_id,
        conn_key: flow.outAgreementNo,
        has_button: 'true',
        has_number: 'true',
        has_qr_code: 'true',
        has_html: 'true',
        back_url: 'https://merchant.example/back',
      },
    });
    assert.equal(res.responseHttpStatus, 200, JSON.stringify(res.data));
    links = res.data;
    for (const f of ['url', 'html_url', 'picture_url', 'update_url', 'acceptance_id']) {
      assert.equal(typeof links[f], 'string', `info/query answers ${f}: ${JSON.stringify(links)}`);
    }
    assert.ok(links.url.startsWith(`${ctx.base}/workcard/${ctx.appId}/`), links.url);
  });
  after(async () => {
    await browser?.close();
    await ctx?.sandbox.stop();
  });

  for (const width of WIDTHS) {
    test(`the card at ${width} px`, async () => {
      const { context, page, problems } = await guardedPage(browser, { width, height: 900 });
      try {
        const res = await page.goto(links.url, { waitUntil: 'load' });
        assert.equal(res.status(), 200);
        assert.match(res.headers()['content-type'] ?? '', /text\/html/);
        const card = page.locator('section.workcard');
        assert.equal(await card.count(), 1);
        assert.equal(await card.locator('[data-field="name"]').innerText(), '王建国');
        assert.match(await card.locator('[data-field="job"]').innerText(), /中学数学教师/);
        assert.equal(await card.locator('[data-field="card_no"]').innerText(), 'ZD110105202403150001');
        assert.equal(await card.locator('[data-field="qr"] svg').count(), 1, 'a QR code, as has_qr_code asked');
        const open = card.locator('[data-action="open-in-alipay"]');
        assert.match((await open.getAttribute('href')) ?? '', /^alipays:\/\/platformapi\/startapp\?appId=20000067&url=/);
        assert.equal(await card.locator('[data-action="back"]').getAttribute('href'), 'https://merchant.example/back');
        const verified = await card.locator('[data-field="verified"] li').allInnerTexts();
        assert.deepEqual(verified, ['✓ 实名身份', '✓ 硕士学历', '✓ 高级中学教师资格证']);
        const wide = await page.evaluate(() =>
          [...document.querySelectorAll('body *')]
            .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
        );
        assert.deepEqual(wide, [], `nothing wider than ${width} px`);
        const qr = await card.locator('[data-field="qr"] svg').boundingBox();
        assert.ok(qr.width >= 100 && qr.height >= 100, `the QR code is large enough to scan: ${JSON.stringify(qr)}`);
        await page.screenshot({ path: path.join(TARGET_DIR, `workcard-${width}.png`), fullPage: true });

        // html_url: the card alone, for a merchant's iframe.
        await page.goto(links.html_url, { waitUntil: 'load' });
        assert.equal(await page.locator('header').isVisible(), false);
        assert.equal(await page.locator('section.workcard').count(), 1);
        assert.equal(await page.locator('[data-section="about"]').count(), 0);
        await page.screenshot({ path: path.join(TARGET_DIR, `workcard-${width}-embed.png`), fullPage: true });

        // picture_url: an image the browser renders.
        const pic = await page.goto(links.picture_url, { waitUntil: 'load' });
        assert.match(pic.headers()['content-type'] ?? '', /^image\/svg\+xml/);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});

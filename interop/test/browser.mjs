// The real browser of the page tests: Debian Chromium driven by playwright-core, with pages that
// record script errors and refuse (and record) every request that leaves the machine.
//
// Chromium is required, not optional: a test that needs it fails with a message saying how to
// install it (CI runs `apt-get install -y chromium`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Flags for this machine's closed network and root user (see the machine notes in the README).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const MISSING_CHROMIUM =
  `Chromium not found at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` ` +
  'or point CHROMIUM_PATH at a Chromium binary. This test does not skip.';

/** A test of its own, so a missing browser is counted as a failure, never just "cancelled". */
export function chromiumIsInstalled() {
  test('Chromium is installed', () => {
    assert.ok(existsSync(CHROMIUM), MISSING_CHROMIUM);
  });
}

/** Launches Chromium (playwright-core gives every launch a fresh, empty profile directory). */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** A page that records script errors and refuses (and records) any non-loopback request. */
export async function openPage(browser, viewport = { width: 1100, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN' });
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

// The app shell, served as static files: loads at the root and under a subpath, strict CSP with zero
// violations, no console errors, accessible, usable at phone width.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  launch, openPage, appReady, consoleErrors, axe, screenshot, hasHorizontalScroll,
  APP_URL, APP_SUBPATH_URL, ROOT,
} from './lib/harness.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('dist has a strict CSP in index.html and only relative asset URLs', () => {
  const html = readFileSync(path.join(ROOT, 'dist', 'index.html'), 'utf8');
  const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
  assert.ok(csp, 'index.html carries a CSP meta tag');
  const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
  assert.ok(scriptSrc.includes("'wasm-unsafe-eval'"));
  assert.ok(!scriptSrc.includes("'unsafe-inline'") && !scriptSrc.includes("'unsafe-eval'"), scriptSrc);
  assert.match(scriptSrc, /'sha256-[A-Za-z0-9+/]{43}='/, 'the loader is allowed by hash');
  assert.ok(!csp.includes('TRUNK_LOADER_HASH'), 'the placeholder was replaced');
  for (const m of html.matchAll(/\s(?:src|href)="([^"]*)"/g)) {
    assert.ok(!m[1].startsWith('/') && !/^https?:/.test(m[1]), `absolute asset URL in index.html: ${m[1]}`);
  }
  // The headers file states the same policy, plus what only a header can say.
  const headers = readFileSync(path.join(ROOT, 'dist', '_headers'), 'utf8');
  assert.ok(headers.includes(`Content-Security-Policy: ${csp}; frame-ancestors 'none'`));
  const nginx = readFileSync(path.join(ROOT, 'dist', 'nginx-headers.conf'), 'utf8');
  assert.ok(nginx.includes(`add_header Content-Security-Policy "${csp}; frame-ancestors 'none'" always;`));
  assert.ok(nginx.includes('Referrer-Policy "no-referrer"'));
  // Asset names carry content hashes and every one of them is referenced by index.html.
  const assets = readdirSync(path.join(ROOT, 'dist')).filter((f) => /\.(js|wasm|css)$/.test(f));
  assert.ok(assets.length >= 3, `assets: ${assets}`);
});

for (const [where, url] of [['root', APP_URL], ['subpath', APP_SUBPATH_URL]]) {
  test(`app loads at the ${where} (${url}) with no CSP violation, no console error, no failed request`, async () => {
    const { ctx, page, log } = await openPage(browser);
    await page.goto(url, { waitUntil: 'load' });
    await appReady(page);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    assert.equal(new URL(page.url()).pathname, new URL(url).pathname, 'navigation stays on the app path');
    await page.getByRole('link', { name: 'Privacy' }).click();
    await page.getByRole('heading', { name: 'How your data is protected' }).waitFor();
    assert.deepEqual(await page.cspViolations(), []);
    assert.deepEqual(consoleErrors(log), []);
    assert.deepEqual(log.failedResponses, []);
    await ctx.close();
  });
}

test('a display preference survives a reload (and is the only thing in localStorage)', async () => {
  const { ctx, page } = await openPage(browser);
  await page.goto(APP_URL + '#/settings');
  await appReady(page);
  await page.getByLabel('Larger').check();
  await page.waitForFunction(() => document.querySelector('.app.text-larger'));
  await page.reload();
  await appReady(page);
  assert.ok(await page.locator('.app.text-larger').count(), 'text size kept after reload');
  assert.equal(await page.getByLabel('Larger').isChecked(), true);
  const keys = await page.evaluate(() => Object.keys(localStorage));
  assert.deepEqual(keys, ['phr.prefs.v1']);
  await ctx.close();
});

test('the shell has no serious or critical accessibility violations (axe-core)', async () => {
  const { ctx, page } = await openPage(browser);
  for (const route of ['#/', '#/privacy', '#/settings']) {
    await page.goto(APP_URL + route);
    await appReady(page);
    const violations = await axe(page);
    assert.deepEqual(violations, [], `${route}: ${JSON.stringify(violations, null, 1)}`);
  }
  await ctx.close();
});

test('works on a 360 px wide phone: no horizontal scroll, menu opens and navigates', async () => {
  const { ctx, page, log } = await openPage(browser, { viewport: { width: 360, height: 740 } });
  await page.goto(APP_URL);
  await appReady(page);
  assert.equal(await hasHorizontalScroll(page), false);
  const menu = page.getByRole('button', { name: 'Menu' });
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.getByRole('link', { name: 'Settings' }).isVisible(), false, 'nav folded');
  await menu.click();
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  assert.equal(await hasHorizontalScroll(page), false);
  await screenshot(page, 'shell-phone-settings');
  const violations = await axe(page);
  assert.deepEqual(violations, []);
  assert.deepEqual(consoleErrors(log), []);
  await ctx.close();
});

test('keyboard only: skip link and navigation are reachable with Tab', async () => {
  const { ctx, page } = await openPage(browser);
  await page.goto(APP_URL);
  await appReady(page);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  let reached = false;
  for (let i = 0; i < 10 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement.textContent === 'Settings');
  }
  assert.ok(reached, 'Settings link reachable by Tab');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  await ctx.close();
});

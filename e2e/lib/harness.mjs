// Shared helpers for the end-to-end tests: Debian Chromium driven by playwright-core.
// The servers (static app, demo EHR, share host) are started by scripts/test.sh, which passes their
// addresses in the environment; the defaults match it.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const APP_URL = process.env.APP_URL || 'http://127.0.0.1:18080/';
export const APP_SUBPATH_URL = process.env.APP_SUBPATH_URL || 'http://127.0.0.1:18081/apps/phr/';
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || path.join(ROOT, 'target', 'e2e-screenshots');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/**
 * A new page that records everything a test may want to assert on: console messages (all levels),
 * page errors, CSP violations (reported by the page itself), and failed responses.
 */
export async function openPage(browser, { viewport = { width: 1280, height: 900 }, context } = {}) {
  const ctx = context || await browser.newContext({ viewport });
  const page = await ctx.newPage();
  const log = { console: [], errors: [], csp: [], failedResponses: [] };
  page.on('console', (m) => log.console.push({ type: m.type(), text: m.text(), url: m.location()?.url || page.url() }));
  page.on('pageerror', (e) => log.errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) log.failedResponses.push(`${r.status()} ${r.url()}`); });
  // Runs before any page script (and is not subject to the page's CSP).
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`);
    });
  });
  page.cspViolations = async () => page.evaluate(() => window.__csp || []);
  return { ctx, page, log };
}

/** Waits until the Leptos app has mounted (its header is in the DOM). */
export async function appReady(page) {
  try {
    await page.waitForSelector('header.app-header', { timeout: 20000 });
  } catch (e) {
    const csp = await page.evaluate(() => window.__csp || []).catch(() => []);
    throw new Error(`the app did not mount at ${page.url()}; CSP violations: ${JSON.stringify(csp)}; ${e.message}`);
  }
}

/** The app's console errors and page errors (messages logged by other origins' pages, such as an
 * EHR's sign-in page during a SMART redirect, are not the app's). */
export function consoleErrors(log) {
  const ours = (url) => !url || [APP_URL, APP_SUBPATH_URL].some((a) => url.startsWith(new URL(a).origin));
  return [...log.console.filter((m) => m.type === 'error' && ours(m.url)).map((m) => m.text), ...log.errors];
}

/** Runs axe-core on the page and returns the serious and critical violations. */
export async function axe(page) {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source); // evaluate() is not subject to the page's CSP
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Whether the page scrolls horizontally (it must not, down to 360 px). */
export async function hasHorizontalScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

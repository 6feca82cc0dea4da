// Import from provider EHRs over SMART on FHIR, against the demo EHR (two providers): connect,
// sign in as a Synthea patient, import, counts equal to what the sandbox reports, lock/unlock,
// re-sync (incremental and full) without duplicates, a second provider merged with both sources
// shown, and the failures: deny, forged state, server down, CORS, token errors, token expiry
// mid-import, 403 on one type, malformed answers, network drop then resume. Then a 50 MB Bundle
// file within 3x its size in memory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, axe, screenshot, hasHorizontalScroll, APP_URL, APP_SUBPATH_URL } from './lib/harness.mjs';
import { createVault, freshApp, lock, unlock, waitUnlocked, PASSPHRASE } from './lib/vault.mjs';
import { GENERAL, CLINIC, reset, misbehave, knobs, person, signIn, putResource } from './lib/sandbox.mjs';
import {
  card, moreOptions, waitFinished, receivedCounts, storedCounts, storedTotal, unlockToFinish, expectedCounts,
} from './lib/importer.mjs';
import { syntheticBundle } from './lib/synth.mjs';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const APP_ORIGIN = new URL(APP_URL).origin;
let browser, page, log;
let alden, expectedGeneral, expectedClinic, storedBaseline;
const tokens = { access: new Set(), refresh: new Set(), byOrigin: new Map() };
const tokenGrants = [];
const appConsoleErrors = [];

before(async () => {
  browser = await launch();
  await reset();
  alden = await person('Alden Goodwin');
  expectedGeneral = await expectedCounts('general', alden.general.id);
  expectedClinic = await expectedCounts('clinic', alden.clinic.id);
  ({ page, log } = await freshApp(browser, openPage, APP_URL));
  // Errors logged by the app itself (the sandbox's own pages have no favicon, for instance).
  page.on('console', (m) => {
    if (m.type() === 'error' && (m.location()?.url || '').startsWith(APP_ORIGIN)) appConsoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => appConsoleErrors.push(String(e)));
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/oidc/token')) tokenGrants.push(new URLSearchParams(r.postData() || '').get('grant_type'));
  });
  page.on('response', async (r) => {
    if (r.request().method() !== 'POST' || !r.url().endsWith('/oidc/token') || !r.ok()) return;
    try {
      const body = await r.json();
      if (body.access_token) tokens.access.add(body.access_token);
      if (body.access_token) tokens.byOrigin.set(new URL(r.url()).origin, body.access_token);
      if (body.refresh_token) tokens.refresh.add(body.refresh_token);
    } catch { /* not JSON */ }
  });
  await createVault(page);
});

after(async () => {
  await reset().catch(() => {});
  await browser?.close();
});

const importPage = async () => {
  await page.goto(APP_URL + '#/import');
  await page.locator('#providers-title').waitFor();
};
const button = (providerId, name) => card(page, providerId).getByRole('button', { name, exact: true });

/** Every value in this origin's storage, as text (IndexedDB values as bytes decoded as latin1). */
async function allStoredText() {
  return page.evaluate(async () => {
    const parts = [];
    for (const s of [localStorage, sessionStorage]) for (let i = 0; i < s.length; i++) parts.push(s.key(i), s.getItem(s.key(i)));
    const db = await new Promise((res, rej) => { const r = indexedDB.open('phr'); r.onsuccess = () => res(r.result); r.onerror = rej; });
    const values = await new Promise((res, rej) => {
      const req = db.transaction('kv').objectStore('kv').getAll();
      req.onsuccess = () => res(req.result); req.onerror = rej;
    });
    db.close();
    // A save stores a blob in two parts, [head, ciphertext]: every part is read.
    for (const v of values.flatMap((v) => (Array.isArray(v) ? v : [v]))) {
      const bytes = v instanceof Uint8Array ? v : new Uint8Array(v instanceof ArrayBuffer ? v : v.buffer || []);
      let s = ''; for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
      parts.push(s);
    }
    return parts.join('\n');
  });
}

test('connect Demo General Hospital, sign in as a Synthea patient, import: counts equal the sandbox', async () => {
  await importPage();
  await card(page, GENERAL.id).getByText('Not connected.').waitFor();
  assert.deepEqual(await axe(page), []);
  // What this app keeps while the patient is at the provider: the sign-in page is answered with
  // "204 No Content" once, so the browser stays on the app and its sessionStorage can be read.
  // It holds the pending sign-in, and nothing in it (keys or values) says which provider, or
  // carries the state, an address or the verifier.
  const isAuthorize = (u) => u.searchParams.has('code_challenge');
  let answered;
  const authorizeUrl = new Promise((resolve) => { answered = resolve; });
  await page.route(isAuthorize, async (r) => { await r.fulfill({ status: 204 }); answered(r.request().url()); }, { times: 1 });
  await button(GENERAL.id, `Connect ${GENERAL.name}`).click();
  const state = new URL(await authorizeUrl).searchParams.get('state');
  assert.ok(state && state.length >= 22);
  const pending = await page.evaluate(() => Object.entries(sessionStorage));
  assert.equal(pending.length, 1, JSON.stringify(pending));
  const [key, value] = pending[0];
  assert.match(key, /^phr-smart\/pending\/[0-9a-f]{32}$/);
  for (const secret of [state, GENERAL.name, GENERAL.id, GENERAL.fhir, new URL(GENERAL.fhir).host, '://', 'verifier', 'client_id', 'token']) {
    assert.ok(!key.includes(secret) && !value.includes(secret), `${secret} readable in sessionStorage: ${value}`);
  }
  await page.evaluate(() => sessionStorage.clear());
  await page.unroute(isAuthorize);
  // Now for real.
  await button(GENERAL.id, `Connect ${GENERAL.name}`).click();
  await signIn(page, alden.general.id, { appUrl: APP_URL });
  // Back from the provider: the vault is locked (the page was replaced); the code was exchanged.
  await unlockToFinish(page, GENERAL.name);
  assert.doesNotMatch(page.url(), /code=|state=/, 'the code is not left in the address bar');
  const outcome = await waitFinished(page);
  const received = await receivedCounts(page);
  assert.deepEqual(received, expectedGeneral.expected, 'received per type = the sandbox counts');
  const total = Object.values(expectedGeneral.expected).reduce((a, b) => a + b, 0);
  assert.equal(outcome.added, total);
  assert.deepEqual(await storedCounts(page, GENERAL.id), expectedGeneral.expected, 'stored per type = the sandbox counts');
  assert.equal(await storedTotal(page, GENERAL.id), total);
  // Types outside the US Core plan are not fetched (e.g. Coverage, Provenance).
  for (const t of expectedGeneral.notInPlan) assert.equal(received[t], undefined, t);
  assert.ok(expectedGeneral.notInPlan.includes('Provenance'));
  // The benchmark's numbers are there, as numbers only.
  const stats = await page.evaluate(() => window.__phrImportStats);
  assert.equal(stats.finished, 1);
  assert.equal(stats.resources, total);
  for (const [k, v] of Object.entries(stats)) assert.equal(typeof v, 'number', k);
  const measures = await page.evaluate(() => performance.getEntriesByName('phr-import').length);
  assert.equal(measures, 1);

  // Secrets: the verifier/state are gone from sessionStorage; no token, name or record text
  // anywhere in browser storage in plaintext (the vault is encrypted).
  assert.equal(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('phr-smart/')).length), 0);
  assert.ok(tokens.access.size >= 1 && tokens.refresh.size >= 1);
  const stored = await allStoredText();
  for (const t of [...tokens.access, ...tokens.refresh]) assert.ok(!stored.includes(t), 'a token is in browser storage');
  for (const needle of ['Goodwin', alden.general.id, 'Observation', 'Bearer']) assert.ok(!stored.includes(needle), `${needle} in storage`);

  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'import-finished');
  assert.deepEqual(appConsoleErrors, []);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  assert.equal(await hasHorizontalScroll(page), false, 'the import screen scrolls sideways at 390 px');
  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'phone-import-finished');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.locator('#import-close').click();
  await page.locator('#import-run').waitFor({ state: 'detached' });
});

test('lock and unlock: everything is still there', async () => {
  await lock(page);
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await importPage();
  assert.deepEqual(await storedCounts(page, GENERAL.id), expectedGeneral.expected);
  // Tokens went with the lock; the saved refresh token lets "Update" work without signing in.
  await button(GENERAL.id, `Update ${GENERAL.name}`).waitFor();
  await page.goto(APP_URL + '#/record/immunizations');
  await page.locator('.rows .badge.ehr', { hasText: GENERAL.name }).first().waitFor();
});

test('re-sync: incremental picks up new and changed records, full sync flags what is gone; no duplicates', async () => {
  await importPage();
  const total = await storedTotal(page, GENERAL.id);
  const grantsBefore = tokenGrants.length;
  await button(GENERAL.id, `Update ${GENERAL.name}`).click();
  let o = await waitFinished(page);
  assert.deepEqual([o.added, o.updated, o.gone], [0, 0, 0], 'nothing changed since the last sync');
  assert.ok(o.unchanged < 5, `only what changed is fetched (${o.unchanged})`);
  assert.match(await page.locator('#import-outcome').textContent(), /what changed since the last update/);
  assert.equal(tokenGrants.slice(grantsBefore).filter((g) => g === 'refresh_token').length, 1, 'access renewed with the refresh token');

  // The provider adds a condition and changes another.
  const condition = {
    resourceType: 'Condition', id: 'e2e-new-condition',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '195662009', display: 'Acute viral pharyngitis' }], text: 'E2E sore throat' },
    subject: { reference: `Patient/${alden.general.id}` }, onsetDateTime: '2026-06-01T10:00:00Z',
  };
  await putResource('general', condition);
  const existing = await fetchExistingCondition();
  await putResource('general', { ...existing, note: [{ text: 'E2E amended by the provider' }] });
  await button(GENERAL.id, `Update ${GENERAL.name}`).click();
  o = await waitFinished(page);
  assert.equal(o.added, 1, 'the new condition');
  assert.equal(o.updated, 1, 'the changed condition');
  assert.equal(o.gone, 0);
  assert.equal(await storedTotal(page, GENERAL.id), total + 1);

  // A full sync returns everything again: nothing new, nothing duplicated.
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Check everything again ${GENERAL.name}` }).click();
  o = await waitFinished(page);
  assert.equal(o.added, 0);
  assert.equal(o.updated, 0);
  assert.equal(o.unchanged, total + 1);
  assert.equal(await storedTotal(page, GENERAL.id), total + 1);

  // The provider removes the new condition and reverts the change: a full sync flags the first
  // as gone (kept, never deleted) and updates the second.
  await reset();
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Check everything again ${GENERAL.name}` }).click();
  o = await waitFinished(page);
  assert.equal(o.gone, 1);
  assert.equal(o.updated, 1);
  assert.equal(o.added, 0);
  await page.locator('#import-gone').waitFor();
  assert.equal(await storedTotal(page, GENERAL.id), total + 1, 'nothing is deleted');
  storedBaseline = await storedCounts(page, GENERAL.id);
  await page.goto(APP_URL + '#/record/problems');
  const row = page.locator('.rows .row', { hasText: 'E2E sore throat' });
  await row.getByText('(no longer at source)').waitFor();
});

/** The exact text of each `"resource": {...}` in a Bundle's JSON text (strings and escapes respected). */
function rawResources(text) {
  const out = [];
  const re = /"resource"\s*:\s*\{/g;
  let m;
  while ((m = re.exec(text))) {
    const start = m.index + m[0].length - 1;
    let depth = 0, inString = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (inString) { if (c === '\\') i++; else if (c === '"') inString = false; continue; }
      if (c === '"') inString = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) { out.push(text.slice(start, i + 1)); re.lastIndex = i + 1; break; }
    }
  }
  return out;
}

async function fetchExistingCondition() {
  // The sandbox data file holds the original; any condition of the patient will do.
  const { readFileSync } = await import('node:fs');
  const { ROOT } = await import('./lib/harness.mjs');
  const dir = process.env.SANDBOX_DATA_DIR || path.join(ROOT, 'sandbox', 'data');
  for (const line of readFileSync(path.join(dir, 'general.ndjson'), 'utf8').split('\n')) {
    if (line.includes('"resourceType":"Condition"') && line.includes(`Patient/${alden.general.id}`)) return JSON.parse(line);
  }
  throw new Error('no condition');
}

test('a 403 on one type is reported and the rest goes on; nothing of that type is flagged gone', async () => {
  await importPage();
  const before = await storedCounts(page, GENERAL.id);
  await misbehave('general', { fail: [{ type: 'Observation', status: 403, times: -1 }] });
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Check everything again ${GENERAL.name}` }).click();
  const o = await waitFinished(page);
  await page.locator('#import-failures').getByText(/did not allow this app to read your test results/).waitFor();
  assert.equal(o.gone, 0, 'a failed type is not judged');
  assert.equal(o.added, 0);
  const received = await receivedCounts(page);
  assert.equal(received.Observation, undefined);
  assert.equal(received.Condition, expectedGeneral.expected.Condition);
  assert.deepEqual(await storedCounts(page, GENERAL.id), before);
  assert.deepEqual(await axe(page), []);
  await reset();
});

test('busy and failing answers (503 with Retry-After, a 500 on one page) are retried; nothing is lost or duplicated', async () => {
  await importPage();
  await misbehave('general', {
    fail: [{ type: 'Condition', status: 503, times: 2 }],
    failPage: [{ type: 'Observation', page: 2, status: 500 }],
  });
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Check everything again ${GENERAL.name}` }).click();
  const o = await waitFinished(page);
  assert.equal(await page.locator('#import-failures').count(), 0, 'no type failed');
  assert.deepEqual([o.added, o.updated, o.gone], [0, 0, 0]);
  const received = await receivedCounts(page);
  assert.equal(received.Condition, expectedGeneral.expected.Condition);
  assert.equal(received.Observation, expectedGeneral.expected.Observation);
  assert.deepEqual(await storedCounts(page, GENERAL.id), storedBaseline);
  const left = await knobs('general');
  assert.deepEqual([left.fail, left.failPage], [[], []], 'the failures did happen (their rules are used up)');
  await reset();
});

test('malformed JSON, a non-FHIR answer and the wrong resourceType are reported per type; nothing stored changes', async () => {
  await importPage();
  const before = await storedCounts(page, GENERAL.id);
  await misbehave('general', {
    malformed: [{ type: 'Condition', kind: 'truncated', times: -1 }, { type: 'Procedure', kind: 'wrongType', times: -1 }],
  });
  // A gateway that answers with its web page instead of FHIR data.
  const immunizationSearch = (url) => url.href.startsWith(`${GENERAL.fhir}/Immunization?`);
  await page.route(immunizationSearch, (route) => route.fulfill({
    status: 200, contentType: 'text/html', headers: { 'access-control-allow-origin': APP_ORIGIN },
    body: '<!doctype html><html><body>Please sign in to the patient portal</body></html>',
  }));
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Check everything again ${GENERAL.name}` }).click();
  const o = await waitFinished(page);
  const failures = page.locator('#import-failures');
  await failures.getByText(/conditions in a damaged form/).waitFor();
  await failures.getByText(/sent Basic|mixed a Basic/).waitFor();
  await failures.getByText(/immunizations with a web page/).waitFor();
  await page.unroute(immunizationSearch);
  assert.equal(o.added + o.updated + o.gone, 0);
  assert.deepEqual(await storedCounts(page, GENERAL.id), before);
  await reset();
});

test('a token that expires mid-import is renewed and the import resumes without duplicates', async () => {
  await importPage();
  const total = await storedTotal(page, GENERAL.id);
  const grantsBefore = tokenGrants.length;
  await misbehave('general', { delay: [{ type: 'DocumentReference', ms: 2500 }] });
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Check everything again ${GENERAL.name}` }).click();
  await page.locator('#import-progress tr[data-row="Condition-search"][data-state="done"]').waitFor({ timeout: 30000 });
  // Mid-import: a progress bar per type, with counts.
  assert.ok(await page.locator('#import-progress tbody tr').count() >= 10);
  assert.match(await page.locator('#import-progress tr[data-row="Condition-search"] .n').textContent(), new RegExp(`^${expectedGeneral.expected.Condition}$`));
  assert.ok(await page.locator('#import-progress tbody tr:not([data-state="done"])').count() > 0, 'still under way');
  assert.equal(await page.locator('#import-run').getAttribute('data-phase'), 'fetching');
  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'import-progress');
  await misbehave('general', { expireTokens: true });
  const o = await waitFinished(page);
  const grants = tokenGrants.slice(grantsBefore);
  assert.ok(grants.includes('refresh_token'), `renewed after the 401 (${grants})`);
  assert.equal(o.added, 0);
  assert.equal(o.unchanged, Object.values(expectedGeneral.expected).reduce((a, b) => a + b, 0), 'everything the provider has, once');
  assert.equal(await storedTotal(page, GENERAL.id), total);
  assert.equal(await page.locator('#import-failures').count(), 0);
  await reset();
});

test('the network drops mid-import: the import stops, and continues where it stopped (also after a reload)', async () => {
  await importPage();
  const total = await storedTotal(page, GENERAL.id);
  await misbehave('general', { delay: [{ type: 'DocumentReference', ms: 3000 }] });
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Check everything again ${GENERAL.name}` }).click();
  await page.locator('#import-progress tr[data-row="Condition-search"][data-state="done"]').waitFor({ timeout: 30000 });
  await misbehave('general', { down: 'refuse' });
  const interrupted = page.locator('#import-interrupted');
  await interrupted.waitFor({ timeout: 60000 });
  assert.match(await interrupted.textContent(), /connection to Demo General Hospital was lost|could not be reached/);
  assert.deepEqual(await axe(page), []);
  // Try again while it is still down: still interrupted, nothing lost.
  await reset();
  await misbehave('general', { down: 'refuse' });
  await page.locator('#import-retry').click();
  await interrupted.waitFor({ timeout: 60000 });
  // The tab is closed and opened again: the resume state is in the vault.
  await reset();
  await page.goto(APP_URL);
  await page.reload();
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await importPage();
  await card(page, GENERAL.id).locator('.provider-resume').waitFor();
  await button(GENERAL.id, `Continue import ${GENERAL.name}`).click();
  await page.locator('#import-run').getByText(/Continuing an import that did not finish/).waitFor();
  const o = await waitFinished(page);
  assert.equal(o.added, 0, 'no duplicates');
  assert.ok(o.unchanged > 0 && o.unchanged < total, `only what was missing was fetched (${o.unchanged} of ${total})`);
  assert.equal(await storedTotal(page, GENERAL.id), total);
  assert.deepEqual(await storedCounts(page, GENERAL.id), storedBaseline);
  assert.equal(await card(page, GENERAL.id).locator('.provider-resume').count(), 0);
});

test('a provider that blocks browser apps (CORS) gets a message saying so', async () => {
  await importPage();
  await misbehave('general', { dropCors: true });
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Reconnect ${GENERAL.name}` }).click();
  await card(page, GENERAL.id).getByRole('alert').getByText(/does not allow browser apps from this site/).waitFor({ timeout: 60000 });
  await button(GENERAL.id, `Update ${GENERAL.name}`).click();
  await page.locator('#import-interrupted').getByText(/does not allow browser apps from this site/).waitFor({ timeout: 60000 });
  await page.getByRole('button', { name: 'Later' }).click();
  await page.locator('#import-paused').waitFor();
  await reset();
  await page.locator('#import-continue').click();
  const o = await waitFinished(page);
  assert.equal(o.added, 0);
  assert.deepEqual(await storedCounts(page, GENERAL.id), storedBaseline);
});

test('a provider that is down: connecting says it could not be reached', async () => {
  await importPage();
  await misbehave('general', { down: 'refuse' });
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Reconnect ${GENERAL.name}` }).click();
  const alert = card(page, GENERAL.id).getByRole('alert');
  await alert.waitFor({ timeout: 60000 });
  assert.match(await alert.textContent(), /could not be reached/);
  assert.doesNotMatch(await alert.textContent(), /does not allow browser apps from this site \(its server answered/);
  await reset();
});

test('the patient denies access at the provider: a clear message, nothing stored changes', async () => {
  await importPage();
  const before = await storedCounts(page, GENERAL.id);
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Reconnect ${GENERAL.name}` }).click();
  await signIn(page, alden.general.id, { decision: 'deny', appUrl: APP_URL });
  const notice = page.locator('#app-notice');
  await notice.getByText('You declined access at Demo General Hospital; nothing was imported.').waitFor();
  assert.equal(await notice.getAttribute('role'), 'alert');
  assert.doesNotMatch(page.url(), /error=|state=/);
  assert.equal(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('phr-smart/')).length), 0);
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await importPage();
  await page.locator('#sign-in-error').getByText(/You declined access/).waitFor();
  assert.deepEqual(await storedCounts(page, GENERAL.id), before);
});

test('a forged or stale callback (unknown state) is refused; nothing stored changes', async () => {
  await importPage();
  const before = await storedCounts(page, GENERAL.id);
  await page.goto(APP_URL + '?code=stolen-code&state=forged-state');
  await page.locator('#app-notice').getByText(/does not belong to a sign-in started in this browser tab/).waitFor();
  assert.equal(new URL(page.url()).search, '', 'the callback parameters are removed');
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await importPage();
  assert.deepEqual(await storedCounts(page, GENERAL.id), before);
});

test('a token endpoint error is reported; nothing stored changes', async () => {
  await importPage();
  const before = await storedCounts(page, GENERAL.id);
  await page.route('**/oidc/token', (route) => route.request().method() === 'POST'
    ? route.fulfill({ status: 400, contentType: 'application/json', headers: { 'access-control-allow-origin': APP_ORIGIN }, body: JSON.stringify({ error: 'invalid_grant', error_description: 'grant request is invalid' }) })
    : route.continue());
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Reconnect ${GENERAL.name}` }).click();
  await signIn(page, alden.general.id, { appUrl: APP_URL });
  await page.locator('#app-notice').getByText(/could not be completed/).waitFor({ timeout: 30000 });
  await page.unroute('**/oidc/token');
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await importPage();
  assert.deepEqual(await storedCounts(page, GENERAL.id), before);
});

test('a provider that grants less than asked: the rest is not fetched, said so, and nothing is flagged gone', async () => {
  await importPage();
  await page.route('**/oidc/token', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    if (body.scope) body.scope = 'launch/patient openid fhirUser offline_access patient/Patient.rs patient/Condition.rs';
    await route.fulfill({ response, json: body });
  });
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Reconnect ${GENERAL.name}` }).click();
  await signIn(page, alden.general.id, { appUrl: APP_URL });
  await unlockToFinish(page, GENERAL.name);
  await waitFinished(page);
  const notGranted = page.locator('#import-not-granted');
  await notGranted.waitFor();
  assert.match(await notGranted.textContent(), /did not share: allergies, .*test results and measurements/);
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Check everything again ${GENERAL.name}` }).click();
  const o = await waitFinished(page);
  assert.equal(o.gone, 0, 'types not granted are not judged');
  assert.deepEqual(Object.keys(await receivedCounts(page)).sort(), ['Condition', 'Patient']);
  assert.deepEqual(await storedCounts(page, GENERAL.id), storedBaseline);
  await page.unroute('**/oidc/token');
});

test('without a refresh token (as real EHRs do), reconnecting is one click and the import resumes', async () => {
  await importPage();
  const total = await storedTotal(page, GENERAL.id);
  // The provider issues no refresh token.
  await page.route('**/oidc/token', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    delete body.refresh_token;
    await route.fulfill({ response, json: body });
  });
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Reconnect ${GENERAL.name}` }).click();
  await signIn(page, alden.general.id, { appUrl: APP_URL });
  await unlockToFinish(page, GENERAL.name);
  let o = await waitFinished(page);
  assert.equal(o.added, 0);
  await page.locator('.import-note').getByText(/does not let this app stay signed in/).waitFor();
  // The token runs out in the middle of the next import: no way to renew it silently.
  await misbehave('general', { delay: [{ type: 'DocumentReference', ms: 2500 }] });
  await (await moreOptions(page, GENERAL.id)).getByRole('button', { name: `Check everything again ${GENERAL.name}` }).click();
  await page.locator('#import-progress tr[data-row="Condition-search"][data-state="done"]').waitFor({ timeout: 30000 });
  await misbehave('general', { expireTokens: true });
  const signInAgain = page.locator('#import-needs-sign-in');
  await signInAgain.waitFor({ timeout: 60000 });
  assert.match(await signInAgain.textContent(), /sign in/i);
  await reset();
  await page.locator('#import-reconnect').click();
  await signIn(page, alden.general.id, { appUrl: APP_URL });
  await unlockToFinish(page, GENERAL.name);
  await page.locator('#import-run').getByText(/Continuing an import that did not finish/).waitFor();
  o = await waitFinished(page);
  assert.equal(o.added, 0, 'no duplicates');
  assert.equal(await storedTotal(page, GENERAL.id), total);
  await page.unroute('**/oidc/token');
  // After a lock the token is gone and there is no refresh token: the card offers Reconnect.
  await lock(page);
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await importPage();
  await button(GENERAL.id, `Reconnect ${GENERAL.name}`).waitFor();
});

test('connect the second provider: merged with the first, both sources shown; Part 2 marked', async () => {
  await importPage();
  await card(page, CLINIC.id).locator('.badge.part2').waitFor();
  await button(CLINIC.id, `Connect ${CLINIC.name}`).click();
  await signIn(page, alden.clinic.id, { appUrl: APP_URL });
  await unlockToFinish(page, CLINIC.name);
  await waitFinished(page);
  assert.deepEqual(await receivedCounts(page), expectedClinic.expected);
  assert.deepEqual(await storedCounts(page, CLINIC.id), expectedClinic.expected);
  // The allergy both providers hold is one row with both sources.
  await page.goto(APP_URL + '#/record/allergies');
  const mold = page.locator('.rows .row', { hasText: /Mold/i });
  await mold.first().waitFor();
  assert.equal(await mold.count(), 1, 'the shared allergy is shown once');
  await mold.locator('.badge.ehr', { hasText: GENERAL.name }).waitFor();
  await mold.locator('.badge.ehr', { hasText: CLINIC.name }).waitFor();
  // The export marks the clinic's records as Part 2.
  await page.goto(APP_URL + '#/vault');
  await page.locator('#export-understood').check();
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-fhir').click()]);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'phr-export-')), 'export.json');
  await download.saveAs(file);
  const { readFileSync } = await import('node:fs');
  const bundle = JSON.parse(readFileSync(file, 'utf8'));
  // Byte-exact: each resource as the provider's server sends it is in the export verbatim.
  const exportText = readFileSync(file, 'utf8');
  const token = tokens.byOrigin.get(new URL(CLINIC.fhir).origin);
  const res = await fetch(`${CLINIC.fhir}/Condition?patient=${alden.clinic.id}&_count=100`, { headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' } });
  assert.equal(res.status, 200);
  const served = rawResources(await res.text());
  assert.ok(served.length >= 1);
  for (const text of served) assert.ok(exportText.includes(text), 'a resource is stored byte for byte');
  const provenance = bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === 'Provenance');
  const clinicProv = provenance.filter((p) => JSON.stringify(p).includes(CLINIC.name));
  assert.ok(clinicProv.length > 0 && clinicProv.every((p) => (p.policy || []).length > 0), 'clinic records carry the Part 2 policy');
  assert.ok(provenance.filter((p) => JSON.stringify(p).includes(GENERAL.name)).every((p) => !(p.policy || []).length));
});

test('a provider added by hand that is not a FHIR server gets a clear message', async () => {
  await importPage();
  await page.locator('#add-provider-base').fill('ftp://nowhere');
  await page.locator('#add-provider-client').fill('phr-app');
  await page.locator('#add-provider-submit').click();
  await page.locator('.add-provider').getByRole('alert').getByText(/is not a web address|https/).waitFor();
  await page.locator('#add-provider-name').fill('My old clinic');
  await page.locator('#add-provider-base').fill((process.env.SHARE_HOST_URL || 'http://127.0.0.1:18090/shl/') + 'fhir');
  await page.locator('#add-provider-submit').click();
  const mine = page.locator('li.provider-card', { hasText: 'My old clinic' });
  await mine.getByText('Added by you').waitFor();
  await mine.getByRole('button', { name: 'Connect My old clinic' }).click();
  await mine.getByRole('alert').getByText(/does not look like a FHIR server/).waitFor({ timeout: 30000 });
  await mine.getByRole('button', { name: 'Remove from my list' }).click();
  await mine.waitFor({ state: 'detached' });
  // Only the browser's own network messages (CORS blocks, refused connections, 4xx) may appear.
  const browserNetwork = /^Failed to load resource|blocked by CORS policy|net::ERR_/;
  assert.deepEqual(appConsoleErrors.filter((m) => !browserNetwork.test(m)), []);
  assert.deepEqual(await page.cspViolations(), []);
});

test('from the app under a sub-path: the redirect comes back there (the patient cancels at the login page)', async () => {
  const sub = await freshApp(browser, openPage, APP_SUBPATH_URL);
  await createVault(sub.page);
  await sub.page.goto(APP_SUBPATH_URL + '#/import');
  await card(sub.page, GENERAL.id).getByRole('button', { name: `Connect ${GENERAL.name}` }).click();
  await signIn(sub.page, alden.general.id, { decision: 'cancel', appUrl: APP_SUBPATH_URL });
  await sub.page.locator('#app-notice').getByText(/You declined access/).waitFor();
  assert.equal(new URL(sub.page.url()).pathname, '/apps/phr/');
  await sub.ctx.close();
});

test('a 50 MB Bundle file is imported within 3x its size in memory', async () => {
  const big = await freshApp(browser, openPage, APP_URL);
  await big.page.addInitScript(() => {
    addEventListener('TrunkApplicationStarted', (e) => { window.__wasmMemory = e.detail.wasm.memory; });
  });
  await big.page.reload();
  await createVault(big.page);
  const dir = mkdtempSync(path.join(tmpdir(), 'phr-big-'));
  const file = path.join(dir, 'big-bundle.json');
  let n = 60000;
  let text = syntheticBundle(n);
  while (text.length < 50e6) { n = Math.ceil(n * 50.5e6 / text.length); text = syntheticBundle(n); }
  writeFileSync(file, text);
  const size = text.length;
  text = null;
  await big.page.goto(APP_URL + '#/import');
  await big.page.locator('#fhir-file').waitFor();
  const before = await big.page.evaluate(() => window.__wasmMemory.buffer.byteLength);
  await big.page.locator('#fhir-file').setInputFiles(file);
  await big.page.locator('#file-import-report').getByText(`${n} new`).waitFor({ timeout: 600000 });
  const after = await big.page.evaluate(() => window.__wasmMemory.buffer.byteLength);
  const growth = after - before;
  const stats = await big.page.evaluate(() => window.__phrFileImportStats);
  console.log(JSON.stringify(stats));
  assert.equal(stats.bytes, size);
  console.log(`file ${(size / 1e6).toFixed(1)} MB, wasm memory ${(before / 1e6).toFixed(1)} → ${(after / 1e6).toFixed(1)} MB (+${(growth / size).toFixed(2)}x)`);
  assert.ok(size >= 50e6);
  assert.ok(after <= before + 3 * size, `wasm memory grew by ${growth} bytes for a ${size}-byte file`);
  assert.equal(big.log.errors.length, 0, 'no crash');
  await big.ctx.close();
});

// The record in use, from a FHIR file: summary, timeline, lists, charts, documents shown safely,
// notes and hiding (the original stays byte-identical), and everything survives lock/unlock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, openPage, consoleErrors, axe, screenshot, hasHorizontalScroll, APP_URL, ROOT } from './lib/harness.mjs';
import { createVault, freshApp, lock, unlock, waitUnlocked, PASSPHRASE } from './lib/vault.mjs';

const FIXTURE = path.join(ROOT, 'e2e', 'fixtures', 'patient-bundle.json');
let browser, ctx, page, log;

before(async () => {
  browser = await launch();
  ({ ctx, page, log } = await freshApp(browser, openPage, APP_URL));
  await createVault(page);
  await page.goto(APP_URL + '#/import');
  await page.locator('#fhir-file').setInputFiles(FIXTURE);
  await page.locator('#file-import-report').getByText('19 new').waitFor({ timeout: 30000 });
});
after(async () => { await browser?.close(); });

test('the summary shows what matters now, from the imported file', async () => {
  await page.goto(APP_URL + '#/');
  const allergies = page.locator('#summary-allergies');
  await allergies.getByText('Penicillin').waitFor();
  await page.locator('#summary-medications').getByText(/Lisinopril/i).waitFor();
  await page.locator('#summary-problems').getByText('High blood pressure').waitFor();
  assert.equal(await page.locator('#summary-problems').getByText('Sprained ankle').count(), 0, 'resolved problems are not active');
  await page.locator('#summary-results').getByText(/Glucose/).first().waitFor();
  await page.locator('#summary-vitals').getByText(/128\/82|Blood pressure/).first().waitFor();
  const card = page.locator('#emergency-card');
  await card.getByText('Penicillin').waitFor();
  await card.getByText(/Sam Rivera/).waitFor();
  // Every item says where it came from.
  assert.ok(await allergies.locator('.badge.file').count() >= 1);
  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'summary');
});

test('timeline: newest first, filters and search over displays and codes', async () => {
  await page.goto(APP_URL + '#/timeline');
  await page.locator('#timeline-count').getByText(/\d+ items/).waitFor();
  const all = Number((await page.locator('#timeline-count').textContent()).split(' ')[0]);
  assert.ok(all >= 15, `timeline has ${all} items`);
  const first = await page.locator('#timeline-list .row time').first().textContent();
  assert.match(first, /^2024-10-01/, 'newest first (the flu vaccine)');
  await page.locator('#timeline-search').fill('glucose');
  await page.locator('#timeline-count').getByText('3 items').waitFor();
  await page.locator('#timeline-search').fill('2345-7');
  await page.locator('#timeline-count').getByText('3 items').waitFor();
  await page.locator('#timeline-search').fill('');
  await page.locator('#timeline-category').selectOption({ label: 'Immunization' });
  await page.locator('#timeline-count').getByText('1 item').waitFor();
  await page.locator('#timeline-category').selectOption({ label: 'All types' });
  await page.locator('#timeline-from').fill('2024-09-01');
  await page.locator('#timeline-from').dispatchEvent('change');
  const since = Number((await page.locator('#timeline-count').textContent()).split(' ')[0]);
  assert.ok(since < all && since >= 5, `date filter: ${since} of ${all}`);
  assert.deepEqual(await axe(page), []);
});

test('lists by category, each item with source and date', async () => {
  for (const [slug, text] of [['problems', 'High blood pressure'], ['allergies', 'Penicillin'], ['immunizations', 'Flu vaccine'],
    ['procedures', 'Colonoscopy'], ['visits', 'Office visit'], ['documents', 'Visit note'], ['results', 'Glucose']]) {
    await page.goto(APP_URL + `#/record/${slug}`);
    await page.locator('.rows').getByText(text).first().waitFor();
  }
  assert.deepEqual(await axe(page), []);
});

test('charts: weight in kg and lb on one chart, with a data table', async () => {
  await page.goto(APP_URL + '#/charts');
  const weight = page.locator('figure.chart', { hasText: 'Body weight' });
  await weight.waitFor();
  assert.equal(await weight.locator('circle').count(), 3, 'three weights, lb converted onto the kg chart');
  await weight.getByText('Show the numbers').click();
  assert.equal(await weight.locator('tbody tr').count(), 3);
  const bp = page.locator('figure.chart', { hasText: 'Blood pressure' });
  assert.equal(await bp.locator('polyline').count(), 2, 'systolic and diastolic');
  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'charts');
});

test('documents are shown safely: nothing in them runs or loads', async () => {
  await page.evaluate(() => { window.__xss = 0; });
  await page.goto(APP_URL + '#/record/documents');
  await page.locator('.rows a', { hasText: 'Visit note' }).first().click();
  await page.locator('.doc-html').getByText(/Visit note ZZCANARY-NOTE-4K7/).waitFor();
  await page.locator('.doc-html table').getByText('Continue lisinopril').waitFor();
  await page.locator('.doc-text').getByText('<script>bad()</script>', { exact: false }).waitFor();
  assert.equal(await page.locator('.copy img, .copy svg, .copy iframe, .copy script, .copy a[href^="javascript"]').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), 0, 'no payload ran');
  await page.goto(APP_URL + '#/record/problems');
  await page.locator('.rows a', { hasText: 'High blood pressure' }).click();
  await page.locator('.narrative').getByText(/ZZCANARY-NARRATIVE-9P1/).waitFor();
  assert.equal(await page.locator('.narrative img, .narrative script').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), 0);
  assert.deepEqual(await page.cspViolations(), []);
});

test('a note and hiding never alter the original; the export keeps it byte-identical', async () => {
  await page.goto(APP_URL + '#/record/problems');
  await page.locator('.rows a', { hasText: 'High blood pressure' }).click();
  await page.locator('#note-text').fill('Ask about lowering the dose');
  await page.locator('#add-note').click();
  await page.locator('.notes .rows').getByText(/Ask about lowering the dose/).waitFor();
  // The note is found by its own words.
  await page.goto(APP_URL + '#/timeline');
  await page.locator('#timeline-search').fill('lowering the dose');
  await page.locator('#timeline-count').getByText('1 item').waitFor();
  await page.locator('#timeline-list .row').getByText(/Patient Note|note/i).first().waitFor();
  await page.goto(APP_URL + '#/record/problems');
  await page.locator('.rows a', { hasText: 'High blood pressure' }).click();
  await page.getByRole('button', { name: 'Hide from my views' }).click();
  await page.getByText('Hidden from your views.').first().waitFor();
  await page.goto(APP_URL + '#/');
  await page.locator('#summary-medications').waitFor();
  assert.equal(await page.locator('#summary-problems').getByText('High blood pressure').count(), 0, 'hidden');

  await page.goto(APP_URL + '#/vault');
  await page.locator('#export-understood').check();
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-fhir').click()]);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'phr-export-')), 'export.json');
  await download.saveAs(file);
  const exported = readFileSync(file, 'utf8');
  const source = readFileSync(FIXTURE, 'utf8');
  const bundle = JSON.parse(source);
  for (const e of bundle.entry) {
    // The exact bytes the file had for this resource (pretty-printed with its indentation).
    const start = source.indexOf(`"resource": {\n    "resourceType": "${e.resource.resourceType}",\n    "id": "${e.resource.id}"`);
    assert.ok(start > 0, `fixture has ${e.resource.id}`);
    let depth = 0, i = source.indexOf('{', start);
    const from = i;
    for (; i < source.length; i++) { if (source[i] === '{') depth++; if (source[i] === '}' && --depth === 0) break; }
    assert.ok(exported.includes(source.slice(from, i + 1)), `${e.resource.id} is byte-identical in the export`);
  }
  const parsed = JSON.parse(exported);
  assert.equal(parsed.resourceType, 'Bundle');
  assert.ok(parsed.entry.some((e) => e.resource.resourceType === 'Provenance'), 'with provenance');

  // Unhide it again.
  await page.goto(APP_URL + '#/record/problems');
  await page.locator('#record-hidden').check();
  await page.locator('.rows a', { hasText: 'High blood pressure' }).click();
  await page.getByRole('button', { name: 'Show in my record again' }).click();
  await page.goto(APP_URL + '#/');
  await page.locator('#summary-problems').getByText('High blood pressure').waitFor();
});

test('everything survives lock and unlock', async () => {
  await lock(page);
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await page.goto(APP_URL + '#/');
  await page.locator('#summary-allergies').getByText('Penicillin').waitFor();
  await page.goto(APP_URL + '#/record/problems');
  await page.locator('.rows a', { hasText: 'High blood pressure' }).click();
  await page.locator('.notes .rows').getByText(/Ask about lowering the dose/).waitFor();
});

test('leaving the screen or locking while a save still runs does not break the app', async () => {
  // A save's continuation runs after the screen that started it may be gone. Reading a signal of
  // that screen then would panic, and the release build aborts: the app would stop responding.
  // WebCrypto answers late here, so every save takes well over a second and the patient leaves
  // first.
  await page.evaluate(() => {
    window.__realEncrypt = SubtleCrypto.prototype.encrypt;
    SubtleCrypto.prototype.encrypt = function (...args) {
      return window.__realEncrypt.apply(this, args)
        .then((v) => new Promise((resolve) => setTimeout(() => resolve(v), 1500)));
    };
  });
  try {
    // Another screen.
    await page.goto(APP_URL + '#/record/problems');
    await page.locator('.rows a', { hasText: 'High blood pressure' }).click();
    await page.locator('#note-text').fill('Written just before leaving');
    await page.locator('#add-note').click();
    await page.evaluate(() => { location.hash = '#/timeline'; });
    await page.locator('#timeline-count').waitFor();
    await page.getByText('Your note was saved.').waitFor({ timeout: 30000 });
    await page.locator('#timeline-search').fill('glucose');
    await page.locator('#timeline-count').getByText('3 items').waitFor();

    // Locked: every record screen is gone, the save goes on.
    await page.goto(APP_URL + '#/record/problems');
    await page.locator('.rows a', { hasText: 'High blood pressure' }).click();
    await page.locator('#note-text').fill('Written just before locking');
    await page.locator('#add-note').click();
    await lock(page);
    await page.getByText('Your note was saved.').waitFor({ timeout: 30000 });
  } finally {
    await page.evaluate(() => { SubtleCrypto.prototype.encrypt = window.__realEncrypt; });
  }
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await page.goto(APP_URL + '#/record/problems');
  await page.locator('.rows a', { hasText: 'High blood pressure' }).click();
  for (const note of ['Written just before leaving', 'Written just before locking']) {
    await page.locator('.notes .rows').getByText(note).waitFor();
  }
  assert.deepEqual(consoleErrors(log), []);
});

test('a long list on the summary shows its first 50, and all of them on request', async () => {
  // A record with 60 active problems, in a vault of its own.
  const o = await freshApp(browser, openPage, APP_URL);
  try {
    await createVault(o.page, { name: 'Many problems' });
    const names = Array.from({ length: 60 }, (_, i) => `Problem number ${String(i + 1).padStart(2, '0')}`);
    const bundle = {
      resourceType: 'Bundle', type: 'collection',
      entry: [{ resource: { resourceType: 'Patient', id: 'many', name: [{ family: 'Many', given: ['Pat'] }] } },
        ...names.map((text, i) => ({ resource: {
          resourceType: 'Condition', id: `c${i}`, subject: { reference: 'Patient/many' }, code: { text },
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        } }))],
    };
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'phr-many-')), 'many.json');
    writeFileSync(file, JSON.stringify(bundle));
    await o.page.goto(APP_URL + '#/import');
    await o.page.locator('#fhir-file').setInputFiles(file);
    await o.page.locator('#file-import-report').getByText('61 new').waitFor({ timeout: 30000 });
    await o.page.goto(APP_URL + '#/');
    const rows = o.page.locator('#summary-problems .row');
    const more = o.page.locator('#summary-problems button.show-all');
    await more.waitFor();
    assert.equal(await rows.count(), 50);
    assert.equal((await more.textContent()).trim(), 'Show all 60 active problems');
    assert.equal(await more.getAttribute('aria-expanded'), 'false');
    assert.equal(await more.getAttribute('aria-controls'), 'summary-problems-list');
    // By keyboard: the button takes focus and Enter shows the rest (alphabetical, so the last
    // ones are 51 to 60).
    await more.focus();
    await o.page.keyboard.press('Enter');
    await o.page.locator('#summary-problems-list').getByText('Problem number 60').waitFor();
    assert.equal(await rows.count(), 60);
    assert.equal(await more.getAttribute('aria-expanded'), 'true');
    assert.equal((await more.textContent()).trim(), 'Show only the first 50');
    await more.click();
    await o.page.waitForFunction(() => document.querySelectorAll('#summary-problems .row').length === 50);
    assert.equal(await o.page.locator('#summary-problems-list').getByText('Problem number 51').count(), 0);
    assert.deepEqual(await axe(o.page), []);
    assert.deepEqual(consoleErrors(o.log), []);
  } finally {
    await o.ctx.close();
  }
});

test('every main screen works at phone width without horizontal scroll', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [route, name] of [['#/', 'phone-summary'], ['#/timeline', 'phone-timeline'], ['#/record/results', 'phone-results'],
    ['#/charts', 'phone-charts'], ['#/import', 'phone-import'], ['#/vault', 'phone-vault']]) {
    await page.goto(APP_URL + route);
    await page.locator('h1').first().waitFor();
    await page.waitForTimeout(150);
    assert.equal(await hasHorizontalScroll(page), false, `${route} scrolls sideways`);
    assert.deepEqual(await axe(page), [], route);
    await screenshot(page, name);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(consoleErrors(log), []);
  assert.deepEqual(await page.cspViolations(), []);
});

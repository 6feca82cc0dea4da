// The record in use with a real Synthea patient imported from the demo EHR over SMART on FHIR, from
// both providers: every screen shows that patient's real items (expectations computed from the
// sandbox's own data files, independently of the app); tracking on top of it; annotating and hiding
// an EHR item leaves the original byte-identical in the export; lock/unlock and a backup round trip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, openPage, consoleErrors, axe, screenshot, APP_URL, ROOT } from './lib/harness.mjs';
import { createVault, freshApp, lock, unlock, waitUnlocked, openItem, PASSPHRASE } from './lib/vault.mjs';
import { GENERAL, CLINIC, reset, person, signIn } from './lib/sandbox.mjs';
import { card, waitFinished, unlockToFinish } from './lib/importer.mjs';
import { addMedication, medCard, openTracking } from './lib/tracking.mjs';

const PATIENT = 'Rubin McDermott';
let browser, ctx, page, log, rubin;
const tokens = new Map();

/** The patient's resources in a provider's data file, by type (what the sandbox serves them from). */
function patientData(key, patientId) {
  const dir = process.env.SANDBOX_DATA_DIR || path.join(ROOT, 'sandbox', 'data');
  const needle = `"Patient/${patientId}"`;
  const out = {};
  for (const line of readFileSync(path.join(dir, `${key}.ndjson`), 'utf8').split('\n')) {
    if (!line.includes(needle)) continue;
    const r = JSON.parse(line);
    (out[r.resourceType] ||= []).push(r);
  }
  return out;
}
const display = (cc) => cc?.text || cc?.coding?.[0]?.display || '';
const isActive = (c) => (c.clinicalStatus?.coding || []).some((x) => ['active', 'recurrence', 'relapse'].includes(x.code));

async function connect(provider, patientId) {
  await page.goto(APP_URL + '#/import');
  await card(page, provider.id).getByRole('button', { name: `Connect ${provider.name}` }).click();
  await signIn(page, patientId, { appUrl: APP_URL });
  await unlockToFinish(page, provider.name);
  await waitFinished(page, { timeout: 180000 });
}

before(async () => {
  await reset();
  rubin = await person(PATIENT);
  browser = await launch();
  ({ ctx, page, log } = await freshApp(browser, openPage, APP_URL));
  // Keep the access tokens the app receives, to fetch what the provider serves (byte comparison).
  page.on('response', async (r) => {
    if (r.url().endsWith('/oidc/token') && r.status() === 200) {
      try { tokens.set(new URL(r.url()).origin, (await r.json()).access_token); } catch { /* not JSON */ }
    }
  });
  await createVault(page);
  await connect(GENERAL, rubin.general.id);
  await connect(CLINIC, rubin.clinic.id);
});
after(async () => { await browser?.close(); });

test('every main screen shows this patient\'s real items, from both providers', async () => {
  const hospital = patientData('general', rubin.general.id);
  const clinic = patientData('clinic', rubin.clinic.id);
  await page.goto(APP_URL + '#/');
  await page.locator('#summary-title').waitFor();
  // Allergies: each one, shown once even though both providers have it.
  for (const a of hospital.AllergyIntolerance || []) {
    const rows = page.locator('#summary-allergies .row', { hasText: display(a.code) });
    assert.equal(await rows.count(), 1, `${display(a.code)} once`);
    await rows.locator('.badge.ehr', { hasText: GENERAL.name }).waitFor();
    await rows.locator('.badge.ehr', { hasText: CLINIC.name }).waitFor();
  }
  // Active problems from both providers (the clinic's behavioral-health ones too).
  const active = [...(hospital.Condition || []), ...(clinic.Condition || [])].filter(isActive);
  assert.ok(active.length > 0);
  const problems = await page.locator('#summary-problems').textContent();
  for (const c of active) assert.ok(problems.includes(display(c.code)), `active problem ${display(c.code)}`);
  // Active medications.
  const meds = [...(hospital.MedicationRequest || []), ...(clinic.MedicationRequest || [])].filter((m) => m.status === 'active');
  const medText = await page.locator('#summary-medications').textContent();
  for (const m of meds.filter((x) => x.medicationCodeableConcept)) {
    assert.ok(medText.includes(display(m.medicationCodeableConcept)), `active medication ${display(m.medicationCodeableConcept)}`);
  }
  // Results and vitals: the newest lab test is there, and blood pressure.
  const labs = (hospital.Observation || []).filter((o) => JSON.stringify(o.category || []).includes('laboratory'));
  labs.sort((a, b) => (b.effectiveDateTime || '').localeCompare(a.effectiveDateTime || ''));
  assert.ok(labs.length > 0);
  // The summary lists the most recent results: at least one test of the newest lab day is there.
  const newest = labs[0].effectiveDateTime.slice(0, 10);
  const newestNames = labs.filter((o) => (o.effectiveDateTime || '').startsWith(newest)).map((o) => display(o.code));
  const results = await page.locator('#summary-results').textContent();
  assert.ok(newestNames.some((n) => results.includes(n)), `one of ${newestNames.join(', ')} in the recent results`);
  await page.locator('#summary-vitals').getByText(/Blood pressure/).first().waitFor();
  await page.locator('#emergency-card').getByText(PATIENT.split(' ')[0], { exact: false }).first().waitFor();
  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'synthea-summary');

  // Timeline: per type, as many facts as the providers have (immunizations at both count once).
  await page.goto(APP_URL + '#/timeline');
  await page.locator('#timeline-category').selectOption({ label: 'Immunization' });
  const imms = hospital.Immunization || [];
  await page.locator('#timeline-count').getByText(`${imms.length} item${imms.length === 1 ? '' : 's'}`).waitFor();
  await page.locator('#timeline-category').selectOption({ label: 'Procedure' });
  const procedures = [...(hospital.Procedure || []), ...(clinic.Procedure || [])].length;
  const shownProcedures = Number((await page.locator('#timeline-count').textContent()).split(' ')[0]);
  assert.ok(shownProcedures > 0 && shownProcedures <= procedures, `procedures ${shownProcedures} of ${procedures}`);
  await page.locator('#timeline-category').selectOption({ label: 'All types' });
  await page.locator('#timeline-search').fill(display(labs[0].code).split(' ')[0]);
  await page.locator('#timeline-list .row').first().waitFor();
  await screenshot(page, 'synthea-timeline');

  // Every list has this patient's items.
  for (const [slug, count] of [['medications', meds.length], ['allergies', (hospital.AllergyIntolerance || []).length],
    ['problems', active.length], ['results', labs.length], ['vitals', 1], ['immunizations', imms.length],
    ['procedures', procedures], ['visits', (hospital.Encounter || []).length], ['documents', (hospital.DocumentReference || []).length],
    ['care-team', (hospital.CareTeam || []).length]]) {
    await page.goto(APP_URL + `#/record/${slug}`);
    await page.locator('#record-title').waitFor();
    if (count > 0) await page.locator('.rows .row').first().waitFor();
    else assert.equal(await page.locator('#record-empty').count(), 1, slug);
  }
  await screenshot(page, 'synthea-care-team');

  // Charts without setup: weight and blood pressure over the years.
  await page.goto(APP_URL + '#/charts');
  const weight = page.locator('figure.chart', { hasText: 'Body weight' });
  await weight.waitFor();
  const weights = (hospital.Observation || []).filter((o) => o.code?.coding?.some((c) => c.code === '29463-7'));
  assert.equal(await weight.locator('circle').count(), weights.length, 'every weight on the chart');
  await page.locator('figure.chart', { hasText: 'Blood pressure' }).waitFor();
  await screenshot(page, 'synthea-charts');
  assert.deepEqual(consoleErrors(log), []);
});

test('tracking on top of the imported record: a supplement with its dose log, a goal with its chart', async () => {
  // Control the clock (the page reloads, so the vault is unlocked again), and schedule a dose a few
  // minutes ahead; then let the time come.
  const ten = new Date();
  ten.setHours(10, 0, 0, 0);
  await page.clock.install({ time: ten });
  await page.reload();
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await openTracking(page, APP_URL);
  await addMedication(page, { name: 'Vitamin D', amount: '1', unit: 'tablet', times: ['10:03'] });
  await page.clock.fastForward('05:00');
  const dose = page.locator('#today-doses li.dose', { hasText: 'Vitamin D' });
  await dose.locator('button.taken').click();
  await medCard(page, 'Vitamin D').locator('.adherence-summary').getByText('This week: 100% taken (1 of 1 dose due so far).').waitFor();
  await page.locator('#add-goal').click();
  await page.locator('#goal-kind').selectOption('weight');
  await page.locator('#goal-comparator').selectOption('at-most');
  await page.locator('#goal-value').fill('85');
  await page.locator('#goal-unit').selectOption('kg');
  await page.locator('#goal-description').fill('Reach 85 kg');
  await page.locator('#goal-due').fill('2027-06-01');
  await page.locator('#goal-save').click();
  const goal = page.locator('li.goal', { has: page.getByRole('heading', { name: 'Reach 85 kg' }) });
  await goal.locator('input[id$="-log-value"]').fill('88.4');
  await goal.getByRole('button', { name: 'Save measurement' }).click();
  await goal.locator('figure.goal-chart circle').first().waitFor();
  assert.equal(await goal.locator('figure.goal-chart circle').count(), 1, 'the new measurement, not the provider\'s past weights');
  // In the summary, the patient's own items say so.
  await page.goto(APP_URL + '#/');
  await page.locator('#summary-medications .row', { hasText: 'Vitamin D' }).locator('.badge.patient', { hasText: 'You added' }).waitFor();
});

test('annotating and hiding a provider item never changes it: the export has the served bytes', async () => {
  const hospital = patientData('general', rubin.general.id);
  const clinic = patientData('clinic', rubin.clinic.id);
  const all = [...(hospital.Condition || []), ...(clinic.Condition || [])];
  // A condition only the hospital has, with a name no other condition shares: hiding its one copy
  // takes it out of every view.
  const condition = (hospital.Condition || []).filter(isActive)
    .find((c) => all.filter((x) => display(x.code) === display(c.code)).length === 1);
  assert.ok(condition, 'a uniquely named active condition');
  const name = display(condition.code);
  await openItem(page, APP_URL, name, { category: 'Problem' });
  await page.locator('#note-text').fill('Discussed with my GP in March');
  await page.locator('#add-note').click();
  await page.locator('.notes').getByText('Discussed with my GP in March').waitFor();
  await page.getByRole('button', { name: 'Hide from my views' }).first().click();
  await page.getByText('Hidden from your views.').first().waitFor();
  await page.goto(APP_URL + '#/');
  await page.locator('#summary-problems').waitFor();
  assert.ok(!(await page.locator('#summary-problems').textContent()).includes(name), 'hidden from the summary');

  // The provider serves this resource; the export holds exactly those bytes.
  const token = tokens.get(new URL(GENERAL.fhir).origin);
  assert.ok(token, 'the app received an access token (kept here only by the test)');
  const res = await fetch(`${GENERAL.fhir}/Condition?patient=${rubin.general.id}&_count=1000`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' },
  });
  const body = await res.text();
  const at = body.indexOf(`"id":"${condition.id}"`);
  assert.ok(at > 0, 'the provider serves the condition');
  let start = body.lastIndexOf('{"resourceType":"Condition"', at);
  let depth = 0, i = start;
  for (; i < body.length; i++) { if (body[i] === '{') depth++; if (body[i] === '}' && --depth === 0) break; }
  const served = body.slice(start, i + 1);
  await page.goto(APP_URL + '#/vault');
  await page.locator('#export-understood').check();
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-fhir').click()]);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'phr-export-')), 'export.json');
  await download.saveAs(file);
  const exported = readFileSync(file, 'utf8');
  assert.ok(exported.includes(served), 'the hidden, annotated condition is exported byte for byte as served');
  const bundle = JSON.parse(exported);
  assert.ok(bundle.entry.some((e) => e.resource.resourceType === 'List' && JSON.stringify(e.resource).includes(condition.id)), 'hidden is recorded apart');
});

test('everything survives lock/unlock and a backup restored in another browser', async () => {
  await page.goto(APP_URL + '#/vault');
  const count = await page.locator('#vault-info-count').textContent();
  await lock(page);
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await page.goto(APP_URL + '#/vault');
  assert.equal(await page.locator('#vault-info-count').textContent(), count);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-backup').click()]);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'phr-backup-')), download.suggestedFilename());
  await download.saveAs(file);

  const other = await freshApp(browser, openPage, APP_URL);
  await other.page.getByRole('button', { name: 'Restore from a backup file' }).click();
  await other.page.locator('#backup-file').setInputFiles(file);
  await other.page.locator('#restore-passphrase').fill(PASSPHRASE);
  await other.page.getByRole('button', { name: 'Restore' }).click();
  await waitUnlocked(other.page);
  await other.page.goto(APP_URL + '#/vault');
  assert.equal(await other.page.locator('#vault-info-count').textContent(), count);
  await openTracking(other.page, APP_URL);
  await medCard(other.page, 'Vitamin D').locator('.adherence-summary').getByText(/100% taken/).waitFor();
  await other.ctx.close();
});

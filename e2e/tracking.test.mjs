// The patient's own tracking: a supplement with a dose schedule, a dose log and weekly adherence
// (with the page's clock under test control, in New York), a schedule change that keeps the
// history, a goal with measurements and its progress chart, own measurements, the emergency
// contact; "You added" everywhere and never clinician-verified; the FHIR export; lock/unlock and
// a backup restored in another browser in another time zone; daylight-saving days.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, openPage, appReady, consoleErrors, axe, screenshot, hasHorizontalScroll, APP_URL, ROOT } from './lib/harness.mjs';
import { createVault, lock, unlock, waitUnlocked, PASSPHRASE } from './lib/vault.mjs';
import { idleLockNever, openTracking, addMedication, medCard, doseRow, at } from './lib/tracking.mjs';

const FIXTURE = path.join(ROOT, 'e2e', 'fixtures', 'patient-bundle.json');
const MED = 'Vitamin D3 1000 IU';
let browser, ctx, page, log;

/** A browser profile in a time zone, its clock starting at `time`. */
async function profile(timezoneId, time, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, timezoneId });
  const o = await openPage(browser, { context });
  await o.page.clock.install({ time: new Date(time) });
  await o.page.goto(APP_URL);
  await appReady(o.page);
  await idleLockNever(o.page, APP_URL);
  return o;
}

const today = () => page.locator('#today-dose-list');
const summaryOf = () => medCard(page, MED).locator('.adherence-summary');

before(async () => {
  browser = await launch();
  // Monday 2 March 2026, 07:00 in New York.
  ({ ctx, page, log } = await profile('America/New_York', '2026-03-02T07:00:00-05:00'));
  await createVault(page);
  // Records from a file, so that items from a source sit next to the patient's own.
  await page.goto(APP_URL + '#/import');
  await page.locator('#fhir-file').setInputFiles(FIXTURE);
  await page.locator('#file-import-report').getByText('19 new').waitFor({ timeout: 30000 });
});
after(async () => { await browser?.close(); });

test('add a supplement, log doses as taken or skipped, see weekly adherence', async () => {
  await openTracking(page, APP_URL);
  await page.locator('#today-doses').getByText('Add a medication or supplement below').waitFor();
  await addMedication(page, { name: MED, amount: '1', unit: 'tablet', times: ['08:00', '20:00'] });
  await page.locator('#today-doses h2').getByText('Monday 2 March').waitFor();
  assert.equal(await today().locator('li.dose').count(), 2);
  await doseRow(today(), MED, '08:00').getByText('Later today').waitFor();
  await medCard(page, MED).getByText('1 tablet at 08:00, 20:00').waitFor();
  await medCard(page, MED).locator('.badge.patient', { hasText: 'You added' }).waitFor();
  await summaryOf().getByText('This week: no dose due yet.').waitFor();

  // 08:05: the morning dose is taken.
  await at(page, '2026-03-02T08:05:00-05:00');
  await doseRow(today(), MED, '08:00').getByText('Due now').waitFor();
  await doseRow(today(), MED, '08:00').locator('button.taken').click();
  await doseRow(today(), MED, '08:00').getByText('Taken (logged 08:05)').waitFor();
  assert.equal(await doseRow(today(), MED, '08:00').locator('button.taken').getAttribute('aria-pressed'), 'true');
  await summaryOf().getByText('This week: 100% taken (1 of 1 dose due so far).').waitFor();
  // Keyboard focus stays on the dose the patient answered.
  await page.waitForFunction(() => /-undo$/.test(document.activeElement?.id || ''));

  // 20:30: the evening dose is due; the patient skips it.
  await at(page, '2026-03-02T20:30:00-05:00');
  await doseRow(today(), MED, '20:00').getByText('Due now').waitFor();
  await doseRow(today(), MED, '20:00').locator('button.skipped').click();
  await doseRow(today(), MED, '20:00').getByText('Skipped (logged 20:30)').waitFor();
  await summaryOf().getByText('This week: 50% taken (1 of 2 doses due so far; 1 skipped).').waitFor();

  // Tuesday 23:00: nothing logged today; both doses are past their grace period.
  await at(page, '2026-03-03T23:00:00-05:00');
  await page.locator('#today-doses h2').getByText('Tuesday 3 March').waitFor();
  assert.equal(await today().getByText('Not logged').count(), 2);
  await summaryOf().getByText('This week: 25% taken (1 of 4 doses due so far; 1 skipped).').waitFor();

  // Wednesday 09:00: yesterday's doses are offered to log late; today's 08:00 is due.
  await at(page, '2026-03-04T09:00:00-05:00');
  const unlogged = page.locator('#unlogged-doses');
  await unlogged.locator('summary').getByText('2 doses of the past week not logged').click();
  await doseRow(unlogged, MED, '08:00').locator('button.taken').click();
  await unlogged.locator('summary').getByText('1 dose of the past week not logged').waitFor();
  await summaryOf().getByText('This week: 40% taken (2 of 5 doses due so far; 1 skipped).').waitFor();
  const weekRow = medCard(page, MED).locator('.adherence-weeks tbody tr').first();
  await medCard(page, MED).locator('.adherence-weeks summary').click();
  assert.deepEqual(await weekRow.locator('td').allTextContents(), ['2', '1', '2', '40%']);
  assert.deepEqual(consoleErrors(log), []);
  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'tracking-doses');
});

test('changing the times keeps the earlier days counted against the old times', async () => {
  // Wednesday 09:30: from now on, one tablet at 09:00.
  await at(page, '2026-03-04T09:30:00-05:00');
  await medCard(page, MED).getByRole('button', { name: /Change schedule/ }).click();
  await page.locator('#med-form').waitFor();
  assert.deepEqual(await axe(page), [], 'the medication form');
  await page.locator('.time-list li').nth(1).getByRole('button', { name: /Remove/ }).click();
  await page.locator('.med-time').first().fill('09:00');
  await page.locator('#med-save').click();
  await page.locator('#app-notice').getByText(`${MED}: changes saved.`).waitFor();
  await medCard(page, MED).getByText('1 tablet at 09:00').waitFor();
  // Today keeps the 08:00 dose of the old times (before the change); 20:00 is gone, and 09:00
  // starts tomorrow (it was already past when the times changed).
  const times = await today().locator('.dose-time').allTextContents();
  assert.deepEqual(times, ['08:00']);
  await summaryOf().getByText('This week: 40% taken (2 of 5 doses due so far; 1 skipped).').waitFor();

  // Thursday 08:00: the new time; taken early.
  await at(page, '2026-03-05T08:00:00-05:00');
  assert.deepEqual(await today().locator('.dose-time').allTextContents(), ['09:00']);
  await doseRow(today(), MED, '09:00').locator('button.taken').click();
  await doseRow(today(), MED, '09:00').getByText('Taken (logged 08:00)').waitFor();
  await summaryOf().getByText('This week: 50% taken (3 of 6 doses due so far; 1 skipped).').waitFor();
  // Undo removes the log entry again.
  await doseRow(today(), MED, '09:00').getByRole('button', { name: /Undo/ }).click();
  await doseRow(today(), MED, '09:00').getByText('Later today').waitFor();
  await summaryOf().getByText('This week: 40% taken (2 of 5 doses due so far; 1 skipped).').waitFor();
  await doseRow(today(), MED, '09:00').locator('button.taken').click();
  await summaryOf().getByText('This week: 50% taken (3 of 6 doses due so far; 1 skipped).').waitFor();
});

test('a goal with measurements shows its progress chart with the target', async () => {
  await page.locator('#add-goal').click();
  await page.locator('#goal-kind').selectOption('weight');
  await page.locator('#goal-comparator').selectOption('at-most');
  await page.locator('#goal-value').fill('80');
  await page.locator('#goal-unit').selectOption('kg');
  await page.locator('#goal-description').fill('Get under 80 kg');
  await page.locator('#goal-due').fill('2026-06-01');
  assert.deepEqual(await axe(page), [], 'the goal form');
  await page.locator('#goal-save').click();
  await page.locator('#app-notice').getByText('Your goal “Get under 80 kg” was added.').waitFor();
  const goal = page.locator('li.goal', { has: page.getByRole('heading', { name: 'Get under 80 kg' }) });
  await goal.getByText('Target: Body weight: at most 80 kg by 2026-06-01').waitFor();
  await goal.getByText('No measurements since the goal started').waitFor();

  // Two weights for the goal: one this morning at 07:30, one now.
  await goal.locator('input[id$="-log-value"]').fill('84');
  await goal.locator('input[id$="-log-when"]').fill('2026-03-05T07:30');
  await goal.getByRole('button', { name: 'Save measurement' }).click();
  await goal.locator('.goal-chart circle').first().waitFor();
  await goal.locator('input[id$="-log-value"]').fill('83.2');
  await goal.getByRole('button', { name: 'Save measurement' }).click();
  await goal.getByText(/Latest: 83.2 kg on 2026-03-05 08:0\d · not at the target yet/).waitFor();
  const chart = goal.locator('figure.goal-chart');
  // Only measurements since the goal started: the 2024 weights from the file are not on it.
  assert.equal(await chart.locator('circle').count(), 2);
  assert.equal(await chart.locator('circle.patient').count(), 2, 'drawn as entered by the patient');
  assert.equal(await chart.locator('.target-line').count(), 1, 'the target line');
  assert.match(await chart.locator('desc').textContent(), /Target: at most 80 kg/);
  await chart.getByText('Show the numbers').click();
  assert.equal(await chart.locator('tbody tr').count(), 2);
  assert.equal(await chart.locator('tbody tr td', { hasText: 'You added' }).count(), 2);

  // Reaching the target.
  await goal.locator('input[id$="-log-value"]').fill('79.9');
  await goal.getByRole('button', { name: 'Save measurement' }).click();
  await goal.getByText(/Latest: 79.9 kg .* meets the target/).waitFor();
  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'tracking-goal');
});

test('own measurements and the emergency contact', async () => {
  await page.locator('#measure-kind').selectOption('bp');
  await page.locator('#measure-value').fill('128');
  await page.locator('#measure-value2').fill('82');
  await page.locator('#measure-save').click();
  await page.locator('#app-notice').getByText('Your measurement was saved.').waitFor();
  await page.locator('#measurement-list').getByText('128/82').waitFor();
  await page.locator('#measure-kind').selectOption('glucose');
  await page.locator('#measure-value').fill('5.4');
  await page.locator('#measure-unit').selectOption('mmol/L');
  await page.locator('#measure-save').click();
  await page.locator('#measurement-list').getByText(/5.4 mmol\/L/).waitFor();
  // A wrong value says what to fix, and nothing is stored.
  await page.locator('#measure-kind').selectOption('heart-rate');
  await page.locator('#measure-value').fill('fast');
  await page.locator('#measure-save').click();
  await page.locator('#my-measurements [role=alert]').getByText('The heart rate must be a number').waitFor();
  assert.equal(await page.locator('#measurement-list li').count(), 5, '3 weights, BP, glucose');
  assert.equal(await page.locator('#measurement-list li .badge.patient').count(), 5);

  await page.locator('#contact-name').fill('Alex Rivera');
  await page.locator('#contact-relationship').fill('Brother');
  await page.locator('#contact-phone').fill('+1 555 0100');
  await page.locator('#contact-save').click();
  await page.locator('#app-notice').getByText(/emergency contact was saved/).waitFor();
  await page.goto(APP_URL + '#/');
  const card = page.locator('#emergency-card');
  await card.getByText('Alex Rivera (Brother)').waitFor();
  assert.equal(await card.locator('a[href="tel:+1 555 0100"]').count(), 1);
});

test('what the patient added is badged "You added" and never looks clinician-verified', async () => {
  await page.goto(APP_URL + '#/');
  const meds = page.locator('#summary-medications');
  const mine = meds.locator('li.row', { hasText: MED });
  await mine.locator('.badge.patient', { hasText: 'You added' }).waitFor();
  assert.equal(await mine.locator('.badge.ehr, .badge.file').count(), 0);
  assert.match(await mine.locator('.badge.patient').getAttribute('title'), /not verified by a clinician/);
  // The provider's medication is badged with its source, not as the patient's.
  const theirs = meds.locator('li.row', { hasText: /Lisinopril/i });
  assert.equal(await theirs.locator('.badge.file').count(), 1);
  assert.equal(await theirs.locator('.badge.patient').count(), 0);
  await page.locator('#summary-goals li.row', { hasText: 'Get under 80 kg' }).locator('.badge.patient').waitFor();
  // The emergency card marks the supplement as the patient's.
  await page.locator('#emergency-card li', { hasText: MED }).locator('.badge.patient').waitFor();

  await page.goto(APP_URL + '#/timeline');
  await page.locator('#timeline-search').fill('Vitamin D3');
  await page.locator('#timeline-list .row').first().waitFor();
  const rows = page.locator('#timeline-list .row');
  assert.ok(await rows.count() >= 1);
  assert.equal(await rows.locator('.badge.patient').count(), await rows.count());
  assert.equal(await rows.locator('.badge.ehr, .badge.file').count(), 0);
  await rows.first().locator('a.row-title').click();
  await page.locator('#patient-reported-notice').getByText('It has not been verified by a clinician').waitFor();

  await page.goto(APP_URL + '#/charts');
  const weight = page.locator('figure.chart', { hasText: 'Body weight' });
  await weight.waitFor();
  assert.equal(await weight.locator('circle.patient').count(), 3, 'the patient\'s weights, drawn as such');
  assert.equal(await weight.locator('circle:not(.patient)').count(), 3, 'the file\'s weights');
});

test('the FHIR export holds the entries with PATAST and a Provenance naming the patient', async () => {
  await page.goto(APP_URL + '#/vault');
  await page.locator('#export-understood').check();
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-fhir').click()]);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'phr-export-')), 'export.json');
  await download.saveAs(file);
  const bundle = JSON.parse(readFileSync(file, 'utf8'));
  const resources = bundle.entry.map((e) => e.resource);
  const patientUrl = bundle.entry.find((e) => e.resource.resourceType === 'Patient').fullUrl;
  const patast = (r) => (r.meta?.security || []).some((c) => c.code === 'PATAST'
    && c.system === 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue');
  const provenanceOf = (r) => resources.filter((p) => p.resourceType === 'Provenance'
    && p.target.some((t) => t.reference === `${r.resourceType}/${r.id}`));

  const statement = resources.find((r) => r.resourceType === 'MedicationStatement');
  assert.equal(statement.medicationCodeableConcept.text, MED);
  assert.deepEqual(statement.dosage[0].timing.repeat.timeOfDay, ['09:00:00']);
  assert.deepEqual(statement.dosage[1].timing.repeat.timeOfDay, ['08:00:00', '20:00:00'], 'the earlier times are kept');
  assert.ok(statement.dosage[1].timing.repeat.boundsPeriod.end);
  const doses = resources.filter((r) => r.resourceType === 'MedicationAdministration');
  assert.equal(doses.length, 4, 'taken Monday, skipped Monday, taken late for Tuesday, taken Thursday');
  assert.deepEqual(doses.map((d) => d.status).sort(), ['completed', 'completed', 'completed', 'not-done']);
  for (const d of doses) {
    assert.equal(d.supportingInformation[0].reference, `MedicationStatement/${statement.id}`);
    assert.ok(d.extension[0].url.endsWith('/scheduled-dose'), 'the dose it answers');
  }
  const goal = resources.find((r) => r.resourceType === 'Goal');
  assert.equal(goal.description.text, 'Get under 80 kg');
  assert.equal(goal.target[0].detailQuantity.comparator, '<=');
  const mine = resources.filter((r) => r.resourceType === 'Observation' && patast(r));
  assert.equal(mine.length, 5);
  assert.equal(mine.filter((o) => o.extension?.[0]?.valueReference?.reference === `Goal/${goal.id}`).length, 3);

  for (const r of [statement, ...doses, goal, ...mine]) {
    assert.ok(patast(r), `${r.resourceType}/${r.id} carries PATAST`);
    const provenance = provenanceOf(r);
    assert.equal(provenance.length, 1, `${r.resourceType}/${r.id} has its Provenance`);
    const agent = provenance[0].agent[0];
    assert.equal(agent.who.reference, patientUrl, 'the author is the Patient');
    assert.equal(agent.type.coding[0].code, 'author');
    assert.ok(patast(provenance[0]));
  }
  // The file's items are not marked as the patient's.
  assert.ok(!patast(resources.find((r) => r.resourceType === 'MedicationRequest')));
});

let backupFile;

test('everything survives lock and unlock', async () => {
  await lock(page);
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await openTracking(page, APP_URL);
  await summaryOf().getByText('This week: 50% taken (3 of 6 doses due so far; 1 skipped).').waitFor();
  await doseRow(today(), MED, '09:00').getByText('Taken (logged 08:00)').waitFor();
  await page.locator('li.goal figure.goal-chart').waitFor();
  assert.equal(await page.locator('li.goal figure.goal-chart circle').count(), 3);
  assert.equal(await page.locator('#contact-name').inputValue(), 'Alex Rivera');

  await page.goto(APP_URL + '#/vault');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-backup').click()]);
  backupFile = path.join(mkdtempSync(path.join(tmpdir(), 'phr-backup-')), download.suggestedFilename());
  await download.saveAs(backupFile);
  assert.deepEqual(consoleErrors(log), []);
  assert.deepEqual(await page.cspViolations(), []);
});

test('a backup restored in another browser, in London: doses keep the day they were taken', async () => {
  assert.ok(backupFile, 'the previous test made a backup');
  // The same instant (Thursday 08:00 in New York) is 13:00 in London.
  const b = await profile('Europe/London', '2026-03-05T08:02:00-05:00');
  await b.page.getByRole('button', { name: 'Restore from a backup file' }).click();
  await b.page.locator('#backup-file').setInputFiles(backupFile);
  await b.page.locator('#restore-passphrase').fill(PASSPHRASE);
  await b.page.getByRole('button', { name: 'Restore' }).click();
  await waitUnlocked(b.page);
  await openTracking(b.page, APP_URL);
  const card = medCard(b.page, MED);
  // The week's answers are the same: each is tied to its scheduled dose, not to a clock.
  await card.locator('.adherence-weeks summary').click();
  assert.deepEqual(await card.locator('.adherence-weeks tbody tr').first().locator('td').allTextContents(), ['3', '1', '2', '50%']);
  // Today's 09:00 dose stays answered; it was logged at 08:00 in New York, where the patient was.
  await doseRow(b.page.locator('#today-dose-list'), MED, '09:00').locator('.dose-status').getByText('Taken (logged 08:00)').waitFor();
  await b.page.locator('li.goal figure.goal-chart').waitFor();
  assert.equal(await b.page.locator('#measurement-list li').count(), 5);
  await b.page.goto(APP_URL + '#/');
  await b.page.locator('#emergency-card').getByText('Alex Rivera (Brother)').waitFor();
  assert.deepEqual(consoleErrors(b.log), []);
  await b.ctx.close();
});

test('daylight-saving days: a skipped hour still has its dose, a repeated hour has one', async () => {
  // Sunday 8 March 2026, 00:30 in New York: clocks go from 02:00 to 03:00 tonight.
  const d = await profile('America/New_York', '2026-03-08T00:30:00-05:00');
  await createVault(d.page, { name: 'DST' });
  await openTracking(d.page, APP_URL);
  await addMedication(d.page, { name: 'Night drops', amount: '2', unit: 'drop', times: ['01:30', '02:30'] });
  const list = d.page.locator('#today-dose-list');
  await doseRow(list, 'Night drops', '02:30').getByText(/clock skips 02:30 today .* due 1 hour later/).waitFor();
  assert.equal(await doseRow(list, 'Night drops', '01:30').locator('.dose-note').count(), 0);
  // 03:10 EDT is 40 minutes after the real 02:30 (which does not exist): due 03:30, not yet due.
  await at(d.page, '2026-03-08T03:10:00-04:00');
  await doseRow(list, 'Night drops', '02:30').getByText('Later today').waitFor();
  await doseRow(list, 'Night drops', '01:30').getByText('Due now').waitFor();

  // Sunday 1 November 2026 at noon: 01:30 happened twice, and is one dose.
  await at(d.page, '2026-11-01T12:00:00-05:00');
  await d.page.locator('#today-doses h2').getByText('Sunday 1 November').waitFor();
  await doseRow(list, 'Night drops', '01:30').getByText(/passes 01:30 twice today/).waitFor();
  const card = medCard(d.page, 'Night drops');
  await card.locator('.adherence-weeks summary').click();
  // Monday 26 October to Sunday 1 November: 7 days x 2 doses, none logged; not 15.
  assert.deepEqual(await card.locator('.adherence-weeks tbody tr').first().locator('td').allTextContents(), ['0', '0', '14', '0%']);
  assert.deepEqual(consoleErrors(d.log), []);
  await d.ctx.close();
});

test('an as-needed medication: log a dose when taken, see the last week, remove a mistake', async () => {
  await at(page, '2026-03-05T14:05:00-05:00');
  await openTracking(page, APP_URL);
  const name = 'Ibuprofen 200 mg';
  await page.locator('#add-medication').click();
  await page.locator('#med-name').fill(name);
  await page.locator('#med-amount').fill('2');
  await page.locator('#med-unit').selectOption('tablet');
  await page.locator('#med-as-needed').check();
  await page.locator('#med-save').click();
  const card = medCard(page, name);
  await card.waitFor();
  await card.getByText('No doses logged in the last 7 days.').waitFor();
  // No scheduled doses: it is not in today's list and has no adherence figures.
  assert.equal(await doseRow(today(), name, '').count(), 0);
  assert.equal(await card.locator('.adherence-summary').count(), 0);

  await card.getByRole('button', { name: `Took a dose now for ${name}` }).click();
  await page.locator('#app-notice').getByText(`${name}: dose taken at 14:05.`).waitFor();
  await card.getByText('1 dose in the last 7 days.').waitFor();
  await card.locator('.as-needed-doses li').getByText('Taken 14:05').waitFor();
  // Keyboard focus stays on the button.
  await page.waitForFunction(() => /-took-now$/.test(document.activeElement?.id || ''));

  await at(page, '2026-03-05T21:40:00-05:00');
  await card.getByRole('button', { name: `Took a dose now for ${name}` }).click();
  await card.getByText('2 doses in the last 7 days.').waitFor();
  // Newest first.
  assert.deepEqual(await card.locator('.as-needed-doses li .when').allTextContents(),
    ['Taken 21:40', 'Taken 14:05']);

  // A dose logged by mistake is removed.
  await card.getByRole('button', { name: 'Remove the dose at 21:40' }).click();
  await page.locator('#app-notice').getByText(`${name}: the dose at 21:40 is no longer logged.`).waitFor();
  await card.getByText('1 dose in the last 7 days.').waitFor();

  // Eight days later the dose has left the last-week list; the entry stays in the record.
  await at(page, '2026-03-13T15:00:00-05:00');
  await card.getByText('No doses logged in the last 7 days.').waitFor();
  assert.deepEqual(await axe(page), []);

  // Deleting asks first: Cancel keeps it; Delete removes it with its dose log.
  const confirm = card.getByRole('group', { name: 'Confirm deletion' });
  await card.getByRole('button', { name: `Delete ${name}` }).click();
  await confirm.getByText(`Delete ${name} and its 1 dose-log entry? This cannot be undone.`, { exact: false }).waitFor();
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'detached' });
  await card.getByRole('button', { name: `Delete ${name}` }).click();
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await card.waitFor({ state: 'detached' });
  assert.deepEqual(consoleErrors(log), []);
});

test('the tracking screen at desktop and phone width, without horizontal scroll', async () => {
  await openTracking(page, APP_URL);
  await page.locator('li.goal figure.goal-chart').waitFor();
  await screenshot(page, 'tracking');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  assert.equal(await hasHorizontalScroll(page), false, 'tracking scrolls sideways');
  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'phone-tracking');
  await page.locator('#add-medication').click();
  await page.locator('#add-goal').click();
  await page.locator('#goal-form').waitFor();
  await page.waitForTimeout(150);
  assert.equal(await hasHorizontalScroll(page), false, 'the forms scroll sideways');
  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'phone-tracking-forms');
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(consoleErrors(log), []);
  assert.deepEqual(await page.cspViolations(), []);
});

test("a provider's prescription: track my doses from it; the prescription itself is not changed", async () => {
  const RX = 'Lisinopril 10 mg tablet';
  await at(page, '2026-03-16T07:30:00-04:00');
  await page.goto(APP_URL + '#/record/medications');
  await page.getByRole('link', { name: new RegExp(RX) }).first().click();
  await page.locator('#item-title').getByText(RX).waitFor();
  assert.equal(await page.locator('#patient-reported-notice').count(), 0);
  const itemUrl = page.url();

  await page.locator('#track-prescription').click();
  await page.locator('#med-form').waitFor();
  assert.match(page.url(), /#\/tracking\/prescription\//);
  const trackUrl = page.url();
  assert.equal(await page.locator('#med-form-title').textContent(), `Track my doses of ${RX}`);
  await page.locator('#med-form-prescription').getByText('Take 1 tablet by mouth once daily', { exact: false }).waitFor();
  assert.equal(await page.locator('#med-name').inputValue(), RX);
  assert.deepEqual(await page.locator('.med-time').evaluateAll((els) => els.map((e) => e.value)), ['08:00']);
  assert.deepEqual(await axe(page), [], 'the form filled in from the prescription');
  await page.locator('#med-save').click();
  await page.locator('#app-notice').getByText(`${RX} was added.`).waitFor();

  const card = medCard(page, RX);
  await card.getByText('Your own tracking of a prescription from your provider.').waitFor();
  await card.locator('.badge.patient', { hasText: 'You added' }).waitFor();
  await at(page, '2026-03-16T08:05:00-04:00');
  await doseRow(today(), RX, '08:00').locator('button.taken').click();
  await doseRow(today(), RX, '08:00').getByText('Taken (logged 08:05)').waitFor();

  // The card links back to the prescription, which is still the provider's, and says it is
  // tracked instead of offering to track it again.
  await card.getByRole('link', { name: `See the prescription of ${RX}` }).click();
  await page.locator('#item-title').getByText(RX).waitFor();
  assert.equal(page.url(), itemUrl);
  await page.locator('#prescription-tracked').getByText(`You track the doses of this prescription in My tracking, as \u201c${RX}\u201d.`, { exact: false }).waitFor();
  assert.equal(await page.locator('#track-prescription').count(), 0);
  assert.equal(await page.locator('#patient-reported-notice').count(), 0, 'the prescription is not marked as added by the patient');

  // Opening the tracking link again (history, bookmark) does not add it twice.
  await page.goto(APP_URL + '#/');
  await page.goto(trackUrl);
  await page.locator('#tracking-title').waitFor();
  await page.locator('#prescription-tracked').getByText('You already track the doses of this prescription', { exact: false }).waitFor();
  assert.equal(await page.locator('#med-form').count(), 0);
  assert.equal(await medCard(page, RX).count(), 1);
  assert.deepEqual(consoleErrors(log), []);
});

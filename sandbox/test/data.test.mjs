// The generated demo data (sandbox/generate-data.sh, run here if needed; it is idempotent): the
// population has what the demo and the benchmark need, the split is consistent, decimals are kept,
// and the running sandbox serves exactly what the counts endpoint says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SANDBOX_DIR, startSandbox, launch, searchAll } from './helpers.mjs';
import { parseKeepingNumbers } from '../lib/rawjson.mjs';
import { references } from '../lib/store.mjs';

const DATA = process.env.SANDBOX_DATA_DIR ?? join(SANDBOX_DIR, 'data');
let manifest;
const files = {};

before(() => {
  execFileSync('bash', [join(SANDBOX_DIR, 'generate-data.sh')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 15 * 60 * 1000,
  });
  manifest = JSON.parse(readFileSync(join(DATA, 'manifest.json'), 'utf8'));
  for (const p of ['general', 'clinic'])
    files[p] = readFileSync(join(DATA, `${p}.ndjson`), 'utf8')
      .trim()
      .split('\n');
});

test('the population: 10 patients, the largest with at least 3,000 resources at the hospital', () => {
  assert.equal(manifest.patients.length, 10);
  assert.equal(manifest.generator.seed, 42);
  const largest = Math.max(...manifest.patients.map((p) => p.general.resources));
  assert.ok(largest >= 3000, `largest patient has ${largest} resources`);
});

test('a patient with substance use, depression and antidepressants at the clinic (Stefan Haley)', () => {
  const stefan = manifest.patients.find((p) => p.name === 'Stefan Haley');
  assert.ok(stefan);
  for (const c of [
    'Dependent drug abuse (disorder)',
    'Major depressive disorder (disorder)',
    'At risk for suicide (finding)',
  ]) {
    assert.ok(stefan.clinicConditions.includes(c), c);
  }
  assert.ok(stefan.clinicMedications.some((m) => /escitalopram/i.test(m)));
  const clinic = files.clinic.map((l) => JSON.parse(l));
  const scores = clinic
    .filter((r) => r.resourceType === 'Observation' && r.subject.reference === `Patient/${stefan.clinic.id}`)
    .map((r) => r.code.coding[0].code);
  for (const loinc of ['55758-7' /* PHQ-2 */, '70274-6' /* GAD-7 */, '82667-7' /* DAST-10 */, '75626-2' /* AUDIT-C */])
    assert.ok(scores.includes(loinc), loinc);
});

test('every reference resolves within its provider; ids are unique', () => {
  for (const [p, lines] of Object.entries(files)) {
    const resources = lines.map((l) => JSON.parse(l));
    const ids = new Set(resources.map((r) => `${r.resourceType}/${r.id}`));
    assert.equal(ids.size, resources.length, p);
    const dangling = resources.flatMap((r) => references(r).filter((ref) => !ids.has(ref)));
    assert.deepEqual(dangling, [], p);
  }
});

test('every Observation value keeps its generated text', () => {
  const rawDir = readdirSync(join(DATA, 'raw')).find((d) => d.startsWith('synthea-'));
  const rawValues = new Map();
  for (const f of readdirSync(join(DATA, 'raw', rawDir, 'fhir'))) {
    const bundle = parseKeepingNumbers(readFileSync(join(DATA, 'raw', rawDir, 'fhir', f), 'utf8'));
    for (const { resource: r } of bundle.entry)
      if (r.resourceType === 'Observation' && r.valueQuantity) rawValues.set(r.id, JSON.stringify(r.valueQuantity));
  }
  let compared = 0;
  let trailingZero = 0;
  for (const line of files.general) {
    if (!line.startsWith('{"resourceType":"Observation"')) continue;
    const r = parseKeepingNumbers(line);
    if (!r.valueQuantity) continue;
    assert.equal(JSON.stringify(r.valueQuantity), rawValues.get(r.id), r.id);
    compared++;
    if (/"value":-?\d+\.0[,}]/.test(JSON.stringify(r.valueQuantity))) trailingZero++;
  }
  assert.ok(compared > 5000);
  assert.ok(trailingZero > 100, 'values like 1.0 are present and kept');
});

test('the sandbox serves each type in exactly the numbers the counts endpoint reports', async (t) => {
  const sb = await startSandbox({ dataDir: DATA });
  t.after(() => sb.stop());
  const largest = [...manifest.patients].sort((a, b) => b.general.resources - a.general.resources)[0];
  const stefan = manifest.patients.find((p) => p.name === 'Stefan Haley');
  for (const [provider, id] of [
    ['general', largest.general.id],
    ['clinic', stefan.clinic.id],
  ]) {
    const counts = await (await fetch(`http://127.0.0.1:${sb[provider].port}/_sandbox/counts?patient=${id}`)).json();
    const mine = files[provider]
      .map((l) => JSON.parse(l))
      .filter((r) => (r.resourceType === 'Patient' ? r.id === id : references(r).includes(`Patient/${id}`)));
    const expected = {};
    for (const r of mine) expected[r.resourceType] = (expected[r.resourceType] ?? 0) + 1;
    assert.deepEqual(counts.compartment, expected, `${provider}: counts endpoint vs data file`);
    const token = (await launch(sb[provider], id)).access_token;
    for (const [type, n] of Object.entries(counts.compartment)) {
      const all = await searchAll(sb[provider], `${type}?_count=1000`, token);
      assert.equal(all.length, n, `${provider} ${type}`);
    }
  }
});

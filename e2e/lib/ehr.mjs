// A patient's records from the demo EHR, fetched in Node over the real SMART flow (discovery, the
// login and approval pages, PKCE, the token request from the app's origin, FHIR searches following
// `next`), so a test can import them as FHIR files without the app's own SMART import.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { authorize, pkcePair, tokenRequest } from '../../sandbox/test/helpers.mjs';
import { APP_URL } from './harness.mjs';

export const SANDBOX_ADMIN_URL = process.env.SANDBOX_ADMIN_URL || 'http://127.0.0.1:18100/_sandbox';
export const SANDBOX_GENERAL_FHIR = process.env.SANDBOX_GENERAL_FHIR || 'http://127.0.0.1:18101/fhir';
export const SANDBOX_CLINIC_FHIR = process.env.SANDBOX_CLINIC_FHIR || 'http://127.0.0.1:18102/fhir';
export const SHARE_HOST_URL = process.env.SHARE_HOST_URL || 'http://127.0.0.1:18090/shl/';

const APP_ORIGIN = new URL(APP_URL).origin;
/** Shared resources a patient's records refer to (read one by one: searching them lists everyone's). */
const SHARED_TYPES = new Set(['Medication', 'Practitioner', 'PractitionerRole', 'Organization', 'Location']);

/** The person (with ids at both providers) from the sandbox's data manifest. */
export async function person(name) {
  const res = await fetch(`${SANDBOX_ADMIN_URL}/people`);
  if (!res.ok) throw new Error(`GET /people: ${res.status}`);
  const p = (await res.json()).find((x) => x.name === name);
  if (!p) throw new Error(`${name} is not in the demo EHR's data`);
  return p;
}

async function getJson(url, token) {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, origin: APP_ORIGIN, accept: 'application/fhir+json' },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

function references(value, out = new Set()) {
  if (Array.isArray(value)) value.forEach((v) => references(v, out));
  else if (value && typeof value === 'object') {
    if (typeof value.reference === 'string') out.add(value.reference);
    Object.values(value).forEach((v) => references(v, out));
  }
  return out;
}

/**
 * Everything a patient token can read at one provider: each type of the patient's compartment
 * (types from the admin counts), then the shared resources those refer to.
 * @param {{ provider: 'general'|'clinic', fhirBase: string, patientId: string }} o
 */
export async function fetchRecords({ provider, fhirBase, patientId }) {
  const conf = await (await fetch(`${fhirBase}/.well-known/smart-configuration`)).json();
  const server = { issuer: conf.issuer, fhirBase };
  const { verifier, challenge } = pkcePair();
  const auth = await authorize(server, {
    patient: patientId,
    challenge,
    redirectUri: APP_URL,
    scope: 'launch/patient openid fhirUser patient/*.rs',
  });
  if (!auth.code) throw new Error(`no authorization code: ${JSON.stringify(auth).slice(0, 300)}`);
  const token = await tokenRequest(
    server,
    { grant_type: 'authorization_code', code: auth.code, redirect_uri: APP_URL, client_id: 'phr-app', code_verifier: verifier },
    { origin: APP_ORIGIN },
  );
  if (token.status !== 200) throw new Error(`token: ${token.status} ${JSON.stringify(token.body)}`);
  const access = token.body.access_token;
  if (token.body.patient !== patientId) throw new Error(`the token is for ${token.body.patient}`);

  const counts = await (await fetch(`${SANDBOX_ADMIN_URL}/${provider}/counts?patient=${patientId}`)).json();
  const types = Object.entries(counts.compartment).filter(([, n]) => n > 0).map(([t]) => t);
  const out = [];
  const have = new Set();
  for (const type of types) {
    let url = `${fhirBase}/${type}?_count=500`;
    for (let guard = 0; url && guard < 100; guard++) {
      const page = await getJson(url, access);
      for (const e of page.entry ?? []) {
        out.push(e.resource);
        have.add(`${e.resource.resourceType}/${e.resource.id}`);
      }
      url = page.link?.find((l) => l.relation === 'next')?.url;
    }
  }
  const wanted = new Set();
  for (const r of out) {
    if (r.resourceType === 'Provenance') continue;
    for (const ref of references(r)) {
      const [type, id] = ref.split('/').slice(-2);
      if (SHARED_TYPES.has(type) && id && !have.has(`${type}/${id}`)) wanted.add(`${type}/${id}`);
    }
  }
  for (const ref of wanted) out.push(await getJson(`${fhirBase}/${ref}`, access));
  const expected = counts.compartmentTotal;
  const inCompartment = out.length - wanted.size;
  if (inCompartment !== expected) throw new Error(`${provider}: fetched ${inCompartment} of ${expected} resources`);
  return out;
}

/** Fetches a person's records from both providers and writes one NDJSON file per provider. */
export async function patientFiles(name) {
  const p = await person(name);
  const dir = mkdtempSync(path.join(tmpdir(), 'phr-ehr-'));
  const files = [];
  for (const [provider, fhirBase, label] of [
    ['general', SANDBOX_GENERAL_FHIR, 'Demo General Hospital'],
    ['clinic', SANDBOX_CLINIC_FHIR, 'Demo Behavioral Health Clinic'],
  ]) {
    const resources = await fetchRecords({ provider, fhirBase, patientId: p[provider].id });
    const file = path.join(dir, `${label}.ndjson`);
    writeFileSync(file, resources.map((r) => JSON.stringify(r)).join('\n') + '\n');
    files.push({ provider, label, file, resources });
  }
  return { person: p, files };
}

// Helpers for the demo EHR (sandbox/README.md): its admin API and its sign-in pages.
import assert from 'node:assert/strict';

export const SANDBOX_ADMIN_URL = process.env.SANDBOX_ADMIN_URL || 'http://127.0.0.1:18100/_sandbox';
export const SANDBOX_GENERAL_FHIR = process.env.SANDBOX_GENERAL_FHIR || 'http://127.0.0.1:18101/fhir';
export const SANDBOX_CLINIC_FHIR = process.env.SANDBOX_CLINIC_FHIR || 'http://127.0.0.1:18102/fhir';

export const GENERAL = { key: 'general', id: 'demo-general', name: 'Demo General Hospital', fhir: SANDBOX_GENERAL_FHIR };
export const CLINIC = { key: 'clinic', id: 'demo-clinic', name: 'Demo Behavioral Health Clinic', fhir: SANDBOX_CLINIC_FHIR };

async function admin(path, { method = 'GET', body } = {}) {
  const r = await fetch(`${SANDBOX_ADMIN_URL}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Clears every knob on both providers, brings them back up and undoes admin resource changes. */
export const reset = () => admin('/reset', { method: 'POST' });
/** Sets misbehaviour knobs on one provider ('general' or 'clinic'). */
export const misbehave = (provider, knobs) => admin(`/${provider}/misbehave`, { method: 'POST', body: knobs });
/** The knobs currently set on one provider (rules with `times` disappear once used up). */
export const knobs = (provider) => admin(`/${provider}/misbehave`);
/** What a patient token can read at a provider (compartment per type, referenced shared types). */
export const counts = (provider, patient) => admin(`/${provider}/counts?patient=${encodeURIComponent(patient)}`);
/** Adds (or replaces, with an id) a resource at a provider, as a new version with the current time. */
export const putResource = (provider, resource) => admin(`/${provider}/resources`, { method: 'POST', body: resource });
/** The synthetic people with their ids at both providers. */
export const people = () => admin('/people');

export async function person(name) {
  const p = (await people()).find((x) => x.name === name);
  assert.ok(p, `the sandbox has ${name}`);
  return p;
}

/**
 * At the provider's pages: picks the patient, continues, then allows (or denies; or cancels at the
 * login page). Returns when the
 * browser is back at `appUrl`.
 */
export async function signIn(page, patientId, { decision = 'allow', appUrl } = {}) {
  await page.waitForURL((u) => u.pathname.includes('/interaction/'), { timeout: 30000 });
  if (decision === 'cancel') {
    await page.locator('#login-cancel').click();
  } else {
    await page.locator(`#patient-${patientId}`).check();
    await page.locator('#login-submit').click();
    await page.locator(decision === 'allow' ? '#allow' : '#deny').click();
  }
  if (appUrl) await page.waitForURL((u) => u.href.startsWith(appUrl), { timeout: 30000 });
}

// Helpers to drive the import screens, and an independent count of what an import must bring.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './harness.mjs';
import { counts } from './sandbox.mjs';
import { unlock, waitUnlocked, PASSPHRASE } from './vault.mjs';

/** phr-smart's plan: the Patient read, then the US Core search types (scopes.rs SEARCH_TYPES). */
export const PLAN_TYPES = ['Patient', 'AllergyIntolerance', 'Condition', 'MedicationRequest', 'MedicationStatement',
  'Observation', 'Immunization', 'Procedure', 'DiagnosticReport', 'DocumentReference', 'Encounter', 'CarePlan',
  'Goal', 'CareTeam', 'Device'];
/** Shared types read because imported resources refer to them (scopes.rs REFERENCE_TYPES). */
export const SHARED_TYPES = ['Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Medication'];

export const card = (page, providerId) => page.locator(`li.provider-card[data-provider="${providerId}"]`);

/** Opens "More options" on a provider's card (idempotent). */
export async function moreOptions(page, providerId) {
  const details = card(page, providerId).locator('details.provider-more');
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
  return details;
}

/** Waits until the import panel says the import finished, and returns the outcome's numbers. */
export async function waitFinished(page, { timeout = 120000 } = {}) {
  const run = page.locator('#import-run[data-phase="finished"]');
  await run.waitFor({ timeout });
  const o = page.locator('#import-outcome');
  const n = async (a) => Number(await o.getAttribute(a));
  return { added: await n('data-added'), updated: await n('data-updated'), unchanged: await n('data-unchanged'), gone: await n('data-gone') };
}

/** Per-type numbers of a table with rows `tr[data-type]` and a `.n` cell. */
async function tableCounts(rows) {
  const pairs = await rows.evaluateAll((trs) => trs.map((tr) => [tr.dataset.type, Number(tr.querySelector('.n').textContent)]));
  return Object.fromEntries(pairs);
}

/** What the finished import received, per type. */
export const receivedCounts = (page) => tableCounts(page.locator('#import-counts tbody tr'));

/** What the vault holds from a provider, per type (the card's "What is stored" table). */
export async function storedCounts(page, providerId) {
  const details = card(page, providerId).locator('details.stored-counts');
  await details.waitFor();
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
  return tableCounts(details.locator('tbody tr'));
}

/** How many records the vault holds from a provider (the card's count). */
export async function storedTotal(page, providerId) {
  const c = card(page, providerId).locator('.provider-count');
  await c.waitFor();
  return Number(await c.getAttribute('data-count'));
}

/** After coming back from the provider: the gate asks to unlock to finish connecting; unlock. */
export async function unlockToFinish(page, providerName) {
  await page.getByText(`Unlock your vault to finish connecting ${providerName}`).waitFor({ timeout: 30000 });
  await unlock(page, PASSPHRASE);
  await waitUnlocked(page);
}

const dataCache = new Map();
function providerData(key) {
  if (!dataCache.has(key)) {
    const dir = process.env.SANDBOX_DATA_DIR || path.join(ROOT, 'sandbox', 'data');
    const byRef = new Map();
    for (const line of readFileSync(path.join(dir, `${key}.ndjson`), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line);
      byRef.set(`${r.resourceType}/${r.id}`, { r, text: line });
    }
    dataCache.set(key, byRef);
  }
  return dataCache.get(key);
}

function sharedRefs(text) {
  const out = new Set();
  for (const m of text.matchAll(/"reference"\s*:\s*"([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})"/g)) {
    if (SHARED_TYPES.includes(m[1])) out.add(`${m[1]}/${m[2]}`);
  }
  return out;
}

/**
 * What an import of this patient must bring, per type, computed independently of the app:
 * the sandbox's own counts for every type of the plan (GET /counts), and for the shared types
 * the references (followed transitively, as the import reads referenced resources' references
 * too) from the provider's data file, restricted to the types the plan fetches. The data-file
 * side is first checked against the sandbox: over *all* compartment types it must reproduce the
 * sandbox's own `referencedExcludingProvenance`.
 */
export async function expectedCounts(providerKey, patientId) {
  const sandbox = await counts(providerKey, patientId);
  const data = providerData(providerKey);
  const needle = `"Patient/${patientId}"`;
  const compartment = [...data.values()].filter(({ r, text }) => (r.resourceType === 'Patient' && r.id === patientId)
    || (text.includes(needle) && !SHARED_TYPES.includes(r.resourceType)));
  // The data file agrees with the sandbox about the compartment and its one-hop references.
  const perType = {};
  for (const { r } of compartment) perType[r.resourceType] = (perType[r.resourceType] || 0) + 1;
  assert.deepEqual(perType, sandbox.compartment, 'the data file and the sandbox agree on the compartment');
  const oneHop = new Set();
  for (const { r, text } of compartment) if (r.resourceType !== 'Provenance') for (const ref of sharedRefs(text)) oneHop.add(ref);
  const oneHopCounts = Object.fromEntries(SHARED_TYPES.map((t) => [t, [...oneHop].filter((x) => x.startsWith(`${t}/`)).length]));
  assert.deepEqual(oneHopCounts, sandbox.referencedExcludingProvenance, 'the data file and the sandbox agree on references');

  const expected = {};
  for (const t of PLAN_TYPES) if (sandbox.compartment[t]) expected[t] = sandbox.compartment[t];
  const seen = new Set();
  let frontier = compartment.filter(({ r }) => PLAN_TYPES.includes(r.resourceType)).map(({ text }) => text);
  while (frontier.length) {
    const next = [];
    for (const text of frontier) {
      for (const ref of sharedRefs(text)) {
        if (seen.has(ref) || !data.has(ref)) continue;
        seen.add(ref);
        next.push(data.get(ref).text);
      }
    }
    frontier = next;
  }
  for (const ref of seen) {
    const t = ref.split('/')[0];
    expected[t] = (expected[t] || 0) + 1;
  }
  const notInPlan = Object.keys(sandbox.compartment).filter((t) => !PLAN_TYPES.includes(t));
  return { expected, sandbox, notInPlan };
}

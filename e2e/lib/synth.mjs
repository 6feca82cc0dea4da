// Deterministic synthetic FHIR Bundles of any size, for load, crash and speed tests.
// Each resource is realistic in shape (codes, units, dates) and carries no real person's data.

const LOINC = 'http://loinc.org';
const tests = [
  ['2345-7', 'Glucose', 'mg/dL', 70, 140],
  ['2093-3', 'Cholesterol', 'mg/dL', 150, 260],
  ['718-7', 'Hemoglobin', 'g/dL', 11, 17],
  ['2160-0', 'Creatinine', 'mg/dL', 0.6, 1.4],
  ['8867-4', 'Heart rate', '/min', 55, 100],
  ['29463-7', 'Body weight', 'kg', 60, 95],
];

function mulberry32(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A collection Bundle with `n` resources (one Patient, the rest Observations), as a string. */
export function syntheticBundle(n, { seed = 1, canary = 'ZZCANARY', patientId = 'synthetic-patient' } = {}) {
  const rand = mulberry32(seed);
  const entries = [{
    fullUrl: `urn:uuid:${patientId}`,
    resource: { resourceType: 'Patient', id: patientId, name: [{ family: `${canary}-FAMILY`, given: ['Sam'] }], birthDate: '1970-01-01' },
  }];
  const start = Date.UTC(2015, 0, 1);
  for (let i = 1; i < n; i++) {
    const [code, text, unit, lo, hi] = tests[i % tests.length];
    const value = Math.round((lo + rand() * (hi - lo)) * 10) / 10;
    const day = new Date(start + Math.floor(rand() * 3600) * 86400000).toISOString().slice(0, 10);
    entries.push({
      fullUrl: `urn:uuid:obs-${seed}-${i}`,
      resource: {
        resourceType: 'Observation', id: `obs-${seed}-${i}`, status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: i % 6 >= 4 ? 'vital-signs' : 'laboratory' }] }],
        code: { coding: [{ system: LOINC, code, display: text }], text },
        subject: { reference: `Patient/${patientId}` },
        effectiveDateTime: `${day}T08:00:00Z`,
        valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
        note: [{ text: `${canary}-NOTE-${i} measured at the clinic after a short rest` }],
      },
    });
  }
  return JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: entries });
}

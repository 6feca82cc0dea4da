// Splits a generated Synthea population into the two providers' data files.
// Usage: node sandbox/split-data.mjs --raw <dir with fhir/*.json> --out <dir> [--generator <json>]
// Writes <out>/general.ndjson, <out>/clinic.ndjson (one resource per line) and <out>/manifest.json.
// Rules: lib/split.mjs. Files are written to a temporary name first and renamed, so a reader never
// sees half a data set.
import { readdirSync, readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { join, basename } from 'node:path';
import { parseArgs } from 'node:util';
import { parseKeepingNumbers } from './lib/rawjson.mjs';
import { splitPopulation, GENERAL, CLINIC } from './lib/split.mjs';

/** Bumped whenever the split rules change, so generate-data.sh knows to split again. */
export const SPLIT_VERSION = 1;

export function splitDirectory(rawDir, outDir, generator = {}) {
  const fhirDir = join(rawDir, 'fhir');
  const files = readdirSync(fhirDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (!files.length) throw new Error(`no patient bundles (*.json) in ${fhirDir}`);
  const inputs = files.map((f) => ({
    name: basename(f, '.json'),
    bundle: parseKeepingNumbers(readFileSync(join(fhirDir, f), 'utf8')),
  }));
  const { resources, patients, removedReferences } = splitPopulation(inputs);
  mkdirSync(outDir, { recursive: true });
  const write = (name, text) => {
    writeFileSync(join(outDir, `${name}.tmp`), text);
    renameSync(join(outDir, `${name}.tmp`), join(outDir, name));
  };
  for (const provider of [GENERAL, CLINIC]) {
    write(`${provider}.ndjson`, resources[provider].map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  const manifest = {
    description: 'Demo EHR sandbox data: Synthea patients split between two providers (see sandbox/README.md).',
    splitVersion: SPLIT_VERSION,
    generator,
    files: Object.fromEntries(
      [GENERAL, CLINIC].map((p) => [p, { file: `${p}.ndjson`, resources: resources[p].length }]),
    ),
    patients,
    removedReferences,
  };
  write('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { raw: { type: 'string' }, out: { type: 'string' }, generator: { type: 'string' } },
  });
  if (!values.raw || !values.out) {
    console.error('usage: split-data.mjs --raw <dir> --out <dir> [--generator <json>]');
    process.exit(2);
  }
  const manifest = splitDirectory(values.raw, values.out, values.generator ? JSON.parse(values.generator) : {});
  for (const p of manifest.patients) {
    console.log(
      `${p.person.padEnd(34)} general ${String(p.general.resources).padStart(5)}  clinic ${String(p.clinic.resources).padStart(4)}`,
    );
  }
  console.log(
    `general: ${manifest.files.general.resources} resources, clinic: ${manifest.files.clinic.resources} resources`,
  );
}

// Demo EHR sandbox: two SMART on FHIR providers in one Node process, plus an admin port.
//   node_modules/.bin/node sandbox/server.mjs [--help]
// Prints one line "SANDBOX_READY {json}" on stdout when every port answers; see sandbox/README.md.
import { existsSync, readFileSync } from 'node:fs';
import express from 'express';
import { loadConfig, usage } from './lib/config.mjs';
import { loadFhirSchema } from './lib/fhir-schema.mjs';
import { ProviderStore } from './lib/store.mjs';
import { Listener, createProvider, adminRouter, isLoopback } from './lib/provider.mjs';

function fail(message) {
  console.error(`sandbox: ${message}`);
  process.exit(1);
}

let config;
try {
  config = loadConfig();
} catch (err) {
  fail(`${err.message}\n${usage()}`);
}
if (config.help) {
  process.stdout.write(usage());
  process.exit(0);
}

for (const p of config.providers) {
  if (!existsSync(p.dataFile))
    fail(`no data at ${p.dataFile}; run sandbox/generate-data.sh first (or set SANDBOX_DATA_DIR)`);
}
let manifest = {};
try {
  manifest = JSON.parse(readFileSync(`${config.dataDir}/manifest.json`, 'utf8'));
} catch {
  // optional
}
const ref = /^(\d{4})(\d{2})(\d{2})$/.exec(manifest.generator?.referenceDate ?? '');
const lastUpdated = ref ? `${ref[1]}-${ref[2]}-${ref[3]}T00:00:00.000Z` : '2026-01-01T00:00:00.000Z';

// Listen first (ports may be 0 = any free port), then load, then answer.
const listeners = config.providers.map(
  (p) => new Listener(`${p.name}; set SANDBOX_${p.key.toUpperCase()}_PORT`, p.port, config.bind),
);
const admin = new Listener('sandbox admin API; set SANDBOX_ADMIN_PORT', config.adminPort, config.bind);
try {
  for (const l of [...listeners, admin]) await l.listen();
} catch (err) {
  for (const l of [...listeners, admin]) await l.close();
  fail(err.message);
}

const started = Date.now();
loadFhirSchema();
const providers = [];
for (const [i, p] of config.providers.entries()) {
  const store = new ProviderStore(p.key, { lastUpdated });
  let n;
  try {
    n = await store.loadFile(p.dataFile);
  } catch (err) {
    for (const l of [...listeners, admin]) await l.close();
    fail(
      `cannot load ${p.name}'s data: ${err.message}. Delete the data folder and run sandbox/generate-data.sh again.`,
    );
  }
  console.error(`sandbox: ${p.name}: ${n} resources, ${store.patients.size} patients`);
  providers.push(await createProvider({ info: p, listener: listeners[i], store, config }));
}

const adminApp = express();
adminApp.disable('x-powered-by');
adminApp.use((req, res, next) => {
  if (!isLoopback(req.socket.remoteAddress))
    return res.status(403).json({ error: 'the sandbox admin API only answers loopback clients' });
  next();
});
adminApp.get('/_sandbox/ready', (req, res) => res.json({ ready: true }));
adminApp.get('/_sandbox/info', (req, res) =>
  res.json(Object.fromEntries(providers.map((p) => [p.info.key, { name: p.info.name, ...p.urls }]))),
);
adminApp.get('/_sandbox/patients', async (req, res) => {
  res.json(
    Object.fromEntries(await Promise.all(providers.map(async (p) => [p.info.key, await p.store.patientList()]))),
  );
});
adminApp.get('/_sandbox/people', (req, res) => res.json(manifest.patients ?? []));
adminApp.post('/_sandbox/reset', async (req, res) => {
  for (const p of providers) {
    p.knobs.reset();
    await p.store.reset();
    if (!p.listener.listening) await p.listener.listen();
  }
  res.json({ reset: providers.map((p) => p.info.key) });
});
for (const p of providers) adminApp.use(`/_sandbox/${p.info.key}`, adminRouter(p));
adminApp.use((req, res) => res.status(404).json({ error: `not found: ${req.path}` }));
admin.handler = adminApp;

const ready = {
  admin: { port: admin.port, url: `http://${config.publicHost}:${admin.port}/_sandbox` },
  ...Object.fromEntries(
    providers.map((p) => [
      p.info.key,
      { name: p.info.name, port: p.listener.port, issuer: p.urls.issuer, fhirBase: p.urls.fhirBase },
    ]),
  ),
  clientId: config.clientId,
  redirectUris: config.redirectUris,
  startupMs: Date.now() - started,
};
console.log(`SANDBOX_READY ${JSON.stringify(ready)}`);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.error(`sandbox: ${signal}, stopping`);
  await Promise.all([...listeners, admin].map((l) => l.close()));
  process.exit(0);
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

// Sandbox configuration from command-line flags and environment variables (flags win).
import { parseArgs } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SANDBOX_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The two demo providers. `key` names the data file and the admin routes. */
export const PROVIDERS = [
  { key: 'general', name: 'Demo General Hospital', defaultPort: 4001 },
  { key: 'clinic', name: 'Demo Behavioral Health Clinic', defaultPort: 4002 },
];

const OPTIONS = {
  'general-port': {
    type: 'string',
    env: 'SANDBOX_GENERAL_PORT',
    help: 'port of Demo General Hospital (4001; 0 = any free port)',
  },
  'clinic-port': {
    type: 'string',
    env: 'SANDBOX_CLINIC_PORT',
    help: 'port of Demo Behavioral Health Clinic (4002; 0 = any free port)',
  },
  'admin-port': {
    type: 'string',
    env: 'SANDBOX_ADMIN_PORT',
    help: 'port of the admin API for both providers (4000; 0 = any free port)',
  },
  bind: { type: 'string', env: 'SANDBOX_BIND', help: 'address to listen on (127.0.0.1)' },
  'public-host': {
    type: 'string',
    env: 'SANDBOX_PUBLIC_HOST',
    help: 'host name in issuer and FHIR base URLs (localhost)',
  },
  'redirect-uris': {
    type: 'string',
    env: 'SANDBOX_REDIRECT_URIS',
    help: 'comma-separated registered redirect URIs (http://localhost:8080/)',
  },
  'app-origins': {
    type: 'string',
    env: 'SANDBOX_APP_ORIGINS',
    help: "extra comma-separated origins allowed by CORS (the redirect URIs' origins always are)",
  },
  'client-id': {
    type: 'string',
    env: 'SANDBOX_CLIENT_ID',
    help: 'public client id registered at both providers (phr-app)',
  },
  'data-dir': {
    type: 'string',
    env: 'SANDBOX_DATA_DIR',
    help: 'directory with general.ndjson, clinic.ndjson, manifest.json (sandbox/data)',
  },
  'access-token-ttl': {
    type: 'string',
    env: 'SANDBOX_ACCESS_TOKEN_TTL',
    help: 'access token lifetime in seconds (3600)',
  },
  help: { type: 'boolean', help: 'show this help' },
};

export function usage() {
  const lines = Object.entries(OPTIONS).map(
    ([name, o]) => `  --${name.padEnd(18)} ${o.env ? `${o.env.padEnd(26)} ` : ''.padEnd(27)}${o.help}`,
  );
  return `usage: node sandbox/server.mjs [options]\n${lines.join('\n')}\n`;
}

function port(value, fallback, what) {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${what} must be a port number, not "${value}"`);
  return n;
}

const list = (value, fallback) =>
  (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Reads the configuration.
 * @param {string[]} argv command-line arguments (without node and the script)
 * @param {Record<string,string|undefined>} env
 */
export function loadConfig(argv = process.argv.slice(2), env = process.env) {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, { type: o.type }])),
    strict: true,
  });
  if (values.help) return { help: true };
  const get = (name) => values[name] ?? (OPTIONS[name].env ? env[OPTIONS[name].env] : undefined);

  const redirectUris = list(get('redirect-uris'), 'http://localhost:8080/');
  for (const uri of redirectUris) {
    let u;
    try {
      u = new URL(uri);
    } catch {
      throw new Error(`redirect URI "${uri}" is not an absolute URL`);
    }
    if (u.hash) throw new Error(`redirect URI "${uri}" must not have a fragment`);
  }
  const appOrigins = [
    ...new Set([
      ...redirectUris.map((u) => new URL(u).origin),
      ...list(get('app-origins'), '').map((o) => new URL(o).origin),
    ]),
  ];
  const ttl = Number(get('access-token-ttl') ?? 3600);
  if (!Number.isInteger(ttl) || ttl < 1) throw new Error(`access token TTL must be a positive whole number of seconds`);

  const dataDir = resolve(get('data-dir') ?? join(SANDBOX_DIR, 'data'));
  return {
    bind: get('bind') ?? '127.0.0.1',
    publicHost: get('public-host') ?? 'localhost',
    adminPort: port(get('admin-port'), 4000, 'admin port'),
    clientId: get('client-id') ?? 'phr-app',
    redirectUris,
    appOrigins,
    accessTokenTtl: ttl,
    dataDir,
    providers: PROVIDERS.map((p) => ({
      ...p,
      port: port(get(`${p.key}-port`), p.defaultPort, `${p.key} port`),
      dataFile: join(dataDir, `${p.key}.ndjson`),
    })),
  };
}

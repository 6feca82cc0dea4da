// Test helpers: start the sandbox / share host on free ports, and a small SMART client over plain HTTP
// (fetch + a cookie jar), so the tests drive the real OAuth and FHIR servers like a browser would.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

export const SANDBOX_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = dirname(SANDBOX_DIR);
export const NODE = process.execPath;
export const FIXTURE_RAW = join(SANDBOX_DIR, 'test', 'fixtures', 'raw');
export const APP_ORIGIN = 'http://127.0.0.1:18080';
export const REDIRECT_URI = `${APP_ORIGIN}/`;
export const SUBPATH_REDIRECT_URI = `${APP_ORIGIN}/apps/phr/`;
export const CLIENT_ID = 'phr-app';

/** The environment without SANDBOX_* / SHAREHOST_* settings of the caller (tests set their own). */
export function cleanEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SANDBOX|SHAREHOST)_/.test(k)));
  return { ...env, ...extra };
}

/** Splits the committed fixture population into a temporary data directory. */
export async function fixtureData() {
  const { splitDirectory } = await import('../split-data.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-data-'));
  const manifest = splitDirectory(FIXTURE_RAW, dir, { fixture: true });
  return { dir, manifest, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts server.mjs on free ports; resolves when it prints SANDBOX_READY.
 * @param {{ dataDir: string, args?: string[], env?: Record<string,string> }} o
 */
export function startSandbox({ dataDir, args = [], env = {} }) {
  const child = spawn(
    NODE,
    [
      join(SANDBOX_DIR, 'server.mjs'),
      '--general-port',
      '0',
      '--clinic-port',
      '0',
      '--admin-port',
      '0',
      '--public-host',
      '127.0.0.1',
      '--redirect-uris',
      `${REDIRECT_URI},${SUBPATH_REDIRECT_URI}`,
      '--data-dir',
      dataDir,
      ...args,
    ],
    { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // Never leave a sandbox behind, even if the test process ends abruptly.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  child.once('exit', () => process.removeListener('exit', killChild));
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sandbox did not start in 60 s:\n${stderr}`));
    }, 60000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited with ${code}:\n${stderr}`));
    });
    child.stdout.on('data', (d) => {
      out += d;
      const m = /SANDBOX_READY (.*)\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const ready = JSON.parse(m[1]);
      resolvePromise({
        ...ready,
        child,
        stderr: () => stderr,
        admin: `http://127.0.0.1:${ready.admin.port}/_sandbox`,
        stop: () =>
          new Promise((r) => {
            if (child.exitCode !== null) return r();
            child.on('exit', () => r());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** A free TCP port on 127.0.0.1 (for servers that cannot be told to pick one). */
export function freePort() {
  return new Promise((resolvePromise, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePromise(port));
    });
  });
}

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
export function pkcePair() {
  const verifier = b64url(randomBytes(48));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

/** fetch with a cookie jar and no automatic redirects. */
export class Browser {
  constructor() {
    this.cookies = new Map();
  }
  async fetch(url, init = {}) {
    const u = new URL(url);
    const jar = this.cookies.get(u.host) ?? new Map();
    const headers = new Headers(init.headers ?? {});
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    this.cookies.set(u.host, jar);
    return res;
  }
}

export const formBody = (obj) => new URLSearchParams(obj).toString();

/**
 * Runs the authorization request through the sandbox's pages until it redirects to the app.
 * @returns {Promise<{ location: URL, code?: string, state?: string, error?: string, pages: string[] }>}
 */
export async function authorize(
  provider,
  {
    patient,
    scope = 'launch/patient openid fhirUser patient/*.rs offline_access',
    redirectUri = REDIRECT_URI,
    clientId = CLIENT_ID,
    aud = provider.fhirBase,
    challenge,
    method = 'S256',
    state = b64url(randomBytes(12)),
    decision = 'allow',
    extra = {},
  } = {},
) {
  const browser = new Browser();
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    ...extra,
  });
  if (aud !== null) q.set('aud', aud); // null: leave it out
  if (challenge) {
    q.set('code_challenge', challenge);
    q.set('code_challenge_method', method);
  }
  let url = `${provider.issuer}/auth?${q}`;
  const pages = [];
  for (let i = 0; i < 12; i++) {
    const res = await browser.fetch(url);
    if (res.status >= 300 && res.status < 400) {
      const location = new URL(res.headers.get('location'), url);
      if (location.href.startsWith(redirectUri) && !location.pathname.startsWith('/interaction'))
        return done(location, pages);
      url = location.href;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) return { status: res.status, html, pages };
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    const origin = new URL(url).origin;
    if (html.includes('id="login-form"')) {
      pages.push('login');
      const post = await browser.fetch(origin + action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: formBody(patient === undefined ? { cancel: '1' } : { patient }),
      });
      if (post.status !== 303 && post.status !== 302) return { status: post.status, html: await post.text(), pages };
      url = new URL(post.headers.get('location'), origin + action).href;
    } else if (html.includes('id="consent-form"')) {
      pages.push('consent');
      const post = await browser.fetch(origin + action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: formBody({ decision }),
      });
      url = new URL(post.headers.get('location'), origin + action).href;
    } else {
      return { status: res.status, html, pages };
    }
  }
  throw new Error('too many redirects');

  function done(location, pagesSeen) {
    const p = location.searchParams;
    return {
      location,
      code: p.get('code') ?? undefined,
      state: p.get('state') ?? undefined,
      error: p.get('error') ?? undefined,
      errorDescription: p.get('error_description') ?? undefined,
      iss: p.get('iss') ?? undefined,
      pages: pagesSeen,
    };
  }
}

/** POST to the token endpoint like a browser app would (Origin header, form body). */
export async function tokenRequest(provider, params, { origin = APP_ORIGIN } = {}) {
  const res = await fetch(`${provider.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: formBody(params),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Full standalone launch: authorize + code exchange. */
export async function launch(provider, patient, options = {}) {
  const { verifier, challenge } = pkcePair();
  const redirectUri = options.redirectUri ?? REDIRECT_URI;
  const auth = await authorize(provider, { patient, challenge, redirectUri, ...options });
  if (!auth.code) throw new Error(`no code: ${JSON.stringify(auth)}`);
  const token = await tokenRequest(provider, {
    grant_type: 'authorization_code',
    code: auth.code,
    redirect_uri: redirectUri,
    client_id: CLIENT_ID,
    code_verifier: verifier,
  });
  if (token.status !== 200) throw new Error(`token ${token.status}: ${JSON.stringify(token.body)}`);
  return { ...token.body, auth };
}

/** GET on the FHIR endpoint with a bearer token. */
export async function fhirGet(provider, path, token, { origin = APP_ORIGIN, headers = {} } = {}) {
  const url = path.startsWith('http') ? path : `${provider.fhirBase}/${path.replace(/^\//, '')}`;
  const res = await fetch(url, {
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(origin ? { origin } : {}),
      accept: 'application/fhir+json',
      ...headers,
    },
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** Every resource of a search, following `next` links. */
export async function searchAll(provider, path, token) {
  const out = [];
  let url = `${provider.fhirBase}/${path}`;
  for (let guard = 0; url && guard < 1000; guard++) {
    const r = await fhirGet(provider, url, token);
    if (r.status !== 200) throw new Error(`${url}: ${r.status} ${r.text.slice(0, 300)}`);
    out.push(...(r.body.entry ?? []).filter((e) => e.search?.mode !== 'include').map((e) => e.resource));
    url = r.body.link?.find((l) => l.relation === 'next')?.url;
  }
  return out;
}

/** POST JSON to an admin route. */
export async function adminPost(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body ?? {}),
  });
  return { status: res.status, body: await res.json() };
}
